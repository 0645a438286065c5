//! Sign-in through an OpenID Provider:
//! - `users` gains `source` (`local` or `oidc`; every user that exists is
//!   local), `issuer` and `subject` (an OIDC user's identity, unique together)
//!   and `groups` (a JSON array of the groups of their last sign-in);
//! - `group_grants`: what every member of a group may read;
//! - `oidc_sign_ins`: sign-ins sent to the provider and not yet back (state,
//!   nonce, PKCE verifier, the browser's challenge, where to go back to), so any
//!   replica can finish one;
//! - `sign_in_codes`: the one-time codes handed to the browser after a sign-in,
//!   by their SHA-256 (a stolen database row redeems nothing).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            string_len(Users::Source, 16).default("local").to_owned(),
            string_len_null(Users::Issuer, 255),
            string_len_null(Users::Subject, 255),
            text_null(Users::Groups),
        ];
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_users_identity")
                    .table(Users::Table)
                    .col(Users::Issuer)
                    .col(Users::Subject)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GroupGrants::Table)
                    .if_not_exists()
                    .col(big_pk_auto(GroupGrants::Id))
                    .col(string_len(GroupGrants::GroupName, 255))
                    .col(string_len(GroupGrants::Cluster, 253))
                    .col(string_len_null(GroupGrants::Namespace, 63))
                    .col(boolean(GroupGrants::Reveal).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_group_grants_group")
                    .table(GroupGrants::Table)
                    .col(GroupGrants::GroupName)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OidcSignIns::Table)
                    .if_not_exists()
                    .col(string_len(OidcSignIns::State, 64).primary_key())
                    .col(string_len(OidcSignIns::Nonce, 64))
                    .col(string_len(OidcSignIns::PkceVerifier, 128))
                    .col(string_len(OidcSignIns::Challenge, 64))
                    .col(string_len(OidcSignIns::Redirect, 2048))
                    .col(date_time(OidcSignIns::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignInCodes::Table)
                    .if_not_exists()
                    .col(string_len(SignInCodes::CodeHash, 64).primary_key())
                    .col(big_integer(SignInCodes::UserId))
                    .col(string_len(SignInCodes::Challenge, 64))
                    .col(date_time(SignInCodes::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sign_in_codes_user")
                            .from(SignInCodes::Table, SignInCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SignInCodes::Table.into_iden(),
            OidcSignIns::Table.into_iden(),
            GroupGrants::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_users_identity")
                    .table(Users::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Users::Groups, Users::Subject, Users::Issuer, Users::Source] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Source,
    Issuer,
    Subject,
    Groups,
}

#[derive(DeriveIden)]
enum GroupGrants {
    Table,
    Id,
    GroupName,
    Cluster,
    Namespace,
    Reveal,
}

#[derive(DeriveIden)]
enum OidcSignIns {
    Table,
    State,
    Nonce,
    PkceVerifier,
    Challenge,
    Redirect,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum SignInCodes {
    Table,
    CodeHash,
    UserId,
    Challenge,
    ExpiresAt,
}
