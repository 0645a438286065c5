//! `/graphql/ws`: subscriptions over WebSocket (graphql-transport-ws, and the
//! older subscriptions-transport-ws).
//!
//! The token travels in `connection_init`'s payload, as
//! `{"Authorization": "Bearer <token>"}` (or `{"token": "<token>"}`). A missing
//! or invalid token closes the connection with 4403 and a reason; an expired one
//! with 4401. When the token expires during the connection, the connection is
//! closed with 4401 at that moment, as HTTP requests would then be answered
//! TokenExpired.

use std::sync::{Arc, Mutex};

use async_graphql::http::{WebSocket as GqlWebSocket, WebSocketProtocols, WsMessage};
use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt, future};
use serde_json::Value;
use tokio::sync::watch;

use super::{Executor, session};
use crate::auth::{Auth, viewer::Rejection};

/// Close code for a token that has expired.
pub const CLOSE_TOKEN_EXPIRED: u16 = 4401;
/// Close code for a missing or invalid token at `connection_init`.
pub const CLOSE_FORBIDDEN: u16 = 4403;

/// Upgrades to a GraphQL WebSocket connection.
pub async fn graphql_ws(
    State(executor): State<Executor>,
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
    upgrade
        .protocols(async_graphql::http::ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve(executor, socket, protocol))
}

fn token_of(payload: &Value) -> Option<String> {
    let header = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(key).and_then(Value::as_str));
    if let Some(header) = header {
        return header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(|t| t.trim().to_owned());
    }
    payload
        .get("token")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

async fn serve(executor: Executor, socket: WebSocket, protocol: WebSocketProtocols) {
    let (mut sink, incoming) = socket.split();
    let incoming = incoming
        .take_while(|message| future::ready(message.is_ok()))
        .filter_map(|message| {
            future::ready(match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            })
        });

    let (expiry_tx, mut expiry_rx) = watch::channel::<Option<DateTime<Utc>>>(None);
    let refusal: Arc<Mutex<Option<(u16, &'static str)>>> = Arc::new(Mutex::new(None));
    let init = {
        let executor = executor.clone();
        let refusal = refusal.clone();
        move |payload: Value| async move {
            let refuse = |code, reason: &'static str| {
                if let Ok(mut slot) = refusal.lock() {
                    *slot = Some((code, reason));
                }
                async_graphql::Error::new(reason)
            };
            let Some(token) = token_of(&payload) else {
                return Err(refuse(
                    CLOSE_FORBIDDEN,
                    "missing token: send {\"Authorization\": \"Bearer <token>\"} in connection_init",
                ));
            };
            match session(executor.state(), &token).await {
                // Within the clock leeway the token still verifies, but the
                // connection would be closed at once: refuse it plainly.
                Ok((_, expires)) if expires <= Utc::now() => {
                    Err(refuse(CLOSE_TOKEN_EXPIRED, "token expired"))
                }
                Ok((viewer, expires)) => {
                    let _ = expiry_tx.send(Some(expires));
                    let (nodes, workloads) = executor.loaders();
                    let mut data = async_graphql::Data::default();
                    data.insert(Auth::Viewer(viewer));
                    data.insert(nodes);
                    data.insert(workloads);
                    Ok(data)
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
        GqlWebSocket::new(executor.schema().clone(), incoming, protocol).on_connection_init(init)
    );

    let expired = async move {
        let expires = loop {
            if let Some(expires) = *expiry_rx.borrow() {
                break expires;
            }
            if expiry_rx.changed().await.is_err() {
                // Connection ended before it was initialised.
                return future::pending::<()>().await;
            }
        };
        let left = (expires - Utc::now()).to_std().unwrap_or_default();
        tokio::time::sleep(left).await;
    };
    let mut expired = std::pin::pin!(expired);

    loop {
        tokio::select! {
            message = messages.next() => match message {
                Some(WsMessage::Text(text)) => {
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
            () = &mut expired => {
                close(&mut sink, CLOSE_TOKEN_EXPIRED, "token expired".to_owned()).await;
                return;
            }
        }
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
