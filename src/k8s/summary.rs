//! Pod summary: what `kubectl get pods` prints for one Pod, plus a few derived fields.
//!
//! This module owns the translation of a [`Pod`] into a [`PodSummary`]:
//!
//! * `STATUS`, `READY` and `RESTARTS` exactly as the upstream Kubernetes table printer
//!   computes them (`printPod` in `pkg/printers/internalversion/printers.go`, 1.31+,
//!   including native sidecars — init containers with `restartPolicy: Always` — the
//!   `SchedulingGated` condition, the `Initialized` condition short-cut, and the rule that
//!   a terminal pod is never shown as `Terminating`);
//! * the time of the last restart that kubectl shows as `5 (3m ago)` ([`human_duration`]
//!   ports apimachinery's `duration.HumanDuration` for that);
//! * the wide-output readiness-gate column (`1/2`), which never changes `READY`;
//! * the QoS class ([`qos_class`]: `status.qosClass`, else upstream `ComputePodQOS`, with
//!   pod-level `spec.resources` taking precedence over the containers);
//! * per-container summaries (state, reason, readiness, restarts, sidecar flag), the
//!   controlling owner, node, pod IP and creation time.
//!
//! It depends only on `k8s_openapi`, `chrono` and `std`, never panics on any input, and
//! performs no I/O.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use k8s_openapi::api::core::v1::{
    Container, ContainerStatus, Pod, PodCondition, PodStatus, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// `status.reason` that the node lifecycle controller sets on pods of an unreachable node
/// (upstream `NodeUnreachablePodReason`).
const NODE_UNREACHABLE_POD_REASON: &str = "NodeLost";
/// `PodScheduled` condition reason while scheduling gates are present.
const POD_REASON_SCHEDULING_GATED: &str = "SchedulingGated";

/// Summary of one Pod: the `kubectl get pods -o wide` columns plus derived fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodSummary {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (empty when absent).
    pub namespace: String,
    /// Regular containers, in `spec.containers` order (status-only entries appended).
    pub containers: Vec<ContainerSummary>,
    /// Init containers (including native sidecars), in `spec.initContainers` order.
    pub init_containers: Vec<ContainerSummary>,
    /// kubectl's `RESTARTS` number.
    pub restarts: i32,
    /// When the last counted restart happened (kubectl's `(5m ago)`); `None` when
    /// `restarts` is 0 or no `lastState.terminated.finishedAt` was recorded.
    pub last_restart: Option<DateTime<Utc>>,
    /// kubectl's `READY` column, e.g. `"1/2"`.
    pub ready: String,
    /// Kind of the owner reference with `controller: true` (e.g. `ReplicaSet`), else `""`.
    pub controlled: String,
    /// Name of that controlling owner, else `""`.
    pub controller_name: String,
    /// QoS class: `Guaranteed`, `Burstable` or `BestEffort` (see [`qos_class`]).
    pub qos: String,
    /// `metadata.creationTimestamp` as RFC 3339 (`2024-01-02T03:04:05Z`).
    pub created: Option<String>,
    /// kubectl's `STATUS` column, e.g. `Running`, `CrashLoopBackOff`, `Init:0/1`.
    pub status: String,
    /// `spec.nodeName` (empty when not scheduled).
    pub node_name: String,
    /// First pod IP (`status.podIPs[0]`, else `status.podIP`), empty when none.
    pub pod_ip: String,
    /// kubectl's wide `READINESS GATES` column: `"true/total"`, or `""` when the pod has
    /// no readiness gates. It never affects `ready`.
    pub readiness_gates: String,
}

/// Summary of one container or init container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSummary {
    /// Container name.
    pub name: String,
    /// Image from the spec (falls back to the status image for status-only entries).
    pub image: String,
    /// Current state; `Waiting` when the container has no status yet.
    pub status: ContainerState,
    /// Waiting or terminated reason (e.g. `CrashLoopBackOff`, `Completed`, `OOMKilled`);
    /// a terminated state without a reason gives `Signal:N` or `ExitCode:N` as kubectl
    /// does; `""` when running or when there is no status.
    pub reason: String,
    /// `containerStatuses[].ready`.
    pub ready: bool,
    /// `containerStatuses[].restartCount`.
    pub restarts: i32,
    /// True for an init container with `restartPolicy: Always` (a native sidecar).
    pub sidecar: bool,
}

/// The state of a container, as reported by the kubelet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerState {
    /// `state.running` is set.
    Running,
    /// `state.waiting` is set, or no state has been reported yet.
    Waiting,
    /// `state.terminated` is set.
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

impl PodSummary {
    /// kubectl's `RESTARTS` cell at `now`: `"5 (3m ago)"`, or just `"5"` when no restart
    /// time is known.
    pub fn restarts_display(&self, now: DateTime<Utc>) -> String {
        match self.last_restart {
            Some(at) if self.restarts != 0 => {
                format!("{} ({} ago)", self.restarts, human_duration(now - at))
            }
            _ => self.restarts.to_string(),
        }
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
        last_restart: columns.last_restart,
        ready: format!("{}/{}", columns.ready_containers, columns.total_containers),
        controlled,
        controller_name,
        qos: qos_class(pod),
        created: meta
            .creation_timestamp
            .as_ref()
            .and_then(to_chrono)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
        status: columns.reason,
        node_name: spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        pod_ip,
        readiness_gates: readiness_gates(pod),
    }
}

