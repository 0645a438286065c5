//! `/osp/api/pods`, translated to GraphQL, with ETags and rendered-body reuse
//! (see [`super::conditional`]).

use std::sync::Arc;

use async_graphql::{Request, Variables};
use axum::{
    Extension,
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    conditional::{self, RenderedBodies},
    envelope::from_graphql,
};
use crate::{error::AppError, graphql::Executor};

const PODS_VERSION: &str = "query Version($cluster: String!, $namespace: String) { \
    podsVersion(cluster: $cluster, namespace: $namespace) }";
const LIST_PODS: &str = "query Pods($cluster: String!, $namespace: String, $name: String) { \
    podList(cluster: $cluster, namespace: $namespace, name: $name) { version items { \
    name namespace restarts ready controlled qos created status nodeName podIP \
    containers { name image status reason ready restarts } \
    initContainers { name image status reason ready restarts } } } }";
const POD_JSON: &str = "query Pod($cluster: String!, $namespace: String!, $name: String!) { \
    podsVersion(cluster: $cluster, namespace: $namespace) \
    pod(cluster: $cluster, namespace: $namespace, name: $name) { json } }";
const POD_YAML: &str = "query Pod($cluster: String!, $namespace: String!, $name: String!) { \
    podsVersion(cluster: $cluster, namespace: $namespace) \
    pod(cluster: $cluster, namespace: $namespace, name: $name) { yaml } }";

/// Query string of the pod list.
#[derive(Debug, Deserialize)]
pub struct PodFilter {
    namespace: Option<String>,
    name: Option<String>,
}

/// Query string of the pod detail.
#[derive(Debug, Deserialize)]
pub struct PodOutput {
    output: Option<String>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

fn request(document: &str, variables: &Value) -> Request {
    Request::new(document).variables(Variables::from_json(variables.clone()))
}

/// Runs a pod route: 304 or a reused body when the cache has not changed
/// since, else `render` (which returns the body and the version it reflects).
async fn conditional_get(
    executor: &Executor,
    headers: &HeaderMap,
    rendered: &RenderedBodies,
    key: String,
    scope: Value,
    render: impl AsyncFnOnce() -> Result<(Response, Option<String>), Response>,
) -> Response {
    let authorization = headers.get(header::AUTHORIZATION);
    let answer = executor
        .execute(authorization, request(PODS_VERSION, &scope))
        .await;
    if !answer.errors.is_empty() {
        // Not allowed, unknown cluster, bad input...: the usual envelope.
        return from_graphql(answer, "podsVersion", Ok);
    }
    let version = match answer.data.into_json() {
        Ok(Value::Object(mut data)) => data
            .remove("podsVersion")
            .and_then(|v| v.as_str().map(str::to_owned)),
        _ => None,
    };
    if let Some(version) = &version {
        let etag = conditional::etag(&key, version);
        if conditional::not_modified(headers, &etag) {
            return conditional::not_modified_response(&etag);
        }
        if let Some(body) = rendered.get(&key, version) {
            return conditional::body_response(body, &etag);
        }
    }
    match render().await {
        Ok((response, Some(version))) if response.status().is_success() => {
            let etag = conditional::etag(&key, &version);
            match axum::body::to_bytes(response.into_body(), usize::MAX).await {
                Ok(body) => {
                    rendered.put(key, version, body.clone());
                    conditional::body_response(body, &etag)
                }
                Err(err) => AppError::internal(err).into_response(),
            }
        }
        Ok((response, _)) | Err(response) => response,
    }
}

/// `GET /osp/api/pods/{cluster}?namespace=&name=`.
pub async fn list(
    State(executor): State<Executor>,
    Extension(rendered): Extension<Arc<RenderedBodies>>,
    headers: HeaderMap,
    Path(cluster): Path<String>,
    filter: Result<Query<PodFilter>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(filter) = filter.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let variables = json!({
        "cluster": cluster,
        "namespace": non_empty(filter.namespace),
        "name": non_empty(filter.name),
    });
    let scope = json!({ "cluster": variables["cluster"], "namespace": variables["namespace"] });
    let key = format!("list {variables}");
    let authorization = headers.get(header::AUTHORIZATION).cloned();
    let render = async || {
        let response = executor
            .execute(authorization.as_ref(), request(LIST_PODS, &variables))
            .await;
        let version = response_version(&response, "podList");
        Ok((
            from_graphql(response, "podList", |list| {
                Ok(Value::Array(
                    list["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(snake_case_pod)
                        .collect(),
                ))
            }),
            version,
        ))
    };
    Ok(conditional_get(&executor, &headers, &rendered, key, scope, render).await)
}

/// `GET /osp/api/pods/{cluster}/{namespace}/{name}?output=json|yaml`.
pub async fn detail(
    State(executor): State<Executor>,
    Extension(rendered): Extension<Arc<RenderedBodies>>,
    headers: HeaderMap,
    Path((cluster, namespace, name)): Path<(String, String, String)>,
    output: Result<Query<PodOutput>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(output) = output.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let (document, field) = match output.output.as_deref() {
        None | Some("" | "json") => (POD_JSON, "json"),
        Some("yaml") => (POD_YAML, "yaml"),
        Some(_) => return Err(AppError::invalid("output", "must be json or yaml")),
    };
    let variables = json!({ "cluster": cluster, "namespace": namespace, "name": name });
    let scope = json!({ "cluster": cluster, "namespace": namespace });
    let key = format!("{field} {variables}");
    let authorization = headers.get(header::AUTHORIZATION).cloned();
    let render = async || {
        let response = executor
            .execute(authorization.as_ref(), request(document, &variables))
            .await;
        let version = response_version(&response, "podsVersion");
        Ok((
            from_graphql(response, "pod", |mut pod| Ok(pod[field].take())),
            version,
        ))
    };
    Ok(conditional_get(&executor, &headers, &rendered, key, scope, render).await)
}

/// The cache version a response reflects (`podList.version` or `podsVersion`).
fn response_version(response: &async_graphql::Response, field: &str) -> Option<String> {
    if !response.errors.is_empty() {
        return None;
    }
    let async_graphql::Value::Object(data) = &response.data else {
        return None;
    };
    let value = data.get(field)?;
    let version = match value {
        async_graphql::Value::Object(list) => list.get("version")?,
        other => other,
    };
    match version {
        async_graphql::Value::String(version) => Some(version.clone()),
        _ => None,
    }
}

/// The documented snake_case pod fields (plus a few extra ones).
fn snake_case_pod(pod: &Value) -> Value {
    let containers = |list: &Value| -> Value {
        Value::Array(
            list.as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    json!({
                        "name": c["name"],
                        "status": c["status"].as_str().map(str::to_ascii_lowercase),
                        "reason": c["reason"],
                        "ready": c["ready"],
                        "restarts": c["restarts"],
                        "image": c["image"],
                    })
                })
                .collect(),
        )
    };
    json!({
        "name": pod["name"],
        "namespace": pod["namespace"],
        "containers": containers(&pod["containers"]),
        "init_containers": containers(&pod["initContainers"]),
        "restarts": pod["restarts"],
        "ready": pod["ready"],
        "controlled": pod["controlled"],
        "qos": pod["qos"],
        "created": pod["created"],
        "status": pod["status"],
        "node_name": pod["nodeName"],
        "pod_ip": pod["podIP"],
    })
}
