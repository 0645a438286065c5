//! Database connection, migrations, and the settings every replica shares.

use std::time::Duration;

use entity::setting;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr, EntityTrait, Set, SqlErr};

/// Name of the setting that holds the generated token-signing key.
const JWT_SECRET_KEY: &str = "jwt_secret";

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
    if let Some(found) = setting::Entity::find_by_id(JWT_SECRET_KEY).one(db).await? {
        return Ok(found.value);
    }
    let candidate = setting::ActiveModel {
        key: Set(JWT_SECRET_KEY.to_owned()),
        value: Set(random_hex(32)),
    };
    match setting::Entity::insert(candidate).exec(db).await {
        Ok(_) => {}
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
        Err(err) => return Err(err),
    }
    setting::Entity::find_by_id(JWT_SECRET_KEY)
        .one(db)
        .await?
        .map(|found| found.value)
        .ok_or_else(|| DbErr::RecordNotFound("the stored token key vanished".into()))
}

fn random_hex(bytes: usize) -> String {
    use rand::RngExt;
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}
