//! Service columns: TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S) and the wide SELECTOR.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{LoadBalancerStatus, Service, ServiceSpec};

use super::format_labels;

/// kubectl's cells for one Service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceColumns {
    /// TYPE: `ClusterIP`, `NodePort`, `LoadBalancer` or `ExternalName`.
    pub type_: String,
    /// CLUSTER-IP: the first cluster IP (`None` for headless), `<none>` without one.
    pub cluster_ip: String,
    /// EXTERNAL-IP: `<none>`, `<pending>`, the external name, or the load balancer's
    /// and the spec's external IPs joined with `,` (unclipped, as `-o wide`).
    pub external_ip: String,
    /// PORT(S): `80/TCP,443:30443/TCP`, `<none>` without ports.
    pub ports: String,
    /// SELECTOR: `k=v,...` sorted by key, `<none>` without one.
    pub selector: String,
}

/// Port of upstream `printService`, `getServiceExternalIP`,
/// `loadBalancerStatusStringer` and `makePortString`. An absent type is
/// `ClusterIP` and an absent protocol `TCP`, the API server's defaults; absent
/// `clusterIPs` fall back to `clusterIP`, as the API server's defaulting fills them.
pub fn service(o: &Service) -> ServiceColumns {
    let empty_spec = ServiceSpec::default();
    let spec = o.spec.as_ref().unwrap_or(&empty_spec);
    let type_ = spec.type_.as_deref().unwrap_or("ClusterIP");
    let cluster_ip = spec
        .cluster_ips
        .as_ref()
        .and_then(|ips| ips.first())
        .or(spec.cluster_ip.as_ref())
        .cloned()
        .unwrap_or_else(|| "<none>".to_string());
    let ports = spec
        .ports
        .iter()
        .flatten()
        .map(|p| {
            let protocol = p.protocol.as_deref().unwrap_or("TCP");
            match p.node_port.filter(|n| *n > 0) {
                Some(node_port) => format!("{}:{node_port}/{protocol}", p.port),
                None => format!("{}/{protocol}", p.port),
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    ServiceColumns {
        type_: type_.to_string(),
        cluster_ip,
        external_ip: external_ip(o, spec, type_),
        ports: if ports.is_empty() {
            "<none>".to_string()
        } else {
            ports
        },
        selector: format_labels(spec.selector.as_ref()),
    }
}

/// Upstream `getServiceExternalIP` with `wide` set.
fn external_ip(o: &Service, spec: &ServiceSpec, type_: &str) -> String {
    let external_ips: &[String] = spec.external_ips.as_deref().unwrap_or(&[]);
    match type_ {
        "ClusterIP" | "NodePort" => {
            if external_ips.is_empty() {
                "<none>".to_string()
            } else {
                external_ips.join(",")
            }
        }
        "LoadBalancer" => {
            let lb_ips =
                load_balancer_ips(o.status.as_ref().and_then(|s| s.load_balancer.as_ref()));
            if !external_ips.is_empty() {
                lb_ips
                    .into_iter()
                    .chain(external_ips.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(",")
            } else if !lb_ips.is_empty() {
                lb_ips.join(",")
            } else {
                "<pending>".to_string()
            }
        }
        "ExternalName" => spec.external_name.clone().unwrap_or_default(),
        _ => "<unknown>".to_string(),
    }
}

/// Upstream `loadBalancerStatusStringer` (unclipped): each ingress's IP, else its
/// hostname, deduplicated and sorted.
fn load_balancer_ips(status: Option<&LoadBalancerStatus>) -> Vec<String> {
    let mut result = BTreeSet::new();
    for ingress in status
        .and_then(|s| s.ingress.as_ref())
        .into_iter()
        .flatten()
    {
        if let Some(ip) = ingress.ip.as_ref().filter(|ip| !ip.is_empty()) {
            result.insert(ip.clone());
        } else if let Some(host) = ingress.hostname.as_ref().filter(|h| !h.is_empty()) {
            result.insert(host.clone());
        }
    }
    result.into_iter().collect()
}
