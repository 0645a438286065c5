//! The HTTP(S) server: accept loop, per-connection hyper service, request
//! counting, fault injection, bearer-token auth, routing, lists, gets and
//! watch streams.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Query;
use axum::http::{HeaderValue, Method, Request, Response, header};
use bytes::Bytes;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, broadcast, mpsc, watch};
use tokio_rustls::TlsAcceptor;

use crate::api;
use crate::control::{Fault, FaultRule, take_fault};
use crate::model::{GROUPS, Key, ResourceKind, namespace_of, with_type_meta};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::store::{Event, EventType, Store, WatchFrom};

/// Watches without `timeoutSeconds` are closed after this long (the real
/// API server picks 30-60 minutes).
const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// State shared by the server tasks and the [`crate::Simulator`] handle.
pub(crate) struct Shared {
    pub store: Store,
    pub token: Option<String>,
    pub faults: Mutex<Vec<FaultRule>>,
    pub counters: Mutex<BTreeMap<String, u64>>,
    pub bookmark_interval: Duration,
    /// Changed to end every open watch stream, in the way it says.
    pub watch_cuts: watch::Sender<WatchCut>,
    /// `host:port` advertised in `/api`.
    pub server_address: String,
    /// Pods changed per second by the churn task (0: none).
    pub churn: watch::Sender<u32>,
    /// Container logs.
    pub logs: crate::logs::Logs,
}

/// How open watch streams are ended by [`crate::Simulator::close_watches`],
/// [`crate::Simulator::drop_watch_connections`] and
/// [`crate::Simulator::fail_watches`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum WatchCut {
    /// Nothing yet (the channel's first value).
    #[default]
    None,
    /// A normal end of the stream (the chunked body's last chunk).
    Close,
    /// The connection is closed mid-body, without the last chunk.
    Drop,
    /// An ERROR event with a Status of this code, then the end of the stream.
    Error(u16),
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accepts connections until `shutdown` changes or its sender is dropped.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection(
            stream,
            shared.clone(),
            tls.clone(),
            shutdown.clone(),
        ));
    }
}

