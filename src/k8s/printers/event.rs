//! Event columns: TYPE, REASON, OBJECT, MESSAGE and the wide SUBOBJECT, SOURCE,
//! FIRST SEEN, COUNT, with LAST SEEN as a time.

use k8s_openapi::api::core::v1::Event;

use super::{micro_time_text, time_text};

/// The object an Event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvolvedObject {
    /// Its kind (`Pod`), empty when unset.
    pub kind: String,
    /// Its namespace (none for cluster-scoped objects, also when sent empty).
    pub namespace: Option<String>,
    /// Its name, empty when unset.
    pub name: String,
    /// Its uid (none when unset or empty).
    pub uid: Option<String>,
}

/// kubectl's cells for one Event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventColumns {
    /// TYPE: `Normal` or `Warning`.
    pub type_: String,
    /// REASON.
    pub reason: String,
    /// OBJECT: the lower-cased kind, `/`, the name (`pod/web-1`); the kind alone
    /// without a name.
    pub object: String,
    /// SUBOBJECT: the involved object's `fieldPath` (`spec.containers{app}`).
    pub subobject: String,
    /// SOURCE: component (else reporting controller), then `, ` and host (else
    /// reporting instance) when there is one.
    pub source: String,
    /// MESSAGE, trimmed.
    pub message: String,
    /// COUNT: the series' count, else `count`, else 1.
    pub count: i32,
    /// FIRST SEEN: `firstTimestamp`, else `eventTime` (RFC 3339); null where kubectl
    /// prints `<unknown>`.
    pub first_seen: Option<String>,
    /// LAST SEEN: the series' last observed time, else `lastTimestamp`, else the
    /// first seen time (RFC 3339).
    pub last_seen: Option<String>,
    /// The object the Event is about.
    pub involved: InvolvedObject,
}

/// Port of upstream `printEvent` and `formatEventSource`.
pub fn event(o: &Event) -> EventColumns {
    let first_seen =
        time_text(o.first_timestamp.as_ref()).or_else(|| micro_time_text(o.event_time.as_ref()));
    let mut last_seen = time_text(o.last_timestamp.as_ref()).or_else(|| first_seen.clone());
    let mut count = o.count.unwrap_or(0);
    if let Some(series) = &o.series {
        last_seen = micro_time_text(series.last_observed_time.as_ref());
        count = series.count.unwrap_or(0);
    } else if count == 0 {
        // Singleton events don't have a count set in the new API.
        count = 1;
    }

    let involved = &o.involved_object;
    let kind = involved.kind.clone().unwrap_or_default();
    let name = involved.name.clone().unwrap_or_default();
    let object = if name.is_empty() {
        kind.to_lowercase()
    } else {
        format!("{}/{name}", kind.to_lowercase())
    };

    let source = o.source.as_ref();
    let component = first_non_empty(
        source.and_then(|s| s.component.as_deref()),
        o.reporting_component.as_deref(),
    );
    let instance = first_non_empty(
        source.and_then(|s| s.host.as_deref()),
        o.reporting_instance.as_deref(),
    );
    let source = if instance.is_empty() {
        component.to_string()
    } else {
        format!("{component}, {instance}")
    };

    EventColumns {
        type_: o.type_.clone().unwrap_or_default(),
        reason: o.reason.clone().unwrap_or_default(),
        object,
        subobject: involved.field_path.clone().unwrap_or_default(),
        source,
        message: o.message.as_deref().unwrap_or("").trim().to_string(),
        count,
        first_seen,
        last_seen,
        involved: InvolvedObject {
            kind,
            namespace: involved.namespace.clone().filter(|n| !n.is_empty()),
            name,
            uid: involved.uid.clone().filter(|u| !u.is_empty()),
        },
    }
}

