//! The legacy REST API under `/osp/api`: a thin translation layer.
//!
//! Each route runs one fixed GraphQL document with variables against the same
//! schema as `/graphql`, then wraps the result in the `{code, msg, data}`
//! envelope. Nothing here queries the database or a cluster, and request input is
//! never spliced into query text.

mod envelope;
mod input;
mod logs;
mod openapi;
mod pods;
mod rendered;
mod users;

use std::sync::Arc;

use axum::{
    Extension, Router,
    extract::{DefaultBodyLimit, OriginalUri},
    http::Method,
};
use utoipa_axum::{router::OpenApiRouter, routes};

pub use envelope::{Envelope, ErrorEnvelope, NoData};
pub use openapi::PREFIX;

use crate::oversized::{Oversized, refuse_oversized};
use crate::{error::AppError, graphql::Executor};

/// Largest REST request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The routes and, from the same annotations, their OpenAPI document.
fn routes() -> (Router<Executor>, utoipa::openapi::OpenApi) {
    let (router, paths) = OpenApiRouter::new()
        .routes(routes!(users::create, users::list))
        .routes(routes!(users::update))
        .routes(routes!(users::login))
        .routes(routes!(pods::list))
        .routes(routes!(pods::detail))
        .routes(routes!(logs::logs))
        .routes(routes!(openapi::serve))
        .split_for_parts();
    (router, openapi::document(paths))
}

/// The OpenAPI 3.1 document of `/osp/api` (served at `/osp/api/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().1
}

/// The `/osp/api` routes (to be nested under [`PREFIX`]).
pub fn router() -> Router<Executor> {
    let (router, document) = routes();
    // Serialising a document of plain maps and strings cannot fail.
    let json = document.to_pretty_json().unwrap_or_default();
    router
        .layer(Extension(openapi::Document(Arc::new(json))))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            Oversized {
                limit: MAX_BODY_BYTES,
                refuse: |limit| {
                    axum::response::IntoResponse::into_response(AppError::PayloadTooLarge(limit))
                },
            },
            refuse_oversized,
        ))
        .layer(Extension(Arc::new(rendered::RenderedBodies::default())))
}

async fn not_found(OriginalUri(uri): OriginalUri) -> AppError {
    AppError::NotFound(uri.path().to_owned())
}

async fn method_not_allowed(method: Method) -> AppError {
    AppError::MethodNotAllowed(method.to_string())
}
