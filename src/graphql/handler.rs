//! `/graphql` over HTTP: POST executes one request (GET serves the playground,
//! see `crate::web`). Answers are always in GraphQL's response shape.
//!
//! Only single JSON requests are accepted: a body not declared
//! `application/json` is refused with 415 before it is read (so a cross-site
//! HTML form, which can only send `text/plain`, `application/x-www-form-urlencoded`
//! or `multipart/form-data`, never reaches a resolver), batches and multipart
//! uploads are refused, and mutations never run from GET (GET does not execute
//! at all). The body is read with a size cap before parsing.

use axum::{
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{Executor, RequestMeta, check_query_size};
use crate::{auth::Auth, error::AppError};

/// Largest GraphQL request body accepted.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Executes a GraphQL request.
pub async fn graphql_post(
    State(executor): State<Executor>,
    meta: RequestMeta,
    auth: Auth,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if !declares_json(&headers) {
        return error_response(&AppError::UnsupportedMediaType);
    }
    let request = match body {
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_response(&AppError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        Err(rejection) => return error_response(&AppError::invalid("body", rejection.body_text())),
        Ok(body) => match parse_request(&body) {
            Ok(request) => request,
            Err(err) => return error_response(&err),
        },
    };
    let response = executor.execute(meta, auth, request).await;
    let limit = executor.state().config.max_response_bytes;
    match serde_json::to_vec(&response) {
        // Fields that return pods were refused before they were built when
        // their estimate was over the cap; this holds any answer to it.
        Ok(body) if body.len() as u64 > limit => error_response(&AppError::ResponseTooLarge {
            estimate: body.len() as u64,
            limit,
        }),
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Whether the request's `Content-Type` is `application/json` (any case,
/// parameters such as `charset` allowed).
fn declares_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

fn parse_request(body: &[u8]) -> Result<async_graphql::Request, AppError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| AppError::invalid("body", format!("not valid JSON: {e}")))?;
    if value.is_array() {
        return Err(AppError::invalid(
            "body",
            "batched requests are not supported",
        ));
    }
    let request = serde_json::from_value(value)
        .map_err(|e| AppError::invalid("body", format!("not a GraphQL request: {e}")))?;
    check_query_size(&request)?;
    Ok(request)
}

/// An error in GraphQL's response shape, for failures before execution (or
/// instead of it, such as the request timeout): `errors` only, with no `data`
/// entry, as GraphQL over HTTP has it for requests that never executed.
pub fn error_response(err: &AppError) -> Response {
    // Before execution only input errors, oversized bodies, unsupported media
    // types and timeouts occur; each has its own status.
    let errors = super::error::error_only(err).errors;
    match serde_json::to_vec(&serde_json::json!({ "errors": errors })) {
        Ok(body) => (
            err.status(),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
