//! The `login_attempts` table: sign-in attempts per name and client address
//! or per client address, and failures per name, in the current minute,
//! shared by every replica on one database.

use sea_orm::entity::prelude::*;

/// The attempts of one subject in one minute.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempts")]
pub struct Model {
    /// `n:<client address>/<name in lower case>` (attempts), `a:<client
    /// address>` (attempts) or `f:<name in lower case>` (failures).
    #[sea_orm(primary_key, auto_increment = false)]
    pub subject: String,
    /// The minute counted (seconds since the Unix epoch divided by 60).
    pub window_start: i64,
    /// Attempts in that minute.
    pub attempts: i32,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
