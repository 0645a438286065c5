//! Creates the `grants` table, and gives every user that exists already a grant
//! on every cluster (`*`), so an upgrade takes nothing away from anyone. Users
//! created afterwards start with no grants.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Grants::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Grants::Id))
                    .col(big_integer(Grants::UserId))
                    .col(string_len(Grants::Cluster, 253))
                    .col(string_len_null(Grants::Namespace, 63))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grants_user")
                            .from(Grants::Table, Grants::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_grants_user")
                    .table(Grants::Table)
                    .col(Grants::UserId)
                    .to_owned(),
            )
            .await?;
        let everyone = Query::select()
            .column(Users::Id)
            .expr(Expr::val("*"))
            .from(Users::Table)
            .to_owned();
        let upgrade = Query::insert()
            .into_table(Grants::Table)
            .columns([Grants::UserId, Grants::Cluster])
            .select_from(everyone)
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(upgrade).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Grants::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    UserId,
    Cluster,
    Namespace,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
