//! kubectl's columns for the kinds served besides pods: each cell exactly as the
//! newest `kubectl get <kind> -o wide` prints it (unclipped), ported from upstream
//! `pkg/printers/internalversion/printers.go`.
//!
//! One file per kind, each a pure function from the `k8s_openapi` object to a plain
//! struct of cells. Time-relative cells (AGE, LAST SEEN, LAST SCHEDULE, a running
//! Job's DURATION) are given as RFC 3339 times instead of kubectl's `5m`, so a
//! rendered answer stays true while it is reused. Fields the API server always
//! defaults (replicas, a Service's type, a port's protocol) take that default when
//! absent, because kubectl prints the defaulted object.
//!
//! No I/O, no panics, no wire derives: the GraphQL layer wraps these structs.

mod cron_job;
mod daemon_set;
mod deployment;
mod event;
mod job;
mod namespace;
mod node;
mod replica_set;
mod service;
mod stateful_set;

pub use cron_job::{CronJobColumns, cron_job};
pub use daemon_set::{DaemonSetColumns, daemon_set};
pub use deployment::{DeploymentColumns, deployment};
pub use event::{EventColumns, InvolvedObject, event};
pub use job::{JobColumns, job};
pub use namespace::{NamespaceColumns, namespace};
pub use node::{NodeColumns, node};
pub use replica_set::{ReplicaSetColumns, replica_set};
pub use service::{ServiceColumns, service};
pub use stateful_set::{StatefulSetColumns, stateful_set};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, MicroTime, Time};

use super::summary::{rfc3339, to_chrono};

/// The CONTAINERS and IMAGES cells, split: the names and the images of the
/// template's containers, in spec order (an absent image is empty).
///
/// Port of upstream `layoutContainerCells`, which joins both lists with `,`.
pub fn containers(template: Option<&PodTemplateSpec>) -> (Vec<String>, Vec<String>) {
    let containers = template
        .and_then(|t| t.spec.as_ref())
        .map_or(&[][..], |s| s.containers.as_slice());
    containers
        .iter()
        .map(|c| (c.name.clone(), c.image.clone().unwrap_or_default()))
        .unzip()
}

/// The SELECTOR cell of ReplicaSets, DaemonSets, Jobs and CronJobs: `<none>` for an
/// absent or empty selector, `<error>` for one the API server could not parse, else
/// the requirements sorted by key (`app=web,tier in (a,b),!canary`).
///
/// Port of upstream `metav1.FormatLabelSelector`.
pub fn selector(selector: Option<&LabelSelector>) -> String {
    match label_selector_string(selector) {
        Ok(text) if text.is_empty() => "<none>".to_string(),
        Ok(text) => text,
        Err(()) => "<error>".to_string(),
    }
}

/// `metav1.LabelSelectorAsSelector(s).String()`: empty for an absent or empty
/// selector, `Err` when a key, a value, an operator or a value count is invalid.
///
/// Port of upstream `LabelSelectorAsSelector`, `labels.NewRequirement` and
/// `Requirement.String` (values of `in`/`notin` sorted on output).
fn label_selector_string(selector: Option<&LabelSelector>) -> Result<String, ()> {
    let Some(selector) = selector else {
        return Ok(String::new());
    };
    let mut requirements: Vec<(&str, String)> = Vec::new();
    for (key, value) in selector.match_labels.iter().flatten() {
        if !label_selector::valid_key(key) || !label_selector::valid_value(value) {
            return Err(());
        }
        requirements.push((key, format!("{key}={value}")));
    }
    for expr in selector.match_expressions.iter().flatten() {
        let key = expr.key.as_str();
        let values: &[String] = expr.values.as_deref().unwrap_or(&[]);
        if !label_selector::valid_key(key) || !values.iter().all(|v| label_selector::valid_value(v))
        {
            return Err(());
        }
        let text = match expr.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => return Err(()),
            "In" | "NotIn" => {
                let mut sorted = values.to_vec();
                sorted.sort();
                let word = if expr.operator == "In" { "in" } else { "notin" };
                format!("{key} {word} ({})", sorted.join(","))
            }
            "Exists" | "DoesNotExist" if !values.is_empty() => return Err(()),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return Err(()),
        };
        requirements.push((key, text));
    }
    // `Selector.Add` sorts the requirements by key.
    requirements.sort_by(|a, b| a.0.cmp(b.0));
    Ok(requirements
        .into_iter()
        .map(|(_, text)| text)
        .collect::<Vec<_>>()
        .join(","))
}

/// A label map as `k=v` pairs sorted by key and joined with `,`; `<none>` when empty.
///
/// Port of upstream `labels.FormatLabels`.
fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    let text = labels
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text
    }
}

/// Go's zero `time.Time` (0001-01-01T00:00:00Z), which `metav1.Time.IsZero` reports
/// as unset just like an absent time.
const GO_ZERO_TIME_SECONDS: i64 = -62_135_596_800;

/// A set, non-zero Kubernetes time as chrono.
fn chrono_time(time: Option<&Time>) -> Option<DateTime<Utc>> {
    let time = time?;
    if time.0.as_second() == GO_ZERO_TIME_SECONDS && time.0.subsec_nanosecond() == 0 {
        return None;
    }
    to_chrono(time)
}

/// A set, non-zero Kubernetes time in RFC 3339 with seconds and `Z`.
fn time_text(time: Option<&Time>) -> Option<String> {
    chrono_time(time).map(rfc3339)
}

