//! DaemonSet columns: DESIRED, CURRENT, READY, UP-TO-DATE, AVAILABLE, NODE SELECTOR
//! and the wide CONTAINERS, IMAGES, SELECTOR.

use k8s_openapi::api::apps::v1::DaemonSet;

use super::{containers, format_labels, selector};

/// kubectl's cells for one DaemonSet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DaemonSetColumns {
    /// DESIRED: `status.desiredNumberScheduled`.
    pub desired: i32,
    /// CURRENT: `status.currentNumberScheduled`.
    pub current: i32,
    /// READY: `status.numberReady`.
    pub ready: i32,
    /// UP-TO-DATE: `status.updatedNumberScheduled`.
    pub up_to_date: i32,
    /// AVAILABLE: `status.numberAvailable`.
    pub available: i32,
    /// NODE SELECTOR: the template's `nodeSelector` as `k=v,...`, `<none>` when empty.
    pub node_selector: String,
    /// CONTAINERS, split on `,`.
    pub container_names: Vec<String>,
    /// IMAGES, split on `,`.
    pub images: Vec<String>,
    /// SELECTOR (`<none>` when empty).
    pub selector: String,
}

/// Port of upstream `printDaemonSet`.
pub fn daemon_set(o: &DaemonSet) -> DaemonSetColumns {
    let spec = &o.spec;
    let status = o.status.as_ref();
    let template = Some(&spec.template);
    let (container_names, images) = containers(template);
    DaemonSetColumns {
        desired: status.map_or(0, |s| s.desired_number_scheduled),
        current: status.map_or(0, |s| s.current_number_scheduled),
        ready: status.map_or(0, |s| s.number_ready),
        up_to_date: status.and_then(|s| s.updated_number_scheduled).unwrap_or(0),
        available: status.and_then(|s| s.number_available).unwrap_or(0),
        node_selector: format_labels(
            template
                .and_then(|t| t.spec.as_ref())
                .and_then(|s| s.node_selector.as_ref()),
        ),
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

    fn test_daemon_set() -> DaemonSet {
        from_json(json!({
            "metadata": {"name": "test1", "creationTimestamp": "2024-06-10T12:00:00Z"},
            "spec": {"template": two_containers(""), "selector": {"matchLabels": {"foo": "bar"}}},
            "status": {
                "currentNumberScheduled": 2, "desiredNumberScheduled": 3, "numberReady": 1,
                "updatedNumberScheduled": 2, "numberAvailable": 0, "numberMisscheduled": 0
            }
        }))
    }

    #[test]
    fn print_daemon_set_no_generate_options() {
        let c = daemon_set(&test_daemon_set());
        assert_eq!(
            (c.desired, c.current, c.ready, c.up_to_date, c.available),
            (3, 2, 1, 2, 0)
        );
        assert_eq!(c.node_selector, "<none>");
    }

    #[test]
    fn print_daemon_set_wide() {
        assert_eq!(
            daemon_set(&test_daemon_set()),
            DaemonSetColumns {
                desired: 3,
                current: 2,
                ready: 1,
                up_to_date: 2,
                available: 0,
                node_selector: "<none>".to_string(),
                container_names: strings(&["fake-container1", "fake-container2"]),
                images: strings(&["fake-image1", "fake-image2"]),
                selector: "foo=bar".to_string(),
            }
        );
    }

    #[test]
    fn print_daemon_set_list() {
        let ds2: DaemonSet = from_json(json!({
            "metadata": {"name": "daemonset2"},
            "spec": {"template": {}, "selector": {"matchLabels": {"foo": "bar"}}},
            "status": {
                "currentNumberScheduled": 4, "desiredNumberScheduled": 2, "numberReady": 9,
                "updatedNumberScheduled": 3, "numberAvailable": 3, "numberMisscheduled": 0
            }
        }));
        let c = daemon_set(&ds2);
        assert_eq!(
            (c.desired, c.current, c.ready, c.up_to_date, c.available),
            (2, 4, 9, 3, 3)
        );
        assert_eq!(c.node_selector, "<none>");
    }

    #[test]
    fn daemon_set_node_selector_is_sorted_pairs() {
        let mut ds = test_daemon_set();
        ds.spec.template = from_json(json!({"spec": {"containers": [],
            "nodeSelector": {"kubernetes.io/os": "linux", "disk": "ssd"}}}));
        assert_eq!(
            daemon_set(&ds).node_selector,
            "disk=ssd,kubernetes.io/os=linux"
        );
    }
}
