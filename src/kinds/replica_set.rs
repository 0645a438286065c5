//! ReplicaSets (`apps/v1`), as `kubectl get replicasets -o wide` shows them,
//! with their owner and their pods.

use async_graphql::Context;
use k8s_openapi::api::apps::v1 as apps;

use super::{Resource, deployment::Deployment};
use crate::{
    graphql::resources::{Pod, Served, controlled_pods, related_one},
    k8s::{
        printers::{self, ReplicaSetColumns},
        resource::Kind,
    },
};

/// The kind `ReplicaSet`.
pub struct ReplicaSet;

impl Kind for ReplicaSet {
    type Object = apps::ReplicaSet;
    type Columns = ReplicaSetColumns;
    const KIND: &'static str = "ReplicaSet";
    fn columns(object: &apps::ReplicaSet) -> ReplicaSetColumns {
        printers::replica_set(object)
    }
}

impl Served for ReplicaSet {}

crate::served_kind! {
    kind ReplicaSet, object "ReplicaSet", edge "ReplicaSetEdge",
    connection "ReplicaSetConnection", query ReplicaSetQuery "ReplicaSetQuery";
    scope namespaced, filter crate::graphql::resources::ResourceFilter;
    root replica_set_connection, replica_set;
    /// A ReplicaSet, as `kubectl get replicasets -o wide` shows it.
    fields {
        /// DESIRED.
        desired: i32 = |c| c.desired;
        /// CURRENT.
        current: i32 = |c| c.current;
        /// READY.
        ready_count: i32 = |c| c.ready;
        /// CONTAINERS.
        container_names: &[String] = |c| &c.container_names;
        /// IMAGES.
        images: &[String] = |c| &c.images;
        /// SELECTOR.
        selector: &str = |c| &c.selector;
    }
    relations {
        /// The controlling object (usually a Deployment); null when it has
        /// none, it is gone, or its kind is not served.
        async fn owner(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Resource>> {
            let Some(owner) = &self.entry.meta.controller else {
                return Ok(None);
            };
            if owner.kind != "Deployment" {
                return Ok(None);
            }
            Ok(related_one::<Deployment>(ctx, &self.cluster, &self.entry.meta.namespace, &owner.name)
                .await?
                .map(Resource::from))
        }

        /// The pods it controls.
        async fn pods(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Pod>> {
            controlled_pods(ctx, self).await
        }
    }
}