async fn connection(
    stream: TcpStream,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Notified by a DropConnection fault: the connection is dropped unanswered.
    let kill = Arc::new(Notify::new());
    let svc_kill = kill.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        let kill = svc_kill.clone();
        async move { Ok::<_, Infallible>(handle(shared, kill, req).await) }
    });
    let builder = hyper::server::conn::http1::Builder::new();
    match tls {
        Some(acceptor) => {
            let tls_stream = tokio::select! {
                r = acceptor.accept(stream) => match r {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        return;
                    }
                },
                _ = shutdown.changed() => return,
            };
            let conn = builder.serve_connection(TokioIo::new(tls_stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
        None => {
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// Discovery documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doc {
    Version,
    Api,
    CoreV1,
    Apis,
    /// `/apis/<group>`.
    Group(&'static str),
    /// `/apis/<group>/v1`.
    GroupV1(&'static str),
}

/// What a path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Discovery(Doc),
    Health,
    Collection {
        kind: ResourceKind,
        namespace: Option<String>,
    },
    Item {
        kind: ResourceKind,
        namespace: Option<String>,
        name: String,
    },
    /// `/api/v1/namespaces/{ns}/pods/{name}/log`.
    Log {
        namespace: String,
        name: String,
    },
    Unknown,
}

/// The served API group named `name`.
fn known_group(name: &str) -> Option<&'static str> {
    GROUPS.into_iter().find(|g| *g == name)
}

fn parse_route(path: &str) -> Route {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["version"] => Route::Discovery(Doc::Version),
        ["api"] => Route::Discovery(Doc::Api),
        ["api", "v1"] => Route::Discovery(Doc::CoreV1),
        ["apis"] => Route::Discovery(Doc::Apis),
        ["healthz" | "livez" | "readyz", ..] => Route::Health,
        ["api", "v1", rest @ ..] => resource_route("", rest),
        ["apis", group, rest @ ..] => match (known_group(group), rest) {
            (Some(g), []) => Route::Discovery(Doc::Group(g)),
            (Some(g), ["v1"]) => Route::Discovery(Doc::GroupV1(g)),
            (Some(g), ["v1", rest @ ..]) => resource_route(g, rest),
            _ => Route::Unknown,
        },
        _ => Route::Unknown,
    }
}

fn resource_route(group: &str, rest: &[&str]) -> Route {
    let item = |kind: ResourceKind, namespace: Option<&str>, name: &str| Route::Item {
        kind,
        namespace: namespace.map(str::to_string),
        name: name.to_string(),
    };
    let kind_for = |plural: &str| ResourceKind::from_plural(group, plural);
    match rest {
        ["namespaces", ns, "pods", name, "log"] if group.is_empty() => Route::Log {
            namespace: (*ns).to_string(),
            name: (*name).to_string(),
        },
        [plural] => match kind_for(plural) {
            Some(kind) => Route::Collection {
                kind,
                namespace: None,
            },
            None => Route::Unknown,
        },
        ["namespaces", ns, plural] => match kind_for(plural) {
            Some(kind) if kind.namespaced() => Route::Collection {
                kind,
                namespace: Some((*ns).to_string()),
            },
            _ => Route::Unknown,
        },
        ["namespaces", ns, plural, name] | ["namespaces", ns, plural, name, "status"] => {
            match kind_for(plural) {
                Some(kind) if kind.namespaced() => item(kind, Some(ns), name),
                _ => Route::Unknown,
            }
        }
        [plural, name] | [plural, name, "status"] => match kind_for(plural) {
            Some(kind) if !kind.namespaced() => item(kind, None, name),
            _ => Route::Unknown,
        },
        _ => Route::Unknown,
    }
}

fn truthy(q: &HashMap<String, String>, key: &str) -> bool {
    q.get(key).is_some_and(|v| v == "true" || v == "1")
}

fn counter_name(route: &Route, method: &Method, watching: bool, follow: bool) -> String {
    if method != Method::GET && method != Method::HEAD {
        return "other".into();
    }
    match route {
        Route::Discovery(_) => "discovery".into(),
        Route::Health => "health".into(),
        Route::Collection { kind, .. } if watching => format!("watch {}", kind.plural()),
        Route::Collection { kind, .. } => format!("list {}", kind.plural()),
        Route::Item { kind, .. } => format!("get {}", kind.singular()),
        Route::Log { .. } if follow => "follow pods/log".into(),
        Route::Log { .. } => "get pods/log".into(),
        Route::Unknown => "other".into(),
    }
}

/// Read-only view of the request counters, for clients of the binary (the
/// library has [`crate::Simulator::counters`]). Not itself counted, and never
/// faulted, so reading it does not disturb what it reports.
pub const COUNTERS_PATH: &str = "/_sim/counters";

fn authorized(shared: &Shared, req: &Request<Incoming>) -> bool {
    let Some(token) = &shared.token else {
        return true;
    };
    let expected = format!("Bearer {token}");
    req.headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == expected.as_bytes())
}

/// `GET /_sim/counters`: `{"counters": {"list pods": 2, ...}, "total": N}`.
fn counters_response(shared: &Shared, req: &Request<Incoming>) -> Response<Body> {
    if !authorized(shared, req) {
        return api::status_response(401, None, None);
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return api::status_response(405, None, Some(json!({})));
    }
    let counters = lock(&shared.counters).clone();
    let total: u64 = counters.values().sum();
    api::json_response(200, &json!({ "counters": counters, "total": total }))
}

/// Control of the pod churn, for clients of the binary (the library has
/// [`crate::Simulator::churn`]): `POST /_sim/churn?rate=N` makes the
/// simulator change N pods per second from now on (0 stops), and answers
/// `{"rate": N}`; `GET` answers the current rate. Not counted, never faulted.
pub const CHURN_PATH: &str = "/_sim/churn";

/// `GET|POST /_sim/churn[?rate=N]`.
fn churn_response(shared: &Shared, req: &Request<Incoming>) -> Response<Body> {
    if !authorized(shared, req) {
        return api::status_response(401, None, None);
    }
    if req.method() == Method::POST {
        let query: HashMap<String, String> = Query::try_from_uri(req.uri())
            .map(|q| q.0)
            .unwrap_or_default();
        let Some(rate) = query.get("rate").and_then(|r| r.parse::<u32>().ok()) else {
            return api::status_response(
                400,
                Some("rate must be given as a whole number of pods per second"),
                None,
            );
        };
        shared.churn.send_replace(rate);
    } else if req.method() != Method::GET && req.method() != Method::HEAD {
        return api::status_response(405, None, Some(json!({})));
    }
    api::json_response(200, &json!({ "rate": *shared.churn.borrow() }))
}

async fn handle(shared: Arc<Shared>, kill: Arc<Notify>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    if path == COUNTERS_PATH {
        return counters_response(&shared, &req);
    }
    if path == CHURN_PATH {
        return churn_response(&shared, &req);
    }
    if path == crate::logs::LOGS_PATH || path.starts_with(&format!("{}/", crate::logs::LOGS_PATH)) {
        if !authorized(&shared, &req) {
            return api::status_response(401, None, None);
        }
        return crate::logs::control(&shared, req).await;
    }
    let query: HashMap<String, String> = Query::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let route = parse_route(&path);
    let watching = truthy(&query, "watch");
    *lock(&shared.counters)
        .entry(counter_name(
            &route,
            req.method(),
            watching,
            truthy(&query, "follow"),
        ))
        .or_default() += 1;

    let fault = take_fault(&mut lock(&shared.faults), &path, watching);
    match fault {
        Fault::None => {}
        Fault::Latency(d) => tokio::time::sleep(d).await,
        Fault::Status(code) => return api::status_response(code, None, None),
        Fault::DropConnection => {
            kill.notify_one();
            return std::future::pending().await;
        }
        Fault::Hang => return std::future::pending().await,
    }

    if !authorized(&shared, &req) {
        return api::status_response(401, None, None);
    }

    if route != Route::Unknown && req.method() != Method::GET && req.method() != Method::HEAD {
        return api::status_response(405, None, Some(json!({})));
    }

    match route {
        Route::Discovery(doc) => api::json_response(
            200,
            &match doc {
                Doc::Version => api::version(),
                Doc::Api => api::api_versions(&shared.server_address),
                Doc::CoreV1 => api::core_v1_resources(),
                Doc::Apis => api::api_groups(),
                Doc::Group(group) => api::group_doc(group),
                Doc::GroupV1(group) => api::group_v1_resources(group),
            },
        ),
        Route::Health => {
            let mut resp = Response::new(Body::from("ok"));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            resp
        }
        Route::Item {
            kind,
            namespace,
            name,
        } => {
            match shared
                .store
                .get(kind, namespace.as_deref().unwrap_or_default(), &name)
            {
                Some(obj) => api::json_response(200, &with_type_meta(obj, kind)),
                None => api::not_found(kind, &name),
            }
        }
        Route::Collection { kind, namespace } => {
            let selectors = match Selectors::from_query(&query, kind) {
                Ok(s) => s,
                Err(msg) => return api::status_response(400, Some(&msg), None),
            };
            if watching {
                start_watch(&shared, kill, kind, namespace, selectors, &query)
            } else {
                list(&shared, kind, namespace.as_deref(), &selectors, &query)
            }
        }
        Route::Log { namespace, name } => {
            crate::logs::read(&shared, kill, &namespace, &name, &query)
        }
        Route::Unknown => api::status_response(404, None, Some(json!({}))),
    }
}

struct Selectors {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Selectors {
    fn from_query(q: &HashMap<String, String>, kind: ResourceKind) -> Result<Self, String> {
        Ok(Self {
            labels: LabelSelector::parse(q.get("labelSelector").map_or("", String::as_str))?,
            fields: FieldSelector::parse(q.get("fieldSelector").map_or("", String::as_str), kind)?,
        })
    }

    fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }

    fn matches(&self, obj: &Value, kind: ResourceKind) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj, kind)
    }
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Continue tokens: opaque hex of `rv \n namespace \n name` (the last key served).
fn encode_continue(rv: u64, key: &Key) -> String {
    hex(format!("{rv}\n{}\n{}", key.0, key.1).as_bytes())
}

