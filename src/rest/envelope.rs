//! The `{code, msg, data}` envelope, and how GraphQL results become one.

use async_graphql::Response as GqlResponse;
use axum::{
    Json,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::Value;

use crate::{
    error::{AppError, ErrorCode},
    graphql::code_of,
};

/// The body of every REST answer.
#[derive(Debug, Serialize)]
pub struct Envelope {
    /// `Success` or an error code.
    pub code: &'static str,
    /// `Success` or the error message.
    pub msg: String,
    /// The result (`null` for errors and for operations without one).
    pub data: Value,
}

impl Envelope {
    /// A successful answer.
    pub fn success(data: Value) -> Response {
        Json(Envelope {
            code: ErrorCode::Success.as_str(),
            msg: ErrorCode::Success.as_str().to_owned(),
            data,
        })
        .into_response()
    }

    fn error(code: ErrorCode, msg: String) -> Response {
        let body = Envelope {
            code: code.as_str(),
            msg,
            data: Value::Null,
        };
        (code.status(), Json(body)).into_response()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log_if_internal();
        let mut response = Envelope::error(self.code(), self.to_string());
        if let AppError::TooManyRequests { retry_after } = self {
            set_retry_after(&mut response, retry_after);
        }
        response
    }
}

fn set_retry_after(response: &mut Response, seconds: u64) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
}

/// Turns a GraphQL response into an envelope: the first error decides the code
/// and status; otherwise `data[field]`, passed through `map`, is the data.
pub fn from_graphql(
    response: GqlResponse,
    field: &str,
    map: impl FnOnce(Value) -> Result<Value, AppError>,
) -> Response {
    if let Some(error) = response.errors.first() {
        let code = code_of(error).unwrap_or(ErrorCode::InternalError);
        let mut answer = Envelope::error(code, error.message.clone());
        let retry_after = error
            .extensions
            .as_ref()
            .and_then(|ext| ext.get("retryAfter"))
            .and_then(|value| match value {
                async_graphql::Value::Number(n) => n.as_u64(),
                _ => None,
            });
        if let (ErrorCode::TooManyRequests, Some(seconds)) = (code, retry_after) {
            set_retry_after(&mut answer, seconds);
        }
        return answer;
    }
    let data = match response.data.into_json() {
        Ok(Value::Object(mut root)) => root.remove(field).unwrap_or(Value::Null),
        Ok(_) => Value::Null,
        Err(err) => return AppError::internal(err).into_response(),
    };
    match map(data) {
        Ok(data) => Envelope::success(data),
        Err(err) => err.into_response(),
    }
}
