//! `/graphql/ws`: GraphQL over WebSocket (graphql-transport-ws, and the older
//! subscriptions-transport-ws).
//!
//! The token travels in `connection_init`'s payload, as
//! `{"Authorization": "Bearer <token>"}` (or `{"token": "<token>"}`). A missing
//! or invalid token closes the connection with 4403 and a reason; an expired one
//! with 4401; no `connection_init` within [`INIT_TIMEOUT`] with 4408.
//!
//! Abuse bounds: a frame is capped like a message ([`MAX_MESSAGE_BYTES`]), so no
//! large frame is buffered before anyone has signed in; a client address (an
//! IPv6 client by its /64) holds at most [`MAX_SOCKETS_PER_CLIENT`] sockets and
//! the gateway at most [`MAX_SOCKETS`] (429 past either); a socket holds at most
//! [`MAX_OPERATIONS_PER_SOCKET`] running operations (closed with 4429 past it),
//! and a second operation under an id still running closes it with 4409, as
//! graphql-transport-ws specifies. A browser page may open a socket only from
//! the gateway's own origin or one listed in `OSP_CORS_ORIGINS` (403 otherwise);
//! a request without `Origin` (not a browser) is allowed.
//!
//! The token is checked again for every operation (so the viewer's role and
//! the loaders are current), and every `OSP_WS_RECHECK` (15 s by default) while
//! the connection lives: a password change or a deleted user closes it with
//! 4403, and a subscription whose reads the user's grants no longer cover ends
//! with a Forbidden error. When the token expires, the connection is closed
//! with 4401 at that moment, as HTTP requests would then be answered
//! TokenExpired.

use std::{
    collections::{HashMap, HashSet},
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use async_graphql::{
    Data, Request, Response as GqlResponse,
    http::{WebSocket as GqlWebSocket, WebSocketProtocols, WsMessage},
};
use axum::{
    Extension,
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt, future, stream, stream::BoxStream};
use serde_json::Value;
use tokio::sync::watch;

use super::{
    Executor, LiveViewer, RequestMeta, check_query_size,
    error::{error_only, finish},
    reads::PodReads,
};
use crate::{
    auth::{Rejection, Viewer, bearer_token},
    ratelimit::client_key,
};

/// Close code for a token that has expired.
pub const CLOSE_TOKEN_EXPIRED: u16 = 4401;
/// Close code for a missing, invalid or revoked token.
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// Close code for a connection never initialised.
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// How long a client may take to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Close code for a second operation under an id that is still running.
pub const CLOSE_DUPLICATE_ID: u16 = 4409;
/// Close code for more running operations than a socket may hold.
pub const CLOSE_TOO_MANY_OPERATIONS: u16 = 4429;
/// Largest WebSocket message (and frame) accepted: a GraphQL operation with
/// variables.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// Open sockets per client address (an IPv6 client counts by its /64).
pub const MAX_SOCKETS_PER_CLIENT: usize = 32;
/// Open sockets of the whole gateway.
pub const MAX_SOCKETS: usize = 4096;
/// Running operations (subscriptions mostly) per socket.
pub const MAX_OPERATIONS_PER_SOCKET: usize = 100;

/// The open sockets, in all and by client.
#[derive(Default)]
pub struct OpenSockets {
    by_client: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One counted socket; dropping it gives the place back.
struct SocketPlace {
    sockets: Arc<OpenSockets>,
    client: Option<IpAddr>,
}

impl OpenSockets {
    /// Takes a place for a socket from `client`, unless a cap is reached.
    fn take(self: &Arc<Self>, client: Option<IpAddr>) -> Option<SocketPlace> {
        let client = client.map(client_key);
        let mut counts = self
            .by_client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (total, by_client) = &mut *counts;
        if *total >= MAX_SOCKETS {
            return None;
        }
        if let Some(client) = client {
            let held = by_client.entry(client).or_default();
            if *held >= MAX_SOCKETS_PER_CLIENT {
                return None;
            }
            *held += 1;
        }
        *total += 1;
        Some(SocketPlace {
            sockets: self.clone(),
            client,
        })
    }
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        let mut counts = self
            .sockets
            .by_client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (total, by_client) = &mut *counts;
        *total = total.saturating_sub(1);
        if let Some(client) = self.client
            && let Some(held) = by_client.get_mut(&client)
        {
            *held = held.saturating_sub(1);
            if *held == 0 {
                by_client.remove(&client);
            }
        }
    }
}

/// Whether a browser page of `origin` may open a socket: the gateway's own
/// origin (the one the `Host` header names) or one listed in
/// `OSP_CORS_ORIGINS`.
fn origin_allowed(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    if allowed.iter().any(|listed| listed == origin) {
        return true;
    }
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((authority, host), (Some(authority), Some(host)) if authority.eq_ignore_ascii_case(host))
}

/// Upgrades to a GraphQL WebSocket connection.
pub async fn graphql_ws(
    State(executor): State<Executor>,
    connect_info: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "offer the graphql-transport-ws WebSocket subprotocol",
        )
            .into_response();
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok());
        let allowed = origin.to_str().is_ok_and(|origin| {
            origin_allowed(origin, host, &executor.state().config.cors_origins)
        });
        if !allowed {
            return (
                StatusCode::FORBIDDEN,
                "this origin may not open a GraphQL socket (see OSP_CORS_ORIGINS)",
            )
                .into_response();
        }
    }
    let meta = RequestMeta {
        client: connect_info.map(|Extension(ConnectInfo(addr))| addr.ip()),
        ..RequestMeta::default()
    };
    let Some(place) = executor.sockets().take(meta.client) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many open GraphQL sockets; close one first",
        )
            .into_response();
    };
    upgrade
        .protocols([protocol.sec_websocket_protocol()])
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            serve(executor, socket, protocol, meta).await;
            drop(place);
        })
}

