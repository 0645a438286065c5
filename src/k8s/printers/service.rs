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

#[cfg(test)]
mod tests {
    use super::super::testing::from_json;
    use super::*;
    use serde_json::{Value, json};

    fn service_of(spec: Value, status: Value) -> Service {
        from_json(json!({"metadata": {"name": "svc"}, "spec": spec, "status": status}))
    }

    /// (TYPE, CLUSTER-IP, EXTERNAL-IP, PORT(S)) of a Service.
    fn cells(s: &Service) -> (String, String, String, String) {
        let c = service(s);
        (c.type_, c.cluster_ip, c.external_ip, c.ports)
    }

    fn own(t: &str, ip: &str, ext: &str, ports: &str) -> (String, String, String, String) {
        (
            t.to_string(),
            ip.to_string(),
            ext.to_string(),
            ports.to_string(),
        )
    }

    fn lb_status(ingress: Value) -> Value {
        json!({"loadBalancer": {"ingress": ingress}})
    }

    #[test]
    fn print_service_cluster_ip_port_with_protocol() {
        let s = service_of(
            json!({"type": "ClusterIP", "ports": [{"protocol": "tcp", "port": 2233}],
                "clusterIPs": ["10.9.8.7"], "selector": {"foo": "bar"}}),
            json!({}),
        );
        assert_eq!(
            cells(&s),
            own("ClusterIP", "10.9.8.7", "<none>", "2233/tcp")
        );
    }

    #[test]
    fn print_service_wide_includes_selector() {
        let s = service_of(
            json!({"type": "ClusterIP", "ports": [{"protocol": "tcp", "port": 2233}],
                "clusterIPs": ["10.9.8.7"], "selector": {"foo": "bar"}}),
            json!({}),
        );
        assert_eq!(
            service(&s),
            ServiceColumns {
                type_: "ClusterIP".to_string(),
                cluster_ip: "10.9.8.7".to_string(),
                external_ip: "<none>".to_string(),
                ports: "2233/tcp".to_string(),
                selector: "foo=bar".to_string(),
            }
        );
    }

    #[test]
    fn print_service_node_port() {
        let s = service_of(
            json!({"type": "NodePort", "ports": [{"protocol": "tcp", "port": 8888, "nodePort": 9999}],
                "clusterIPs": ["10.9.8.7"]}),
            json!({}),
        );
        assert_eq!(
            cells(&s),
            own("NodePort", "10.9.8.7", "<none>", "8888:9999/tcp")
        );
        assert_eq!(service(&s).selector, "<none>");
    }

    #[test]
    fn print_service_load_balancer_pending() {
        let s = service_of(
            json!({"type": "LoadBalancer", "ports": [{"protocol": "tcp", "port": 8888}],
                "clusterIPs": ["10.9.8.7"]}),
            json!({}),
        );
        assert_eq!(
            cells(&s),
            own("LoadBalancer", "10.9.8.7", "<pending>", "8888/tcp")
        );
    }

    #[test]
    fn print_service_load_balancer_single_external_ip_no_status() {
        let s = service_of(
            json!({"type": "LoadBalancer", "ports": [{"protocol": "tcp", "port": 8888}],
                "clusterIPs": ["10.9.8.7"], "externalIPs": ["80.11.12.10"]}),
            json!({}),
        );
        assert_eq!(
            cells(&s),
            own("LoadBalancer", "10.9.8.7", "80.11.12.10", "8888/tcp")
        );
    }

    #[test]
    fn print_service_load_balancer_single_external_ip() {
        let s = service_of(
            json!({"type": "LoadBalancer", "ports": [{"protocol": "tcp", "port": 8888}],
                "clusterIPs": ["10.9.8.7"], "externalIPs": ["80.11.12.10"]}),
            lb_status(json!([{"ip": "3.4.5.6", "hostname": "test.cluster.com"}])),
        );
        assert_eq!(
            cells(&s),
            own(
                "LoadBalancer",
                "10.9.8.7",
                "3.4.5.6,80.11.12.10",
                "8888/tcp"
            )
        );
    }

    #[test]
    fn print_service_load_balancer_multiple_external_ips() {
        let s = service_of(
            json!({"type": "LoadBalancer", "ports": [{"protocol": "tcp", "port": 8888}],
                "clusterIPs": ["10.9.8.7"], "externalIPs": ["80.11.12.10", "80.11.12.11"]}),
            lb_status(json!([
                {"ip": "2.3.4.5", "hostname": "test.cluster.local"},
                {"ip": "3.4.5.6", "hostname": "test.cluster.com"}])),
        );
        assert_eq!(
            cells(&s),
            own(
                "LoadBalancer",
                "10.9.8.7",
                "2.3.4.5,3.4.5.6,80.11.12.10,80.11.12.11",
                "8888/tcp"
            )
        );
    }

