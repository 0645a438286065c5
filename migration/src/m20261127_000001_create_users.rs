//! Creates the `users` table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Users::Id))
                    .col(string_len(Users::Name, 64))
                    .col(string_len_uniq(Users::NameKey, 64))
                    .col(string_len(Users::Email, 254))
                    .col(string_len(Users::PasswordHash, 255))
                    .col(string_len(Users::Role, 16))
                    .col(integer(Users::TokenGeneration).default(0))
                    .col(date_time(Users::CreateTime))
                    .col(date_time(Users::UpdateTime))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Name,
    NameKey,
    Email,
    PasswordHash,
    Role,
    TokenGeneration,
    CreateTime,
    UpdateTime,
}
