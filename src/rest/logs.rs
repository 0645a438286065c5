//! `GET /osp/api/pods/{cluster}/{namespace}/{name}/logs`: a container's log
//! as `text/plain`, for curl users; with `follow=true` streamed as it is
//! written. It runs `podLogs` (or the `podLogLines` subscription) with
//! variables, like every REST route; errors keep the `{code, msg, data}`
//! envelope.

use std::convert::Infallible;

use async_graphql::{Request, Variables};
use axum::{
    body::Body,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::{envelope::from_graphql, input::path_error, openapi::LogErrors};
use crate::{
    auth::Auth,
    error::AppError,
    graphql::{Executor, RequestMeta},
};

const POD_LOGS: &str = "query Logs($cluster: String!, $namespace: String!, $name: String!, \
    $container: String, $previous: Boolean! = false, $tailLines: Int, $sinceSeconds: Int, \
    $sinceTime: String, $timestamps: Boolean! = false, $limitBytes: Int) { \
    podLogs(cluster: $cluster, namespace: $namespace, name: $name, container: $container, \
    previous: $previous, tailLines: $tailLines, sinceSeconds: $sinceSeconds, \
    sinceTime: $sinceTime, timestamps: $timestamps, limitBytes: $limitBytes) { \
    container truncated lines { time text } } }";
const FOLLOW_POD_LOGS: &str = "subscription Follow($cluster: String!, $namespace: String!, \
    $name: String!, $container: String, $previous: Boolean! = false, $tailLines: Int, \
    $sinceSeconds: Int, $sinceTime: String, $timestamps: Boolean! = false) { \
    podLogLines(cluster: $cluster, namespace: $namespace, name: $name, container: $container, \
    previous: $previous, tailLines: $tailLines, sinceSeconds: $sinceSeconds, \
    sinceTime: $sinceTime, timestamps: $timestamps) { time text } }";

/// Says whether `limitBytes` or the gateway's cap cut a log read.
pub const TRUNCATED_HEADER: &str = "osp-log-truncated";

/// Query string of a log read: `kubectl logs`' options.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct LogParams {
    /// The container; may be left out for a pod with one container.
    #[param(
        example = "app",
        pattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        max_length = 63
    )]
    container: Option<String>,
    /// `true`: the previous, terminated instance of the container.
    #[param(value_type = Option<bool>)]
    previous: Option<String>,
    /// Only the last this many lines.
    #[param(value_type = Option<i32>, minimum = 0)]
    tail_lines: Option<String>,
    /// Only lines written in the last this many seconds.
    #[param(value_type = Option<i32>, minimum = 1)]
    since_seconds: Option<String>,
    /// Only lines written at or after this time (RFC 3339); with sinceSeconds too, the later applies.
    #[param(example = "2024-05-01T10:00:00Z", format = DateTime)]
    since_time: Option<String>,
    /// `true`: each line starts with its time (RFC 3339 with nanoseconds).
    #[param(value_type = Option<bool>)]
    timestamps: Option<String>,
    /// At most this many bytes (the answer says `osp-log-truncated: true` when
    /// cut); a follow ends once that many were sent.
    #[param(value_type = Option<i32>, minimum = 1)]
    limit_bytes: Option<String>,
    /// `true`: stream the log as it is written, until the container stops or
    /// the token expires.
    #[param(value_type = Option<bool>)]
    follow: Option<String>,
}

fn flag(field: &str, value: Option<&str>) -> Result<bool, AppError> {
    match value {
        None | Some("" | "false" | "0") => Ok(false),
        Some("true" | "1") => Ok(true),
        Some(_) => Err(AppError::invalid(field, "must be true or false")),
    }
}

fn number(field: &str, value: Option<&str>) -> Result<Value, AppError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(Value::Null),
        Some(text) => text
            .parse::<i32>()
            .map(|n| json!(n))
            .map_err(|_| AppError::invalid(field, "must be a whole number")),
    }
}

