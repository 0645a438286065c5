//! Services (`v1`), as `kubectl get services -o wide` shows them, with the
//! pods they select.

use async_graphql::Context;
use k8s_openapi::api::core::v1 as core;
use label_selector::Selector;

use crate::{
    graphql::resources::{Pod, Served, related_pods},
    k8s::{
        printers::{self, ServiceColumns},
        resource::Kind,
    },
};

/// The kind `Service`.
pub struct Service;

impl Kind for Service {
    type Object = core::Service;
    type Columns = ServiceColumns;
    const KIND: &'static str = "Service";
    fn columns(object: &core::Service) -> ServiceColumns {
        printers::service(object)
    }
}

impl Served for Service {}

crate::served_kind! {
    kind Service, object "Service", edge "ServiceEdge",
    connection "ServiceConnection", query ServiceQuery "ServiceQuery";
    scope namespaced, filter crate::graphql::resources::ResourceFilter;
    root service_connection, service;
    /// A Service, as `kubectl get services -o wide` shows it.
    fields {
        /// TYPE: ClusterIP, NodePort, LoadBalancer or ExternalName.
        #[graphql(name = "type")]
        type_: &str = |c| &c.type_;
        /// CLUSTER-IP.
        #[graphql(name = "clusterIP")]
        cluster_ip: &str = |c| &c.cluster_ip;
        /// EXTERNAL-IP: `<none>`, `<pending>`, or the addresses.
        #[graphql(name = "externalIP")]
        external_ip: &str = |c| &c.external_ip;
        /// PORT(S), e.g. `80/TCP,443:30443/TCP`.
        ports: &str = |c| &c.ports;
        /// SELECTOR (`<none>`).
        selector: &str = |c| &c.selector;
    }
    relations {
        /// The pods of its namespace that its selector matches (none without
        /// a selector).
        async fn pods(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Pod>> {
            let text = &self.entry.columns.selector;
            let Some(selector) = (text != "<none>")
                .then(|| Selector::parse(text).ok())
                .flatten()
                .filter(|selector| !selector.is_empty())
            else {
                return Ok(Vec::new());
            };
            related_pods(ctx, &self.cluster, Some(&self.entry.meta.namespace), |pod| {
                selector.matches(|key| pod.label(key))
            })
            .await
        }
    }
}
