//! The `settings` table: small named values shared by every replica (such as the
//! generated token-signing key).

use sea_orm::entity::prelude::*;

/// One named setting.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    /// Setting name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Setting value.
    pub value: String,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
