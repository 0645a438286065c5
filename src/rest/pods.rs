//! `/osp/api/pods`, translated to GraphQL.

use async_graphql::{Request, Variables};
use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::{HeaderMap, header},
    response::Response,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::envelope::from_graphql;
use crate::{error::AppError, graphql::Executor};

const LIST_PODS: &str = "query Pods($cluster: String!, $namespace: String, $name: String) { \
    pods(cluster: $cluster, namespace: $namespace, name: $name) { \
    name namespace restarts ready controlled qos created status nodeName podIP \
    containers { name image status reason ready restarts } \
    initContainers { name image status reason ready restarts } } }";
const POD_JSON: &str = "query Pod($cluster: String!, $namespace: String!, $name: String!) { \
    pod(cluster: $cluster, namespace: $namespace, name: $name) { json } }";
const POD_YAML: &str = "query Pod($cluster: String!, $namespace: String!, $name: String!) { \
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

fn request(document: &str, variables: Value) -> Request {
    Request::new(document).variables(Variables::from_json(variables))
}

/// `GET /osp/api/pods/{cluster}?namespace=&name=`.
pub async fn list(
    State(executor): State<Executor>,
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
    let response = executor
        .execute(
            headers.get(header::AUTHORIZATION),
            request(LIST_PODS, variables),
        )
        .await;
    Ok(from_graphql(response, "pods", |pods| {
        Ok(Value::Array(
            pods.as_array()
                .into_iter()
                .flatten()
                .map(snake_case_pod)
                .collect(),
        ))
    }))
}

/// `GET /osp/api/pods/{cluster}/{namespace}/{name}?output=json|yaml`.
pub async fn detail(
    State(executor): State<Executor>,
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
    let response = executor
        .execute(
            headers.get(header::AUTHORIZATION),
            request(document, variables),
        )
        .await;
    Ok(from_graphql(response, "pod", |mut pod| {
        Ok(pod[field].take())
    }))
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