/// The operations a socket is running, by id.
#[derive(Default)]
struct Operations {
    running: HashSet<String>,
}

impl Operations {
    /// Looks at one message from the client: the close code and reason when it
    /// breaks a rule (it must then not reach the protocol handler).
    fn incoming(&mut self, bytes: &[u8]) -> Result<(), (u16, String)> {
        let Some((kind, id)) = kind_and_id(bytes) else {
            return Ok(());
        };
        match kind.as_str() {
            "subscribe" | "start" => {
                if self.running.contains(&id) {
                    return Err((
                        CLOSE_DUPLICATE_ID,
                        format!("Subscriber for {id} already exists"),
                    ));
                }
                if self.running.len() >= MAX_OPERATIONS_PER_SOCKET {
                    return Err((
                        CLOSE_TOO_MANY_OPERATIONS,
                        format!("at most {MAX_OPERATIONS_PER_SOCKET} operations per socket"),
                    ));
                }
                self.running.insert(id);
            }
            "complete" | "stop" => {
                self.running.remove(&id);
            }
            _ => {}
        }
        Ok(())
    }

    /// Looks at one message to the client: an operation that completed or
    /// failed is no longer running.
    fn outgoing(&mut self, text: &str) {
        if (text.starts_with(r#"{"type":"complete""#) || text.starts_with(r#"{"type":"error""#))
            && let Some((_, id)) = kind_and_id(text.as_bytes())
        {
            self.running.remove(&id);
        }
    }
}

/// A protocol message's `type` and `id`, when it has both.
fn kind_and_id(bytes: &[u8]) -> Option<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "type")]
        kind: String,
        id: String,
    }
    serde_json::from_slice::<Envelope>(bytes)
        .ok()
        .map(|e| (e.kind, e.id))
}

fn token_of(payload: &Value) -> Option<String> {
    let credential = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(Value::as_str));
    if let Some(credential) = credential {
        return bearer_token(credential).map(str::to_owned);
    }
    payload
        .get("token")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Runs each operation of one connection as its token's holder, checked anew.
#[derive(Clone)]
struct Session {
    executor: Executor,
    token: Arc<OnceLock<String>>,
    meta: RequestMeta,
    /// The viewer as the connection's last re-check found it.
    live: watch::Receiver<Option<Viewer>>,
}

