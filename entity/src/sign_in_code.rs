//! The `sign_in_codes` table: one-time codes that hand a finished sign-in to
//! the browser that started it.

use sea_orm::entity::prelude::*;

/// One code, redeemable once before `expires_at` with the verifier of
/// `challenge`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_codes")]
pub struct Model {
    /// Lower-case hex SHA-256 of the code (the code itself is never stored).
    #[sea_orm(primary_key, auto_increment = false)]
    pub code_hash: String,
    /// The user signed in.
    pub user_id: i64,
    /// `BASE64URL(SHA-256(verifier))` the redeeming verifier must match.
    pub challenge: String,
    /// When the code stops being accepted (UTC).
    pub expires_at: DateTime,
}

/// No relations (the foreign key lives in the migration).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
