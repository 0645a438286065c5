//! Container logs: `GET /api/v1/namespaces/{ns}/pods/{name}/log` as the API
//! server (and the kubelet behind it) answers it, and the control endpoints
//! tests use to write lines and end streams.
//!
//! Each container instance (a container at one restart count) has its own
//! log: `log_lines` deterministic lines (default 50), one a second from the
//! instance's start, made on first read; lines appended later carry the time
//! they were appended. The previous instance of a container that restarted
//! has lines of its own, ending in the error it died of. Every query
//! parameter of the real endpoint is honoured: `container`, `previous`,
//! `tailLines`, `sinceSeconds`, `sinceTime`, `timestamps`, `limitBytes` and
//! `follow` (a chunked body that stays open and yields new lines until the
//! container stops, its stream is ended, the pod goes away or `limitBytes`
//! is spent). Errors are the API server's `Status` answers with its messages.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, header};
use bytes::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use hyper::body::Incoming;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc, watch};

use crate::api;
use crate::model::ResourceKind;
use crate::server::{Shared, lock};

/// Control of container logs, for tests and clients of the binary (the
/// library has [`crate::Simulator::append_log`] and its siblings):
///
/// - `POST /_sim/logs/{ns}/{pod}/{container}`: appends the body's lines to
///   the container's current log (followers see them at once);
/// - `POST /_sim/logs/{ns}/{pod}/{container}/end`: ends the current log
///   (its followers' streams end normally, as when a container stops);
/// - `POST /_sim/logs/drop`: drops the connection of every open follow
///   mid-body, as a broken link does;
/// - `GET /_sim/logs`: `{"openFollows": N}`.
///
/// Not counted, never faulted.
pub const LOGS_PATH: &str = "/_sim/logs";

/// How often an open follow looks whether its pod and container still run.
const FOLLOW_CHECK: Duration = Duration::from_millis(100);

/// One line of a log.
#[derive(Debug, Clone)]
struct Line {
    time: DateTime<Utc>,
    text: String,
}

/// One container instance's log.
#[derive(Debug, Default)]
struct Log {
    lines: Vec<Line>,
    /// Ended by [`Logs::end`]: followers stop at the last line.
    ended: bool,
}

/// Which log: namespace, pod, container and the instance's restart count.
type LogKey = (String, String, String, u64);

/// Every container log made so far, and the signals followers wait on.
pub(crate) struct Logs {
    per_instance: std::sync::Mutex<HashMap<LogKey, Log>>,
    /// Lines made for an instance on first read.
    generated_lines: usize,
    /// Bumped on every append and end: followers look again.
    changed: watch::Sender<u64>,
    /// Bumped by [`Logs::drop_streams`]: every open follow drops its connection.
    drops: watch::Sender<u64>,
    open_follows: AtomicUsize,
}

impl Logs {
    pub(crate) fn new(generated_lines: usize) -> Self {
        Self {
            per_instance: std::sync::Mutex::new(HashMap::new()),
            generated_lines,
            changed: watch::channel(0).0,
            drops: watch::channel(0).0,
            open_follows: AtomicUsize::new(0),
        }
    }

    /// Follows open now.
    pub(crate) fn open_follows(&self) -> usize {
        self.open_follows.load(Ordering::SeqCst)
    }

    /// Drops the connection of every open follow.
    pub(crate) fn drop_streams(&self) {
        self.drops.send_modify(|n| *n += 1);
    }

    /// Runs `change` on the log of a container's current instance (made on
    /// first use), then wakes its followers; false when no such pod or
    /// container exists.
    fn change_current(
        &self,
        shared: &Shared,
        (namespace, pod, container): (&str, &str, &str),
        change: impl FnOnce(&mut Log),
    ) -> bool {
        let Some(pod_object) = shared.store.get(ResourceKind::Pod, namespace, pod) else {
            return false;
        };
        let Some(status) = Container::find(&pod_object, container) else {
            return false;
        };
        let key = (
            namespace.to_owned(),
            pod.to_owned(),
            container.to_owned(),
            status.restarts,
        );
        {
            let mut logs = lock(&self.per_instance);
            change(self.instance(&mut logs, key, &pod_object, &status, false));
        }
        self.changed.send_modify(|n| *n += 1);
        true
    }

