//! Rendered-body reuse for the pod routes, with their conditional requests
//! (the ETag helpers are [`crate::conditional`]'s).
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
use std::{sync::Arc, time::Duration};

use axum::body::Bytes;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_reused_only_for_their_version() {
        let kept = RenderedBodies::default();
        kept.put("k".into(), "1.1".into(), Bytes::from_static(b"{}"));
        assert!(kept.get("k", "1.1").is_some());
        assert!(kept.get("k", "1.2").is_none());
    }
}
