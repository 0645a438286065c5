//! Adds `grants.reveal`: a grant that shows objects as the API server has
//! them (env values and redacted annotations included) in its scope. Every
//! grant that exists already keeps redacted answers (false).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Grants::Table)
                    .add_column(boolean(Grants::Reveal).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Grants::Table)
                    .drop_column(Grants::Reveal)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Reveal,
}
