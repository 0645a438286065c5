//! kubectl's pod columns: a port of upstream `printPod`
//! (`pkg/printers/internalversion/printers.go`, 1.31+) for `STATUS`, `READY` and
//! `RESTARTS` (including native sidecars, init containers with
//! `restartPolicy: Always`, the `SchedulingGated` condition, the `Initialized`
//! condition short-cut, and the rule that a terminal pod is never shown as
//! `Terminating`), and the wide `READINESS GATES` column, which never changes `READY`.

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::{Container, ContainerStatus, Pod, PodCondition, PodStatus};

use super::to_chrono;

/// `status.reason` that the node lifecycle controller sets on pods of an unreachable node
/// (upstream `NodeUnreachablePodReason`).
const NODE_UNREACHABLE_POD_REASON: &str = "NodeLost";
/// `PodScheduled` condition reason while scheduling gates are present.
const POD_REASON_SCHEDULING_GATED: &str = "SchedulingGated";

/// The cells `printPod` computes for the default (non-wide) columns.
pub(super) struct PrintColumns {
    pub(super) reason: String,
    pub(super) ready_containers: usize,
    pub(super) total_containers: usize,
    pub(super) restarts: i32,
    pub(super) last_restart: Option<DateTime<Utc>>,
}

/// Straight port of upstream `printPod` (STATUS, READY, RESTARTS and the last restart time).
pub(super) fn print_columns(pod: &Pod) -> PrintColumns {
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
pub(super) fn is_restartable(container: &Container) -> bool {
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
pub(super) fn terminated_reason(
    t: &k8s_openapi::api::core::v1::ContainerStateTerminated,
) -> String {
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

/// The wide `READINESS GATES` cell: gates whose condition is `True` over all gates.
pub(super) fn readiness_gates(pod: &Pod) -> String {
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

#[cfg(test)]
mod tests {
    use super::super::summarize;
    use super::super::testing::*;
    use serde_json::{Value, json};

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
                s.last_restart.clone(),
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
}
