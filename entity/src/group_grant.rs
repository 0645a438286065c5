//! The `group_grants` table: what every member of a group may read.

use sea_orm::entity::prelude::*;

/// One grant of one group (as the OpenID Provider names it): a cluster (`*`
/// for every cluster), whole or one namespace of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_grants")]
pub struct Model {
    /// Row id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The group, exactly as the provider's groups claim names it.
    pub group_name: String,
    /// A cluster name, or `*` for every cluster.
    pub cluster: String,
    /// One namespace, or null for the whole cluster.
    pub namespace: Option<String>,
    /// Whether objects in its scope are shown unredacted.
    pub reveal: bool,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
