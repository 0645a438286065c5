//! The audit trail in GraphQL: `auditEvents` (admins only), newest first, as a
//! Relay connection with opaque keyset cursors; and [`RecordRefusals`], which
//! writes an operation's refused changes before its answer.

use std::sync::Arc;

use async_graphql::{
    Context, Object, Response, SimpleObject,
    connection::{Connection, CursorType, Edge},
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute},
};
use chrono::{DateTime, Utc};
use entity::audit_event;

use super::{GqlResultExt, app, viewer};
use crate::{
    audit::{self, Action},
    error::AppError,
};

/// Writes the changes an operation refused ([`audit::Refusals`]) when it
/// ends, before its answer; when they cannot be written, the answer is that
/// error instead (a refusal is never answered without its record).
pub struct RecordRefusals;

impl ExtensionFactory for RecordRefusals {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RecordRefusals)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RecordRefusals {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let response = next.run(ctx, operation_name).await;
        let Some(refusals) = ctx.data_opt::<audit::Refusals>() else {
            return response;
        };
        match refusals.record().await {
            Ok(()) => response,
            Err(err) => {
                err.log_if_internal();
                super::error::error_only(&err)
            }
        }
    }
}

/// Events per page when `first` is not given.
const DEFAULT_FIRST: i32 = 50;
/// Events per page at most.
const MAX_FIRST: i32 = 500;

/// One recorded change, sign-in or pod read.
#[derive(SimpleObject, Debug, Clone)]
pub struct AuditEvent {
    /// Unique, increasing id.
    pub id: String,
    /// When (UTC).
    pub time: DateTime<Utc>,
    /// The signed-in user who acted (for a sign-in: the name tried; null for
    /// a sign-in through the identity provider refused before its user was
    /// known).
    pub actor: Option<String>,
    /// `login`, `user_created`, `user_updated`, `grants_set`,
    /// `group_grants_set`, `sign_out`, `pod_read`, `pod_logs_read` or
    /// `object_read`.
    pub action: String,
    /// What was acted on: a user or group name, or `cluster/namespace/pod`.
    pub target: Option<String>,
    /// `Success`, or the error code.
    pub outcome: String,
    /// More about it (never a secret): the fields changed, the grants given;
    /// for `login`, `method=password` or `method=oidc`, and for a refusal
    /// of the latter `reason=…` naming the defect (nonce, issuer, audience,
    /// azp, expired, iat, signature, algorithm, state, name taken, ...).
    pub detail: Option<String>,
    /// The client's address.
    pub client_address: Option<String>,
    /// The request's id (`x-request-id`).
    pub request_id: Option<String>,
}

impl From<audit_event::Model> for AuditEvent {
    fn from(row: audit_event::Model) -> Self {
        AuditEvent {
            id: row.id.to_string(),
            time: row.time.and_utc(),
            actor: row.actor,
            action: row.action,
            target: row.target,
            outcome: row.outcome,
            detail: row.detail,
            client_address: row.client_address,
            request_id: row.request_id,
        }
    }
}

/// A position in the trail: the id of the last event seen. Opaque to clients.
#[derive(Debug, Clone, Copy)]
pub struct AuditCursor(i64);

const CURSOR_PREFIX: &str = "audit:";

impl CursorType for AuditCursor {
    type Error = AppError;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let bad = || AppError::invalid("after", "not a cursor of auditEvents");
        let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let id = text
            .strip_prefix(CURSOR_PREFIX)
            .and_then(|id| id.parse().ok())
            .ok_or_else(bad)?;
        Ok(AuditCursor(id))
    }

    fn encode_cursor(&self) -> String {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{}", self.0))
    }
}

/// Audit queries.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Recorded events, newest first (admins only): every change and sign-in,
    /// and single-pod reads. `first` is 1-500; `after` is the `endCursor` of
    /// the previous page; `actor` and `action` keep only matching events.
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
        actor: Option<String>,
        action: Option<String>,
    ) -> async_graphql::Result<Connection<AuditCursor, AuditEvent>> {
        let viewer = viewer(ctx).gql()?;
        if !viewer.can_administer() {
            return Err(AppError::Forbidden(
                "only an admin may read the audit trail",
            ))
            .gql();
        }
        let first = first.unwrap_or(DEFAULT_FIRST);
        if !(1..=MAX_FIRST).contains(&first) {
            return Err(AppError::invalid(
                "first",
                format!("must be between 1 and {MAX_FIRST}"),
            ))
            .gql();
        }
        let after = after
            .as_deref()
            .map(AuditCursor::decode_cursor)
            .transpose()
            .gql()?;
        let action = match action.as_deref() {
            None => None,
            Some(text) => Some(Action::parse(text).ok_or_else(|| {
                AppError::invalid(
                    "action",
                    "must be login, user_created, user_updated, grants_set or pod_read",
                )
            }))
            .transpose()
            .gql()?,
        };
        let first = u64::try_from(first).unwrap_or(1);
        let (rows, more) = audit::list(
            &app(ctx).db,
            first,
            after.map(|c| c.0),
            actor.as_deref(),
            action,
        )
        .await
        .gql()?;
        let mut connection = Connection::new(after.is_some(), more);
        connection.edges.extend(
            rows.into_iter()
                .map(|row| Edge::new(AuditCursor(row.id), AuditEvent::from(row))),
        );
        Ok(connection)
    }
}
