//! The gateway's Prometheus metrics: what is counted, under which names and
//! labels, and rendering them as Prometheus text.
//!
//! Each gateway owns its own recorder (held in [`crate::state::AppState`]); no
//! global recorder is installed, so many gateways in one process (as in the
//! tests) never share counters. This module knows nothing of HTTP frameworks:
//! the request middleware and the `/metrics` route live in [`crate::ops`].
//!
//! Names and labels (kept bounded: routes are matched patterns, never raw paths):
//! - `osp_http_requests_total{method,route,status}` and
//!   `osp_http_request_duration_seconds{method,route,status}` (histogram)
//! - `osp_upstream_requests_total{cluster,outcome}` (`ok`, `error`, `timeout`) and
//!   `osp_upstream_request_duration_seconds{cluster,outcome}` (histogram)
//! - `osp_login_failures_total{reason}` (`bad_credentials`, `rate_limited`)
//! - `osp_audit_refused_total`: reads refused because the audit trail could not
//!   take their events in time (each answered `ServiceUnavailable`)
//! - `osp_cache_objects{cluster,kind}`: objects held by a watch cache (set through
//!   [`Metrics::set_cache_objects`], the hook for the per-cluster caches)

use std::{sync::Arc, time::Duration};

use metrics::{Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const HTTP_REQUESTS: &str = "osp_http_requests_total";
const HTTP_DURATION: &str = "osp_http_request_duration_seconds";
const UPSTREAM_REQUESTS: &str = "osp_upstream_requests_total";
const UPSTREAM_DURATION: &str = "osp_upstream_request_duration_seconds";
const LOGIN_FAILURES: &str = "osp_login_failures_total";
const CACHE_OBJECTS: &str = "osp_cache_objects";
const GRAPHQL_REUSED: &str = "osp_graphql_reused_answers_total";
const AUDIT_REFUSED: &str = "osp_audit_refused_total";

/// Histogram buckets in seconds: from a cache hit to a cluster near its timeout.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

/// How a call to a cluster ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamOutcome {
    /// The cluster answered successfully.
    Ok,
    /// The cluster, or the way to it, failed.
    Error,
    /// No answer within the cluster timeout.
    Timeout,
}

impl UpstreamOutcome {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            UpstreamOutcome::Ok => "ok",
            UpstreamOutcome::Error => "error",
            UpstreamOutcome::Timeout => "timeout",
        }
    }
}

/// Why a sign-in failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// Unknown name or wrong password.
    BadCredentials,
    /// Refused by the sign-in rate limit before the password was checked.
    RateLimited,
}

impl LoginFailure {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            LoginFailure::BadCredentials => "bad_credentials",
            LoginFailure::RateLimited => "rate_limited",
        }
    }
}