    #[test]
    fn print_service_external_name() {
        let s = service_of(
            json!({"type": "ExternalName", "externalName": "my.database.example.com"}),
            json!({}),
        );
        assert_eq!(
            cells(&s),
            own(
                "ExternalName",
                "<none>",
                "my.database.example.com",
                "<none>"
            )
        );
    }

    #[test]
    fn print_service_load_balancer_multiple_ingress_ips() {
        let s = service_of(
            json!({"type": "LoadBalancer", "ports": [{"port": 80, "protocol": "TCP"}],
                "clusterIPs": ["1.2.3.4"]}),
            lb_status(json!([{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}])),
        );
        assert_eq!(
            cells(&s),
            own("LoadBalancer", "1.2.3.4", "2.3.4.5,3.4.5.6", "80/TCP")
        );
    }

    #[test]
    fn print_service_load_balancer_pending_with_many_ports() {
        let s = service_of(
            json!({"type": "LoadBalancer", "clusterIPs": ["1.3.4.5"], "ports": [
                {"port": 80, "protocol": "TCP"}, {"port": 8090, "protocol": "UDP"},
                {"port": 8000, "protocol": "TCP"}, {"port": 7777, "protocol": "SCTP"}]}),
            json!({}),
        );
        assert_eq!(
            cells(&s),
            own(
                "LoadBalancer",
                "1.3.4.5",
                "<pending>",
                "80/TCP,8090/UDP,8000/TCP,7777/SCTP"
            )
        );
    }

    #[test]
    fn print_service_load_balancer_multiple_ports() {
        let s = service_of(
            json!({"type": "LoadBalancer", "clusterIPs": ["1.4.5.6"], "ports": [
                {"port": 80, "protocol": "TCP"}, {"port": 8090, "protocol": "UDP"},
                {"port": 8000, "protocol": "TCP"}]}),
            lb_status(json!([{"ip": "2.3.4.5"}])),
        );
        assert_eq!(
            cells(&s),
            own(
                "LoadBalancer",
                "1.4.5.6",
                "2.3.4.5",
                "80/TCP,8090/UDP,8000/TCP"
            )
        );
    }

    fn service4() -> Service {
        service_of(
            json!({"type": "LoadBalancer", "clusterIPs": ["1.5.6.7"], "selector": {"foo": "bar"},
                "ports": [{"port": 80, "protocol": "TCP"}, {"port": 8090, "protocol": "UDP"},
                    {"port": 8000, "protocol": "TCP"}]}),
            lb_status(json!([{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"},
                {"ip": "5.6.7.8", "hostname": "host5678"}])),
        )
    }

    #[test]
    fn print_service_load_balancer_long_list_is_not_elided_as_wide() {
        // Upstream's default output clips this cell to "2.3.4.5,3.4.5..."; -o wide does not.
        assert_eq!(
            cells(&service4()),
            own(
                "LoadBalancer",
                "1.5.6.7",
                "2.3.4.5,3.4.5.6,5.6.7.8",
                "80/TCP,8090/UDP,8000/TCP"
            )
        );
    }

    #[test]
    fn print_service_load_balancer_wide_includes_selector() {
        let c = service(&service4());
        assert_eq!(c.external_ip, "2.3.4.5,3.4.5.6,5.6.7.8");
        assert_eq!(c.selector, "foo=bar");
    }

    #[test]
    fn print_service_list() {
        let s1 = service_of(
            json!({"type": "ClusterIP", "ports": [{"protocol": "tcp", "port": 2233}],
                "clusterIPs": ["10.9.8.7"]}),
            json!({}),
        );
        let s2 = service_of(
            json!({"type": "NodePort", "ports": [{"protocol": "udp", "port": 5566}],
                "clusterIPs": ["1.2.3.4"]}),
            json!({}),
        );
        assert_eq!(
            cells(&s1),
            own("ClusterIP", "10.9.8.7", "<none>", "2233/tcp")
        );
        assert_eq!(cells(&s2), own("NodePort", "1.2.3.4", "<none>", "5566/udp"));
    }

    #[test]
    fn defaults_apply_and_hostname_stands_in_for_a_missing_ip() {
        let s = service_of(
            json!({"clusterIP": "10.0.0.1", "ports": [{"port": 53}]}),
            json!({}),
        );
        assert_eq!(cells(&s), own("ClusterIP", "10.0.0.1", "<none>", "53/TCP"));
        let s = service_of(
            json!({"type": "LoadBalancer", "clusterIP": "None"}),
            lb_status(json!([{"hostname": "b.example"}, {"hostname": "a.example"},
                {"ip": "9.9.9.9"}, {"ip": "9.9.9.9"}])),
        );
        assert_eq!(
            cells(&s),
            own(
                "LoadBalancer",
                "None",
                "9.9.9.9,a.example,b.example",
                "<none>"
            )
        );
    }
}
