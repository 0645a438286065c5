//! Wire documents: `Status` errors, discovery documents (`/version`, `/api`,
//! `/apis`, ...) and JSON response helpers.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::model::{GROUPS, ResourceKind};
use crate::synth::KUBERNETES_VERSION;

/// A `Status` object as the API server sends for failures.
pub(crate) fn status_object(
    code: u16,
    reason: &str,
    message: &str,
    details: Option<Value>,
) -> Value {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code
    });
    if let Some(d) = details {
        s["details"] = d;
    }
    s
}

/// The reason and default message the API server uses for an HTTP status.
pub(crate) fn reason_for(code: u16) -> (&'static str, &'static str) {
    match code {
        400 => ("BadRequest", "bad request"),
        401 => ("Unauthorized", "Unauthorized"),
        403 => (
            "Forbidden",
            "forbidden: User \"system:anonymous\" cannot perform this request",
        ),
        404 => (
            "NotFound",
            "the server could not find the requested resource",
        ),
        405 => (
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        ),
        409 => (
            "Conflict",
            "the object has been modified; please apply your changes to the latest version and try again",
        ),
        410 => ("Expired", "the resource version is too old"),
        422 => ("Invalid", "the request is invalid"),
        429 => (
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        ),
        500 => ("InternalError", "Internal error occurred: injected fault"),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        504 => (
            "Timeout",
            "the server was unable to return a response in the time allotted, but may still be processing the request",
        ),
        _ => ("Unknown", "the server has returned an unexpected error"),
    }
}

/// A `Status` object with the standard reason and message for `code`.
pub(crate) fn status_for(code: u16) -> Value {
    let (reason, message) = reason_for(code);
    status_object(code, reason, message, None)
}

/// A JSON response.
pub(crate) fn json_response(code: u16, body: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A `Status` failure response with the standard reason for `code`.
pub(crate) fn status_response(
    code: u16,
    message: Option<&str>,
    details: Option<Value>,
) -> Response<Body> {
    let (reason, default_message) = reason_for(code);
    let mut resp = json_response(
        code,
        &status_object(code, reason, message.unwrap_or(default_message), details),
    );
    if code == 429 || code == 503 {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

/// The 404 for a named object that does not exist.
pub(crate) fn not_found(kind: ResourceKind, name: &str) -> Response<Body> {
    let mut details = json!({"name": name, "kind": kind.plural()});
    if !kind.group().is_empty() {
        details["group"] = json!(kind.group());
    }
    status_response(
        404,
        Some(&format!("{} \"{name}\" not found", kind.qualified_plural())),
        Some(details),
    )
}

/// The `too old resource version` Status (410 Expired).
pub(crate) fn too_old(requested: u64, oldest: u64) -> Value {
    status_object(
        410,
        "Expired",
        &format!("too old resource version: {requested} ({oldest})"),
        None,
    )
}

/// `/version`.
pub(crate) fn version() -> Value {
    let minor = KUBERNETES_VERSION.split('.').nth(1).unwrap_or("31");
    json!({
        "major": "1",
        "minor": minor,
        "gitVersion": KUBERNETES_VERSION,
        "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
        "gitTreeState": "clean",
        "buildDate": "2024-12-10T18:05:56Z",
        "goVersion": "go1.22.9",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `/api`.
pub(crate) fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn resource(kind: ResourceKind) -> Value {
    let mut r = json!({
        "name": kind.plural(),
        "singularName": kind.singular(),
        "namespaced": kind.namespaced(),
        "kind": kind.kind(),
        "verbs": ["get", "list", "watch"]
    });
    if !kind.short_names().is_empty() {
        r["shortNames"] = json!(kind.short_names());
    }
    if kind.in_all_category() {
        r["categories"] = json!(["all"]);
    }
    r
}

/// The resources of one group (`""` for core), in name order as the API server lists them.
fn resources_of(group: &str) -> Vec<Value> {
    let mut kinds: Vec<ResourceKind> = ResourceKind::ALL
        .into_iter()
        .filter(|k| k.group() == group)
        .collect();
    kinds.sort_by_key(|k| k.plural());
    kinds.into_iter().map(resource).collect()
}

/// `/api/v1`.
pub(crate) fn core_v1_resources() -> Value {
    json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": resources_of("")
    })
}

fn group(name: &str) -> Value {
    let gv = format!("{name}/v1");
    json!({
        "name": name,
        "versions": [{"groupVersion": gv, "version": "v1"}],
        "preferredVersion": {"groupVersion": gv, "version": "v1"}
    })
}

/// `/apis`.
pub(crate) fn api_groups() -> Value {
    let groups: Vec<Value> = GROUPS.into_iter().map(group).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`.
pub(crate) fn group_doc(name: &str) -> Value {
    let mut g = group(name);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    g
}

/// `/apis/<group>/v1`.
pub(crate) fn group_v1_resources(name: &str) -> Value {
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": format!("{name}/v1"),
        "resources": resources_of(name)
    })
}