/// `GET /osp/api/pods/{cluster}/{namespace}/{name}/logs`.
#[utoipa::path(
    get,
    path = "/pods/{cluster}/{namespace}/{name}/logs",
    tag = "pods",
    operation_id = "getPodLogs",
    params(
        ("cluster" = String, Path, description = "A configured cluster (a kubeconfig context).", example = "sim"),
        ("namespace" = String, Path, description = "The pod's namespace (a DNS-1123 label).",
            example = "payments", pattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", max_length = 63),
        ("name" = String, Path, description = "The pod's name (a DNS-1123 subdomain).",
            pattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$", max_length = 253),
        LogParams,
    ),
    responses(
        (status = 200, description = "The log, one line per line (streamed with follow=true).",
            content_type = "text/plain; charset=utf-8", body = String),
        LogErrors,
    ),
)]
pub async fn logs(
    State(executor): State<Executor>,
    meta: RequestMeta,
    auth: Auth,
    headers: HeaderMap,
    path: Result<Path<(String, String, String)>, PathRejection>,
    params: Result<Query<LogParams>, QueryRejection>,
) -> Result<Response, AppError> {
    let Path((cluster, namespace, name)) = path.map_err(path_error)?;
    let Query(params) = params.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let follow = flag("follow", params.follow.as_deref())?;
    let timestamps = flag("timestamps", params.timestamps.as_deref())?;
    let mut variables = json!({
        "cluster": cluster,
        "namespace": namespace,
        "name": name,
        "container": params.container.filter(|c| !c.is_empty()),
        "previous": flag("previous", params.previous.as_deref())?,
        "tailLines": number("tailLines", params.tail_lines.as_deref())?,
        "sinceSeconds": number("sinceSeconds", params.since_seconds.as_deref())?,
        "sinceTime": params.since_time.filter(|t| !t.is_empty()),
        "timestamps": timestamps,
    });
    let limit_bytes = number("limitBytes", params.limit_bytes.as_deref())?;
    if !follow {
        variables["limitBytes"] = limit_bytes;
        let request = Request::new(POD_LOGS).variables(Variables::from_json(variables));
        let response = executor.execute(meta, auth, request).await;
        return Ok(read_answer(response, timestamps));
    }
    // With follow=true, limitBytes ends the stream once that many bytes
    // were sent (the last line cut there), as `kubectl logs -f --limit-bytes`.
    if limit_bytes.as_i64().is_some_and(|n| n < 1) {
        return Err(AppError::invalid("limitBytes", "must be 1 or more"));
    }
    let left = limit_bytes.as_u64().map_or(usize::MAX, |n| n as usize);
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(crate::auth::bearer_token)
        .map(str::to_owned);
    let request = Request::new(FOLLOW_POD_LOGS).variables(Variables::from_json(variables));
    let (mut events, started) = executor.subscribe(meta, auth, token, request);
    // The subscription either starts (its checks passed: 200 and the lines
    // as they come) or answers an error first (the envelope).
    let first = tokio::select! {
        biased;
        event = events.next() => event,
        _ = started => None,
    };
    if let Some(event) = &first
        && !event.errors.is_empty()
    {
        return Ok(from_graphql(
            first.unwrap_or_default(),
            "podLogLines",
            Ok::<Value, AppError>,
        ));
    }
    let lines = futures_util::stream::iter(first)
        .chain(events)
        // A later error (the grant revoked) ends the stream.
        .take_while(|event| std::future::ready(event.errors.is_empty()))
        .map(move |event| {
            let line = event.data.into_json().unwrap_or_default();
            render(&line["podLogLines"], timestamps)
        })
        .boxed();
    // Ends as soon as `left` bytes were sent, not at the next line.
    let lines = futures_util::stream::unfold((lines, left), |(mut lines, left)| async move {
        if left == 0 {
            return None;
        }
        let mut text = lines.next().await?;
        if text.len() > left {
            let mut end = left;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        let left = left - text.len();
        Some((Ok::<_, Infallible>(text), (lines, left)))
    });
    Ok(text(Body::from_stream(lines), false))
}

/// One line as `kubectl logs` prints it.
fn render(line: &Value, timestamps: bool) -> String {
    let text = line["text"].as_str().unwrap_or_default();
    match line["time"].as_str().filter(|_| timestamps) {
        Some(time) => format!("{time} {text}\n"),
        None => format!("{text}\n"),
    }
}

/// A `podLogs` answer as text, or its error in the envelope.
fn read_answer(response: async_graphql::Response, timestamps: bool) -> Response {
    if !response.errors.is_empty() {
        return from_graphql(response, "podLogs", Ok::<Value, AppError>);
    }
    let data = response.data.into_json().unwrap_or_default();
    let log = &data["podLogs"];
    let body: String = log["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|line| render(line, timestamps))
        .collect();
    text(Body::from(body), log["truncated"] == true)
}

fn text(body: Body, truncated: bool) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if truncated {
        headers.insert(TRUNCATED_HEADER, HeaderValue::from_static("true"));
    }
    response
}
