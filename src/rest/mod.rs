//! The legacy REST API under `/osp/api`: a thin translation layer.
//!
//! Each route runs one fixed GraphQL document with variables against the same
//! schema as `/graphql`, then wraps the result in the `{code, msg, data}`
//! envelope. Nothing here queries the database or a cluster, and request input is
//! never spliced into query text.

mod conditional;
mod envelope;
mod input;
mod pods;
mod users;

use std::sync::Arc;

use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, OriginalUri},
    http::Method,
    routing::{get, post, put},
};

pub use envelope::Envelope;

use crate::{error::AppError, graphql::Executor};

/// Largest REST request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The `/osp/api` routes (to be nested under that prefix).
pub fn router() -> Router<Executor> {
    Router::new()
        .route("/users", post(users::create).get(users::list))
        .route("/users/{name}", put(users::update))
        .route("/login", post(users::login))
        .route("/pods/{cluster}", get(pods::list))
        .route("/pods/{cluster}/{namespace}/{name}", get(pods::detail))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(Extension(Arc::new(conditional::RenderedBodies::default())))
}

async fn not_found(OriginalUri(uri): OriginalUri) -> AppError {
    AppError::NotFound(uri.path().to_owned())
}

async fn method_not_allowed(method: Method) -> AppError {
    AppError::MethodNotAllowed(method.to_string())
}
