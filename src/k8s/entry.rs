//! [`PodEntry`]: how the gateway holds a pod — its kubectl-style summary,
//! computed once, and the object as clients get it, as compact JSON text.
//!
//! A typed `v1.Pod` takes several times the memory of its JSON; the gateway
//! only ever reads pods through their summary or sends them whole, so it keeps
//! those two forms and drops the typed object once they are made.

use k8s_openapi::api::core::v1::Pod;

use super::summary::{self, PodSummary};
use crate::error::AppError;

/// One pod, ready to be listed or sent.
#[derive(Debug)]
pub struct PodEntry {
    /// What `kubectl get pods` shows, and more.
    pub summary: PodSummary,
    /// The v1.Pod as clients get it: apiVersion and kind always set (list items
    /// lack them), managedFields dropped as kubectl does.
    json: Box<str>,
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
        // k8s-openapi writes apiVersion and kind for every Pod it serialises.
        let json = serde_json::to_string(&pod)
            .unwrap_or_default()
            .into_boxed_str();
        PodEntry {
            summary,
            json,
            uid,
            resource_version,
        }
    }

    /// The object as JSON.
    pub fn object(&self) -> Result<serde_json::Value, AppError> {
        serde_json::from_str(&self.json).map_err(AppError::internal)
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