impl Session {
    async fn prepare(&self, request: Request) -> Result<(Request, Arc<PodReads>), GqlResponse> {
        if let Err(err) = check_query_size(&request) {
            return Err(error_only(&err));
        }
        let auth = match self.token.get() {
            Some(token) => self.executor.state().auth.from_token(token).await,
            None => crate::auth::Auth::Anonymous,
        };
        let request = request.data(LiveViewer(self.live.clone()));
        Ok(self
            .executor
            .with_request_data(request, self.meta.clone(), auth, Default::default()))
    }
}

impl Session {
    /// An answer as it is sent: errors capped and coded, refused with
    /// `ResponseTooLarge` past `OSP_MAX_RESPONSE_BYTES` as over HTTP, and
    /// its pod reads recorded first.
    async fn finish(&self, mut response: GqlResponse, reads: &PodReads) -> GqlResponse {
        finish(&mut response);
        let limit = self.executor.state().config.max_response_bytes;
        if let Err(err) = super::budget::measure(&response, limit) {
            return error_only(&err);
        }
        self.executor.recorded(response, reads).await
    }
}

impl async_graphql::Executor for Session {
    fn execute(&self, request: Request) -> impl Future<Output = GqlResponse> + Send {
        let session = self.clone();
        async move {
            match session.prepare(request).await {
                Ok((request, reads)) => {
                    let response = session.executor.schema().execute(request).await;
                    session.finish(response, &reads).await
                }
                Err(response) => response,
            }
        }
    }

    fn execute_stream(
        &self,
        request: Request,
        _session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, GqlResponse> {
        let session = self.clone();
        stream::once(async move {
            match session.prepare(request).await {
                // Each event's reads are recorded before it is sent.
                Ok((request, reads)) => session
                    .executor
                    .schema()
                    .execute_stream(request)
                    .then(move |response| {
                        let (session, reads) = (session.clone(), reads.clone());
                        async move { session.finish(response, &reads).await }
                    })
                    .boxed(),
                Err(response) => stream::once(future::ready(response)).boxed(),
            }
        })
        .flatten()
        .boxed()
    }
}

async fn serve(
    executor: Executor,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    meta: RequestMeta,
) {
    let (mut sink, incoming) = socket.split();
    let operations: Arc<Mutex<Operations>> = Arc::default();
    // The first message that breaks a rule; the socket is then closed with it.
    let (breach_tx, mut breach_rx) = watch::channel::<Option<(u16, String)>>(None);
    let incoming = {
        let operations = operations.clone();
        incoming
            .take_while(|message| future::ready(message.is_ok()))
            .filter_map(move |message| {
                let bytes = match message {
                    Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                    Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                    _ => None,
                };
                let bytes = bytes.filter(|bytes| {
                    if breach_tx.borrow().is_some() {
                        return false;
                    }
                    let checked = operations
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .incoming(bytes);
                    checked
                        .map_err(|breach| breach_tx.send_replace(Some(breach)))
                        .is_ok()
                });
                future::ready(bytes)
            })
    };

    let state = executor.state().clone();
    let token = Arc::new(OnceLock::new());
    let (live_tx, live) = watch::channel::<Option<Viewer>>(None);
    let session_runner = Session {
        executor,
        token: token.clone(),
        meta,
        live,
    };
    let (expiry_tx, mut expiry_rx) = watch::channel::<Option<DateTime<Utc>>>(None);
    let refusal: Arc<std::sync::Mutex<Option<(u16, &'static str)>>> = Arc::default();
    let init = {
        let refusal = refusal.clone();
        let token = token.clone();
        let state = state.clone();
        move |payload: Value| async move {
            let refuse = |code, reason: &'static str| {
                if let Ok(mut slot) = refusal.lock() {
                    *slot = Some((code, reason));
                }
                async_graphql::Error::new(reason)
            };
            let Some(presented) = token_of(&payload) else {
                return Err(refuse(
                    CLOSE_FORBIDDEN,
                    "missing token: send {\"Authorization\": \"Bearer <token>\"} in connection_init",
                ));
            };
            match state.auth.session(&presented).await {
                // Within the clock leeway the token still verifies, but the
                // connection would be closed at once: refuse it plainly.
                Ok((_, expires)) if expires <= Utc::now() => {
                    Err(refuse(CLOSE_TOKEN_EXPIRED, "token expired"))
                }
                Ok((_, expires)) => {
                    let _ = token.set(presented);
                    let _ = expiry_tx.send(Some(expires));
                    Ok(Data::default())
                }
                Err(Rejection::Expired) => Err(refuse(CLOSE_TOKEN_EXPIRED, "token expired")),
                Err(Rejection::Invalid) => Err(refuse(CLOSE_FORBIDDEN, "invalid token")),
                Err(Rejection::Unavailable) => {
                    Err(refuse(1011, "the user store could not be reached"))
                }
            }
        }
    };
    let mut messages = std::pin::pin!(
        GqlWebSocket::new(session_runner, incoming, protocol).on_connection_init(init)
    );

    let expired = async move {
        let expires = tokio::select! {
            expires = async {
                loop {
                    if let Some(expires) = *expiry_rx.borrow() {
                        break Some(expires);
                    }
                    if expiry_rx.changed().await.is_err() {
                        break None;
                    }
                }
            } => expires,
            () = tokio::time::sleep(INIT_TIMEOUT) => {
                return (CLOSE_INIT_TIMEOUT, "connection initialisation timeout");
            }
        };
        let Some(expires) = expires else {
            return future::pending().await;
        };
        let left = (expires - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(left).await;
        (CLOSE_TOKEN_EXPIRED, "token expired")
    };
    let mut expired = std::pin::pin!(expired);
    let mut user_changes = state.auth.changes();
    let every = state.config.ws_recheck;
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + every, every);

    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => {
                    operations
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .outgoing(&text);
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    let refused = refusal.lock().ok().and_then(|slot| *slot);
                    let (code, reason) = match refused {
                        Some((code, reason)) => (code, reason.to_owned()),
                        None => (code, reason),
                    };
                    close(&mut sink, code, reason).await;
                    return;
                }
                None => return,
            },
            Ok(()) = breach_rx.changed() => {
                let breach = breach_rx.borrow_and_update().clone();
                if let Some((code, reason)) = breach {
                    close(&mut sink, code, reason).await;
                    return;
                }
            }
            (code, reason) = &mut expired => {
                close(&mut sink, code, reason.to_owned()).await;
                return;
            }
            // Periodically (a change on another replica), and at once when a
            // user changes on this one (a grant, a role, a password).
            checked = async {
                tokio::select! {
                    _ = recheck.tick() => {}
                    Ok(()) = user_changes.changed() => {}
                }
                check_again(&state, token.get(), &live_tx).await
            } => {
                if let Some((code, reason)) = checked {
                    close(&mut sink, code, reason.to_owned()).await;
                    return;
                }
            }
        }
    }
}

