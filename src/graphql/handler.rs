//! `/graphql` over HTTP: POST executes one request (GET serves the playground,
//! see `crate::web`). Answers are always in GraphQL's response shape.
//!
//! Only single JSON requests are accepted: batches and multipart uploads are
//! refused, and mutations never run from GET (GET does not execute at all). The
//! body is read with a size cap before parsing.

use async_graphql::Response as GqlResponse;
use axum::{
    body::Bytes,
    extract::{State, rejection::BytesRejection},
    http::{StatusCode, header},
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
    body: Result<Bytes, BytesRejection>,
) -> Response {
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
    json_response(StatusCode::OK, &response)
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
/// instead of it, such as the request timeout).
pub fn error_response(err: &AppError) -> Response {
    // Before execution only input errors, oversized bodies and timeouts occur;
    // each has its own status.
    json_response(err.status(), &super::error::error_only(err))
}

fn json_response(status: StatusCode, response: &GqlResponse) -> Response {
    match serde_json::to_vec(response) {
        Ok(body) => (status, [(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
