//! Pod summary: what `kubectl get pods` prints for one Pod, plus a few derived fields.
//!
//! This module owns the translation of a [`Pod`] into a [`PodSummary`]:
//!
//! * `STATUS`, `READY`, `RESTARTS` (with the time of the last restart) and the wide
//!   `READINESS GATES` column exactly as the upstream Kubernetes table printer computes
//!   them ([`printer`]);
//! * the QoS class ([`qos`]), which compares resource quantities ([`quantity`]);
//! * per-container summaries (state, reason, readiness, restarts, sidecar flag), the
//!   controlling owner, node, pod IP and creation time (here).
//!
//! It depends only on `k8s_openapi`, `chrono` and `std`, never panics on any input, and
//! performs no I/O.

mod printer;
mod qos;
mod quantity;
#[cfg(test)]
mod testing;

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, SecondsFormat, Utc};
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use qos::{compute_qos_class, qos_class};

use printer::{is_restartable, print_columns, readiness_gates, terminated_reason};

// The one pod summary of the gateway: the watch caches keep it, GraphQL serves its
// fields, and the REST API writes it (snake_case) after reading it back from a
// GraphQL answer (camelCase, hence the aliases).
/// A pod as `kubectl get pods -o wide` shows it, plus a few derived fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PodSummary {
    /// Name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// App containers, in `spec.containers` order (status-only entries appended).
    pub containers: Vec<ContainerSummary>,
    /// Init containers, including native sidecars, in `spec.initContainers` order.
    #[serde(alias = "initContainers")]
    pub init_containers: Vec<ContainerSummary>,
    /// The RESTARTS column.
    pub restarts: i32,
    /// When the last counted restart happened (RFC 3339; kubectl's `5 (3m ago)`);
    /// null when `restarts` is 0 or no `lastState.terminated.finishedAt` was recorded.
    #[serde(alias = "lastRestart")]
    pub last_restart: Option<String>,
    /// The READY column, e.g. `1/2`.
    #[schema(example = "1/1")]
    pub ready: String,
    /// Kind of the controlling owner (`ReplicaSet`, `StatefulSet`, ...), or empty.
    pub controlled: String,
    /// Name of that controlling owner, or empty (GraphQL serves it as `workload`).
    #[serde(skip)]
    pub controller_name: String,
    /// QoS class: `Guaranteed`, `Burstable` or `BestEffort`.
    pub qos: String,
    /// Creation time (RFC 3339).
    pub created: Option<String>,
    /// The STATUS column, exactly as kubectl prints it (`Running`, `CrashLoopBackOff`,
    /// `Init:0/1`, ...).
    #[schema(example = "Running")]
    pub status: String,
    /// Node name (empty while unscheduled).
    #[serde(alias = "nodeName")]
    pub node_name: String,
    /// Pod IP (`status.podIPs[0]`, else `status.podIP`; empty until assigned).
    #[serde(alias = "podIP")]
    pub pod_ip: String,
    /// The wide READINESS GATES column: gates whose condition is true over all gates
    /// (`1/2`), or empty when the pod has none. It never changes READY.
    #[serde(alias = "readinessGates")]
    pub readiness_gates: String,
}

/// One container (or init container) of a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, SimpleObject)]
#[graphql(name = "Container")]
pub struct ContainerSummary {
    /// Container name.
    pub name: String,
    /// Image reference (from the spec; the status's image for status-only entries).
    pub image: String,
    /// Running, waiting or terminated.
    pub status: ContainerState,
    /// Waiting or terminated reason (CrashLoopBackOff, Completed, OOMKilled...; a
    /// terminated state without one gives Signal:N or ExitCode:N as kubectl does);
    /// empty while running.
    pub reason: String,
    /// Whether the container passes its readiness probe.
    pub ready: bool,
    /// Restart count.
    pub restarts: i32,
    /// An init container that keeps running beside the app (restartPolicy Always).
    pub sidecar: bool,
}

/// A container's state, as the kubelet reports it. GraphQL spells it `RUNNING`,
/// REST `running`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Enum,
)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    /// Running.
    #[serde(alias = "RUNNING")]
    Running,
    /// Waiting (also: no status reported yet).
    #[default]
    #[serde(alias = "WAITING")]
    Waiting,
    /// Terminated.
    #[serde(alias = "TERMINATED")]
    Terminated,
}

