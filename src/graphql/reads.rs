//! The pod reads of one operation, for the audit trail: every pod whose
//! object (`json`, `yaml`) an answer carries, and every refused single-pod
//! read. Resolvers note them here as they run; the executor records them
//! (one event per cluster, and one per refusal) before the answer is sent,
//! and refuses the answer when the trail cannot take them.

use std::{collections::BTreeMap, sync::Mutex};

use crate::{
    audit::{Action, Event, Origin},
    error::ErrorCode,
};

/// Pods read by one operation (or one subscription event), and refusals.
#[derive(Default)]
pub(crate) struct PodReads {
    /// Who reads, and from where; `None` when the request's read is recorded
    /// elsewhere (a REST route that runs two documents for one read).
    origin: Option<Origin>,
    noted: Mutex<Noted>,
}

#[derive(Default)]
struct Noted {
    /// Namespace and name of the pods read, per cluster, and whether one was
    /// shown unredacted.
    read: BTreeMap<String, BTreeMap<(String, String), bool>>,
    /// Targets refused, with their codes.
    refused: Vec<(String, ErrorCode)>,
    /// Other reads (logs, objects of other kinds), with their outcomes.
    other: Vec<(Action, String, ErrorCode, Option<String>)>,
}

impl PodReads {
    /// The reads of an operation by `origin` (`None`: recorded elsewhere).
    pub(crate) fn new(origin: Option<Origin>) -> Self {
        PodReads {
            origin,
            noted: Mutex::default(),
        }
    }

    fn noted(&self) -> std::sync::MutexGuard<'_, Noted> {
        self.noted.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that the answer carries the pod's object, `revealed` when
    /// unredacted (see [`shown`]).
    pub(crate) fn read(&self, cluster: &str, namespace: &str, name: &str, revealed: bool) {
        let mut noted = self.noted();
        *noted
            .read
            .entry(cluster.to_owned())
            .or_default()
            .entry((namespace.to_owned(), name.to_owned()))
            .or_default() |= revealed;
    }

    /// Notes a refused read of `target` (`cluster/namespace/name`).
    pub(crate) fn refused(&self, target: String, code: ErrorCode) {
        self.noted().refused.push((target, code));
    }

    /// Notes a read other than a pod's object (a container's log), or its
    /// refusal: one event each.
    pub(crate) fn note(
        &self,
        action: Action,
        target: String,
        outcome: ErrorCode,
        detail: Option<String>,
    ) {
        self.noted().other.push((action, target, outcome, detail));
    }

    /// The events of what was noted since the last call (and forgets it):
    /// per cluster one, naming the pod, or the cluster with the count of its
    /// pods in `detail`; one per refusal.
    pub(crate) fn take_events(&self) -> Vec<Event> {
        let noted = std::mem::take(&mut *self.noted());
        let Some(origin) = &self.origin else {
            return Vec::new();
        };
        let event = |target: String, outcome, detail| Event {
            origin: origin.clone(),
            action: Action::PodRead,
            target: Some(target),
            outcome,
            detail,
        };
        let mut events: Vec<Event> = noted
            .read
            .into_iter()
            .map(|(cluster, pods)| {
                let revealed = pods.values().any(|revealed| *revealed);
                match pods.len() {
                    1 => {
                        let ((namespace, name), _) = pods.into_iter().next().unwrap_or_default();
                        event(
                            format!("{cluster}/{namespace}/{name}"),
                            ErrorCode::Success,
                            revealed.then(|| "revealed".to_owned()),
                        )
                    }
                    n => event(
                        cluster,
                        ErrorCode::Success,
                        Some(if revealed {
                            format!("{n} pods, revealed")
                        } else {
                            format!("{n} pods")
                        }),
                    ),
                }
            })
            .collect();
        events.extend(
            noted
                .refused
                .into_iter()
                .map(|(target, code)| event(target, code, None)),
        );
        events.extend(
            noted
                .other
                .into_iter()
                .map(|(action, target, outcome, detail)| Event {
                    origin: origin.clone(),
                    action,
                    target: Some(target),
                    outcome,
                    detail,
                }),
        );
        events
    }
}

/// `object` (of `namespace` of `cluster`; `None`: of no namespace) as the
/// viewer of `ctx` may see it: redacted (`OSP_REDACT`) unless the viewer
/// reveals that scope. Says whether it was revealed: shown unredacted while
/// redaction is on, which the audit trail records.
pub(crate) fn shown(
    ctx: &async_graphql::Context<'_>,
    cluster: &str,
    namespace: Option<&str>,
    mut object: serde_json::Value,
) -> (serde_json::Value, bool) {
    let Some(redaction) = super::app(ctx).config.redaction() else {
        return (object, false);
    };
    if super::viewer(ctx).is_ok_and(|viewer| viewer.reveals(cluster, namespace)) {
        return (object, true);
    }
    redaction.apply(&mut object);
    (object, false)
}

/// Who asks in an operation and from where, for an event recorded on its own
/// (the start of a follow).
pub(crate) fn origin(ctx: &async_graphql::Context<'_>) -> Origin {
    let meta = ctx.data_opt::<super::RequestMeta>();
    Origin {
        actor: super::viewer(ctx).ok().map(|viewer| viewer.name.clone()),
        client: meta.and_then(|meta| meta.client),
        request_id: meta.and_then(|meta| meta.request_id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(events: &[Event]) -> Vec<(Option<&str>, Option<&str>, ErrorCode)> {
        events
            .iter()
            .map(|e| (e.target.as_deref(), e.detail.as_deref(), e.outcome))
            .collect()
    }

    #[test]
    fn reads_make_one_event_per_cluster_and_one_per_refusal() {
        let reads = PodReads::new(Some(Origin::default()));
        reads.read("east", "a", "web-1", false);
        reads.read("east", "a", "web-1", true);
        reads.read("west", "a", "web-1", false);
        reads.read("west", "b", "db-0", false);
        reads.refused("east/c/x".into(), ErrorCode::Forbidden);
        let events = reads.take_events();
        assert_eq!(
            targets(&events),
            [
                (Some("east/a/web-1"), Some("revealed"), ErrorCode::Success),
                (Some("west"), Some("2 pods"), ErrorCode::Success),
                (Some("east/c/x"), None, ErrorCode::Forbidden),
            ]
        );
        assert!(reads.take_events().is_empty(), "taken once");
    }

    #[test]
    fn reads_recorded_elsewhere_make_no_event() {
        let reads = PodReads::new(None);
        reads.read("east", "a", "web-1", false);
        assert!(reads.take_events().is_empty());
    }
}
