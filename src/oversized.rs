//! Oversized bodies the client can read the refusal of.
//!
//! A body over a route's limit used to be refused after reading just the limit;
//! the connection was then closed with the rest of the body unread, and the
//! kernel answers unread data with a reset, so a client still sending saw a
//! broken connection instead of the 413. For a request whose `Content-Length`
//! is over the limit, the body is now read and discarded, up to [`DRAIN_MAX`]
//! bytes and for at most [`DRAIN_TIME`], before the 413 is sent with
//! `Connection: close`. Nothing of it is kept, and nothing runs.

use std::time::Duration;

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use futures_util::StreamExt;

/// Most bytes of an oversized body read (and thrown away) before answering.
pub const DRAIN_MAX: u64 = 16 * 1024 * 1024;
/// Longest time spent reading an oversized body before answering.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);

/// A route's body limit and how it words the refusal.
#[derive(Clone, Copy)]
pub struct Oversized {
    /// Largest body accepted, in bytes.
    pub limit: usize,
    /// The 413 answer in the route's own shape.
    pub refuse: fn(usize) -> Response,
}

/// Middleware: answers a request declaring a body over the limit with a 413
/// the client can read.
pub async fn refuse_oversized(
    State(oversized): State<Oversized>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let Some(declared) = declared.filter(|&length| length > oversized.limit as u64) else {
        return next.run(request).await;
    };
    drain(request.into_body(), declared.min(DRAIN_MAX)).await;
    let mut response = (oversized.refuse)(oversized.limit);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Reads and discards up to `bytes` of `body`, for at most [`DRAIN_TIME`].
async fn drain(body: Body, bytes: u64) {
    let mut stream = body.into_data_stream();
    let mut read = 0u64;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while read < bytes {
            match stream.next().await {
                Some(Ok(chunk)) => read += chunk.len() as u64,
                _ => break,
            }
        }
    })
    .await;
}