/// The cells `printPod` computes for the default (non-wide) columns.
struct PrintColumns {
    reason: String,
    ready_containers: usize,
    total_containers: usize,
    restarts: i32,
    last_restart: Option<DateTime<Utc>>,
}

/// Straight port of upstream `printPod` (STATUS, READY, RESTARTS and the last restart time).
fn print_columns(pod: &Pod) -> PrintColumns {
    let empty_status = PodStatus::default();
    let status = pod.status.as_ref().unwrap_or(&empty_status);
    let conditions: &[PodCondition] = status.conditions.as_deref().unwrap_or(&[]);
    let init_specs: &[Container] = pod
        .spec
        .as_ref()
        .map_or(&[], |s| s.init_containers.as_deref().unwrap_or(&[]));

    let mut restarts: i32 = 0;
    let mut restartable_init_container_restarts: i32 = 0;
    let mut total_containers = pod.spec.as_ref().map_or(0, |s| s.containers.len());
    let mut ready_containers: usize = 0;
    let mut last_restart_date: Option<DateTime<Utc>> = None;
    let mut last_restartable_init_container_restart_date: Option<DateTime<Utc>> = None;

    let pod_phase = status.phase.as_deref().unwrap_or("");
    let mut reason = pod_phase.to_string();
    if let Some(r) = status.reason.as_deref().filter(|r| !r.is_empty()) {
        reason = r.to_string();
    }

    // If the Pod carries {type:PodScheduled, reason:SchedulingGated}, the reason is
    // 'SchedulingGated'.
    for condition in conditions {
        if condition.type_ == "PodScheduled"
            && condition.reason.as_deref() == Some(POD_REASON_SCHEDULING_GATED)
        {
            reason = POD_REASON_SCHEDULING_GATED.to_string();
        }
    }

    // Restartable (sidecar) init containers count as regular containers in READY.
    total_containers += init_specs.iter().filter(|c| is_restartable(c)).count();

    let init_statuses: &[ContainerStatus] =
        status.init_container_statuses.as_deref().unwrap_or(&[]);
    let mut initializing = false;
    for (i, container) in init_statuses.iter().enumerate() {
        let restartable = init_specs
            .iter()
            .find(|c| c.name == container.name)
            .is_some_and(is_restartable);
        restarts = restarts.saturating_add(container.restart_count);
        bump_last_restart(&mut last_restart_date, container);
        if restartable {
            restartable_init_container_restarts =
                restartable_init_container_restarts.saturating_add(container.restart_count);
            bump_last_restart(&mut last_restartable_init_container_restart_date, container);
        }

        let state = container.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        if terminated.is_some_and(|t| t.exit_code == 0) {
            // Init container finished successfully.
            continue;
        }
        if restartable && container.started == Some(true) {
            // Started sidecar: counted as a (possibly ready) container.
            if container.ready {
                ready_containers += 1;
            }
            continue;
        }
        if let Some(t) = terminated {
            // Initialization failed.
            reason = match t.reason.as_deref().filter(|r| !r.is_empty()) {
                Some(r) => format!("Init:{r}"),
                None => match t.signal.filter(|s| *s != 0) {
                    Some(signal) => format!("Init:Signal:{signal}"),
                    None => format!("Init:ExitCode:{}", t.exit_code),
                },
            };
        } else if let Some(r) = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty() && *r != "PodInitializing")
        {
            reason = format!("Init:{r}");
        } else {
            reason = format!("Init:{}/{}", i, init_specs.len());
        }
        initializing = true;
        break;
    }

    if !initializing || is_pod_initialized_condition_true(conditions) {
        restarts = restartable_init_container_restarts;
        last_restart_date = last_restartable_init_container_restart_date;
        let mut has_running = false;
        let statuses: &[ContainerStatus] = status.container_statuses.as_deref().unwrap_or(&[]);
        for container in statuses.iter().rev() {
            restarts = restarts.saturating_add(container.restart_count);
            bump_last_restart(&mut last_restart_date, container);
            let state = container.state.as_ref();
            let waiting_reason = state
                .and_then(|s| s.waiting.as_ref())
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            let running = state.is_some_and(|s| s.running.is_some());
            if let Some(r) = waiting_reason {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = terminated_reason(t);
            } else if container.ready && running {
                has_running = true;
                ready_containers += 1;
            }
        }

        // Change the pod status back to "Running" if at least one container still
        // reports as running.
        if reason == "Completed" && has_running {
            reason = if has_pod_ready_condition(conditions) {
                "Running".to_string()
            } else {
                "NotReady".to_string()
            };
        }
    }

    if pod.metadata.deletion_timestamp.is_some() {
        if status.reason.as_deref() == Some(NODE_UNREACHABLE_POD_REASON) {
            reason = "Unknown".to_string();
        } else if !is_pod_phase_terminal(pod_phase) {
            reason = "Terminating".to_string();
        }
    }

    PrintColumns {
        reason,
        ready_containers,
        total_containers,
        restarts,
        last_restart: if restarts != 0 {
            last_restart_date
        } else {
            None
        },
    }
}

/// Upstream `podutil.IsRestartableInitContainer`: `restartPolicy: Always`.
fn is_restartable(container: &Container) -> bool {
    container.restart_policy.as_deref() == Some("Always")
}

/// Upstream `IsPodPhaseTerminal`.
fn is_pod_phase_terminal(phase: &str) -> bool {
    phase == "Failed" || phase == "Succeeded"
}

