//! How the gateway holds what it watches: [`PodEntry`] (a pod's kubectl-style
//! summary, computed once, and the object as clients get it, as compact JSON
//! text), [`NodeEntry`] and [`ReplicaSetEntry`] (only the fields it shows).
//!
//! Typed k8s-openapi objects take several times the memory of their JSON; the
//! gateway only ever reads these through a few fields or sends pods whole, so
//! it keeps those forms and drops the typed objects once they are made.

use k8s_openapi::api::{
    apps::v1::ReplicaSet,
    core::v1::{Node, Pod},
};

use super::{
    compact::CompactJson,
    summary::{self, PodSummary},
};
use crate::error::AppError;

/// One pod, ready to be listed or sent.
#[derive(Debug)]
pub struct PodEntry {
    /// What `kubectl get pods` shows, and more.
    pub summary: PodSummary,
    /// The v1.Pod as clients get it: apiVersion and kind always set (list items
    /// lack them), managedFields dropped as kubectl does; compressed.
    json: CompactJson,
    /// The pod's labels (for label selectors).
    labels: Box<[(Box<str>, Box<str>)]>,
    uid: Option<String>,
    resource_version: Option<String>,
}

impl PodEntry {
    /// Summarises a pod and keeps its JSON.
    pub fn new(mut pod: Pod) -> Self {
        pod.metadata.managed_fields = None;
        let summary = summary::summarize(&pod);
        let uid = pod.metadata.uid.clone();
        let resource_version = pod.metadata.resource_version.clone();
        let labels = pod
            .metadata
            .labels
            .iter()
            .flatten()
            .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
            .collect();
        // k8s-openapi writes apiVersion and kind for every Pod it serialises.
        let json = CompactJson::new("Pod", &serde_json::to_vec(&pod).unwrap_or_default());
        PodEntry {
            summary,
            json,
            labels,
            uid,
            resource_version,
        }
    }

    /// The object as JSON.
    pub fn object(&self) -> Result<serde_json::Value, AppError> {
        self.json.value()
    }

    /// The value of the label `key`, if the pod has it.
    pub fn label(&self, key: &str) -> Option<&str> {
        // Labels come from a BTreeMap: sorted by key.
        self.labels
            .binary_search_by(|(k, _)| k.as_ref().cmp(key))
            .ok()
            .map(|i| self.labels[i].1.as_ref())
    }

    /// The length of the object's JSON text, in bytes.
    pub fn json_len(&self) -> usize {
        self.json.len()
    }

    /// The pod's labels, sorted by key.
    pub fn labels(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.labels.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    /// The object's uid.
    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    /// The object's resourceVersion.
    pub fn resource_version(&self) -> Option<&str> {
        self.resource_version.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_carry_kind_and_drop_managed_fields() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n", "uid": "u", "resourceVersion": "7",
                         "managedFields": [{"manager": "kubectl"}]},
            "spec": {"containers": [{"name": "c", "image": "i"}]},
        }))
        .expect("pod");
        let entry = PodEntry::new(pod);
        let object = entry.object().expect("json");
        assert_eq!(object["apiVersion"], "v1");
        assert_eq!(object["kind"], "Pod");
        assert!(object["metadata"].get("managedFields").is_none());
        assert_eq!(entry.summary.name, "p");
        assert_eq!(
            (entry.uid(), entry.resource_version()),
            (Some("u"), Some("7"))
        );
    }
}

/// A node, as the gateway shows it (the rest of a Node, such as its image
/// list, is never read and not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeEntry {
    /// Node name.
    pub name: String,
    /// Whether the node's Ready condition is True.
    pub ready: bool,
    /// Roles from `node-role.kubernetes.io/*` labels, sorted.
    pub roles: Vec<String>,
    /// Kubelet version.
    pub kubelet_version: String,
    /// First InternalIP address.
    pub internal_ip: String,
    uid: Option<String>,
    resource_version: Option<String>,
}

impl NodeEntry {
    /// The fields of a Node the gateway shows.
    pub fn new(node: Node) -> Self {
        let status = node.status.as_ref();
        let mut roles: Vec<String> = node
            .metadata
            .labels
            .iter()
            .flatten()
            .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        roles.sort();
        NodeEntry {
            name: node.metadata.name.clone().unwrap_or_default(),
            ready: status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
            roles,
            kubelet_version: status
                .and_then(|s| s.node_info.as_ref())
                .map(|i| i.kubelet_version.clone())
                .unwrap_or_default(),
            internal_ip: status
                .and_then(|s| s.addresses.as_ref())
                .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
                .map(|a| a.address.clone())
                .unwrap_or_default(),
            uid: node.metadata.uid,
            resource_version: node.metadata.resource_version,
        }
    }

    /// The object's uid.
    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    /// The object's resourceVersion.
    pub fn resource_version(&self) -> Option<&str> {
        self.resource_version.as_deref()
    }
}

/// A ReplicaSet, as far as the gateway reads it: who controls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaSetEntry {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Kind and name of the controlling owner (usually a Deployment).
    pub controller: Option<(String, String)>,
    uid: Option<String>,
    resource_version: Option<String>,
}

impl ReplicaSetEntry {
    /// The controller of a ReplicaSet.
    pub fn new(set: ReplicaSet) -> Self {
        let meta = set.metadata;
        ReplicaSetEntry {
            namespace: meta.namespace.unwrap_or_default(),
            name: meta.name.unwrap_or_default(),
            controller: meta
                .owner_references
                .unwrap_or_default()
                .into_iter()
                .find(|o| o.controller == Some(true))
                .map(|o| (o.kind, o.name)),
            uid: meta.uid,
            resource_version: meta.resource_version,
        }
    }

    /// The object's uid.
    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    /// The object's resourceVersion.
    pub fn resource_version(&self) -> Option<&str> {
        self.resource_version.as_deref()
    }
}
