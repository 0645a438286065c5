//! Database migrations of the OSP Gateway, run by the gateway at start-up.
//!
//! Migrations use SeaORM's schema helpers only, so the same steps run on SQLite,
//! PostgreSQL and MariaDB/MySQL.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_users;
mod m20261127_000002_create_settings;
mod m20261203_000001_create_grants;
mod m20261203_000002_create_audit_events;
mod m20261203_000003_create_login_attempts;
mod m20261205_000001_add_grant_reveal;
mod m20261205_000002_oidc_sign_in;

/// Every migration of the gateway, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_users::Migration),
            Box::new(m20261127_000002_create_settings::Migration),
            Box::new(m20261203_000001_create_grants::Migration),
            Box::new(m20261203_000002_create_audit_events::Migration),
            Box::new(m20261203_000003_create_login_attempts::Migration),
            Box::new(m20261205_000001_add_grant_reveal::Migration),
            Box::new(m20261205_000002_oidc_sign_in::Migration),
        ]
    }
}