fn decode_continue(token: &str) -> Option<(u64, Key)> {
    let text = String::from_utf8(unhex(token)?).ok()?;
    let mut parts = text.splitn(3, '\n');
    let rv = parts.next()?.parse().ok()?;
    Some((rv, (parts.next()?.to_string(), parts.next()?.to_string())))
}

fn list(
    shared: &Shared,
    kind: ResourceKind,
    namespace: Option<&str>,
    selectors: &Selectors,
    q: &HashMap<String, String>,
) -> Response<Body> {
    let limit = match q.get("limit").filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => match s.parse::<usize>() {
            Ok(0) => None,
            Ok(n) => Some(n),
            Err(_) => return api::status_response(400, Some(&format!("invalid limit: {s}")), None),
        },
    };
    let mut list_rv = None;
    let mut after = None;
    if let Some(token) = q.get("continue").filter(|s| !s.is_empty()) {
        let Some((rv, key)) = decode_continue(token) else {
            return api::status_response(
                400,
                Some("continue key is not valid: incorrect encoded start resourceVersion"),
                None,
            );
        };
        if rv < shared.store.compacted_rv() {
            let msg = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";
            return api::json_response(410, &api::status_object(410, "Expired", msg, None));
        }
        list_rv = Some(rv);
        after = Some(key);
    }
    let page = shared
        .store
        .list(kind, namespace, after.as_ref(), limit, |o| {
            selectors.matches(o, kind)
        });
    let rv = list_rv.unwrap_or(page.rv);
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if let Some(next) = &page.next {
        meta["continue"] = json!(encode_continue(rv, next));
        if selectors.is_empty() {
            meta["remainingItemCount"] = json!(page.remaining);
        }
    }
    // Assembled from the stored serializations rather than re-serializing every item.
    let mut body =
        String::with_capacity(page.items.iter().map(|i| i.len() + 1).sum::<usize>() + 256);
    body.push_str(&format!(
        "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{meta},\"items\":[",
        kind.list_kind(),
        kind.api_version()
    ));
    for (i, item) in page.items.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(item);
    }
    body.push_str("]}");
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Everything a watch stream needs to decide what to send.
struct WatchScope {
    kind: ResourceKind,
    namespace: Option<String>,
    selectors: Selectors,
}

