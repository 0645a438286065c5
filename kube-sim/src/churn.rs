//! Pod churn: a background task that changes a given number of pods per
//! second, spread evenly over the second (a batch every [`TICK`]), the way a
//! busy cluster does. Most changes flip one container's readiness (a
//! container that stops being ready has restarted: its restart count goes
//! up) and keep the pod's `Ready`/`ContainersReady` conditions in step; every
//! [`REPLACE_EVERY`]th change replaces a pod instead: it is deleted and the
//! same pod comes back under a new generated name, with the same controller.
//! Watchers see ordinary MODIFIED, DELETED and ADDED events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;

use crate::model::{
    ResourceKind, fnv64, meta_mut, name_of, name_suffix, namespace_of, now_rfc3339,
};
use crate::server::Shared;

/// How often a batch of changes is made.
pub(crate) const TICK: Duration = Duration::from_millis(10);

/// One change in this many replaces a pod (delete + add) instead of
/// flipping a container.
pub(crate) const REPLACE_EVERY: u64 = 50;

/// How often the list of pods to change is read again from the store.
const REFRESH: Duration = Duration::from_secs(1);

/// Runs until `shutdown` turns true, changing `*rate` pods per second (0:
/// idle until the rate changes).
pub(crate) async fn run(
    shared: Arc<Shared>,
    mut rate: watch::Receiver<u32>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut state = Churner::default();
    loop {
        let per_second = *rate.borrow_and_update();
        if per_second == 0 {
            tokio::select! {
                r = rate.changed() => if r.is_err() { return },
                _ = shutdown.changed() => return,
            }
            continue;
        }
        // Changes are owed in proportion to the time since the rate was set,
        // so a late tick catches up and the rate holds over any second.
        let start = Instant::now();
        let mut done: u64 = 0;
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                r = rate.changed() => {
                    if r.is_err() { return }
                    break;
                }
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
            let owed = (start.elapsed().as_secs_f64() * f64::from(per_second)) as u64;
            while done < owed {
                state.change_one(&shared);
                done += 1;
            }
        }
    }
}

/// Which pod is next, and how many changes were made so far.
#[derive(Default)]
struct Churner {
    keys: Vec<(String, String)>,
    next: usize,
    changes: u64,
    refreshed: Option<Instant>,
}

impl Churner {
    fn change_one(&mut self, shared: &Shared) {
        let stale = self.refreshed.is_none_or(|t| t.elapsed() >= REFRESH);
        if stale || self.keys.is_empty() {
            self.keys = shared
                .store
                .all(ResourceKind::Pod)
                .iter()
                .map(|p| (namespace_of(p).to_string(), name_of(p).to_string()))
                .collect();
            self.refreshed = Some(Instant::now());
        }
        if self.keys.is_empty() {
            return;
        }
        // A pod changed may have been deleted since the list was read:
        // look a little further for one that is still there.
        for _ in 0..self.keys.len().min(8) {
            let i = self.next % self.keys.len();
            self.next = self.next.wrapping_add(1);
            let (ns, name) = &self.keys[i];
            let Some(pod) = shared.store.get(ResourceKind::Pod, ns, name) else {
                continue;
            };
            self.changes += 1;
            if self.changes.is_multiple_of(REPLACE_EVERY) {
                let new = replacement(pod, self.changes);
                let new_name = name_of(&new).to_string();
                shared.store.delete(ResourceKind::Pod, ns, name);
                shared.store.upsert(ResourceKind::Pod, new);
                self.keys[i].1 = new_name;
            } else {
                let changed = flip(pod, self.changes);
                shared.store.upsert(ResourceKind::Pod, changed);
            }
            return;
        }
    }
}