/// Checks the connection's token anew: the close code and reason when it no
/// longer holds, else `None` (with the viewer as now found handed to the
/// running operations, so subscriptions whose reads the grants no longer
/// cover end).
async fn check_again(
    state: &crate::state::AppState,
    token: Option<&String>,
    live: &watch::Sender<Option<Viewer>>,
) -> Option<(u16, &'static str)> {
    let presented = token?;
    match state.auth.session(presented).await {
        Err(Rejection::Expired) => Some((CLOSE_TOKEN_EXPIRED, "token expired")),
        Err(Rejection::Invalid) => Some((CLOSE_FORBIDDEN, "token no longer valid")),
        Ok((viewer, _)) => {
            live.send_replace(Some(viewer));
            None
        }
        // The user store is down: keep serving; the next check decides.
        Err(Rejection::Unavailable) => None,
    }
}

async fn close(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    code: u16,
    reason: String,
) {
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_the_gateways_own_or_listed() {
        let listed = ["https://app.example.com".to_owned()];
        assert!(origin_allowed(
            "http://gw.example:8080",
            Some("gw.example:8080"),
            &[]
        ));
        assert!(origin_allowed(
            "https://GW.example",
            Some("gw.example"),
            &[]
        ));
        assert!(origin_allowed(
            "https://app.example.com",
            Some("gw.example"),
            &listed
        ));
        assert!(!origin_allowed(
            "https://evil.example",
            Some("gw.example"),
            &listed
        ));
        assert!(!origin_allowed(
            "https://gw.example.evil",
            Some("gw.example"),
            &[]
        ));
        assert!(!origin_allowed("null", Some("gw.example"), &[]));
        assert!(!origin_allowed("https://gw.example", None, &[]));
    }
}
