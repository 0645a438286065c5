//! Event columns: TYPE, REASON, OBJECT, MESSAGE and the wide SUBOBJECT, SOURCE,
//! FIRST SEEN, COUNT, with LAST SEEN as a time.

use k8s_openapi::api::core::v1::Event;

use super::{micro_time_text, time_text};

/// The object an Event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvolvedObject {
    /// Its kind (`Pod`), empty when unset.
    pub kind: String,
    /// Its namespace (none for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Its name, empty when unset.
    pub name: String,
    /// Its uid.
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
            namespace: involved.namespace.clone(),
            name,
            uid: involved.uid.clone(),
        },
    }
}

/// Upstream `firstNonEmpty` for two candidates.
fn first_non_empty<'a>(first: Option<&'a str>, second: Option<&'a str>) -> &'a str {
    first.filter(|s| !s.is_empty()).or(second).unwrap_or("")
}
