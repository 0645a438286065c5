//! The `users` table.

use sea_orm::entity::prelude::*;

/// One gateway user.
///
/// `name_key` is the lower-cased `name` and carries the unique index: names are
/// compared without regard to ASCII case on every database, so SQLite, PostgreSQL
/// and MariaDB (whose default collation ignores case) all agree on who exists.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    /// Immutable id; tokens name the user by it.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The name as the user chose it.
    pub name: String,
    /// `name` lower-cased: the unique key for look-ups.
    #[sea_orm(unique)]
    pub name_key: String,
    /// Contact address.
    pub email: String,
    /// Argon2id PHC string; never leaves the service layer. Empty for users
    /// who sign in through an OpenID Provider (they have no local password).
    pub password_hash: String,
    /// `admin` or `user`.
    pub role: String,
    /// Bumped on every password change; tokens carrying an older value are refused.
    pub token_generation: i32,
    /// Creation time, UTC, whole seconds.
    pub create_time: DateTime,
    /// Last change, UTC, whole seconds.
    pub update_time: DateTime,
    /// `local` (signs in with a password) or `oidc` (through the OpenID
    /// Provider `issuer`).
    pub source: String,
    /// An OIDC user's issuer; with `subject`, their identity (unique).
    pub issuer: Option<String>,
    /// An OIDC user's subject at `issuer`.
    pub subject: Option<String>,
    /// The groups of an OIDC user's last sign-in, as a JSON array of strings.
    pub groups: Option<String>,
}

/// No relations yet.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
