//! Conditional requests and rendered-body reuse for the pod routes.
//!
//! A pod answer depends only on the cluster's cache version, the route, its
//! variables and the viewer's grants (authorization is checked on every
//! request, before any of this; the grants' key joins the request key).
//! So each request first asks the schema for the current version (a tiny
//! query); from it and the request comes a strong ETag. A matching
//! `If-None-Match` is answered 304 with no body; otherwise a body rendered
//! earlier for the same version is sent again as it is, and only a miss runs
//! the full query. Bodies read from the API server (cache off or not synced)
//! carry no ETag and are never kept.
//!
//! `GET /graphql` reads `If-None-Match` and answers 304 with the same
//! functions.

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    sync::Arc,
    time::Duration,
};

use axum::{
    body::Bytes,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use moka::sync::Cache;

/// Bytes of kept bodies, at most (the least recently used go first).
const MAX_BYTES: u64 = 64 * 1024 * 1024;
/// A body nobody asked for in this long is dropped.
const IDLE: Duration = Duration::from_secs(10 * 60);

/// Bodies rendered for a version, by request: a bounded cache weighed by body
/// size.
pub struct RenderedBodies {
    bodies: Cache<String, Arc<Rendered>>,
    flights: crate::flights::Flights,
}

/// One kept answer.
struct Rendered {
    version: String,
    body: Bytes,
}

impl Default for RenderedBodies {
    fn default() -> Self {
        RenderedBodies {
            bodies: Cache::builder()
                .max_capacity(MAX_BYTES)
                .weigher(|key: &String, kept: &Arc<Rendered>| {
                    u32::try_from(key.len() + kept.version.len() + kept.body.len())
                        .unwrap_or(u32::MAX)
                })
                .time_to_idle(IDLE)
                .build(),
            flights: Default::default(),
        }
    }
}

impl RenderedBodies {
    /// The body kept for `key` at `version`.
    pub fn get(&self, key: &str, version: &str) -> Option<Bytes> {
        self.bodies
            .get(key)
            .filter(|kept| kept.version == version)
            .map(|kept| kept.body.clone())
    }

    /// Waits for the turn to render `key` at `version` (see
    /// [`crate::flights`]); look for a kept body again once it comes.
    pub async fn turn(&self, key: &str, version: &str) -> crate::flights::Turn {
        self.flights.turn(&format!("{key}\n{version}")).await
    }

    /// Keeps `body` as the answer to `key` at `version`, replacing the answer
    /// of an older version.
    pub fn put(&self, key: String, version: String, body: Bytes) {
        if body.len() as u64 > MAX_BYTES / 4 {
            return;
        }
        self.bodies
            .insert(key, Arc::new(Rendered { version, body }));
    }
}

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

    #[test]
    fn bodies_are_reused_only_for_their_version() {
        let kept = RenderedBodies::default();
        kept.put("k".into(), "1.1".into(), Bytes::from_static(b"{}"));
        assert!(kept.get("k", "1.1").is_some());
        assert!(kept.get("k", "1.2").is_none());
    }
}