/// Upstream `isPodInitializedConditionTrue`: the first `Initialized` condition decides.
fn is_pod_initialized_condition_true(conditions: &[PodCondition]) -> bool {
    conditions
        .iter()
        .find(|c| c.type_ == "Initialized")
        .is_some_and(|c| c.status == "True")
}

/// Upstream `hasPodReadyCondition`: any `Ready` condition with status `True`.
fn has_pod_ready_condition(conditions: &[PodCondition]) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True")
}

/// Reason kubectl shows for a terminated state: its reason, else `Signal:N`, else
/// `ExitCode:N`.
fn terminated_reason(t: &k8s_openapi::api::core::v1::ContainerStateTerminated) -> String {
    match t.reason.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => r.to_string(),
        None => match t.signal.filter(|s| *s != 0) {
            Some(signal) => format!("Signal:{signal}"),
            None => format!("ExitCode:{}", t.exit_code),
        },
    }
}

/// Moves `latest` forward to `lastState.terminated.finishedAt` when that is later.
fn bump_last_restart(latest: &mut Option<DateTime<Utc>>, container: &ContainerStatus) {
    let finished = container
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .and_then(|t| t.finished_at.as_ref())
        .and_then(to_chrono);
    if let Some(finished) = finished
        && latest.is_none_or(|l| l < finished)
    {
        *latest = Some(finished);
    }
}

/// Converts a Kubernetes `Time` (a `jiff::Timestamp`) to chrono.
fn to_chrono(time: &Time) -> Option<DateTime<Utc>> {
    let mut seconds = time.0.as_second();
    let mut nanos = i64::from(time.0.subsec_nanosecond());
    if nanos < 0 {
        seconds = seconds.checked_sub(1)?;
        nanos += 1_000_000_000;
    }
    DateTime::from_timestamp(seconds, u32::try_from(nanos).ok()?)
}

/// The wide `READINESS GATES` cell: gates whose condition is `True` over all gates.
fn readiness_gates(pod: &Pod) -> String {
    let gates = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_deref())
        .unwrap_or(&[]);
    if gates.is_empty() {
        return String::new();
    }
    let conditions: &[PodCondition] = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or(&[]);
    let true_conditions = gates
        .iter()
        .filter(|g| {
            conditions
                .iter()
                .find(|c| c.type_ == g.condition_type)
                .is_some_and(|c| c.status == "True")
        })
        .count();
    format!("{}/{}", true_conditions, gates.len())
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

fn quantity_is_zero(q: Option<&Quantity>) -> bool {
    match q {
        None => true,
        Some(q) => parse_quantity(&q.0) == Some(0),
    }
}

/// Compares two optional quantities; a missing quantity is zero, and quantities that do
/// not parse compare by their trimmed text.
fn quantity_cmp(a: Option<&Quantity>, b: Option<&Quantity>) -> Ordering {
    let value = |q: Option<&Quantity>| q.map_or(Some(0), |q| parse_quantity(&q.0));
    match (value(a), value(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            let text = |q: Option<&Quantity>| q.map_or("", |q| q.0.trim()).to_string();
            text(a).cmp(&text(b))
        }
    }
}

/// Parses a Kubernetes resource quantity (`100m`, `1.5`, `128Mi`, `1e3`, `2G`) into
/// nano-units (value × 10⁹), rounding up like Kubernetes does on precision loss.
/// Returns `None` for malformed input or overflow.
fn parse_quantity(text: &str) -> Option<i128> {
    let s = text.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let digits: String = [int_part, frac_part].concat();
    if digits.len() > 30 {
        return None;
    }
    let mut mantissa: i128 = digits.parse().ok()?;
    let (binary_shift, decimal_exp): (u32, i32) = match suffix {
        "" => (0, 0),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        other => {
            let exp = other.strip_prefix(['e', 'E'])?;
            let exp: i32 = exp.parse().ok()?;
            if !(-40..=40).contains(&exp) {
                return None;
            }
            (0, exp)
        }
    };
    mantissa = mantissa.checked_mul(1i128.checked_shl(binary_shift)?)?;
    let frac_len = i32::try_from(frac_part.len()).ok()?;
    let exp10 = decimal_exp + 9 - frac_len;
    let mut value = if exp10 >= 0 {
        mantissa.checked_mul(10i128.checked_pow(exp10.unsigned_abs())?)?
    } else {
        let divisor = 10i128.checked_pow(exp10.unsigned_abs())?;
        let quotient = mantissa / divisor;
        if mantissa % divisor != 0 {
            quotient + 1
        } else {
            quotient
        }
    };
    if negative {
        value = -value;
    }
    Some(value)
}

