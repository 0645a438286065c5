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