/// The pod with one container's readiness flipped (the `n`th change picks
/// which); a container that stops being ready restarted, so its restart
/// count goes up. A pod without container statuses gets an annotation
/// changed instead, so every change is seen.
fn flip(mut pod: Value, n: u64) -> Value {
    let now = now_rfc3339();
    let statuses = pod
        .pointer_mut("/status/containerStatuses")
        .and_then(Value::as_array_mut);
    let Some(statuses) = statuses.filter(|s| !s.is_empty()) else {
        let annotations = meta_mut(&mut pod)
            .entry("annotations")
            .or_insert_with(|| json!({}));
        if let Some(a) = annotations.as_object_mut() {
            a.insert("kube-sim/churn".into(), n.to_string().into());
        }
        return pod;
    };
    let idx = (n as usize) % statuses.len();
    let c = &mut statuses[idx];
    let was_ready = c.get("ready").and_then(Value::as_bool).unwrap_or(false);
    c["ready"] = Value::Bool(!was_ready);
    if was_ready {
        let restarts = c.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
        c["restartCount"] = json!(restarts + 1);
        c["started"] = Value::Bool(true);
        if let Some(running) = c.pointer("/state/running").cloned() {
            let started = running.get("startedAt").cloned().unwrap_or(json!(now));
            c["lastState"] = json!({"terminated": {
                "exitCode": 1, "reason": "Error", "startedAt": started, "finishedAt": now,
            }});
        }
        c["state"] = json!({"running": {"startedAt": now}});
    }
    let all_ready = statuses
        .iter()
        .all(|c| c.get("ready").and_then(Value::as_bool).unwrap_or(false));
    let status = if all_ready { "True" } else { "False" };
    if let Some(conds) = pod
        .pointer_mut("/status/conditions")
        .and_then(Value::as_array_mut)
    {
        for cond in conds.iter_mut() {
            let ty = cond.get("type").and_then(Value::as_str).unwrap_or_default();
            if (ty == "Ready" || ty == "ContainersReady")
                && cond.get("status").and_then(Value::as_str) != Some(status)
            {
                cond["status"] = status.into();
                cond["lastTransitionTime"] = now.clone().into();
                if all_ready {
                    if let Some(m) = cond.as_object_mut() {
                        m.remove("reason");
                        m.remove("message");
                    }
                } else {
                    cond["reason"] = "ContainersNotReady".into();
                }
            }
        }
    }
    pod
}

/// The same pod under a new generated name (its `generateName`, or its name
/// without the last `-suffix`, plus 5 fresh characters), keeping labels and
/// owner references, with a new uid and creation time.
fn replacement(mut pod: Value, n: u64) -> Value {
    let name = name_of(&pod).to_string();
    let meta = meta_mut(&mut pod);
    let prefix = match meta.get("generateName").and_then(Value::as_str) {
        Some(p) if !p.is_empty() => p.to_string(),
        _ => match name.rsplit_once('-') {
            Some((head, _)) if !head.is_empty() => format!("{head}-"),
            _ => format!("{name}-"),
        },
    };
    let suffix = name_suffix(fnv64(format!("{name}/{n}").as_bytes()), 5);
    let new_name = format!("{prefix}{suffix}");
    meta.insert("name".into(), new_name.into());
    for key in ["uid", "resourceVersion", "creationTimestamp", "selfLink"] {
        meta.remove(key);
    }
    meta.remove("deletionTimestamp");
    meta.remove("deletionGracePeriodSeconds");
    pod
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod() -> Value {
        json!({
            "metadata": {"name": "web-7d4b578979-abcde", "namespace": "default",
                          "uid": "u1", "generateName": "web-7d4b578979-",
                          "ownerReferences": [{"kind": "ReplicaSet", "name": "web-7d4b578979", "controller": true}]},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}, {"type": "ContainersReady", "status": "True"}],
                "containerStatuses": [{"name": "web", "ready": true, "restartCount": 2,
                                       "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}}]
            }
        })
    }

    #[test]
    fn a_flip_makes_a_ready_container_restart_and_the_pod_not_ready() {
        let p = flip(pod(), 0);
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], false);
        assert_eq!(p["status"]["containerStatuses"][0]["restartCount"], 3);
        assert_eq!(p["status"]["conditions"][0]["status"], "False");
        let back = flip(p, 0);
        assert_eq!(back["status"]["containerStatuses"][0]["ready"], true);
        assert_eq!(back["status"]["containerStatuses"][0]["restartCount"], 3);
        assert_eq!(back["status"]["conditions"][1]["status"], "True");
    }

    #[test]
    fn a_replacement_keeps_the_controller_under_a_new_name() {
        let p = replacement(pod(), 7);
        let name = name_of(&p);
        assert!(name.starts_with("web-7d4b578979-") && name != "web-7d4b578979-abcde");
        assert_eq!(
            p["metadata"]["ownerReferences"][0]["name"],
            "web-7d4b578979"
        );
        assert!(p["metadata"].get("uid").is_none());
    }
}