impl ContainerState {
    /// Lower-case name: `"running"`, `"waiting"` or `"terminated"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ContainerState::Running => "running",
            ContainerState::Waiting => "waiting",
            ContainerState::Terminated => "terminated",
        }
    }
}

impl std::fmt::Display for ContainerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Summarizes a Pod the way `kubectl get pods` (upstream `printPod`) does.
pub fn summarize(pod: &Pod) -> PodSummary {
    let meta = &pod.metadata;
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let columns = print_columns(pod);

    let init_specs: &[Container] =
        spec.map_or(&[], |s| s.init_containers.as_deref().unwrap_or(&[]));
    let specs: &[Container] = spec.map_or(&[], |s| s.containers.as_slice());
    let init_statuses: &[ContainerStatus] =
        status.map_or(&[], |s| s.init_container_statuses.as_deref().unwrap_or(&[]));
    let statuses: &[ContainerStatus] =
        status.map_or(&[], |s| s.container_statuses.as_deref().unwrap_or(&[]));

    let (controlled, controller_name) = meta
        .owner_references
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|o| o.controller == Some(true))
        .map(|o| (o.kind.clone(), o.name.clone()))
        .unwrap_or_default();

    let pod_ip = status
        .and_then(|s| s.pod_ips.as_deref())
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.clone())
        .filter(|ip| !ip.is_empty())
        .or_else(|| status.and_then(|s| s.pod_ip.clone()))
        .unwrap_or_default();

    PodSummary {
        name: meta.name.clone().unwrap_or_default(),
        namespace: meta.namespace.clone().unwrap_or_default(),
        containers: container_summaries(specs, statuses, false),
        init_containers: container_summaries(init_specs, init_statuses, true),
        restarts: columns.restarts,
        last_restart: columns.last_restart.map(rfc3339),
        ready: format!("{}/{}", columns.ready_containers, columns.total_containers),
        controlled,
        controller_name,
        qos: qos_class(pod),
        created: meta
            .creation_timestamp
            .as_ref()
            .and_then(to_chrono)
            .map(rfc3339),
        status: columns.reason,
        node_name: spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        pod_ip,
        readiness_gates: readiness_gates(pod),
    }
}

/// A time as kubectl's JSON shows it: `2024-01-02T03:04:05Z`.
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Converts a Kubernetes `Time` (a `jiff::Timestamp`) to chrono.
pub(crate) fn to_chrono(time: &Time) -> Option<DateTime<Utc>> {
    let mut seconds = time.0.as_second();
    let mut nanos = i64::from(time.0.subsec_nanosecond());
    if nanos < 0 {
        seconds = seconds.checked_sub(1)?;
        nanos += 1_000_000_000;
    }
    DateTime::from_timestamp(seconds, u32::try_from(nanos).ok()?)
}

/// Builds container summaries in spec order, appending statuses that have no spec entry.
fn container_summaries(
    specs: &[Container],
    statuses: &[ContainerStatus],
    init: bool,
) -> Vec<ContainerSummary> {
    let mut out: Vec<ContainerSummary> = specs
        .iter()
        .map(|c| {
            let status = statuses.iter().find(|s| s.name == c.name);
            let image = c.image.clone().filter(|i| !i.is_empty());
            container_summary(&c.name, image, status, init && is_restartable(c))
        })
        .collect();
    for s in statuses {
        if !specs.iter().any(|c| c.name == s.name) {
            out.push(container_summary(&s.name, None, Some(s), false));
        }
    }
    out
}