    /// Appends lines to the current instance of a container; false when no
    /// such pod or container exists.
    pub(crate) fn append(
        &self,
        shared: &Shared,
        namespace: &str,
        pod: &str,
        container: &str,
        lines: &[&str],
    ) -> bool {
        self.change_current(shared, (namespace, pod, container), |log| {
            let mut time = Utc::now();
            for text in lines {
                if let Some(last) = log.lines.last() {
                    time = time.max(last.time + chrono::Duration::microseconds(1));
                }
                log.lines.push(Line {
                    time,
                    text: (*text).to_owned(),
                });
            }
        })
    }

    /// Ends the current instance's log of a container: its followers' streams
    /// end. False when no such pod or container exists.
    pub(crate) fn end(&self, shared: &Shared, namespace: &str, pod: &str, container: &str) -> bool {
        self.change_current(shared, (namespace, pod, container), |log| log.ended = true)
    }

    /// The log of one instance, made on first use.
    fn instance<'a>(
        &self,
        logs: &'a mut HashMap<LogKey, Log>,
        key: LogKey,
        pod: &Value,
        container: &Container,
        previous: bool,
    ) -> &'a mut Log {
        logs.entry(key)
            .or_insert_with_key(|(_, pod_name, name, _)| {
                let start = if previous {
                    container.previous_start
                } else {
                    container.start
                }
                .or_else(|| created(pod))
                .unwrap_or_default();
                Log {
                    lines: generated(pod_name, name, start, self.generated_lines, previous),
                    ended: false,
                }
            })
    }
}

