//! The `audit_events` table: every change and every sign-in.

use sea_orm::entity::prelude::*;

/// One recorded event. Never holds a password, hash or token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    /// Increasing id: newest first is id descending.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// When it happened, UTC, whole seconds.
    pub time: DateTime,
    /// The signed-in user who acted (for a sign-in: the name tried), if any.
    pub actor: Option<String>,
    /// `login`, `user_created`, `user_updated`, `grants_set`, `pod_read`,
    /// `pod_logs_read`, `object_read`.
    pub action: String,
    /// What was acted on (a user name, `cluster/namespace/pod`).
    pub target: Option<String>,
    /// `Success`, or the error code.
    pub outcome: String,
    /// More about the change (such as which fields changed), never a secret.
    pub detail: Option<String>,
    /// The client's address, when known.
    pub client_address: Option<String>,
    /// The request's id (the `x-request-id` header).
    pub request_id: Option<String>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
