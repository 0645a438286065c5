//! `migration` command: apply, roll back or inspect the gateway's migrations by hand
//! (`DATABASE_URL` names the database). The gateway itself migrates at start-up.

use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migration::Migrator).await;
}
