//! StatefulSets (`apps/v1`), as `kubectl get statefulsets -o wide` shows
//! them, with their pods.

use async_graphql::Context;
use k8s_openapi::api::apps::v1 as apps;

use crate::{
    graphql::resources::{Pod, Served, controlled_pods},
    k8s::{
        printers::{self, StatefulSetColumns},
        resource::Kind,
    },
};

/// The kind `StatefulSet`.
pub struct StatefulSet;

impl Kind for StatefulSet {
    type Object = apps::StatefulSet;
    type Columns = StatefulSetColumns;
    const KIND: &'static str = "StatefulSet";
    fn columns(object: &apps::StatefulSet) -> StatefulSetColumns {
        printers::stateful_set(object)
    }
}

impl Served for StatefulSet {}

crate::served_kind! {
    kind StatefulSet, object "StatefulSet", edge "StatefulSetEdge",
    connection "StatefulSetConnection", query StatefulSetQuery "StatefulSetQuery";
    scope namespaced, filter crate::graphql::resources::ResourceFilter;
    root stateful_set_connection, stateful_set;
    /// A StatefulSet, as `kubectl get statefulsets -o wide` shows it.
    fields {
        /// READY: ready replicas over desired, e.g. "1/3".
        ready: &str = |c| &c.ready;
        /// CONTAINERS.
        container_names: &[String] = |c| &c.container_names;
        /// IMAGES.
        images: &[String] = |c| &c.images;
    }
    relations {
        /// The pods it controls.
        async fn pods(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Pod>> {
            controlled_pods(ctx, self).await
        }
    }
}
