//! Deployment columns: READY, UP-TO-DATE, AVAILABLE and the wide CONTAINERS, IMAGES,
//! SELECTOR (AGE is the object's creation time, kept elsewhere).

use k8s_openapi::api::apps::v1::Deployment;

use super::{containers, label_selector_string};

/// kubectl's cells for one Deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeploymentColumns {
    /// READY: ready replicas over desired replicas (`2/3`).
    pub ready: String,
    /// UP-TO-DATE: `status.updatedReplicas`.
    pub up_to_date: i32,
    /// AVAILABLE: `status.availableReplicas`.
    pub available: i32,
    /// CONTAINERS, split on `,`.
    pub container_names: Vec<String>,
    /// IMAGES, split on `,`.
    pub images: Vec<String>,
    /// SELECTOR: the selector's requirements (`app=web`); empty for an empty
    /// selector and `<invalid>` for one the API server could not parse (unlike the
    /// other kinds, whose cell says `<none>` and `<error>`).
    pub selector: String,
}

/// Port of upstream `printDeployment`. Absent `spec.replicas` counts as 1, the
/// API server's default.
pub fn deployment(o: &Deployment) -> DeploymentColumns {
    let spec = &o.spec;
    let status = o.status.as_ref();
    let desired = spec.replicas.unwrap_or(1);
    let ready = status.and_then(|s| s.ready_replicas).unwrap_or(0);
    let (container_names, images) = containers(Some(&spec.template));
    let selector = match label_selector_string(Some(&spec.selector)) {
        Ok(text) => text,
        Err(()) => "<invalid>".to_string(),
    };
    DeploymentColumns {
        ready: format!("{ready}/{desired}"),
        up_to_date: status.and_then(|s| s.updated_replicas).unwrap_or(0),
        available: status.and_then(|s| s.available_replicas).unwrap_or(0),
        container_names,
        images,
        selector,
    }
}
