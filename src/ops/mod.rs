//! The operational surface: `/healthz`, `/readyz` and `/metrics`, the middleware
//! that counts HTTP requests, and how a request timeout is answered.
//!
//! These routes sit outside authentication (probes and scrapers carry no token)
//! and outside the request timeout; they reveal no user data. Nothing here reads
//! users or pods: readiness only checks that the database and clusters answer.

mod health;

use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{error::AppError, graphql, metrics::Metrics, state::AppState};

/// Route label for requests that matched no route (unknown paths are not
/// labelled one by one, which would let clients create unbounded series).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// `/healthz`, `/readyz` and `/metrics`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// `GET /metrics`: every metric in the Prometheus text format.
async fn metrics(State(state): State<AppState>) -> Response {
    // Cache sizes are read when asked for, rather than on every change.
    for cluster in state.clusters.all() {
        if let Some(cache) = cluster.running_cache() {
            state
                .metrics
                .set_cache_objects(&cluster.name, "pods", cache.pods.stats(None).objects);
            state.metrics.set_cache_objects(
                &cluster.name,
                "nodes",
                cache.nodes.stats(None).objects,
            );
            state.metrics.set_cache_objects(
                &cluster.name,
                "replicasets",
                cache.replicasets.stats(None).objects,
            );
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// Counts each request by method, matched route and status, with its latency.
pub async fn track_http(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.http_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Standard methods by name; anything else as `other`, to keep labels bounded.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Gives the bare `504` of the request timeout a body in the caller's API's
/// shape: an envelope under `/osp/api`, a GraphQL error elsewhere. Must sit
/// directly outside the timeout layer; `timeout` is the configured limit.
pub async fn answer_timeout(
    State(timeout): State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    let rest = request.uri().path().starts_with("/osp/api");
    let response = next.run(request).await;
    // The timeout layer's answer is the only 504 without a body type.
    if response.status() != StatusCode::GATEWAY_TIMEOUT
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let err = AppError::Timeout(timeout);
    tracing::warn!("{err}");
    if rest {
        err.into_response()
    } else {
        graphql::handler::error_response(&err)
    }
}
