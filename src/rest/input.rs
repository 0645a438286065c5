//! Reading REST input strictly: malformed JSON, unknown or missing fields, and
//! values of the wrong type are refused with `InvalidParameter` naming the field,
//! before anything runs.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::StatusCode,
};
use serde_json::{Map, Value};

use super::MAX_BODY_BYTES;
use crate::error::AppError;

/// A JSON object body.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(MAX_BODY_BYTES)
            } else {
                AppError::invalid("body", rejection.body_text())
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(AppError::invalid("body", "a JSON object is required"));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(AppError::invalid("body", "must be a JSON object")),
            Err(err) => Err(AppError::invalid("body", format!("malformed JSON: {err}"))),
        }
    }
}

impl JsonObject {
    /// Refuses any field not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), AppError> {
        match self.0.keys().find(|key| !allowed.contains(&key.as_str())) {
            Some(unknown) => Err(AppError::invalid(
                unknown.clone(),
                format!("unknown field (expected one of: {})", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// A string field that must be present.
    pub fn required(&self, field: &str) -> Result<String, AppError> {
        self.optional(field)?
            .ok_or_else(|| AppError::invalid(field, "is required"))
    }

    /// A string field that may be absent (or `null`).
    pub fn optional(&self, field: &str) -> Result<Option<String>, AppError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(AppError::invalid(field, "must be a string")),
        }
    }
}

/// A path that cannot be read (for example, bytes that are not UTF-8 after
/// percent-decoding) is bad input like any other.
pub fn path_error(rejection: axum::extract::rejection::PathRejection) -> AppError {
    AppError::invalid("path", rejection.body_text())
}
