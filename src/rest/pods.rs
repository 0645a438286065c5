//! `/osp/api/pods`, translated to GraphQL, with ETags and rendered-body reuse
//! (see [`super::conditional`]).

use std::sync::Arc;

use async_graphql::{Request, Variables};
use axum::{
    Extension,
    extract::{
        Path, Query, State,
        rejection::{PathRejection, QueryRejection},
    },
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{
    IntoParams, PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{ObjectBuilder, OneOfBuilder, Schema, Type},
    },
};

use super::{
    envelope::{Envelope, from_graphql},
    input::path_error,
    openapi::{ListPodsErrors, PodErrors},
    rendered::RenderedBodies,
};
use crate::{
    auth::Auth,
    conditional,
    error::AppError,
    graphql::{Executor, RequestMeta},
    k8s::summary::PodSummary,
};

const PODS_VERSION: &str = "query Version($cluster: String!, $namespace: String) { \
    podsVersion(cluster: $cluster, namespace: $namespace) viewerScope }";
const LIST_PODS: &str = "query Pods($cluster: String!, $namespace: String, $name: String) { \
    podList(cluster: $cluster, namespace: $namespace, name: $name) { version items { \
    name namespace restarts lastRestart ready controlled qos created status nodeName \
    podIP readinessGates \
    containers { name image status reason ready restarts sidecar } \
    initContainers { name image status reason ready restarts sidecar } } } }";
const POD_CHECK: &str = "query Pod($cluster: String!, $namespace: String!, $name: String!) { \
    podsVersion(cluster: $cluster, namespace: $namespace) viewerScope \
    pod(cluster: $cluster, namespace: $namespace, name: $name) { name } }";
const POD_JSON: &str = "query Pod($cluster: String!, $namespace: String!, $name: String!) { \
    podsVersion(cluster: $cluster, namespace: $namespace) \
    pod(cluster: $cluster, namespace: $namespace, name: $name) { json } }";
const POD_YAML: &str = "query Pod($cluster: String!, $namespace: String!, $name: String!) { \
    podsVersion(cluster: $cluster, namespace: $namespace) \
    pod(cluster: $cluster, namespace: $namespace, name: $name) { yaml } }";

/// Query string of the pod list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PodFilter {
    /// Only pods of this namespace (empty or absent: all namespaces).
    #[param(
        example = "payments",
        pattern = "^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)?$",
        max_length = 63
    )]
    namespace: Option<String>,
    /// Only pods whose name contains this (the characters of pod names only).
    #[param(pattern = "^[a-z0-9.-]*$", max_length = 253)]
    name: Option<String>,
}

/// Query string of the pod detail.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PodOutput {
    /// `json` (the default) for the v1.Pod object, `yaml` for its YAML text.
    #[param(value_type = Option<OutputFormat>, inline)]
    output: Option<String>,
}

/// How a pod is rendered (read by hand, so a wrong value gets a friendly message).
#[derive(Debug, Clone, Copy, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum OutputFormat {
    /// The v1.Pod as a JSON object.
    Json,
    /// The v1.Pod as YAML text.
    Yaml,
}

impl OutputFormat {
    /// Reads `?output=` (absent or empty: JSON).
    fn read(value: Option<&str>) -> Result<Self, AppError> {
        match value {
            None | Some("" | "json") => Ok(OutputFormat::Json),
            Some("yaml") => Ok(OutputFormat::Yaml),
            Some(_) => Err(AppError::invalid("output", "must be json or yaml")),
        }
    }
}

/// One pod: the full v1.Pod object, or its YAML text.
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PodDocument {
    /// `output=json`: the v1.Pod (managedFields dropped, as kubectl does).
    Json(Map<String, Value>),
    /// `output=yaml`: the same object as YAML text.
    Yaml(String),
}

impl PartialSchema for PodDocument {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Object)
                    .description(Some(
                        "`output=json`: the v1.Pod (managedFields dropped, as kubectl does)",
                    )),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("`output=yaml`: the same object as YAML text")),
            )
            .into()
    }
}

