//! Nodes (`v1`, no namespace), as `kubectl get nodes -o wide` shows them,
//! with the pods they run. Reading them takes a whole-cluster grant.

use async_graphql::Context;
use k8s_openapi::api::core::v1 as core;

use crate::{
    graphql::resources::{Pod, Served, related_pods},
    k8s::{
        printers::{self, NodeColumns},
        resource::Kind,
    },
};

/// The kind `Node`.
pub struct Node;

impl Kind for Node {
    type Object = core::Node;
    type Columns = NodeColumns;
    const KIND: &'static str = "Node";
    fn columns(object: &core::Node) -> NodeColumns {
        printers::node(object)
    }
}

impl Served for Node {}

crate::served_kind! {
    kind Node, object "Node", edge "NodeEdge",
    connection "NodeConnection", query NodeQuery "NodeQuery";
    scope cluster, filter crate::graphql::resources::ResourceFilter;
    root node_connection, node;
    /// A Node, as `kubectl get nodes -o wide` shows it.
    fields {
        /// STATUS, e.g. `Ready,SchedulingDisabled`.
        status: &str = |c| &c.status;
        /// ROLES (empty for `<none>`).
        roles: &[String] = |c| &c.roles;
        /// VERSION (the kubelet's).
        version: &str = |c| &c.version;
        /// INTERNAL-IP.
        #[graphql(name = "internalIP")]
        internal_ip: &str = |c| &c.internal_ip;
        /// EXTERNAL-IP (`<none>`).
        #[graphql(name = "externalIP")]
        external_ip: &str = |c| &c.external_ip;
        /// OS-IMAGE.
        os_image: &str = |c| &c.os_image;
        /// KERNEL-VERSION.
        kernel_version: &str = |c| &c.kernel_version;
        /// CONTAINER-RUNTIME.
        container_runtime: &str = |c| &c.container_runtime;
    }
    relations {
        /// The pods scheduled on it.
        async fn pods(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Pod>> {
            let name = &self.entry.meta.name;
            related_pods(ctx, &self.cluster, None, |pod| pod.summary.node_name == *name).await
        }
    }
}
