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

#[cfg(test)]
mod tests {
    use super::super::testing::{from_json, strings, two_containers};
    use super::*;
    use serde_json::json;

    fn test_stateful_set() -> StatefulSet {
        from_json(json!({
            "metadata": {"name": "test1", "creationTimestamp": "2024-06-10T12:00:00Z"},
            "spec": {"replicas": 5, "template": two_containers(""), "selector": {}},
            "status": {"replicas": 5, "readyReplicas": 2}
        }))
    }

    #[test]
    fn print_stateful_set_no_generate_options() {
        assert_eq!(stateful_set(&test_stateful_set()).ready, "2/5");
    }

    #[test]
    fn print_stateful_set_wide() {
        assert_eq!(
            stateful_set(&test_stateful_set()),
            StatefulSetColumns {
                ready: "2/5".to_string(),
                container_names: strings(&["fake-container1", "fake-container2"]),
                images: strings(&["fake-image1", "fake-image2"]),
            }
        );
    }
}
