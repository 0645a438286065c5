//! Node columns: STATUS, ROLES, VERSION and the wide INTERNAL-IP, EXTERNAL-IP,
//! OS-IMAGE, KERNEL-VERSION, CONTAINER-RUNTIME.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Node, NodeSystemInfo};

/// Label prefix of a node role (`node-role.kubernetes.io/<role>`).
const LABEL_NODE_ROLE_PREFIX: &str = "node-role.kubernetes.io/";
/// Legacy label naming a node role in its value.
const NODE_LABEL_ROLE: &str = "kubernetes.io/role";

/// kubectl's cells for one Node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeColumns {
    /// STATUS: `Ready`, `NotReady` or `Unknown`, then `,SchedulingDisabled` when
    /// cordoned.
    pub status: String,
    /// ROLES, split on `,` (sorted); empty where kubectl prints `<none>`.
    pub roles: Vec<String>,
    /// VERSION: the kubelet version.
    pub version: String,
    /// INTERNAL-IP: the first `InternalIP` address, `<none>` without one.
    pub internal_ip: String,
    /// EXTERNAL-IP: the first `ExternalIP` address, `<none>` without one.
    pub external_ip: String,
    /// OS-IMAGE, `<unknown>` when empty.
    pub os_image: String,
    /// KERNEL-VERSION, `<unknown>` when empty, then ` (<architecture>)` when known.
    pub kernel_version: String,
    /// CONTAINER-RUNTIME, `<unknown>` when empty.
    pub container_runtime: String,
}

/// Port of upstream `printNode`, `findNodeRoles`, `getNodeInternalIP` and
/// `getNodeExternalIP`.
pub fn node(o: &Node) -> NodeColumns {
    let status = o.status.as_ref();
    // Upstream builds a map by condition type, so the last `Ready` condition wins.
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().rev().find(|c| c.type_ == "Ready"));
    let mut cells: Vec<&str> = vec![match ready {
        Some(c) if c.status == "True" => "Ready",
        Some(_) => "NotReady",
        None => "Unknown",
    }];
    if o.spec.as_ref().and_then(|s| s.unschedulable) == Some(true) {
        cells.push("SchedulingDisabled");
    }

    let empty_info = NodeSystemInfo::default();
    let info = status
        .and_then(|s| s.node_info.as_ref())
        .unwrap_or(&empty_info);
    let or_unknown = |v: &str| {
        if v.is_empty() {
            "<unknown>".to_string()
        } else {
            v.to_string()
        }
    };
    let mut kernel_version = or_unknown(&info.kernel_version);
    if !info.architecture.is_empty() {
        kernel_version = format!("{kernel_version} ({})", info.architecture);
    }
    NodeColumns {
        status: cells.join(","),
        roles: find_node_roles(o),
        version: info.kubelet_version.clone(),
        internal_ip: address(o, "InternalIP"),
        external_ip: address(o, "ExternalIP"),
        os_image: or_unknown(&info.os_image),
        kernel_version,
        container_runtime: or_unknown(&info.container_runtime_version),
    }
}

/// Upstream `findNodeRoles`: `node-role.kubernetes.io/<role>` label keys and
/// `kubernetes.io/role=<role>` values, deduplicated and sorted.
fn find_node_roles(o: &Node) -> Vec<String> {
    let mut roles = BTreeSet::new();
    for (key, value) in o.metadata.labels.iter().flatten() {
        if let Some(role) = key.strip_prefix(LABEL_NODE_ROLE_PREFIX) {
            if !role.is_empty() {
                roles.insert(role.to_string());
            }
        } else if key == NODE_LABEL_ROLE && !value.is_empty() {
            roles.insert(value.clone());
        }
    }
    roles.into_iter().collect()
}

