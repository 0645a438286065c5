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

#[cfg(test)]
mod tests {
    use super::super::testing::{from_json, strings, two_containers};
    use super::*;
    use serde_json::json;

    /// Upstream TestPrintDeployment's `testDeployment`.
    fn test_deployment() -> Deployment {
        from_json(json!({
            "metadata": {"name": "test1", "creationTimestamp": "2024-06-10T12:00:00Z"},
            "spec": {
                "replicas": 5,
                "template": two_containers(""),
                "selector": {"matchLabels": {"foo": "bar"}}
            },
            "status": {"replicas": 10, "updatedReplicas": 2, "availableReplicas": 1, "unavailableReplicas": 4}
        }))
    }

    #[test]
    fn print_deployment_no_generate_options() {
        let c = deployment(&test_deployment());
        assert_eq!((c.ready.as_str(), c.up_to_date, c.available), ("0/5", 2, 1));
    }

    #[test]
    fn print_deployment_wide() {
        let c = deployment(&test_deployment());
        assert_eq!(
            c,
            DeploymentColumns {
                ready: "0/5".to_string(),
                up_to_date: 2,
                available: 1,
                container_names: strings(&["fake-container1", "fake-container2"]),
                images: strings(&["fake-image1", "fake-image2"]),
                selector: "foo=bar".to_string(),
            }
        );
    }

    #[test]
    fn deployment_selector_is_empty_not_none_and_invalid_not_error() {
        let mut d = test_deployment();
        d.spec.selector = from_json(json!({}));
        assert_eq!(deployment(&d).selector, "");
        d.spec.selector = from_json(json!({"matchExpressions": [
            {"key": "tier", "operator": "Bogus", "values": ["a"]}]}));
        assert_eq!(deployment(&d).selector, "<invalid>");
    }

    #[test]
    fn deployment_without_replicas_counts_the_default_one() {
        let mut d = test_deployment();
        d.spec.replicas = None;
        d.status = None;
        let c = deployment(&d);
        assert_eq!((c.ready.as_str(), c.up_to_date, c.available), ("0/1", 0, 0));
    }
}
