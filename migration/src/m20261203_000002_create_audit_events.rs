//! Creates the `audit_events` table: who changed what, and every sign-in.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .if_not_exists()
                    .col(big_pk_auto(AuditEvents::Id))
                    .col(date_time(AuditEvents::Time))
                    .col(string_len_null(AuditEvents::Actor, 64))
                    .col(string_len(AuditEvents::Action, 32))
                    .col(string_len_null(AuditEvents::Target, 600))
                    .col(string_len(AuditEvents::Outcome, 32))
                    .col(string_len_null(AuditEvents::Detail, 255))
                    .col(string_len_null(AuditEvents::ClientAddress, 64))
                    .col(string_len_null(AuditEvents::RequestId, 64))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_audit_events_time", AuditEvents::Time),
            ("idx_audit_events_actor", AuditEvents::Actor),
            ("idx_audit_events_action", AuditEvents::Action),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEvents::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    Time,
    Actor,
    Action,
    Target,
    Outcome,
    Detail,
    ClientAddress,
    RequestId,
}