impl WatchScope {
    fn in_scope(&self, obj: &Value) -> bool {
        (!self.kind.namespaced()
            || self
                .namespace
                .as_deref()
                .is_none_or(|ns| namespace_of(obj) == ns))
            && self.selectors.matches(obj, self.kind)
    }

    /// The event line for `ev` as this watcher sees it, if any.
    fn render(&self, ev: &Event) -> Option<Bytes> {
        if ev.kind != self.kind {
            return None;
        }
        let now = self.in_scope(&ev.object);
        let etype = match ev.etype {
            EventType::Added | EventType::Deleted if now => ev.etype,
            EventType::Modified => match (ev.old.as_ref().is_some_and(|o| self.in_scope(o)), now) {
                (true, true) => EventType::Modified,
                (false, true) => EventType::Added,
                (true, false) => EventType::Deleted,
                (false, false) => return None,
            },
            _ => return None,
        };
        Some(line(etype.as_str(), &ev.object_json))
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({"kind": self.kind.kind(), "apiVersion": self.kind.api_version(), "metadata": meta});
        line("BOOKMARK", &obj.to_string())
    }
}

fn line(etype: &str, object_json: &str) -> Bytes {
    Bytes::from(format!(
        "{{\"type\":\"{etype}\",\"object\":{object_json}}}\n"
    ))
}

fn error_line(status: &Value) -> Bytes {
    line("ERROR", &status.to_string())
}