/// A set, non-zero Kubernetes micro time in RFC 3339 with seconds and `Z`.
fn micro_time_text(time: Option<&MicroTime>) -> Option<String> {
    time_text(time.map(|t| Time(t.0)).as_ref())
}

/// A duration as kubectl's short text (`0s`, `90s`, `5m30s`, `135m`, `3h20m`, `2d3h`,
/// `3y12d`), `<invalid>` when more than a second negative.
///
/// Port of upstream `k8s.io/apimachinery/pkg/util/duration.HumanDuration`.
fn human_duration(d: chrono::TimeDelta) -> String {
    // Go converts to whole seconds (truncating) before comparing.
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
        return format!("{hours}h{m}m");
    } else if hours < 48 {
        return format!("{hours}h");
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            return format!("{}d", hours / 24);
        }
        return format!("{}d{h}h", hours / 24);
    } else if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            return format!("{}y", hours / 24 / 365);
        }
        return format!("{}y{dy}d", hours / 24 / 365);
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use serde_json::json;

    fn label_selector(value: serde_json::Value) -> LabelSelector {
        super::testing::from_json(value)
    }

    #[test]
    fn human_duration_matches_upstream_tables() {
        let s = TimeDelta::seconds;
        let ms = TimeDelta::milliseconds;
        let m = TimeDelta::minutes;
        let h = TimeDelta::hours;
        let d = |days: i64| TimeDelta::hours(24 * days);
        let y = |years: i64| d(365 * years);
        // Upstream TestHumanDuration, then TestHumanDurationBoundaries (duration_test.go).
        let cases: Vec<(TimeDelta, &str)> = vec![
            (s(1), "1s"),
            (s(70), "70s"),
            (s(190), "3m10s"),
            (m(70), "70m"),
            (h(47), "47h"),
            (h(49), "2d1h"),
            (h(8 * 24 + 2), "8d"),
            (h(367 * 24), "367d"),
            (h(365 * 2 * 24 + 25), "2y1d"),
            (h(365 * 8 * 24 + 2), "8y"),
            (s(-2), "<invalid>"),
            (s(-2) + TimeDelta::nanoseconds(1), "0s"),
            (s(0), "0s"),
            (s(1) - ms(1), "0s"),
            (m(2) - ms(1), "119s"),
            (m(2), "2m"),
            (m(2) + s(1), "2m1s"),
            (m(10) - ms(1), "9m59s"),
            (m(10), "10m"),
            (m(10) + s(1), "10m"),
            (h(3) - ms(1), "179m"),
            (h(3), "3h"),
            (h(3) + m(1), "3h1m"),
            (h(8) - ms(1), "7h59m"),
            (h(8), "8h"),
            (h(8) + m(59), "8h"),
            (d(2) - ms(1), "47h"),
            (d(2), "2d"),
            (d(2) + h(1), "2d1h"),
            (d(8) - ms(1), "7d23h"),
            (d(8), "8d"),
            (d(8) + h(23), "8d"),
            (y(2) - ms(1), "729d"),
            (y(2), "2y"),
            (y(2) + h(23), "2y"),
            (y(2) + h(23) + m(59), "2y"),
            (y(2) + h(24) - ms(1), "2y"),
            (y(2) + h(24), "2y1d"),
            (y(3), "3y"),
            (y(4), "4y"),
            (y(5), "5y"),
            (y(6), "6y"),
            (y(7), "7y"),
            (y(8) - ms(1), "7y364d"),
            (y(8), "8y"),
            (y(8) + d(364), "8y"),
            (y(9), "9y"),
        ];
        for (delta, want) in cases {
            assert_eq!(human_duration(delta), want, "{delta:?}");
        }
    }

    #[test]
    fn format_label_selector_follows_upstream() {
        assert_eq!(selector(None), "<none>");
        assert_eq!(selector(Some(&label_selector(json!({})))), "<none>");
        assert_eq!(
            selector(Some(&label_selector(json!({
                "matchLabels": {"b": "2", "a": "1"},
                "matchExpressions": [
                    {"key": "z", "operator": "NotIn", "values": ["y", "x"]},
                    {"key": "c", "operator": "In", "values": ["q", "p"]},
                    {"key": "d", "operator": "DoesNotExist"},
                    {"key": "e", "operator": "Exists"}
                ]
            })))),
            "a=1,b=2,c in (p,q),!d,e,z notin (x,y)"
        );
        assert_eq!(
            selector(Some(&label_selector(json!({
                "matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]
            })))),
            "<error>"
        );
        assert_eq!(
            selector(Some(&label_selector(json!({
                "matchExpressions": [{"key": "a", "operator": "In", "values": []}]
            })))),
            "<error>"
        );
        assert_eq!(
            selector(Some(&label_selector(json!({"matchLabels": {"a": "b c"}})))),
            "<error>"
        );
    }

    #[test]
    fn format_labels_sorts_and_says_none() {
        assert_eq!(format_labels(None), "<none>");
        let labels: BTreeMap<String, String> = [("b", "2"), ("a", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(format_labels(Some(&labels)), "a=1,b=2");
    }

    #[test]
    fn go_zero_time_is_unset() {
        let zero: Time = serde_json::from_value(json!("0001-01-01T00:00:00Z")).expect("time");
        assert_eq!(time_text(Some(&zero)), None);
        let t: Time = serde_json::from_value(json!("2024-01-02T03:04:05.678Z")).expect("time");
        assert_eq!(time_text(Some(&t)).as_deref(), Some("2024-01-02T03:04:05Z"));
    }
}
