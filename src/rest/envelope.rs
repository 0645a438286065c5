//! The `{code, msg, data}` envelope, and how GraphQL results become one.

use async_graphql::Response as GqlResponse;
use axum::{
    Json,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{
        RefOr,
        schema::{Object, Schema, Type},
    },
};

use crate::{
    error::{AppError, ErrorCode},
    graphql::code_of,
};

/// The body of every successful REST answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `Success`.
    #[schema(schema_with = success_code)]
    pub code: &'static str,
    /// Always `Success`.
    #[schema(schema_with = success_code)]
    pub msg: &'static str,
    /// The result (`null` for operations without one).
    pub data: T,
}

/// The body of every failed REST answer: the HTTP status follows the code.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    /// What went wrong (the same code GraphQL gives in `extensions.code`).
    #[schema(schema_with = error_code)]
    pub code: &'static str,
    /// A message for people; for `InvalidParameter` it names the field.
    pub msg: String,
    /// Always `null`.
    pub data: NoData,
}

/// `null`: the `data` of errors and of operations without a result.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoData;

impl Serialize for NoData {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

impl PartialSchema for NoData {
    fn schema() -> RefOr<Schema> {
        Object::builder().schema_type(Type::Null).into()
    }
}

impl ToSchema for NoData {}

fn success_code() -> Object {
    Object::builder()
        .schema_type(Type::String)
        .enum_values(Some([ErrorCode::Success.as_str()]))
        .build()
}

/// Every error code (all codes but `Success`).
fn error_code() -> Object {
    Object::builder()
        .schema_type(Type::String)
        .enum_values(Some(
            ErrorCode::ALL
                .iter()
                .copied()
                .filter(|code| *code != ErrorCode::Success)
                .map(ErrorCode::as_str),
        ))
        .build()
}

impl<T: Serialize> Envelope<T> {
    /// A successful answer.
    pub fn success(data: T) -> Response {
        Json(Envelope {
            code: ErrorCode::Success.as_str(),
            msg: ErrorCode::Success.as_str(),
            data,
        })
        .into_response()
    }
}

impl ErrorEnvelope {
    fn response(code: ErrorCode, msg: String) -> Response {
        let body = ErrorEnvelope {
            code: code.as_str(),
            msg,
            data: NoData,
        };
        (code.status(), Json(body)).into_response()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log_if_internal();
        let mut response = ErrorEnvelope::response(self.code(), self.to_string());
        if let Some(retry_after) = self.retry_after() {
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
/// and status; otherwise `data[field]`, read as `G` and passed through `map`, is
/// the data.
pub fn from_graphql<G: DeserializeOwned, T: Serialize>(
    response: GqlResponse,
    field: &str,
    map: impl FnOnce(G) -> Result<T, AppError>,
) -> Response {
    if let Some(error) = response.errors.first() {
        let code = code_of(error).unwrap_or(ErrorCode::InternalError);
        let mut answer = ErrorEnvelope::response(code, error.message.clone());
        let retry_after = error
            .extensions
            .as_ref()
            .and_then(|ext| ext.get("retryAfter"))
            .and_then(|value| match value {
                async_graphql::Value::Number(n) => n.as_u64(),
                _ => None,
            });
        if let (ErrorCode::TooManyRequests | ErrorCode::ServiceUnavailable, Some(seconds)) =
            (code, retry_after)
        {
            set_retry_after(&mut answer, seconds);
        }
        return answer;
    }
    // Read straight from GraphQL's value: a large list is not copied into a
    // JSON tree first.
    let data = match response.data {
        async_graphql::Value::Object(mut root) => root
            .shift_remove(field)
            .unwrap_or(async_graphql::Value::Null),
        _ => async_graphql::Value::Null,
    };
    let data = match async_graphql::from_value::<G>(data) {
        Ok(data) => data,
        Err(err) => {
            return AppError::internal(anyhow::anyhow!("unexpected {field} from schema: {err}"))
                .into_response();
        }
    };
    match map(data) {
        Ok(data) => Envelope::success(data),
        Err(err) => err.into_response(),
    }
}
