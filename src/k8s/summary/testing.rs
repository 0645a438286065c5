//! Builders of test pods shared by the summary's unit tests.

use k8s_openapi::api::core::v1::Pod;
use serde_json::{Value, json};

/// A Pod with the given regular containers, init containers (`true` = sidecar,
/// i.e. `restartPolicy: Always`) and status.
pub(super) fn build(containers: &[&str], init: &[(&str, bool)], status: Value) -> Value {
    let containers: Vec<Value> = containers
        .iter()
        .map(|n| json!({"name": n, "image": format!("img/{n}")}))
        .collect();
    let init: Vec<Value> = init
        .iter()
        .map(|(n, sidecar)| {
            let mut c = json!({"name": n, "image": format!("img/{n}")});
            if *sidecar {
                c["restartPolicy"] = json!("Always");
            }
            c
        })
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "ns", "creationTimestamp": "2024-01-01T00:00:00Z"},
        "spec": {"containers": containers, "initContainers": init},
        "status": status,
    })
}

pub(super) fn deleting(mut pod: Value) -> Value {
    pod["metadata"]["deletionTimestamp"] = json!("2024-01-01T01:00:00Z");
    pod
}

pub(super) fn with_gate(mut pod: Value, gate: &str) -> Value {
    pod["spec"]["readinessGates"] = json!([{"conditionType": gate}]);
    pod
}

pub(super) fn to_pod(v: Value) -> Pod {
    serde_json::from_value(v).expect("test pod must deserialize")
}

/// A container status.
pub(super) fn cs(name: &str, ready: bool, restarts: i32, state: Value) -> Value {
    json!({"name": name, "ready": ready, "restartCount": restarts, "image": "img",
           "imageID": "", "state": state})
}

/// A container status with `started` set (used for sidecars).
pub(super) fn started(mut status: Value, started: bool) -> Value {
    status["started"] = json!(started);
    status
}

/// A container status with `lastState.terminated.finishedAt`.
pub(super) fn last_at(mut status: Value, finished_at: &str) -> Value {
    status["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
                                                "finishedAt": finished_at}});
    status
}

pub(super) fn running() -> Value {
    json!({"running": {"startedAt": "2024-01-01T00:00:10Z"}})
}

pub(super) fn waiting(reason: &str) -> Value {
    json!({"waiting": {"reason": reason}})
}

pub(super) fn terminated(exit_code: i32, reason: Option<&str>, signal: Option<i32>) -> Value {
    let mut t = json!({"exitCode": exit_code});
    if let Some(r) = reason {
        t["reason"] = json!(r);
    }
    if let Some(s) = signal {
        t["signal"] = json!(s);
    }
    json!({"terminated": t})
}

pub(super) fn cond(type_: &str, status: &str) -> Value {
    json!({"type": type_, "status": status})
}
