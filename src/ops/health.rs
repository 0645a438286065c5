//! Liveness and readiness.
//!
//! `/healthz` says the process serves HTTP. `/readyz` says it can do useful
//! work: the database answers. Clusters are reported one by one but never make
//! the gateway unready, since one dead cluster must not take every replica out
//! of its Service. Each check is bounded so a probe answers in a few seconds.

use std::time::Duration;

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use futures_util::future::join_all;
use serde_json::{Map, Value, json};

use crate::state::AppState;

/// Longest wait for the database or one cluster during a readiness check.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /healthz`: 200 `{"status":"ok"}` while the process serves.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database answers, else 503; with every
/// cluster's reachability beside it.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = async {
        matches!(
            tokio::time::timeout(CHECK_TIMEOUT, state.db.ping()).await,
            Ok(Ok(()))
        )
    };
    let clusters = join_all(state.clusters.all().map(|cluster| async move {
        let reachable = tokio::time::timeout(CHECK_TIMEOUT, cluster.reachable())
            .await
            .unwrap_or(false);
        (cluster.name.clone(), reachable)
    }));
    let (database_ok, clusters) = tokio::join!(database, clusters);
    let clusters: Map<String, Value> = clusters
        .into_iter()
        .map(|(name, reachable)| {
            let state = if reachable {
                "reachable"
            } else {
                "unreachable"
            };
            (name, Value::from(state))
        })
        .collect();
    let (status, word) = if database_ok {
        (StatusCode::OK, "ok")
    } else {
        tracing::warn!("not ready: the database does not answer");
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    let body = json!({
        "status": word,
        "database": if database_ok { "ok" } else { "unreachable" },
        "clusters": clusters,
    });
    (status, Json(body)).into_response()
}
