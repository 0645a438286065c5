//! Conditional requests (RFC 9110): strong ETags from a request key and the
//! version of what answered it, `If-None-Match`, and the 304 and 200 answers
//! that carry them. Used alike by the REST routes (pod lists and detail) and
//! `GET /graphql`, so neither reaches into the other for them.

use std::hash::{DefaultHasher, Hash, Hasher};

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// The ETag of the answer to `key` at `version`.
pub fn etag(key: &str, version: &str) -> String {
    let mut hasher = DefaultHasher::new();
    (key, version).hash(&mut hasher);
    format!("\"{:016x}\"", hasher.finish())
}

/// Whether the request's `If-None-Match` names `etag`. (`*` is not honoured:
/// the version check alone cannot tell whether the resource exists.)
pub fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag)
}

/// A 304 for `etag`.
pub fn not_modified_response(etag: &str) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// A 200 JSON answer carrying `etag`.
pub fn body_response(body: Bytes, etag: &str) -> Response {
    let mut response = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_change_with_version_and_request() {
        let a = etag("pods/sim", "1.1");
        assert_eq!(a, etag("pods/sim", "1.1"));
        assert_ne!(a, etag("pods/sim", "1.2"));
        assert_ne!(a, etag("pods/other", "1.1"));
    }

    #[test]
    fn if_none_match_lists_and_weak_tags_are_understood() {
        let tag = etag("k", "v");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"other\", W/{tag}")).expect("header"),
        );
        assert!(not_modified(&headers, &tag));
        assert!(!not_modified(&HeaderMap::new(), &tag));
    }
}