/// One gateway's metrics (cheap to clone: a reference count).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh, empty set of metrics.
    pub fn new() -> Self {
        // Only an empty bucket list is refused, and this one is not empty.
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics {
            inner: Arc::new(Inner { recorder, handle }),
        };
        metrics.describe();
        metrics
    }

    fn describe(&self) {
        let recorder = &self.inner.recorder;
        let counter = |name: &'static str, help: &'static str| {
            recorder.describe_counter(KeyName::from(name), None, SharedString::from(help));
        };
        counter(
            HTTP_REQUESTS,
            "HTTP requests answered, by method, matched route and status code.",
        );
        counter(
            UPSTREAM_REQUESTS,
            "Calls to Kubernetes API servers, by cluster and outcome (ok, error, timeout).",
        );
        counter(
            LOGIN_FAILURES,
            "Failed sign-ins, by reason (bad_credentials, rate_limited).",
        );
        recorder.describe_histogram(
            KeyName::from(HTTP_DURATION),
            Some(Unit::Seconds),
            SharedString::from("Time to answer HTTP requests."),
        );
        recorder.describe_histogram(
            KeyName::from(UPSTREAM_DURATION),
            Some(Unit::Seconds),
            SharedString::from("Time taken by calls to Kubernetes API servers."),
        );
        recorder.describe_gauge(
            KeyName::from(CACHE_OBJECTS),
            None,
            SharedString::from("Objects held by a cluster's watch cache, by cluster and kind."),
        );
    }

    /// Counts one answered HTTP request. `route` is the matched route pattern
    /// (e.g. `/osp/api/users/{name}`), never the raw path.
    pub fn http_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = vec![
            Label::new("method", method.to_owned()),
            Label::new("route", route.to_owned()),
            Label::new("status", status.to_string()),
        ];
        self.counter(HTTP_REQUESTS, labels.clone()).increment(1);
        self.histogram(HTTP_DURATION, labels)
            .record(elapsed.as_secs_f64());
    }

    /// Counts one call to a cluster.
    pub fn upstream_call(&self, cluster: &str, outcome: UpstreamOutcome, elapsed: Duration) {
        let labels = vec![
            Label::new("cluster", cluster.to_owned()),
            Label::new("outcome", outcome.as_str()),
        ];
        self.counter(UPSTREAM_REQUESTS, labels.clone()).increment(1);
        self.histogram(UPSTREAM_DURATION, labels)
            .record(elapsed.as_secs_f64());
    }

    /// Counts one failed sign-in.
    pub fn login_failure(&self, reason: LoginFailure) {
        self.counter(LOGIN_FAILURES, vec![Label::new("reason", reason.as_str())])
            .increment(1);
    }

    /// Counts one GraphQL request answered with the bytes of an earlier one.
    pub fn graphql_answer_reused(&self) {
        self.counter(GRAPHQL_REUSED, Vec::new()).increment(1);
    }

    /// Counts a read refused because its audit events could not be queued.
    pub fn audit_refused(&self) {
        self.counter(AUDIT_REFUSED, Vec::new()).increment(1);
    }

    /// Records how many objects of `kind` (e.g. `pods`) a cluster's watch cache
    /// holds. The hook for the per-cluster caches: call it whenever a cache's
    /// contents change.
    pub fn set_cache_objects(&self, cluster: &str, kind: &str, count: usize) {
        let labels = vec![
            Label::new("cluster", cluster.to_owned()),
            Label::new("kind", kind.to_owned()),
        ];
        self.inner
            .recorder
            .register_gauge(&Key::from_parts(CACHE_OBJECTS, labels), &METADATA)
            .set(count as f64);
    }

    /// Everything counted so far, in the Prometheus text exposition format.
    pub fn render(&self) -> String {
        self.inner.handle.render()
    }

    /// Folds recent histogram samples into their buckets. Rendering does this
    /// too; running it periodically bounds memory when nobody scrapes.
    pub fn run_upkeep(&self) {
        self.inner.handle.run_upkeep();
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> metrics::Counter {
        self.inner
            .recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn histogram(&self, name: &'static str, labels: Vec<Label>) -> metrics::Histogram {
        self.inner
            .recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_text_with_their_labels() {
        let metrics = Metrics::new();
        metrics.login_failure(LoginFailure::BadCredentials);
        metrics.login_failure(LoginFailure::BadCredentials);
        metrics.upstream_call("east", UpstreamOutcome::Timeout, Duration::from_millis(3));
        let text = metrics.render();
        assert!(
            text.contains("osp_login_failures_total{reason=\"bad_credentials\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("osp_upstream_requests_total{cluster=\"east\",outcome=\"timeout\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "osp_upstream_request_duration_seconds_bucket{cluster=\"east\",outcome=\"timeout\",le=\"0.005\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("# TYPE osp_login_failures_total counter"),
            "{text}"
        );
    }

    #[test]
    fn separate_gateways_never_share_counters() {
        let first = Metrics::new();
        let second = Metrics::new();
        first.login_failure(LoginFailure::RateLimited);
        assert!(first.render().contains("rate_limited"));
        assert!(!second.render().contains("rate_limited"));
    }

    #[test]
    fn cache_sizes_are_gauges() {
        let metrics = Metrics::new();
        metrics.set_cache_objects("east", "pods", 7);
        metrics.set_cache_objects("east", "pods", 5);
        let text = metrics.render();
        assert!(
            text.contains("osp_cache_objects{cluster=\"east\",kind=\"pods\"} 5"),
            "{text}"
        );
    }
}