impl ToSchema for PodDocument {}

/// The pods of a `podList` answer.
#[derive(Deserialize)]
struct PodListData {
    items: Vec<PodSummary>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// Who runs a route's documents: the request's origin and viewer, checked
/// once for the whole request.
#[derive(Clone)]
struct Caller {
    executor: Executor,
    meta: RequestMeta,
    auth: Auth,
}

impl Caller {
    async fn run(&self, document: &str, variables: &Value) -> async_graphql::Response {
        let request = Request::new(document).variables(Variables::from_json(variables.clone()));
        self.executor
            .execute(self.meta.clone(), self.auth.clone(), request)
            .await
    }
}

/// Runs a pod route: 304 or a reused body when the cache has not changed
/// since, else `render` (which returns the answer and the version it reflects).
/// `check` is the small document that authorises the request and reads the
/// version (and, for one pod, records the read).
async fn conditional_get(
    caller: &Caller,
    headers: &HeaderMap,
    rendered: &RenderedBodies,
    key: String,
    check: (&str, Value),
    render: impl AsyncFnOnce() -> (Response, Option<String>),
) -> Response {
    let answer = caller.run(check.0, &check.1).await;
    if !answer.errors.is_empty() {
        // Not allowed, unknown cluster, bad input...: the usual envelope.
        return from_graphql(answer, "podsVersion", Ok::<Value, AppError>);
    }
    let version = string_at(&answer, &["podsVersion"]);
    // What the viewer may see is part of what the answer depends on.
    let scope = string_at(&answer, &["viewerScope"]).unwrap_or_default();
    let key = format!("{key} for {scope}");
    if let Some(version) = &version {
        let etag = conditional::etag(&key, version);
        if conditional::not_modified(headers, &etag) {
            return conditional::not_modified_response(&etag);
        }
        if let Some(body) = rendered.get(&key, version) {
            return conditional::body_response(body, &etag);
        }
    }
    // Identical requests that miss together render once; the others then
    // find the body kept.
    let _turn = match &version {
        Some(version) => {
            let turn = rendered.turn(&key, version).await;
            if let Some(body) = rendered.get(&key, version) {
                return conditional::body_response(body, &conditional::etag(&key, version));
            }
            Some(turn)
        }
        None => None,
    };
    match render().await {
        (response, Some(version)) if response.status().is_success() => {
            let etag = conditional::etag(&key, &version);
            match axum::body::to_bytes(response.into_body(), usize::MAX).await {
                Ok(body) => {
                    rendered.put(key, version, body.clone());
                    conditional::body_response(body, &etag)
                }
                Err(err) => AppError::internal(err).into_response(),
            }
        }
        (response, _) => response,
    }
}

/// `GET /osp/api/pods/{cluster}?namespace=&name=`.
#[utoipa::path(
    get,
    path = "/pods/{cluster}",
    tag = "pods",
    operation_id = "listPods",
    params(
        ("cluster" = String, Path, description = "A configured cluster (a kubeconfig context).", example = "sim"),
        PodFilter,
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer: 304 while the pods are unchanged."),
    ),
    responses(
        (status = 200, description = "The matching pods. Carries an ETag when served from the watch cache.", body = Envelope<Vec<PodSummary>>),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match; no body."),
        ListPodsErrors,
    ),
)]
pub async fn list(
    State(executor): State<Executor>,
    Extension(rendered): Extension<Arc<RenderedBodies>>,
    meta: RequestMeta,
    auth: Auth,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
    filter: Result<Query<PodFilter>, QueryRejection>,
) -> Result<Response, AppError> {
    let Path(cluster) = path.map_err(path_error)?;
    let Query(filter) = filter.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let variables = json!({
        "cluster": cluster,
        "namespace": non_empty(filter.namespace),
        "name": non_empty(filter.name),
    });
    let scope = json!({ "cluster": variables["cluster"], "namespace": variables["namespace"] });
    let key = format!("list {variables}");
    let caller = Caller {
        executor,
        meta,
        auth,
    };
    let render = async || {
        let response = caller.run(LIST_PODS, &variables).await;
        let version = string_at(&response, &["podList", "version"]);
        let answer = from_graphql(response, "podList", |list: PodListData| Ok(list.items));
        (answer, version)
    };
    let check = (PODS_VERSION, scope);
    Ok(conditional_get(&caller, &headers, &rendered, key, check, render).await)
}

