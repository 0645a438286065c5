//! ReplicaSet columns: DESIRED, CURRENT, READY and the wide CONTAINERS, IMAGES,
//! SELECTOR.

use k8s_openapi::api::apps::v1::ReplicaSet;

use super::{containers, selector};

/// kubectl's cells for one ReplicaSet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaSetColumns {
    /// DESIRED: `spec.replicas`.
    pub desired: i32,
    /// CURRENT: `status.replicas`.
    pub current: i32,
    /// READY: `status.readyReplicas`.
    pub ready: i32,
    /// CONTAINERS, split on `,`.
    pub container_names: Vec<String>,
    /// IMAGES, split on `,`.
    pub images: Vec<String>,
    /// SELECTOR (`<none>` when empty).
    pub selector: String,
}

/// Port of upstream `printReplicaSet`. Absent `spec.replicas` counts as 1, the
/// API server's default.
pub fn replica_set(o: &ReplicaSet) -> ReplicaSetColumns {
    let spec = &o.spec;
    let status = o.status.as_ref();
    let (container_names, images) = containers(spec.template.as_ref());
    ReplicaSetColumns {
        desired: spec.replicas.unwrap_or(1),
        current: status.map_or(0, |s| s.replicas),
        ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
        container_names,
        images,
        selector: selector(Some(&spec.selector)),
    }
}
