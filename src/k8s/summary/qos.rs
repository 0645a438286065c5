//! The QoS class of a pod: `status.qosClass` when the API server has set it, else
//! upstream `ComputePodQOS`, with pod-level `spec.resources` taking precedence over the
//! containers.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, ResourceRequirements};

use super::quantity::{quantity_cmp, quantity_is_zero};

/// QoS class of a pod: `status.qosClass` when set, else [`compute_qos_class`].
pub fn qos_class(pod: &Pod) -> String {
    match pod
        .status
        .as_ref()
        .and_then(|s| s.qos_class.as_deref())
        .filter(|q| !q.is_empty())
    {
        Some(q) => q.to_string(),
        None => compute_qos_class(pod),
    }
}

/// Upstream `ComputePodQOS`: `Guaranteed`, `Burstable` or `BestEffort`.
///
/// Pod-level `spec.resources`, when present, decides alone. Otherwise every init and
/// regular container must agree: each one is Guaranteed (cpu and memory requests equal
/// limits and are non-zero) or BestEffort (no cpu/memory at all); any mix, or any other
/// container, makes the pod Burstable. Requests missing for a resource that has a limit
/// default to the limit, as the API server's defaulting does.
pub fn compute_qos_class(pod: &Pod) -> String {
    let Some(spec) = pod.spec.as_ref() else {
        return "BestEffort".to_string();
    };
    if let Some(pod_resources) = spec.resources.as_ref() {
        return resource_qos(pod_resources).to_string();
    }
    let mut pod_qos: Option<&'static str> = None;
    let all = spec
        .init_containers
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .chain(spec.containers.iter());
    for container in all {
        let empty = ResourceRequirements::default();
        let qos = resource_qos(container.resources.as_ref().unwrap_or(&empty));
        match pod_qos {
            _ if qos == "Burstable" => return qos.to_string(),
            None => pod_qos = Some(qos),
            Some(current) if current != qos => return "Burstable".to_string(),
            Some(_) => {}
        }
    }
    pod_qos.unwrap_or("BestEffort").to_string()
}

