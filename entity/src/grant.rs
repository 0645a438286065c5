//! The `grants` table: what a user may read.

use sea_orm::entity::prelude::*;

/// One grant of one user: a cluster (`*` for every cluster), whole or one
/// namespace of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The user holding the grant.
    pub user_id: i64,
    /// A cluster name, or `*` for every cluster.
    pub cluster: String,
    /// One namespace, or null for the whole cluster.
    pub namespace: Option<String>,
    /// Whether objects in its scope are shown unredacted (env values,
    /// redacted annotations).
    pub reveal: bool,
}

/// No relations declared (the foreign key lives in the migration).
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
