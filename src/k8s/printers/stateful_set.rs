//! StatefulSet columns: READY and the wide CONTAINERS, IMAGES.

use k8s_openapi::api::apps::v1::StatefulSet;

use super::containers;

/// kubectl's cells for one StatefulSet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatefulSetColumns {
    /// READY: ready replicas over desired replicas (`1/3`).
    pub ready: String,
    /// CONTAINERS, split on `,`.
    pub container_names: Vec<String>,
    /// IMAGES, split on `,`.
    pub images: Vec<String>,
}

/// Port of upstream `printStatefulSet`. Absent `spec.replicas` counts as 1, the
/// API server's default.
pub fn stateful_set(o: &StatefulSet) -> StatefulSetColumns {
    let spec = &o.spec;
    let desired = spec.replicas.unwrap_or(1);
    let ready = o
        .status
        .as_ref()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    let (container_names, images) = containers(Some(&spec.template));
    StatefulSetColumns {
        ready: format!("{ready}/{desired}"),
        container_names,
        images,
    }
}
