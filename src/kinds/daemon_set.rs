//! DaemonSets (`apps/v1`), as `kubectl get daemonsets -o wide` shows them,
//! with their pods.

use async_graphql::Context;
use k8s_openapi::api::apps::v1 as apps;

use crate::{
    graphql::resources::{Pod, Served, controlled_pods},
    k8s::{
        printers::{self, DaemonSetColumns},
        resource::Kind,
    },
};

/// The kind `DaemonSet`.
pub struct DaemonSet;

impl Kind for DaemonSet {
    type Object = apps::DaemonSet;
    type Columns = DaemonSetColumns;
    const KIND: &'static str = "DaemonSet";
    fn columns(object: &apps::DaemonSet) -> DaemonSetColumns {
        printers::daemon_set(object)
    }
}

impl Served for DaemonSet {}

crate::served_kind! {
    kind DaemonSet, object "DaemonSet", edge "DaemonSetEdge",
    connection "DaemonSetConnection", query DaemonSetQuery "DaemonSetQuery";
    scope namespaced, filter crate::graphql::resources::ResourceFilter;
    root daemon_set_connection, daemon_set;
    /// A DaemonSet, as `kubectl get daemonsets -o wide` shows it.
    fields {
        /// DESIRED.
        desired: i32 = |c| c.desired;
        /// CURRENT.
        current: i32 = |c| c.current;
        /// READY.
        ready_count: i32 = |c| c.ready;
        /// UP-TO-DATE.
        up_to_date: i32 = |c| c.up_to_date;
        /// AVAILABLE.
        available: i32 = |c| c.available;
        /// NODE SELECTOR (`<none>`).
        node_selector: &str = |c| &c.node_selector;
        /// CONTAINERS.
        container_names: &[String] = |c| &c.container_names;
        /// IMAGES.
        images: &[String] = |c| &c.images;
        /// SELECTOR.
        selector: &str = |c| &c.selector;
    }
    relations {
        /// The pods it controls.
        async fn pods(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Pod>> {
            controlled_pods(ctx, self).await
        }
    }
}