/// Upstream `firstNonEmpty` for two candidates.
fn first_non_empty<'a>(first: Option<&'a str>, second: Option<&'a str>) -> &'a str {
    first.filter(|s| !s.is_empty()).or(second).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::super::testing::from_json;
    use super::*;
    use serde_json::{Value, json};

    // Upstream builds its times from now: three days ago and two days ago.
    const THREE_DAYS_AGO: &str = "2024-06-07T12:00:00Z";
    const TWO_DAYS_AGO: &str = "2024-06-08T12:00:00Z";
    const THREE_DAYS_AGO_MICRO: &str = "2024-06-07T12:00:00.123456Z";

    /// An event of upstream TestPrintEvent about `Deployment Name`, with the given
    /// extra fields.
    fn deployment_event(extra: Value) -> Event {
        let mut v = json!({
            "metadata": {"name": "event"},
            "source": {"component": "kubelet", "host": "Node1"},
            "involvedObject": {"kind": "Deployment", "name": "Deployment Name",
                "fieldPath": "spec.containers{foo}"},
            "reason": "Event Reason",
            "message": "Message Data",
            "type": "Warning"
        });
        for (k, val) in extra.as_object().into_iter().flatten() {
            v[k] = val.clone();
        }
        from_json(v)
    }

    fn own(
        last_seen: Option<&str>,
        first_seen: Option<&str>,
        count: i32,
        source: &str,
    ) -> EventColumns {
        EventColumns {
            type_: "Warning".to_string(),
            reason: "Event Reason".to_string(),
            object: "deployment/Deployment Name".to_string(),
            subobject: "spec.containers{foo}".to_string(),
            source: source.to_string(),
            message: "Message Data".to_string(),
            count,
            first_seen: first_seen.map(str::to_string),
            last_seen: last_seen.map(str::to_string),
            involved: InvolvedObject {
                kind: "Deployment".to_string(),
                namespace: None,
                name: "Deployment Name".to_string(),
                uid: None,
            },
        }
    }

    #[test]
    fn print_event_basic() {
        let e: Event = from_json(json!({
            "metadata": {"name": "event1"},
            "source": {"component": "kubelet"},
            "involvedObject": {"kind": "Pod", "name": "Pod Name", "fieldPath": "spec.containers{foo}"},
            "reason": "Event Reason",
            "message": "Message Data",
            "firstTimestamp": THREE_DAYS_AGO,
            "lastTimestamp": TWO_DAYS_AGO,
            "count": 6,
            "type": "Normal"
        }));
        let c = event(&e);
        assert_eq!(c.last_seen.as_deref(), Some(TWO_DAYS_AGO));
        assert_eq!(c.type_, "Normal");
        assert_eq!(c.reason, "Event Reason");
        assert_eq!(c.object, "pod/Pod Name");
        assert_eq!(c.message, "Message Data");
        assert_eq!(c.source, "kubelet");
    }

    #[test]
    fn print_event_wide() {
        let e = deployment_event(json!({
            "firstTimestamp": THREE_DAYS_AGO, "lastTimestamp": TWO_DAYS_AGO, "count": 6}));
        assert_eq!(
            event(&e),
            own(
                Some(TWO_DAYS_AGO),
                Some(THREE_DAYS_AGO),
                6,
                "kubelet, Node1"
            )
        );
    }

    #[test]
    fn print_event_without_first_timestamp() {
        let e = deployment_event(json!({
            "eventTime": THREE_DAYS_AGO_MICRO, "lastTimestamp": THREE_DAYS_AGO, "count": 1}));
        assert_eq!(
            event(&e),
            own(
                Some(THREE_DAYS_AGO),
                Some(THREE_DAYS_AGO),
                1,
                "kubelet, Node1"
            )
        );
    }

    #[test]
    fn print_event_without_last_timestamp() {
        let e = deployment_event(json!({
            "eventTime": THREE_DAYS_AGO_MICRO, "firstTimestamp": THREE_DAYS_AGO, "count": 1}));
        assert_eq!(
            event(&e),
            own(
                Some(THREE_DAYS_AGO),
                Some(THREE_DAYS_AGO),
                1,
                "kubelet, Node1"
            )
        );
    }

    #[test]
    fn print_event_without_first_and_last_timestamp() {
        let e = deployment_event(json!({"eventTime": THREE_DAYS_AGO_MICRO, "count": 1}));
        assert_eq!(
            event(&e),
            own(
                Some(THREE_DAYS_AGO),
                Some(THREE_DAYS_AGO),
                1,
                "kubelet, Node1"
            )
        );
    }

    #[test]
    fn print_event_series_without_timestamps_and_count() {
        let e = deployment_event(json!({
            "series": {"count": 2, "lastObservedTime": "2024-06-08T12:00:00.654321Z"},
            "eventTime": THREE_DAYS_AGO_MICRO}));
        assert_eq!(
            event(&e),
            own(
                Some(TWO_DAYS_AGO),
                Some(THREE_DAYS_AGO),
                2,
                "kubelet, Node1"
            )
        );
    }

    #[test]
    fn print_event_singleton_without_timestamps_and_count() {
        let e = deployment_event(json!({"eventTime": THREE_DAYS_AGO_MICRO}));
        assert_eq!(
            event(&e),
            own(
                Some(THREE_DAYS_AGO),
                Some(THREE_DAYS_AGO),
                1,
                "kubelet, Node1"
            )
        );
    }

    #[test]
    fn print_event_with_empty_source() {
        let e = deployment_event(json!({
            "source": {},
            "reportingComponent": "kubelet", "reportingInstance": "test",
            "firstTimestamp": THREE_DAYS_AGO, "lastTimestamp": TWO_DAYS_AGO, "count": 6}));
        assert_eq!(
            event(&e),
            own(Some(TWO_DAYS_AGO), Some(THREE_DAYS_AGO), 6, "kubelet, test")
        );
    }

    #[test]
    fn event_without_any_time_or_name_and_with_padded_message() {
        let e: Event = from_json(json!({
            "metadata": {"name": "e", "namespace": "ns"},
            "involvedObject": {"kind": "Node", "namespace": "", "uid": "u-1"},
            "message": "  spaced out \n",
            "reportingComponent": "", "reportingInstance": "host-a"
        }));
        let c = event(&e);
        assert_eq!((c.first_seen, c.last_seen), (None, None));
        assert_eq!(c.object, "node");
        assert_eq!(c.message, "spaced out");
        assert_eq!(c.source, ", host-a");
        assert_eq!(c.count, 1);
        assert_eq!(c.involved.uid.as_deref(), Some("u-1"));
        assert_eq!(c.involved.namespace, None);
    }
}