fn streaming_response(rx: mpsc::Receiver<Bytes>) -> Response<Body> {
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn start_watch(
    shared: &Arc<Shared>,
    kill: Arc<Notify>,
    kind: ResourceKind,
    namespace: Option<String>,
    selectors: Selectors,
    q: &HashMap<String, String>,
) -> Response<Body> {
    let rv_param = q.get("resourceVersion").map_or("", String::as_str);
    let send_initial = truthy(q, "sendInitialEvents");
    let bookmarks = truthy(q, "allowWatchBookmarks");
    let timeout = q
        .get("timeoutSeconds")
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(DEFAULT_WATCH_TIMEOUT, Duration::from_secs);
    let from = if send_initial || rv_param.is_empty() || rv_param == "0" {
        WatchFrom::Initial
    } else {
        match rv_param.parse::<u64>() {
            Ok(rv) => WatchFrom::After(rv),
            Err(_) => {
                return api::status_response(
                    400,
                    Some(&format!("invalid resource version: {rv_param}")),
                    None,
                );
            }
        }
    };
    let scope = WatchScope {
        kind,
        namespace,
        selectors,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(256);
    let sub = match shared
        .store
        .subscribe(kind, scope.namespace.as_deref(), from)
    {
        Ok(sub) => sub,
        Err(oldest) => {
            let requested = match from {
                WatchFrom::After(rv) => rv,
                WatchFrom::Initial => 0,
            };
            // As the API server does: 200, one ERROR event, end of stream.
            let _ = tx.try_send(error_line(&api::too_old(requested, oldest)));
            drop(tx);
            return streaming_response(rx);
        }
    };
    let mut cuts = shared.watch_cuts.subscribe();
    let interval = shared.bookmark_interval;
    tokio::spawn(async move {
        let send = |b: Bytes| {
            let tx = tx.clone();
            async move { tx.send(b).await.is_ok() }
        };
        for obj in sub.initial {
            if scope.in_scope(&obj) {
                let obj = with_type_meta(obj, scope.kind);
                if !send(line("ADDED", &obj.to_string())).await {
                    return;
                }
            }
        }
        if send_initial && !send(scope.bookmark(sub.start_rv, true)).await {
            return;
        }
        let mut last_rv = sub.start_rv;
        for ev in sub.replay {
            last_rv = last_rv.max(ev.rv);
            if let Some(l) = scope.render(&ev)
                && !send(l).await
            {
                return;
            }
        }
        let mut rx = sub.rx;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tokio::select! {
                // Cutting wins over pending events, so a cut is immediate.
                biased;
                _ = cuts.changed() => {
                    let cut = *cuts.borrow_and_update();
                    match cut {
                        WatchCut::None | WatchCut::Close => {}
                        // As the API server tells a watcher that fell behind its history.
                        WatchCut::Error(410) => {
                            let _ = send(error_line(&api::too_old(last_rv, last_rv + 1))).await;
                        }
                        WatchCut::Error(code) => {
                            let _ = send(error_line(&api::status_for(code))).await;
                        }
                        WatchCut::Drop => {
                            kill.notify_one();
                            // Keeping the body open until the connection is gone,
                            // so hyper cannot write the last chunk first.
                            tx.closed().await;
                        }
                    }
                    return;
                }
                _ = tx.closed() => return,
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        if ev.rv <= sub.start_rv {
                            continue;
                        }
                        last_rv = ev.rv;
                        if let Some(l) = scope.render(&ev)
                            && !send(l).await
                        {
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = send(error_line(&api::too_old(last_rv, last_rv + 1))).await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick(), if bookmarks => {
                    if !send(scope.bookmark(last_rv, false)).await {
                        return;
                    }
                }
                _ = &mut deadline => {
                    if bookmarks {
                        let _ = send(scope.bookmark(last_rv, false)).await;
                    }
                    return;
                }
            }
        }
    });
    streaming_response(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            parse_route("/api/v1/pods"),
            Route::Collection {
                kind: ResourceKind::Pod,
                namespace: None
            }
        );
        assert_eq!(
            parse_route("/api/v1/namespaces/a/pods/b"),
            Route::Item {
                kind: ResourceKind::Pod,
                namespace: Some("a".into()),
                name: "b".into()
            }
        );
        assert_eq!(
            parse_route("/api/v1/namespaces/a"),
            Route::Item {
                kind: ResourceKind::Namespace,
                namespace: None,
                name: "a".into()
            }
        );
        assert_eq!(
            parse_route("/apis/apps/v1/replicasets"),
            Route::Collection {
                kind: ResourceKind::ReplicaSet,
                namespace: None
            }
        );
        assert_eq!(parse_route("/api/v1/replicasets"), Route::Unknown);
        assert_eq!(
            parse_route("/apis/batch/v1/namespaces/x/cronjobs/c"),
            Route::Item {
                kind: ResourceKind::CronJob,
                namespace: Some("x".into()),
                name: "c".into()
            }
        );
        assert_eq!(
            parse_route("/api/v1/namespaces/x/events"),
            Route::Collection {
                kind: ResourceKind::Event,
                namespace: Some("x".into())
            }
        );
        assert_eq!(
            parse_route("/apis/batch/v1"),
            Route::Discovery(Doc::GroupV1("batch"))
        );
        assert_eq!(parse_route("/apis/batch/v1/statefulsets"), Route::Unknown);
        assert_eq!(parse_route("/apis/extensions/v1beta1"), Route::Unknown);
        assert_eq!(
            parse_route("/apis/apps/v1/namespaces/x/pods"),
            Route::Unknown
        );
        assert_eq!(parse_route("/nope"), Route::Unknown);
    }

    #[test]
    fn continue_tokens_round_trip() {
        let key = ("ns".to_string(), "name-1".to_string());
        let t = encode_continue(42, &key);
        assert_eq!(decode_continue(&t), Some((42, key)));
        assert_eq!(decode_continue("zz"), None);
    }
}