/// `GET /osp/api/pods/{cluster}/{namespace}/{name}?output=json|yaml`.
#[utoipa::path(
    get,
    path = "/pods/{cluster}/{namespace}/{name}",
    tag = "pods",
    operation_id = "getPod",
    params(
        ("cluster" = String, Path, description = "A configured cluster (a kubeconfig context).", example = "sim"),
        ("namespace" = String, Path, description = "The pod's namespace (a DNS-1123 label).",
            example = "payments", pattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", max_length = 63),
        ("name" = String, Path, description = "The pod's name (a DNS-1123 subdomain).",
            pattern = "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$", max_length = 253),
        PodOutput,
        ("If-None-Match" = Option<String>, Header, description = "An ETag of an earlier answer: 304 while the pods are unchanged."),
    ),
    responses(
        (status = 200, description = "The pod. Carries an ETag when served from the watch cache.", body = Envelope<PodDocument>),
        (status = 304, description = "Unchanged since the ETag given in If-None-Match; no body."),
        PodErrors,
    ),
)]
pub async fn detail(
    State(executor): State<Executor>,
    Extension(rendered): Extension<Arc<RenderedBodies>>,
    meta: RequestMeta,
    auth: Auth,
    headers: HeaderMap,
    path: Result<Path<(String, String, String)>, PathRejection>,
    output: Result<Query<PodOutput>, QueryRejection>,
) -> Result<Response, AppError> {
    let Path((cluster, namespace, name)) = path.map_err(path_error)?;
    let Query(output) = output.map_err(|e| AppError::invalid("query", e.body_text()))?;
    let (document, field) = match OutputFormat::read(output.output.as_deref())? {
        OutputFormat::Json => (POD_JSON, "json"),
        OutputFormat::Yaml => (POD_YAML, "yaml"),
    };
    let variables = json!({ "cluster": cluster, "namespace": namespace, "name": name });
    let key = format!("{field} {variables}");
    let caller = Caller {
        executor,
        meta,
        auth,
    };
    // The check has recorded the read; the render must not record it again.
    let render_caller = Caller {
        meta: RequestMeta {
            read_audited: true,
            ..caller.meta.clone()
        },
        ..caller.clone()
    };
    let render = async || {
        let response = render_caller.run(document, &variables).await;
        let version = string_at(&response, &["podsVersion"]);
        let answer = from_graphql(response, "pod", |mut pod: Map<String, Value>| {
            serde_json::from_value::<PodDocument>(pod.remove(field).unwrap_or(Value::Null))
                .map_err(|e| AppError::internal(anyhow::anyhow!("unexpected pod {field}: {e}")))
        });
        (answer, version)
    };
    // The check reads the pod too, so every read is authorised, answers
    // PodNotFound and is audited even when a kept body or a 304 answers it.
    let check = (POD_CHECK, variables.clone());
    Ok(conditional_get(&caller, &headers, &rendered, key, check, render).await)
}

/// The string at `path` in a successful response's data.
fn string_at(response: &async_graphql::Response, path: &[&str]) -> Option<String> {
    if !response.errors.is_empty() {
        return None;
    }
    let mut value = &response.data;
    for field in path {
        let async_graphql::Value::Object(object) = value else {
            return None;
        };
        value = object.get(*field)?;
    }
    match value {
        async_graphql::Value::String(text) => Some(text.clone()),
        _ => None,
    }
}
