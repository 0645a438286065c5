//! Database connection, migrations, and the settings every replica shares.

use std::time::Duration;

use entity::setting;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, EntityTrait, Set, SqlErr};

/// Name of the setting that holds the generated token-signing key.
const JWT_SECRET_KEY: &str = "jwt_secret";
const INSTALLATION_ID_KEY: &str = "installation_id";

/// Connects to the database and brings its schema up to date.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url);
    options
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
    Migrator::up(&db, None)
        .await
        .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
    Ok(db)
}

/// The stored token-signing key, generated and stored on first use. When several
/// replicas start at once, the first insert wins and all read the same key.
pub async fn stored_jwt_secret(db: &DatabaseConnection) -> Result<String, DbErr> {
    stored_setting(db, JWT_SECRET_KEY, 32).await
}

/// This installation's id (the database's), generated on first use. Tokens
/// name it as issuer and audience, so an installation refuses another's tokens
/// even where both were given the same `OSP_JWT_SECRET`.
pub async fn installation_id(db: &DatabaseConnection) -> Result<String, DbErr> {
    stored_setting(db, INSTALLATION_ID_KEY, 16).await
}

/// A setting holding `bytes` random bytes (hex), stored on first use; the first
/// of several replicas starting at once wins, and all read its value.
async fn stored_setting(db: &DatabaseConnection, key: &str, bytes: usize) -> Result<String, DbErr> {
    if let Some(found) = setting::Entity::find_by_id(key).one(db).await? {
        return Ok(found.value);
    }
    let candidate = setting::ActiveModel {
        key: Set(key.to_owned()),
        value: Set(random_hex(bytes)),
    };
    match setting::Entity::insert(candidate).exec(db).await {
        Ok(_) => {}
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
        Err(err) => return Err(err),
    }
    setting::Entity::find_by_id(key)
        .one(db)
        .await?
        .map(|found| found.value)
        .ok_or_else(|| DbErr::RecordNotFound(format!("the stored {key} vanished")))
}

fn random_hex(bytes: usize) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}