/// The pod's creation time.
fn created(pod: &Value) -> Option<DateTime<Utc>> {
    pod["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// `n` deterministic lines, one a second from `start`; a previous instance's
/// end with the error it died of.
fn generated(
    pod: &str,
    container: &str,
    start: DateTime<Utc>,
    n: usize,
    previous: bool,
) -> Vec<Line> {
    let paths = [
        "/healthz",
        "/api/v1/items",
        "/api/v1/orders",
        "/metrics",
        "/",
    ];
    let mut lines: Vec<Line> = (0..n)
        .map(|i| {
            let text = match i {
                0 => format!("starting {container} in pod {pod}"),
                1 => format!("{container}: listening on 0.0.0.0:8080"),
                _ => {
                    let path = paths[(i * 7 + pod.len()) % paths.len()];
                    let millis = (i * 13 + container.len() * 5) % 97 + 1;
                    format!("{container}: GET {path} 200 {millis}ms (request {i})")
                }
            };
            Line {
                time: start + chrono::Duration::seconds(i as i64),
                text,
            }
        })
        .collect();
    if previous && let Some(last) = lines.last_mut() {
        last.text =
            format!("{container}: fatal: dial tcp 10.96.0.12:5432: connect: connection refused");
    }
    lines
}

/// What the pod's status says of one container.
#[derive(Debug, Clone)]
struct Container {
    restarts: u64,
    /// The current instance started (running or terminated).
    start: Option<DateTime<Utc>>,
    running: bool,
    /// Waiting, with its reason.
    waiting: Option<String>,
    /// The previous instance, when it terminated: its start.
    previous: bool,
    previous_start: Option<DateTime<Utc>>,
}

impl Container {
    /// The status of the container (or init container) `name`; a declared
    /// container without status is waiting in `ContainerCreating`.
    fn find(pod: &Value, name: &str) -> Option<Self> {
        let declared = ["containers", "initContainers", "ephemeralContainers"]
            .iter()
            .any(|list| names(pod, list).iter().any(|n| n == name));
        if !declared {
            return None;
        }
        let status = [
            "containerStatuses",
            "initContainerStatuses",
            "ephemeralContainerStatuses",
        ]
        .iter()
        .filter_map(|list| pod["status"][list].as_array())
        .flatten()
        .find(|s| s["name"] == name);
        let time = |v: &Value| {
            v.as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let Some(status) = status else {
            return Some(Self {
                restarts: 0,
                start: None,
                running: false,
                waiting: Some("ContainerCreating".to_owned()),
                previous: false,
                previous_start: None,
            });
        };
        let state = &status["state"];
        let last = &status["lastState"]["terminated"];
        Some(Self {
            restarts: status["restartCount"].as_u64().unwrap_or(0),
            start: time(&state["running"]["startedAt"])
                .or_else(|| time(&state["terminated"]["startedAt"])),
            running: state["running"].is_object(),
            waiting: state["waiting"].is_object().then(|| {
                state["waiting"]["reason"]
                    .as_str()
                    .unwrap_or("ContainerCreating")
                    .to_owned()
            }),
            previous: last.is_object(),
            previous_start: time(&last["startedAt"]),
        })
    }
}

/// The names of the pod's containers in `list` (`containers`, ...).
fn names(pod: &Value, list: &str) -> Vec<String> {
    pod["spec"][list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_owned))
        .collect()
}

/// The options of one read, checked as the API server checks them.
#[derive(Debug, Default)]
struct Options {
    container: Option<String>,
    previous: bool,
    follow: bool,
    timestamps: bool,
    tail_lines: Option<u64>,
    limit_bytes: Option<u64>,
    since: Option<DateTime<Utc>>,
}

/// An answer other than the log: a `Status` with this code and message.
struct Refusal {
    code: u16,
    message: String,
    details: Option<Value>,
}

impl Refusal {
    fn response(self) -> Response<Body> {
        api::status_response(self.code, Some(&self.message), self.details)
    }
}

fn bad_request(message: &str) -> Refusal {
    Refusal {
        code: 400,
        message: message.to_owned(),
        details: None,
    }
}

/// A 422 with one field's complaint, as validation answers.
fn invalid(pod: &str, field: &str, message: &str) -> Refusal {
    Refusal {
        code: 422,
        message: format!("PodLogOptions \"{pod}\" is invalid: {message}"),
        details: Some(json!({"name": pod, "kind": "PodLogOptions",
            "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}]})),
    }
}

impl Options {
    fn parse(q: &HashMap<String, String>, pod: &str) -> Result<Self, Refusal> {
        let flag = |key: &str| -> Result<bool, Refusal> {
            match q.get(key).map(String::as_str) {
                None | Some("" | "false" | "0") => Ok(false),
                Some("true" | "1") => Ok(true),
                Some(other) => Err(bad_request(&format!(
                    "invalid value for {key}: {other:?}: must be true or false"
                ))),
            }
        };
        let number = |key: &str| -> Result<Option<i64>, Refusal> {
            q.get(key)
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        bad_request(&format!(
                            "invalid value for {key}: {v:?}: not a whole number"
                        ))
                    })
                })
                .transpose()
        };
        let tail_lines = number("tailLines")?;
        if let Some(n) = tail_lines.filter(|n| *n < 0) {
            return Err(invalid(
                pod,
                "tailLines",
                &format!("tailLines: Invalid value: {n}: must be greater than or equal to 0"),
            ));
        }
        let limit_bytes = number("limitBytes")?;
        if let Some(n) = limit_bytes.filter(|n| *n < 1) {
            return Err(invalid(
                pod,
                "limitBytes",
                &format!("limitBytes: Invalid value: {n}: must be greater than 0"),
            ));
        }
        let since_seconds = number("sinceSeconds")?;
        if let Some(n) = since_seconds.filter(|n| *n < 1) {
            return Err(invalid(
                pod,
                "sinceSeconds",
                &format!("sinceSeconds: Invalid value: {n}: must be greater than 0"),
            ));
        }
        let since_time = q
            .get("sinceTime")
            .map(|t| {
                DateTime::parse_from_rfc3339(t)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| {
                        bad_request(&format!(
                            "invalid value for sinceTime: {t:?}: not an RFC 3339 time"
                        ))
                    })
            })
            .transpose()?;
        if since_seconds.is_some() && since_time.is_some() {
            return Err(invalid(
                pod,
                "sinceSeconds",
                "sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified",
            ));
        }
        let since =
            since_time.or_else(|| since_seconds.map(|s| Utc::now() - chrono::Duration::seconds(s)));
        Ok(Self {
            container: q.get("container").filter(|c| !c.is_empty()).cloned(),
            previous: flag("previous")?,
            follow: flag("follow")?,
            timestamps: flag("timestamps")?,
            tail_lines: tail_lines.map(|n| n as u64),
            limit_bytes: limit_bytes.map(|n| n as u64),
            since,
        })
    }

    /// The text of one line as sent.
    fn render(&self, line: &Line) -> String {
        if self.timestamps {
            format!(
                "{} {}\n",
                line.time.to_rfc3339_opts(SecondsFormat::Nanos, true),
                line.text
            )
        } else {
            format!("{}\n", line.text)
        }
    }
}