/// Port of apimachinery's `duration.HumanDuration`, which kubectl uses for `AGE` and the
/// `(5m ago)` part of `RESTARTS`: `45s`, `3m20s`, `15m`, `2h5m`, `10h`, `3d4h`, `20d`,
/// `2y30d`, `9y`; `0s` for up to 2 s in the future, `<invalid>` beyond that.
pub fn human_duration(d: TimeDelta) -> String {
    let seconds = d.num_seconds();
    if seconds < -1 {
        return "<invalid>".to_string();
    } else if seconds < 0 {
        return "0s".to_string();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = d.num_minutes();
    if minutes < 10 {
        let s = seconds % 60;
        if s == 0 {
            return format!("{minutes}m");
        }
        return format!("{minutes}m{s}s");
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d.num_hours();
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            return format!("{hours}h");
        }
        format!("{hours}h{m}m")
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        format!("{}d{}h", hours / 24, h)
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        format!("{}y{}d", hours / 24 / 365, dy)
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A Pod with the given regular containers, init containers (`true` = sidecar,
    /// i.e. `restartPolicy: Always`) and status.
    fn build(containers: &[&str], init: &[(&str, bool)], status: Value) -> Value {
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

    fn deleting(mut pod: Value) -> Value {
        pod["metadata"]["deletionTimestamp"] = json!("2024-01-01T01:00:00Z");
        pod
    }

    fn with_gate(mut pod: Value, gate: &str) -> Value {
        pod["spec"]["readinessGates"] = json!([{"conditionType": gate}]);
        pod
    }

    fn to_pod(v: Value) -> Pod {
        serde_json::from_value(v).expect("test pod must deserialize")
    }

    /// A container status.
    fn cs(name: &str, ready: bool, restarts: i32, state: Value) -> Value {
        json!({"name": name, "ready": ready, "restartCount": restarts, "image": "img",
               "imageID": "", "state": state})
    }

    /// A container status with `started` set (used for sidecars).
    fn started(mut status: Value, started: bool) -> Value {
        status["started"] = json!(started);
        status
    }

    /// A container status with `lastState.terminated.finishedAt`.
    fn last_at(mut status: Value, finished_at: &str) -> Value {
        status["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
                                                    "finishedAt": finished_at}});
        status
    }

    fn running() -> Value {
        json!({"running": {"startedAt": "2024-01-01T00:00:10Z"}})
    }

    fn waiting(reason: &str) -> Value {
        json!({"waiting": {"reason": reason}})
    }

    fn terminated(exit_code: i32, reason: Option<&str>, signal: Option<i32>) -> Value {
        let mut t = json!({"exitCode": exit_code});
        if let Some(r) = reason {
            t["reason"] = json!(r);
        }
        if let Some(s) = signal {
            t["signal"] = json!(s);
        }
        json!({"terminated": t})
    }

    fn cond(type_: &str, status: &str) -> Value {
        json!({"type": type_, "status": status})
    }

    struct Case {
        /// The upstream printPod condition the row exercises.
        rule: &'static str,
        pod: Value,
        status: &'static str,
        ready: &'static str,
        restarts: i32,
        last_restart: Option<&'static str>,
    }

    #[rustfmt::skip]
    fn cases() -> Vec<Case> {
        let ready_true = || json!([cond("Initialized", "True"), cond("Ready", "True")]);
        let ready_false = || json!([cond("Initialized", "True"), cond("Ready", "False")]);
        let not_initialized = || json!([cond("Initialized", "False"), cond("Ready", "False")]);
        vec![
            // reason := string(podPhase)
            Case {
                rule: "reason = phase",
                pod: build(&["a"], &[], json!({"phase": "Pending"})),
                status: "Pending", ready: "0/1", restarts: 0, last_restart: None,
            },
            // if pod.Status.Reason != "" { reason = pod.Status.Reason }
            Case {
                rule: "status.reason overrides phase",
                pod: build(&["a"], &[], json!({"phase": "Failed", "reason": "Evicted"})),
                status: "Evicted", ready: "0/1", restarts: 0, last_restart: None,
            },
            // condition.Type == PodScheduled && condition.Reason == PodReasonSchedulingGated
            Case {
                rule: "PodScheduled/SchedulingGated condition",
                pod: build(&["a"], &[], json!({"phase": "Pending", "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]})),
                status: "SchedulingGated", ready: "0/1", restarts: 0, last_restart: None,
            },
            // ... only the SchedulingGated reason does that, Unschedulable leaves the phase
            Case {
                rule: "PodScheduled/Unschedulable keeps phase",
                pod: build(&["a"], &[], json!({"phase": "Pending", "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]})),
                status: "Pending", ready: "0/1", restarts: 0, last_restart: None,
            },
            // case container.State.Terminated != nil && ExitCode == 0: continue
            Case {
                rule: "completed init container is skipped",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Running",
                    "conditions": ready_true(),
                    "initContainerStatuses": [cs("i", false, 0, terminated(0, Some("Completed"), None))],
                    "containerStatuses": [cs("a", true, 0, running())]})),
                status: "Running", ready: "1/1", restarts: 0, last_restart: None,
            },
            // IsRestartableInitContainer → totalContainers++; Started && Ready → readyContainers++
            Case {
                rule: "started ready sidecar counts in READY",
                pod: build(&["a"], &[("i", false), ("s", true)], json!({"phase": "Running",
                    "conditions": ready_true(),
                    "initContainerStatuses": [
                        cs("i", false, 0, terminated(0, Some("Completed"), None)),
                        started(cs("s", true, 0, running()), true)],
                    "containerStatuses": [cs("a", true, 0, running())]})),
                status: "Running", ready: "2/2", restarts: 0, last_restart: None,
            },
            // Started sidecar that is not ready: counted in total only
            Case {
                rule: "started unready sidecar counts in total only",
                pod: build(&["a"], &[("s", true)], json!({"phase": "Running",
                    "conditions": ready_false(),
                    "initContainerStatuses": [started(cs("s", false, 0, running()), true)],
                    "containerStatuses": [cs("a", true, 0, running())]})),
                status: "Running", ready: "1/2", restarts: 0, last_restart: None,
            },
            // Restartable but Started == false falls through to default: Init:i/N
            Case {
                rule: "sidecar not started yet -> Init:i/N",
                pod: build(&["a"], &[("i", false), ("s", true)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [
                        cs("i", false, 0, terminated(0, Some("Completed"), None)),
                        started(cs("s", false, 0, running()), false)],
                    "containerStatuses": [cs("a", false, 0, waiting("PodInitializing"))]})),
                status: "Init:1/2", ready: "0/2", restarts: 0, last_restart: None,
            },
            // A sidecar that exited 0 hits the first case (continue) and is not ready
            Case {
                rule: "sidecar terminated with exit 0 is skipped",
                pod: build(&["a"], &[("s", true)], json!({"phase": "Running",
                    "conditions": ready_true(),
                    "initContainerStatuses": [started(cs("s", false, 0, terminated(0, Some("Completed"), None)), false)],
                    "containerStatuses": [cs("a", true, 0, running())]})),
                status: "Running", ready: "1/2", restarts: 0, last_restart: None,
            },
            // case Terminated != nil: reason = "Init:" + Terminated.Reason; restarts += init restarts
            Case {
                rule: "failed init container with reason -> Init:<reason>",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [last_at(cs("i", false, 2, terminated(1, Some("Error"), None)), "2024-01-01T00:05:00Z")],
                    "containerStatuses": [cs("a", false, 0, waiting("PodInitializing"))]})),
                status: "Init:Error", ready: "0/1", restarts: 2, last_restart: Some("2024-01-01T00:05:00Z"),
            },
            // len(Terminated.Reason) == 0 && Signal != 0 → Init:Signal:N
            Case {
                rule: "failed init container without reason, signal -> Init:Signal:N",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [cs("i", false, 0, terminated(137, None, Some(9)))]})),
                status: "Init:Signal:9", ready: "0/1", restarts: 0, last_restart: None,
            },
            // len(Terminated.Reason) == 0 && Signal == 0 → Init:ExitCode:N
            Case {
                rule: "failed init container without reason -> Init:ExitCode:N",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [cs("i", false, 0, terminated(3, None, None))]})),
                status: "Init:ExitCode:3", ready: "0/1", restarts: 0, last_restart: None,
            },
            // case Waiting != nil && Reason != "" && Reason != "PodInitializing" → Init:<reason>
            Case {
                rule: "waiting init container -> Init:<waiting reason>",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [cs("i", false, 4, waiting("CrashLoopBackOff"))]})),
                status: "Init:CrashLoopBackOff", ready: "0/1", restarts: 4, last_restart: None,
            },
            // Waiting reason PodInitializing → default: Init:i/N
            Case {
                rule: "init container waiting in PodInitializing -> Init:0/N",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [cs("i", false, 0, waiting("PodInitializing"))]})),
                status: "Init:0/1", ready: "0/1", restarts: 0, last_restart: None,
            },
            // default: reason = Init:i/len(spec.InitContainers) (i = status index)
            Case {
                rule: "second init container running -> Init:1/2",
                pod: build(&["a"], &[("i1", false), ("i2", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [
                        cs("i1", false, 0, terminated(0, Some("Completed"), None)),
                        cs("i2", false, 0, running())]})),
                status: "Init:1/2", ready: "0/1", restarts: 0, last_restart: None,
            },
            // An init status without any state also takes the default branch
            Case {
                rule: "init container without state -> Init:0/N",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "initContainerStatuses": [{"name": "i", "ready": false, "restartCount": 0,
                                               "image": "img", "imageID": ""}]})),
                status: "Init:0/1", ready: "0/1", restarts: 0, last_restart: None,
            },
            // IsRestartableInitContainer(initContainers[name]) is false for an unknown name
            Case {
                rule: "init status without spec entry is not a sidecar",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [started(cs("ghost", true, 0, running()), true)]})),
                status: "Init:0/1", ready: "0/1", restarts: 0, last_restart: None,
            },
            // if !initializing || isPodInitializedConditionTrue → containers loop runs anyway:
            // READY and RESTARTS come from the containers, but a running container does not
            // overwrite the Init: reason
            Case {
                rule: "stale failed init status but Initialized=True -> containers counted",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Running",
                    "conditions": ready_true(),
                    "initContainerStatuses": [cs("i", false, 1, terminated(1, Some("Error"), None))],
                    "containerStatuses": [cs("a", true, 2, running())]})),
                status: "Init:Error", ready: "1/1", restarts: 2, last_restart: None,
            },
            // ... while a waiting container's reason does overwrite it
            Case {
                rule: "Initialized=True: container waiting reason overrides Init: reason",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Running",
                    "conditions": ready_false(),
                    "initContainerStatuses": [cs("i", false, 1, terminated(1, Some("Error"), None))],
                    "containerStatuses": [cs("a", false, 2, waiting("CrashLoopBackOff"))]})),
                status: "CrashLoopBackOff", ready: "0/1", restarts: 2, last_restart: None,
            },
            // isPodInitializedConditionTrue: only the first Initialized condition counts
            Case {
                rule: "first Initialized condition decides",
                pod: build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "conditions": [cond("Initialized", "False"), cond("Initialized", "True")],
                    "initContainerStatuses": [cs("i", false, 0, running())],
                    "containerStatuses": [cs("a", true, 0, running())]})),
                status: "Init:0/1", ready: "0/1", restarts: 0, last_restart: None,
            },
            // Initialized=True with a crash-looping sidecar: init reason survives the
            // containers loop because running containers never overwrite reason
            Case {
                rule: "crash-looping sidecar after init keeps Init:<reason>",
                pod: build(&["a"], &[("s", true)], json!({"phase": "Running",
                    "conditions": ready_false(),
                    "initContainerStatuses": [last_at(started(cs("s", false, 4, waiting("CrashLoopBackOff")), false), "2024-01-01T00:09:00Z")],
                    "containerStatuses": [cs("a", true, 0, running())]})),
                status: "Init:CrashLoopBackOff", ready: "1/2", restarts: 4, last_restart: Some("2024-01-01T00:09:00Z"),
            },
            // While initializing, restarts sum init containers up to the one that breaks the loop
            Case {
                rule: "initializing: restarts = init restarts up to the blocking one",
                pod: build(&["a"], &[("i1", false), ("i2", false), ("i3", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [
                        last_at(cs("i1", false, 1, terminated(0, Some("Completed"), None)), "2024-01-01T00:01:00Z"),
                        last_at(cs("i2", false, 5, waiting("CrashLoopBackOff")), "2024-01-01T00:02:00Z"),
                        last_at(cs("i3", false, 7, waiting("PodInitializing")), "2024-01-01T00:03:00Z")],
                    "containerStatuses": [cs("a", false, 2, waiting("PodInitializing"))]})),
                status: "Init:CrashLoopBackOff", ready: "0/1", restarts: 6, last_restart: Some("2024-01-01T00:02:00Z"),
            },
            // restarts = restartableInitContainerRestarts (+ containers); regular init restarts dropped
            Case {
                rule: "initialized: restarts = sidecar + container restarts",
                pod: build(&["a"], &[("i", false), ("s", true)], json!({"phase": "Running",
                    "conditions": ready_true(),
                    "initContainerStatuses": [
                        last_at(cs("i", false, 3, terminated(0, Some("Completed"), None)), "2024-01-01T09:00:00Z"),
                        last_at(started(cs("s", true, 2, running()), true), "2024-01-01T00:02:00Z")],
                    "containerStatuses": [last_at(cs("a", true, 1, running()), "2024-01-01T00:03:00Z")]})),
                status: "Running", ready: "2/2", restarts: 3, last_restart: Some("2024-01-01T00:03:00Z"),
            },
            // lastRestartDate = lastRestartableInitContainerRestartDate, then max with containers
            Case {
                rule: "initialized: sidecar restart date can be the latest",
                pod: build(&["a"], &[("s", true)], json!({"phase": "Running",
                    "conditions": ready_true(),
                    "initContainerStatuses": [last_at(started(cs("s", true, 2, running()), true), "2024-01-01T00:08:00Z")],
                    "containerStatuses": [last_at(cs("a", true, 1, running()), "2024-01-01T00:03:00Z")]})),
                status: "Running", ready: "2/2", restarts: 3, last_restart: Some("2024-01-01T00:08:00Z"),
            },
            // for i := len(ContainerStatuses)-1; i >= 0; i-- → the first container's reason wins
            Case {
                rule: "containers scanned in reverse: first container wins",
                pod: build(&["a", "b"], &[], json!({"phase": "Running", "conditions": ready_false(),
                    "containerStatuses": [
                        cs("a", false, 3, waiting("CrashLoopBackOff")),
                        cs("b", false, 0, waiting("ErrImagePull"))]})),
                status: "CrashLoopBackOff", ready: "0/2", restarts: 3, last_restart: None,
            },
            // Waiting != nil && Waiting.Reason != "" → reason = Waiting.Reason
            Case {
                rule: "waiting reason",
                pod: build(&["a"], &[], json!({"phase": "Pending", "conditions": ready_false(),
                    "containerStatuses": [cs("a", false, 0, waiting("ContainerCreating"))]})),
                status: "ContainerCreating", ready: "0/1", restarts: 0, last_restart: None,
            },
            // Waiting with an empty reason matches no branch: the phase stays
            Case {
                rule: "waiting without reason keeps phase",
                pod: build(&["a"], &[], json!({"phase": "Pending",
                    "containerStatuses": [cs("a", false, 0, json!({"waiting": {}}))]})),
                status: "Pending", ready: "0/1", restarts: 0, last_restart: None,
            },
            // A status without any state matches no branch either
            Case {
                rule: "container without state keeps phase",
                pod: build(&["a"], &[], json!({"phase": "Pending",
                    "containerStatuses": [{"name": "a", "ready": false, "restartCount": 0,
                                           "image": "img", "imageID": ""}]})),
                status: "Pending", ready: "0/1", restarts: 0, last_restart: None,
            },
            // Terminated != nil && Terminated.Reason != "" → reason = Terminated.Reason
            Case {
                rule: "terminated reason",
                pod: build(&["a"], &[], json!({"phase": "Failed",
                    "containerStatuses": [cs("a", false, 0, terminated(1, Some("Error"), None))]})),
                status: "Error", ready: "0/1", restarts: 0, last_restart: None,
            },
            // Terminated.Reason == "" && Signal != 0 → Signal:N
            Case {
                rule: "terminated without reason, signal -> Signal:N",
                pod: build(&["a"], &[], json!({"phase": "Failed",
                    "containerStatuses": [cs("a", false, 0, terminated(143, None, Some(15)))]})),
                status: "Signal:15", ready: "0/1", restarts: 0, last_restart: None,
            },
            // Terminated.Reason == "" && Signal == 0 → ExitCode:N
            Case {
                rule: "terminated without reason -> ExitCode:N",
                pod: build(&["a"], &[], json!({"phase": "Failed",
                    "containerStatuses": [cs("a", false, 0, terminated(1, None, Some(0)))]})),
                status: "ExitCode:1", ready: "0/1", restarts: 0, last_restart: None,
            },
            // container.Ready && State.Running != nil → readyContainers++ (phase kept)
            Case {
                rule: "running and ready",
                pod: build(&["a", "b"], &[], json!({"phase": "Running", "conditions": ready_true(),
                    "containerStatuses": [cs("a", true, 0, running()), cs("b", true, 0, running())]})),
                status: "Running", ready: "2/2", restarts: 0, last_restart: None,
            },
            // Running but not ready: not counted, reason stays the phase
            Case {
                rule: "running but not ready",
                pod: build(&["a"], &[], json!({"phase": "Running", "conditions": ready_false(),
                    "containerStatuses": [cs("a", false, 0, running())]})),
                status: "Running", ready: "0/1", restarts: 0, last_restart: None,
            },
            // reason == "Completed" && hasRunning && hasPodReadyCondition → "Running"
            Case {
                rule: "Completed + running + PodReady=True -> Running",
                pod: build(&["a", "b"], &[], json!({"phase": "Running", "conditions": ready_true(),
                    "containerStatuses": [cs("a", true, 0, running()),
                                          cs("b", false, 0, terminated(0, Some("Completed"), None))]})),
                status: "Running", ready: "1/2", restarts: 0, last_restart: None,
            },
            // reason == "Completed" && hasRunning && !hasPodReadyCondition → "NotReady"
            Case {
                rule: "Completed + running + PodReady=False -> NotReady",
                pod: build(&["a", "b"], &[], json!({"phase": "Running", "conditions": ready_false(),
                    "containerStatuses": [cs("a", true, 0, running()),
                                          cs("b", false, 0, terminated(0, Some("Completed"), None))]})),
                status: "NotReady", ready: "1/2", restarts: 0, last_restart: None,
            },
            // hasRunning needs Ready && Running: a running unready container keeps "Completed"
            Case {
                rule: "Completed + unready running container stays Completed",
                pod: build(&["a", "b"], &[], json!({"phase": "Running", "conditions": ready_false(),
                    "containerStatuses": [cs("a", false, 0, running()),
                                          cs("b", false, 0, terminated(0, Some("Completed"), None))]})),
                status: "Completed", ready: "0/2", restarts: 0, last_restart: None,
            },
            // Succeeded pod: Completed, no running container
            Case {
                rule: "Completed without running container",
                pod: build(&["a"], &[], json!({"phase": "Succeeded",
                    "containerStatuses": [cs("a", false, 0, terminated(0, Some("Completed"), None))]})),
                status: "Completed", ready: "0/1", restarts: 0, last_restart: None,
            },
            // DeletionTimestamp != nil && Status.Reason == NodeUnreachablePodReason → "Unknown"
            Case {
                rule: "deleted + NodeLost -> Unknown",
                pod: deleting(build(&["a"], &[], json!({"phase": "Running", "reason": "NodeLost",
                    "containerStatuses": [cs("a", true, 0, running())]}))),
                status: "Unknown", ready: "1/1", restarts: 0, last_restart: None,
            },
            // Without deletionTimestamp NodeLost is just status.reason
            Case {
                rule: "NodeLost without deletion stays NodeLost",
                pod: build(&["a"], &[], json!({"phase": "Running", "reason": "NodeLost"})),
                status: "NodeLost", ready: "0/1", restarts: 0, last_restart: None,
            },
            // DeletionTimestamp != nil && !IsPodPhaseTerminal → "Terminating"
            Case {
                rule: "deleted running pod -> Terminating",
                pod: deleting(build(&["a"], &[], json!({"phase": "Running", "conditions": ready_true(),
                    "containerStatuses": [cs("a", true, 0, running())]}))),
                status: "Terminating", ready: "1/1", restarts: 0, last_restart: None,
            },
            // ... also while pending / initializing
            Case {
                rule: "deleted initializing pod -> Terminating",
                pod: deleting(build(&["a"], &[("i", false)], json!({"phase": "Pending",
                    "conditions": not_initialized(),
                    "initContainerStatuses": [cs("i", false, 0, running())]}))),
                status: "Terminating", ready: "0/1", restarts: 0, last_restart: None,
            },
            // IsPodPhaseTerminal(Succeeded): no Terminating
            Case {
                rule: "deleted Succeeded pod keeps Completed",
                pod: deleting(build(&["a"], &[], json!({"phase": "Succeeded",
                    "containerStatuses": [cs("a", false, 0, terminated(0, Some("Completed"), None))]}))),
                status: "Completed", ready: "0/1", restarts: 0, last_restart: None,
            },
            // IsPodPhaseTerminal(Failed): no Terminating
            Case {
                rule: "deleted Failed pod keeps Error",
                pod: deleting(build(&["a"], &[], json!({"phase": "Failed",
                    "containerStatuses": [cs("a", false, 0, terminated(2, Some("Error"), None))]}))),
                status: "Error", ready: "0/1", restarts: 0, last_restart: None,
            },
            // READY comes from containerStatuses[].ready only; readiness gates are wide-only
            Case {
                rule: "unmet readiness gate does not change READY",
                pod: with_gate(build(&["a"], &[], json!({"phase": "Running", "conditions": [
                        cond("Initialized", "True"), cond("Ready", "False"), cond("ContainersReady", "True"),
                        cond("example.com/gate", "False")],
                    "containerStatuses": [cs("a", true, 0, running())]})), "example.com/gate"),
                status: "Running", ready: "1/1", restarts: 0, last_restart: None,
            },
            // restartsStr: `restarts != 0 && !lastRestartDate.IsZero()` → no date for 0 restarts
            Case {
                rule: "zero restarts hide the last restart date",
                pod: build(&["a"], &[], json!({"phase": "Running", "conditions": ready_false(),
                    "containerStatuses": [last_at(cs("a", false, 0, waiting("CrashLoopBackOff")), "2024-01-01T00:04:00Z")]})),
                status: "CrashLoopBackOff", ready: "0/1", restarts: 0, last_restart: None,
            },
            // lastRestartDate only moves on LastTerminationState.Terminated
            Case {
                rule: "restarts without lastState have no date",
                pod: build(&["a"], &[], json!({"phase": "Running", "conditions": ready_false(),
                    "containerStatuses": [cs("a", false, 46, terminated(137, Some("OOMKilled"), None))]})),
                status: "OOMKilled", ready: "0/1", restarts: 46, last_restart: None,
            },
            // lastRestartDate is the max over containers
            Case {
                rule: "last restart is the latest finishedAt",
                pod: build(&["a", "b"], &[], json!({"phase": "Running", "conditions": ready_true(),
                    "containerStatuses": [
                        last_at(cs("a", true, 1, running()), "2024-01-01T00:07:00Z"),
                        last_at(cs("b", true, 2, running()), "2024-01-01T00:06:00Z")]})),
                status: "Running", ready: "2/2", restarts: 3, last_restart: Some("2024-01-01T00:07:00Z"),
            },
            // Empty status entirely: phase "" (kubectl prints an empty STATUS)
            Case {
                rule: "no status at all",
                pod: json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}}),
                status: "", ready: "0/1", restarts: 0, last_restart: None,
            },
        ]
    }

    #[test]
    fn print_pod_rules() {
        let mut failures = Vec::new();
        for case in cases() {
            let s = summarize(&to_pod(case.pod));
            let got = (
                s.status.as_str(),
                s.ready.as_str(),
                s.restarts,
                s.last_restart
                    .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true)),
            );
            let want = (
                case.status,
                case.ready,
                case.restarts,
                case.last_restart.map(str::to_string),
            );
            if got != want {
                failures.push(format!("{}: got {:?}, want {:?}", case.rule, got, want));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn rule_table_has_distinct_rules() {
        let cases = cases();
        let mut rules: Vec<&str> = cases.iter().map(|c| c.rule).collect();
        rules.sort_unstable();
        rules.dedup();
        assert_eq!(rules.len(), cases.len());
    }

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

    #[test]
    fn readiness_gate_column() {
        let v = with_gate(
            build(
                &["a"],
                &[],
                json!({"phase": "Running", "conditions": [cond("example.com/gate", "True")]}),
            ),
            "example.com/gate",
        );
        assert_eq!(summarize(&to_pod(v)).readiness_gates, "1/1");
        let mut v = build(&["a"], &[], json!({"phase": "Running"}));
        v["spec"]["readinessGates"] = json!([{"conditionType": "x"}, {"conditionType": "y"}]);
        assert_eq!(summarize(&to_pod(v)).readiness_gates, "0/2");
    }

    #[test]
    fn restarts_display_matches_kubectl() {
        let pod = to_pod(build(
            &["a"],
            &[],
            json!({"phase": "Running",
            "containerStatuses": [last_at(cs("a", true, 5, running()), "2024-01-01T00:00:00Z")]}),
        ));
        let s = summarize(&pod);
        let now = DateTime::parse_from_rfc3339("2024-01-01T00:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(s.restarts_display(now), "5 (5m ago)");
        let none = summarize(&to_pod(build(&["a"], &[], json!({"phase": "Running"}))));
        assert_eq!(none.restarts_display(now), "0");
    }

    #[test]
    fn human_duration_table() {
        let cases: &[(i64, &str)] = &[
            (-5, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (125, "2m5s"),
            (599, "9m59s"),
            (600, "10m"),
            (3 * 3600 - 1, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 60 * 5, "3h5m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (50 * 3600, "2d2h"),
            (8 * 86400, "8d"),
            (729 * 86400, "729d"),
            (730 * 86400, "2y"),
            (800 * 86400, "2y70d"),
            (8 * 365 * 86400, "8y"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(TimeDelta::seconds(*secs)), *want, "{secs}s");
        }
    }

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

    #[test]
    fn quantity_parsing() {
        let cases: &[(&str, Option<i128>)] = &[
            ("0", Some(0)),
            ("1", Some(1_000_000_000)),
            ("100m", Some(100_000_000)),
            ("0.5", Some(500_000_000)),
            (".5", Some(500_000_000)),
            ("1.5Gi", Some(1_610_612_736_000_000_000)),
            ("1Ki", Some(1_024_000_000_000)),
            ("2k", Some(2_000_000_000_000)),
            ("1e3", Some(1_000_000_000_000)),
            ("1E3", Some(1_000_000_000_000)),
            ("1E", Some(1_000_000_000_000_000_000_000_000_000)),
            ("5n", Some(5)),
            ("1.5n", Some(2)),
            ("3u", Some(3_000)),
            ("-1", Some(-1_000_000_000)),
            (" 2 ", Some(2_000_000_000)),
            ("", None),
            ("abc", None),
            ("1Xi", None),
            ("1.2.3", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_quantity(text), *want, "{text:?}");
        }
    }
}
