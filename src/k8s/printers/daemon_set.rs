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