/// Upstream `resourceQOS` for one set of requirements (cpu and memory only).
fn resource_qos(resources: &ResourceRequirements) -> &'static str {
    let empty = BTreeMap::new();
    let requests = resources.requests.as_ref().unwrap_or(&empty);
    let limits = resources.limits.as_ref().unwrap_or(&empty);
    let mut qos: Option<&'static str> = None;
    for res in ["cpu", "memory"] {
        let limit = limits.get(res);
        // API defaulting: a missing request takes the limit's value.
        let request = requests.get(res).or(limit);
        if quantity_cmp(request, limit) != Ordering::Equal {
            return "Burstable";
        }
        let best_effort = quantity_is_zero(request) && quantity_is_zero(limit);
        match qos {
            None => {
                qos = Some(if best_effort {
                    "BestEffort"
                } else {
                    "Guaranteed"
                })
            }
            Some(q) if best_effort != (q == "BestEffort") => return "Burstable",
            Some(_) => {}
        }
    }
    qos.unwrap_or("BestEffort")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::summary::testing::to_pod;
    use serde_json::{Value, json};

    fn res(requests: Value, limits: Value) -> Value {
        let mut r = json!({});
        if !requests.is_null() {
            r["requests"] = requests;
        }
        if !limits.is_null() {
            r["limits"] = limits;
        }
        r
    }

    fn qos_pod(
        init: &[Value],
        containers: &[Value],
        pod_level: Option<Value>,
        status_qos: Option<&str>,
    ) -> Pod {
        let named = |prefix: &str, rs: &[Value]| -> Vec<Value> {
            rs.iter()
                .enumerate()
                .map(|(i, r)| json!({"name": format!("{prefix}{i}"), "resources": r}))
                .collect()
        };
        let mut v = json!({"metadata": {"name": "q"}, "spec": {
            "initContainers": named("i", init), "containers": named("c", containers)}});
        if let Some(p) = pod_level {
            v["spec"]["resources"] = p;
        }
        if let Some(q) = status_qos {
            v["status"] = json!({"qosClass": q});
        }
        to_pod(v)
    }

    #[test]
    fn qos_rules() {
        let g = || {
            res(
                json!({"cpu": "1", "memory": "1Gi"}),
                json!({"cpu": "1", "memory": "1Gi"}),
            )
        };
        let none = || json!({});
        let cases: Vec<(&str, Pod, &str)> = vec![
            (
                "status.qosClass wins",
                qos_pod(&[], &[none()], None, Some("Guaranteed")),
                "Guaranteed",
            ),
            (
                "no resources -> BestEffort",
                qos_pod(&[], &[none(), none()], None, None),
                "BestEffort",
            ),
            (
                "equal cpu+memory -> Guaranteed",
                qos_pod(&[], &[g()], None, None),
                "Guaranteed",
            ),
            (
                "equal in other units -> Guaranteed",
                qos_pod(
                    &[],
                    &[res(
                        json!({"cpu": "1000m", "memory": "1073741824"}),
                        json!({"cpu": "1", "memory": "1Gi"}),
                    )],
                    None,
                    None,
                ),
                "Guaranteed",
            ),
            (
                "limits only default the requests -> Guaranteed",
                qos_pod(
                    &[],
                    &[res(Value::Null, json!({"cpu": "500m", "memory": "128Mi"}))],
                    None,
                    None,
                ),
                "Guaranteed",
            ),
            (
                "requests only -> Burstable",
                qos_pod(&[], &[res(json!({"cpu": "1"}), Value::Null)], None, None),
                "Burstable",
            ),
            (
                "cpu only limit -> Burstable (memory missing)",
                qos_pod(&[], &[res(Value::Null, json!({"cpu": "1"}))], None, None),
                "Burstable",
            ),
            (
                "request below limit -> Burstable",
                qos_pod(
                    &[],
                    &[res(
                        json!({"cpu": "500m", "memory": "1Gi"}),
                        json!({"cpu": "1", "memory": "1Gi"}),
                    )],
                    None,
                    None,
                ),
                "Burstable",
            ),
            (
                "Guaranteed + BestEffort containers -> Burstable",
                qos_pod(&[], &[g(), none()], None, None),
                "Burstable",
            ),
            (
                "init container counts -> Burstable",
                qos_pod(&[none()], &[g()], None, None),
                "Burstable",
            ),
            (
                "init and regular Guaranteed -> Guaranteed",
                qos_pod(&[g()], &[g()], None, None),
                "Guaranteed",
            ),
            (
                "zero quantities are BestEffort",
                qos_pod(
                    &[],
                    &[res(
                        json!({"cpu": "0", "memory": "0"}),
                        json!({"cpu": "0m"}),
                    )],
                    None,
                    None,
                ),
                "BestEffort",
            ),
            (
                "only non-QoS resources -> BestEffort",
                qos_pod(
                    &[],
                    &[res(
                        json!({"ephemeral-storage": "1Gi"}),
                        json!({"nvidia.com/gpu": "1"}),
                    )],
                    None,
                    None,
                ),
                "BestEffort",
            ),
            (
                "explicit zero request with a limit -> Burstable",
                qos_pod(
                    &[],
                    &[res(
                        json!({"cpu": "0", "memory": "1Gi"}),
                        json!({"cpu": "1", "memory": "1Gi"}),
                    )],
                    None,
                    None,
                ),
                "Burstable",
            ),
            (
                "pod-level resources decide over containers",
                qos_pod(
                    &[],
                    &[res(json!({"cpu": "100m"}), Value::Null)],
                    Some(res(Value::Null, json!({"cpu": "2", "memory": "2Gi"}))),
                    None,
                ),
                "Guaranteed",
            ),
            (
                "pod-level requests only -> Burstable",
                qos_pod(
                    &[],
                    &[g()],
                    Some(res(json!({"cpu": "2"}), Value::Null)),
                    None,
                ),
                "Burstable",
            ),
            (
                "no spec containers -> BestEffort",
                qos_pod(&[], &[], None, None),
                "BestEffort",
            ),
        ];
        for (name, pod, want) in cases {
            assert_eq!(qos_class(&pod), want, "{name}");
        }
    }
}
