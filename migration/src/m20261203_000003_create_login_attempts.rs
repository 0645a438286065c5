//! Creates the `login_attempts` table: sign-in attempts counted where every
//! replica sees them (used on PostgreSQL and MariaDB/MySQL).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempts::Table)
                    .if_not_exists()
                    .col(string_len(LoginAttempts::Subject, 160).primary_key())
                    .col(big_integer(LoginAttempts::WindowStart))
                    .col(integer(LoginAttempts::Attempts))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_attempts_window_start")
                    .table(LoginAttempts::Table)
                    .col(LoginAttempts::WindowStart)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginAttempts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Subject,
    WindowStart,
    Attempts,
}