/// Which container a read names, or the API server's refusal.
fn pick_container(pod: &Value, name: &str, asked: Option<&str>) -> Result<String, Refusal> {
    let containers = names(pod, "containers");
    match asked {
        Some(asked) => {
            let known = ["containers", "initContainers", "ephemeralContainers"]
                .iter()
                .any(|list| names(pod, list).iter().any(|n| n == asked));
            if known {
                Ok(asked.to_owned())
            } else {
                Err(bad_request(&format!(
                    "container {asked} is not valid for pod {name}"
                )))
            }
        }
        None if containers.len() == 1 => Ok(containers[0].clone()),
        None if containers.is_empty() => Err(bad_request(&format!(
            "a container name must be specified for pod {name}"
        ))),
        None => {
            let mut message = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                containers.join(" ")
            );
            let init = names(pod, "initContainers");
            if !init.is_empty() {
                message.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            Err(bad_request(&message))
        }
    }
}

/// `GET /api/v1/namespaces/{ns}/pods/{name}/log`.
pub(crate) fn read(
    shared: &Arc<Shared>,
    kill: Arc<Notify>,
    namespace: &str,
    name: &str,
    q: &HashMap<String, String>,
) -> Response<Body> {
    let Some(pod) = shared.store.get(ResourceKind::Pod, namespace, name) else {
        return api::not_found(ResourceKind::Pod, name);
    };
    let options = match Options::parse(q, name) {
        Ok(options) => options,
        Err(refusal) => return refusal.response(),
    };
    let container = match pick_container(&pod, name, options.container.as_deref()) {
        Ok(container) => container,
        Err(refusal) => return refusal.response(),
    };
    if pod["spec"]["nodeName"].as_str().is_none_or(str::is_empty) {
        return bad_request(&format!("pod {name} does not have a host assigned")).response();
    }
    let Some(status) = Container::find(&pod, &container) else {
        return bad_request(&format!(
            "container {container} is not valid for pod {name}"
        ))
        .response();
    };
    // The kubelet's choice of instance: the previous one when asked (it must
    // have terminated), else the current one, or the last terminated one of
    // a container waiting to start again.
    let restarts = if options.previous {
        if !status.previous || status.restarts == 0 {
            return bad_request(&format!(
                "previous terminated container \"{container}\" in pod \"{name}\" not found"
            ))
            .response();
        }
        status.restarts - 1
    } else if let Some(reason) = &status.waiting {
        if !status.previous || status.restarts == 0 {
            return bad_request(&format!(
                "container \"{container}\" in pod \"{name}\" is waiting to start: {reason}"
            ))
            .response();
        }
        status.restarts - 1
    } else {
        status.restarts
    };
    let is_previous = restarts != status.restarts;
    let key: LogKey = (
        namespace.to_owned(),
        name.to_owned(),
        container.clone(),
        restarts,
    );
    let logs = &shared.logs;
    let (first, mut sent) = {
        let mut per_instance = lock(&logs.per_instance);
        let log = logs.instance(&mut per_instance, key.clone(), &pod, &status, is_previous);
        let mut chosen: Vec<&Line> = log
            .lines
            .iter()
            .filter(|l| options.since.is_none_or(|since| l.time >= since))
            .collect();
        if let Some(tail) = options.tail_lines {
            let skip = chosen.len().saturating_sub(tail as usize);
            chosen.drain(..skip);
        }
        let text: String = chosen.iter().map(|l| options.render(l)).collect();
        (text, log.lines.len())
    };
    let mut first = first.into_bytes();
    let mut budget = options.limit_bytes;
    if let Some(limit) = budget {
        first.truncate(limit as usize);
        budget = Some(limit - first.len() as u64);
    }
    let follows = options.follow && !is_previous && status.running && budget != Some(0);
    if !follows {
        return text_response(Body::from(first));
    }
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let shared = shared.clone();
    let mut changed = shared.logs.changed.subscribe();
    let mut drops = shared.logs.drops.subscribe();
    shared.logs.open_follows.fetch_add(1, Ordering::SeqCst);
    tokio::spawn(async move {
        struct Open<'a>(&'a AtomicUsize);
        impl Drop for Open<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let _open = Open(&shared.logs.open_follows);
        if !first.is_empty() && tx.send(Bytes::from(first)).await.is_err() {
            return;
        }
        loop {
            tokio::select! {
                _ = changed.changed() => {}
                _ = drops.changed() => {
                    // Keep the body open until the connection is gone, so
                    // that it ends without its last chunk.
                    kill.notify_one();
                    tx.closed().await;
                    return;
                }
                () = tx.closed() => return,
                () = tokio::time::sleep(FOLLOW_CHECK) => {}
            }
            // The pod and its container must still run this instance.
            let still = shared
                .store
                .get(ResourceKind::Pod, &key.0, &key.1)
                .and_then(|pod| Container::find(&pod, &key.2))
                .is_some_and(|c| c.running && c.restarts == key.3);
            let (text, ended) = {
                let per_instance = lock(&shared.logs.per_instance);
                let Some(log) = per_instance.get(&key) else {
                    return;
                };
                let text: String = log.lines[sent..]
                    .iter()
                    .map(|l| options.render(l))
                    .collect();
                sent = log.lines.len();
                (text, log.ended)
            };
            let mut text = text.into_bytes();
            if let Some(left) = budget {
                text.truncate(left as usize);
                budget = Some(left - text.len() as u64);
            }
            if !text.is_empty() && tx.send(Bytes::from(text)).await.is_err() {
                return;
            }
            if ended || !still || budget == Some(0) {
                return;
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    text_response(Body::from_stream(stream))
}

fn text_response(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    resp
}

/// `/_sim/logs...`: see [`LOGS_PATH`].
pub(crate) async fn control(shared: &Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let rest: Vec<&str> = path
        .trim_start_matches(LOGS_PATH)
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let method = req.method().clone();
    match (method, rest.as_slice()) {
        (Method::GET | Method::HEAD, []) => {
            api::json_response(200, &json!({ "openFollows": shared.logs.open_follows() }))
        }
        (Method::POST, ["drop"]) => {
            shared.logs.drop_streams();
            api::json_response(200, &json!({}))
        }
        (Method::POST, [ns, pod, container, "end"]) => {
            if shared.logs.end(shared, ns, pod, container) {
                api::json_response(200, &json!({}))
            } else {
                api::status_response(
                    404,
                    Some(&format!("no container {container} in pod {ns}/{pod}")),
                    None,
                )
            }
        }
        (Method::POST, [ns, pod, container]) => {
            let (ns, pod, container) =
                ((*ns).to_owned(), (*pod).to_owned(), (*container).to_owned());
            let body = match axum::body::to_bytes(Body::new(req.into_body()), 1 << 24).await {
                Ok(body) => body,
                Err(_) => return bad_request("the body could not be read").response(),
            };
            let text = String::from_utf8_lossy(&body);
            let lines: Vec<&str> = text.lines().collect();
            if shared.logs.append(shared, &ns, &pod, &container, &lines) {
                api::json_response(200, &json!({ "appended": lines.len() }))
            } else {
                api::status_response(
                    404,
                    Some(&format!("no container {container} in pod {ns}/{pod}")),
                    None,
                )
            }
        }
        (Method::POST, _) => api::status_response(404, None, Some(json!({}))),
        _ => api::status_response(405, None, Some(json!({}))),
    }
}
