//! Reading REST input strictly: malformed JSON, unknown or missing fields, and
//! values of the wrong type are refused with `InvalidParameter` naming the field,
//! before anything runs. Bodies are read into `#[derive(Deserialize)]` types; the
//! field of a failure comes from its path (serde_path_to_error) or, for a missing
//! or unknown field, from serde's own message.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::StatusCode,
};
use serde::de::DeserializeOwned;

use super::MAX_BODY_BYTES;
use crate::error::AppError;

/// A JSON body read into `T`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(MAX_BODY_BYTES)
            } else {
                AppError::invalid("body", rejection.body_text())
            }
        })?;
        read(&bytes).map(JsonBody)
    }
}

/// Reads a JSON object into `T`.
fn read<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    match bytes.iter().find(|byte| !byte.is_ascii_whitespace()) {
        None => return Err(AppError::invalid("body", "a JSON object is required")),
        // serde would read a struct from an array too; a body is an object.
        Some(b'{') => {}
        Some(_) => return Err(AppError::invalid("body", "must be a JSON object")),
    }
    let mut reader = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut reader).map_err(field_error)?;
    reader
        .end()
        .map_err(|err| AppError::invalid("body", format!("malformed JSON: {err}")))?;
    Ok(value)
}

/// The `InvalidParameter` for a body that does not read into its type.
fn field_error(err: serde_path_to_error::Error<serde_json::Error>) -> AppError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return AppError::invalid("body", format!("malformed JSON: {inner}"));
    }
    let message = inner.to_string();
    // serde_json appends where it stopped; the field name says more.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(text, _)| text);
    if let Some(field) = quoted_after(message, "missing field `") {
        return AppError::invalid(field, "is required");
    }
    if let Some(field) = quoted_after(message, "unknown field `") {
        let expected = message
            .split_once("expected one of ")
            .or_else(|| message.split_once("expected "))
            .map_or("", |(_, list)| list)
            .replace('`', "")
            .replace(" or ", ", ");
        return AppError::invalid(
            field,
            format!("unknown field (expected one of: {expected})"),
        );
    }
    let reason = if message.ends_with("expected a string") {
        "must be a string".to_owned()
    } else {
        message.to_owned()
    };
    let field = if path == "." { "body" } else { path.as_str() };
    AppError::invalid(field, reason)
}

/// The text between `prefix` and the next backtick.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?;
    rest.split_once('`').map(|(name, _)| name)
}

/// A path that cannot be read (for example, bytes that are not UTF-8 after
/// percent-decoding) is bad input like any other.
pub fn path_error(rejection: axum::extract::rejection::PathRejection) -> AppError {
    AppError::invalid("path", rejection.body_text())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        email: Option<String>,
    }

    /// What reading `text` as a [`Body`] is refused with.
    fn refusal(text: &str) -> String {
        match read::<Body>(text.as_bytes()) {
            Ok(body) => panic!("{text} was accepted as {body:?}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn a_missing_field_is_named() {
        assert_eq!(
            refusal(r#"{"email": "a@b.c"}"#),
            "invalid name: is required"
        );
    }

    #[test]
    fn an_unknown_field_is_named_with_the_expected_ones() {
        assert_eq!(
            refusal(r#"{"name": "a", "nmae": "b"}"#),
            "invalid nmae: unknown field (expected one of: name, email)"
        );
    }

    #[test]
    fn a_value_of_the_wrong_type_names_its_field() {
        assert_eq!(refusal(r#"{"name": 5}"#), "invalid name: must be a string");
        assert_eq!(
            refusal(r#"{"name": "a", "email": []}"#),
            "invalid email: must be a string"
        );
    }

    #[test]
    fn malformed_json_and_other_shapes_are_the_body() {
        let eof = refusal(r#"{"name": "#);
        assert!(eof.starts_with("invalid body: malformed JSON"), "{eof}");
        assert_eq!(refusal(r#"["a"]"#), "invalid body: must be a JSON object");
        assert_eq!(refusal("  "), "invalid body: a JSON object is required");
        let trailing = refusal(r#"{"name": "a"} x"#);
        assert!(
            trailing.starts_with("invalid body: malformed JSON"),
            "{trailing}"
        );
    }
}