/// The first address of that type, `<none>` without one.
fn address(o: &Node, type_: &str) -> String {
    o.status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .and_then(|a| a.iter().find(|a| a.type_ == type_))
        .map_or_else(|| "<none>".to_string(), |a| a.address.clone())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{from_json, strings};
    use super::*;
    use serde_json::{Value, json};

    fn node_of(metadata: Value, spec: Value, status: Value) -> Node {
        from_json(json!({"metadata": metadata, "spec": spec, "status": status}))
    }

    fn status_of(unschedulable: bool, conditions: Value) -> String {
        node(&node_of(
            json!({"name": "foo"}),
            json!({"unschedulable": unschedulable}),
            json!({"conditions": conditions}),
        ))
        .status
    }

    /// The wide cells (INTERNAL-IP, EXTERNAL-IP, OS-IMAGE, KERNEL-VERSION,
    /// CONTAINER-RUNTIME) of a node with this status.
    fn wide(status: Value) -> [String; 5] {
        let c = node(&node_of(json!({"name": "foo"}), json!({}), status));
        assert_eq!(c.status, "Unknown");
        assert!(c.roles.is_empty());
        assert_eq!(c.version, "");
        [
            c.internal_ip,
            c.external_ip,
            c.os_image,
            c.kernel_version,
            c.container_runtime,
        ]
    }

    fn own(cells: [&str; 5]) -> [String; 5] {
        cells.map(str::to_string)
    }

    fn external(address: &str) -> Value {
        json!([{"type": "ExternalIP", "address": address}])
    }

    #[test]
    fn print_node_status() {
        let ready = json!([{"type": "Ready", "status": "True"}]);
        let not_ready = json!([{"type": "Ready", "status": "False"}]);
        let invalid = json!([{"type": "InvalidValue", "status": "True"}]);
        let empty = json!([{"type": "", "status": ""}]);
        assert_eq!(status_of(false, ready.clone()), "Ready");
        assert_eq!(status_of(true, ready), "Ready,SchedulingDisabled");
        assert_eq!(
            status_of(
                false,
                json!([{"type": "Ready", "status": "True"},
                {"type": "Ready", "status": "True"}])
            ),
            "Ready"
        );
        assert_eq!(status_of(false, not_ready.clone()), "NotReady");
        assert_eq!(status_of(true, not_ready), "NotReady,SchedulingDisabled");
        assert_eq!(status_of(false, invalid.clone()), "Unknown");
        assert_eq!(status_of(false, empty.clone()), "Unknown");
        assert_eq!(status_of(true, invalid), "Unknown,SchedulingDisabled");
        assert_eq!(status_of(true, empty), "Unknown,SchedulingDisabled");
    }

    #[test]
    fn print_node_status_defaults_for_the_other_columns() {
        let c = node(&node_of(
            json!({"name": "foo1"}),
            json!({}),
            json!({"conditions": [{"type": "Ready", "status": "True"}]}),
        ));
        assert!(c.roles.is_empty());
        assert_eq!(c.version, "");
    }

    #[test]
    fn print_node_role() {
        let roles = |labels: Value| {
            node(&node_of(
                json!({"name": "foo", "labels": labels}),
                json!({}),
                json!({}),
            ))
            .roles
        };
        assert!(roles(json!({})).is_empty());
        assert_eq!(
            roles(json!({"node-role.kubernetes.io/master": "",
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/proxy": "", "kubernetes.io/role": "node"})),
            strings(&["control-plane", "master", "node", "proxy"])
        );
        assert_eq!(
            roles(json!({"kubernetes.io/role": "node"})),
            strings(&["node"])
        );
    }

    #[test]
    fn print_node_os_image() {
        assert_eq!(
            wide(
                json!({"nodeInfo": {"osImage": "fake-os-image"}, "addresses": external("1.1.1.1")})
            ),
            own([
                "<none>",
                "1.1.1.1",
                "fake-os-image",
                "<unknown>",
                "<unknown>"
            ])
        );
        assert_eq!(
            wide(json!({"nodeInfo": {"kernelVersion": "fake-kernel-version"},
                "addresses": external("1.1.1.1")})),
            own([
                "<none>",
                "1.1.1.1",
                "<unknown>",
                "fake-kernel-version",
                "<unknown>"
            ])
        );
    }

    #[test]
    fn print_node_kernel_version() {
        assert_eq!(
            wide(json!({"nodeInfo": {"kernelVersion": "fake-kernel-version"},
                "addresses": external("1.1.1.1")})),
            own([
                "<none>",
                "1.1.1.1",
                "<unknown>",
                "fake-kernel-version",
                "<unknown>"
            ])
        );
        assert_eq!(
            wide(
                json!({"nodeInfo": {"osImage": "fake-os-image"}, "addresses": external("1.1.1.1")})
            ),
            own([
                "<none>",
                "1.1.1.1",
                "fake-os-image",
                "<unknown>",
                "<unknown>"
            ])
        );
    }

    #[test]
    fn print_node_arch() {
        assert_eq!(
            wide(json!({"nodeInfo": {"kernelVersion": "fake-kernel-version",
                "architecture": "fake-arch-amd64"}, "addresses": external("1.1.1.1")})),
            own([
                "<none>",
                "1.1.1.1",
                "<unknown>",
                "fake-kernel-version (fake-arch-amd64)",
                "<unknown>"
            ])
        );
        assert_eq!(
            wide(json!({"nodeInfo": {"architecture": "fake-arch-arm64"},
                "addresses": external("1.1.1.1")})),
            own([
                "<none>",
                "1.1.1.1",
                "<unknown>",
                "<unknown> (fake-arch-arm64)",
                "<unknown>"
            ])
        );
        assert_eq!(
            wide(json!({"nodeInfo": {"kernelVersion": "fake-kernel-version"},
                "addresses": external("1.1.1.1")})),
            own([
                "<none>",
                "1.1.1.1",
                "<unknown>",
                "fake-kernel-version",
                "<unknown>"
            ])
        );
    }

    #[test]
    fn print_node_container_runtime_version() {
        assert_eq!(
            wide(
                json!({"nodeInfo": {"containerRuntimeVersion": "foo://1.2.3"},
                "addresses": external("1.1.1.1")})
            ),
            own(["<none>", "1.1.1.1", "<unknown>", "<unknown>", "foo://1.2.3"])
        );
        assert_eq!(
            wide(json!({"nodeInfo": {}, "addresses": external("1.1.1.1")})),
            own(["<none>", "1.1.1.1", "<unknown>", "<unknown>", "<unknown>"])
        );
    }

    #[test]
    fn print_node_name() {
        for name in ["127.0.0.1", ""] {
            let c = node(&node_of(json!({"name": name}), json!({}), json!({})));
            assert_eq!(
                (c.status.as_str(), c.roles.len(), c.version.as_str()),
                ("Unknown", 0, "")
            );
        }
    }

    #[test]
    fn print_node_external_ip() {
        assert_eq!(
            wide(json!({"addresses": external("1.1.1.1")})),
            own(["<none>", "1.1.1.1", "<unknown>", "<unknown>", "<unknown>"])
        );
        assert_eq!(
            wide(json!({"addresses": [{"type": "InternalIP", "address": "1.1.1.1"}]})),
            own(["1.1.1.1", "<none>", "<unknown>", "<unknown>", "<unknown>"])
        );
        assert_eq!(
            wide(json!({"addresses": [
                {"type": "ExternalIP", "address": "2.2.2.2"},
                {"type": "InternalIP", "address": "3.3.3.3"},
                {"type": "ExternalIP", "address": "4.4.4.4"}]})),
            own(["3.3.3.3", "2.2.2.2", "<unknown>", "<unknown>", "<unknown>"])
        );
    }

    #[test]
    fn print_node_internal_ip() {
        assert_eq!(
            wide(json!({"addresses": [{"type": "InternalIP", "address": "1.1.1.1"}]})),
            own(["1.1.1.1", "<none>", "<unknown>", "<unknown>", "<unknown>"])
        );
        assert_eq!(
            wide(json!({"addresses": external("1.1.1.1")})),
            own(["<none>", "1.1.1.1", "<unknown>", "<unknown>", "<unknown>"])
        );
        assert_eq!(
            wide(json!({"addresses": [
                {"type": "InternalIP", "address": "2.2.2.2"},
                {"type": "ExternalIP", "address": "3.3.3.3"},
                {"type": "InternalIP", "address": "4.4.4.4"}]})),
            own(["2.2.2.2", "3.3.3.3", "<unknown>", "<unknown>", "<unknown>"])
        );
    }

    #[test]
    fn last_ready_condition_wins_and_version_is_the_kubelet_version() {
        let c = node(&node_of(
            json!({"name": "n"}),
            json!({}),
            json!({"conditions": [{"type": "Ready", "status": "True"},
                    {"type": "Ready", "status": "Unknown"}],
                "nodeInfo": {"kubeletVersion": "v1.35.0"}}),
        ));
        assert_eq!(
            (c.status.as_str(), c.version.as_str()),
            ("NotReady", "v1.35.0")
        );
    }
}
