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

#[cfg(test)]
mod tests {
    use super::super::testing::{from_json, strings, two_containers};
    use super::*;
    use serde_json::json;

    fn test_replica_set() -> ReplicaSet {
        from_json(json!({
            "metadata": {"name": "test1", "creationTimestamp": "2024-06-10T12:00:00Z"},
            "spec": {
                "replicas": 5,
                "template": two_containers(""),
                "selector": {"matchLabels": {"foo": "bar"}}
            },
            "status": {"replicas": 5, "readyReplicas": 2}
        }))
    }

    #[test]
    fn print_replica_set_generate_options_empty() {
        let c = replica_set(&test_replica_set());
        assert_eq!((c.desired, c.current, c.ready), (5, 5, 2));
    }

    #[test]
    fn print_replica_set_wide() {
        assert_eq!(
            replica_set(&test_replica_set()),
            ReplicaSetColumns {
                desired: 5,
                current: 5,
                ready: 2,
                container_names: strings(&["fake-container1", "fake-container2"]),
                images: strings(&["fake-image1", "fake-image2"]),
                selector: "foo=bar".to_string(),
            }
        );
    }

    #[test]
    fn print_replica_set_list() {
        let rs2: ReplicaSet = from_json(json!({
            "metadata": {"name": "replicaset2"},
            "spec": {"replicas": 4, "template": {}, "selector": {"matchLabels": {"foo": "bar"}}},
            "status": {"replicas": 3, "readyReplicas": 1}
        }));
        let c = replica_set(&rs2);
        assert_eq!((c.desired, c.current, c.ready), (4, 3, 1));
        assert!(c.container_names.is_empty() && c.images.is_empty());
    }

    #[test]
    fn replica_set_with_empty_selector_says_none() {
        let mut rs = test_replica_set();
        rs.spec.selector = from_json(json!({}));
        assert_eq!(replica_set(&rs).selector, "<none>");
    }
}
