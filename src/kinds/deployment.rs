//! Deployments (`apps/v1`), as `kubectl get deployments -o wide` shows them,
//! with the ReplicaSets they own and the pods those own.

use async_graphql::Context;
use k8s_openapi::api::apps::v1 as apps;

use super::replica_set::ReplicaSet;
use crate::{
    graphql::resources::{Object, Pod, Served, related, related_entries, related_pods},
    k8s::{
        printers::{self, DeploymentColumns},
        resource::Kind,
    },
};

/// The kind `Deployment`.
pub struct Deployment;

impl Kind for Deployment {
    type Object = apps::Deployment;
    type Columns = DeploymentColumns;
    const KIND: &'static str = "Deployment";
    fn columns(object: &apps::Deployment) -> DeploymentColumns {
        printers::deployment(object)
    }
}

impl Served for Deployment {}

crate::served_kind! {
    kind Deployment, object "Deployment", edge "DeploymentEdge",
    connection "DeploymentConnection", query DeploymentQuery "DeploymentQuery";
    scope namespaced, filter crate::graphql::resources::ResourceFilter;
    root deployment_connection, deployment;
    /// A Deployment, as `kubectl get deployments -o wide` shows it.
    fields {
        /// READY: ready replicas over desired, e.g. "2/3".
        ready: &str = |c| &c.ready;
        /// UP-TO-DATE.
        up_to_date: i32 = |c| c.up_to_date;
        /// AVAILABLE.
        available: i32 = |c| c.available;
        /// CONTAINERS.
        container_names: &[String] = |c| &c.container_names;
        /// IMAGES.
        images: &[String] = |c| &c.images;
        /// SELECTOR, e.g. `app=web`.
        selector: &str = |c| &c.selector;
    }
    relations {
        /// The ReplicaSets it controls.
        async fn replica_sets(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Object<ReplicaSet>>> {
            let uid = self.entry.meta.uid.clone();
            related::<ReplicaSet>(ctx, &self.cluster, Some(&self.entry.meta.namespace), |set| {
                set.meta.controller.as_ref().is_some_and(|owner| {
                    owner.kind == "Deployment" && Some(&owner.uid) == uid.as_ref()
                })
            })
            .await
        }

        /// The pods of the ReplicaSets it controls.
        async fn pods(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Pod>> {
            let uid = self.entry.meta.uid.clone();
            let sets: std::collections::HashSet<String> =
                related_entries::<ReplicaSet>(ctx, &self.cluster, Some(&self.entry.meta.namespace), |set| {
                    set.meta.controller.as_ref().is_some_and(|owner| {
                        owner.kind == "Deployment" && Some(&owner.uid) == uid.as_ref()
                    })
                })
                .await?
                .into_iter()
                .map(|set| set.meta.name.clone())
                .collect();
            related_pods(ctx, &self.cluster, Some(&self.entry.meta.namespace), |pod| {
                pod.summary.controlled == "ReplicaSet" && sets.contains(&pod.summary.controller_name)
            })
            .await
        }
    }
}