fn container_summary(
    name: &str,
    spec_image: Option<String>,
    status: Option<&ContainerStatus>,
    sidecar: bool,
) -> ContainerSummary {
    let state = status.and_then(|s| s.state.as_ref());
    let waiting = state.and_then(|s| s.waiting.as_ref());
    let terminated = state.and_then(|s| s.terminated.as_ref());
    let running = state.and_then(|s| s.running.as_ref());
    // Same precedence as printPod: waiting, then terminated, then running.
    let (state, reason) = if let Some(w) = waiting {
        (
            ContainerState::Waiting,
            w.reason.clone().unwrap_or_default(),
        )
    } else if let Some(t) = terminated {
        (ContainerState::Terminated, terminated_reason(t))
    } else if running.is_some() {
        (ContainerState::Running, String::new())
    } else {
        (ContainerState::Waiting, String::new())
    };
    ContainerSummary {
        name: name.to_string(),
        image: spec_image
            .or_else(|| status.map(|s| s.image.clone()))
            .unwrap_or_default(),
        status: state,
        reason,
        ready: status.is_some_and(|s| s.ready),
        restarts: status.map_or(0, |s| s.restart_count),
        sidecar,
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn container_summaries_follow_spec_order() {
        let pod = to_pod(build(
            &["a", "b", "c"],
            &[("i", false), ("s", true)],
            json!({
            "phase": "Running",
            "initContainerStatuses": [
                cs("i", false, 0, terminated(0, Some("Completed"), None)),
                started(cs("s", true, 1, running()), true)],
            "containerStatuses": [
                cs("c", false, 0, terminated(1, None, Some(9))),
                cs("b", false, 7, waiting("CrashLoopBackOff")),
                cs("a", true, 0, running()),
                cs("extra", false, 0, json!({}))]}),
        ));
        let s = summarize(&pod);
        let view = |v: &[ContainerSummary]| -> Vec<(String, String, &'static str, String, bool, i32, bool)> {
            v.iter()
                .map(|c| (c.name.clone(), c.image.clone(), c.status.as_str(), c.reason.clone(), c.ready, c.restarts, c.sidecar))
                .collect()
        };
        let own = |n: &str, i: &str, st: &'static str, r: &str, ready: bool, rc: i32, sc: bool| {
            (
                n.to_string(),
                i.to_string(),
                st,
                r.to_string(),
                ready,
                rc,
                sc,
            )
        };
        assert_eq!(
            view(&s.containers),
            vec![
                own("a", "img/a", "running", "", true, 0, false),
                own("b", "img/b", "waiting", "CrashLoopBackOff", false, 7, false),
                own("c", "img/c", "terminated", "Signal:9", false, 0, false),
                own("extra", "img", "waiting", "", false, 0, false),
            ]
        );
        assert_eq!(
            view(&s.init_containers),
            vec![
                own("i", "img/i", "terminated", "Completed", false, 0, false),
                own("s", "img/s", "running", "", true, 1, true),
            ]
        );
    }

    #[test]
    fn container_without_status_is_waiting() {
        let s = summarize(&to_pod(build(&["a"], &[], json!({"phase": "Pending"}))));
        assert_eq!(s.containers.len(), 1);
        assert_eq!(s.containers[0].status, ContainerState::Waiting);
        assert_eq!(s.containers[0].reason, "");
        assert!(!s.containers[0].ready);
    }

    #[test]
    fn container_state_names() {
        assert_eq!(ContainerState::Running.as_str(), "running");
        assert_eq!(ContainerState::Waiting.as_str(), "waiting");
        assert_eq!(ContainerState::Terminated.to_string(), "terminated");
    }

    #[test]
    fn metadata_fields() {
        let mut v = build(
            &["a"],
            &[],
            json!({"phase": "Running", "podIP": "10.0.0.1",
            "podIPs": [{"ip": "fd00::1"}, {"ip": "10.0.0.1"}]}),
        );
        v["metadata"]["ownerReferences"] = json!([
            {"apiVersion": "v1", "kind": "Node", "name": "n0", "uid": "1"},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs-1", "uid": "2", "controller": true}]);
        v["metadata"]["creationTimestamp"] = json!("2024-03-04T05:06:07.123Z");
        v["spec"]["nodeName"] = json!("node-1");
        let s = summarize(&to_pod(v));
        assert_eq!(s.name, "p");
        assert_eq!(s.namespace, "ns");
        assert_eq!(s.controlled, "ReplicaSet");
        assert_eq!(s.controller_name, "rs-1");
        assert_eq!(s.node_name, "node-1");
        assert_eq!(s.pod_ip, "fd00::1");
        assert_eq!(s.created.as_deref(), Some("2024-03-04T05:06:07Z"));
        assert_eq!(s.readiness_gates, "");
    }

    #[test]
    fn owner_without_controller_flag_is_not_controller() {
        let mut v = build(
            &["a"],
            &[],
            json!({"phase": "Running", "podIP": "10.0.0.2"}),
        );
        v["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "2"}]);
        let s = summarize(&to_pod(v));
        assert_eq!(
            (s.controlled.as_str(), s.controller_name.as_str()),
            ("", "")
        );
        assert_eq!(s.pod_ip, "10.0.0.2");
    }
}
