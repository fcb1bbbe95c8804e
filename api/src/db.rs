//! Connecting to the database chosen by `DATABASE_URL`, and migrating it.
//!
//! Failures name the URL with its password masked, in one line, so a mistyped host or
//! a missing database is obvious from the command line.

use std::time::Duration;

use anyhow::{bail, Context};
use consortium_migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm::{ConnectOptions, Database, DatabaseConnection};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{masked, sqlite_parent_dir};

/// Connects (creating an SQLite file's directory if needed) and checks the connection.
pub async fn connect(url: &SecretString) -> anyhow::Result<DatabaseConnection> {
    let shown = masked(url);
    if let Some(dir) = sqlite_parent_dir(url) {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {} for {shown}", dir.display()))?;
    }
    let mut options = ConnectOptions::new(url.expose_secret().to_owned());
    options
        .max_connections(16)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        // Set on every connection of the pool, as SQLite keeps these per connection:
        // WAL lets the snapshot loader read while a writer writes; foreign keys are
        // enforced; a writer waits for another rather than failing at once.
        .map_sqlx_sqlite_opts(|sqlite| {
            sqlite.journal_mode(SqliteJournalMode::Wal).foreign_keys(true).busy_timeout(Duration::from_secs(10))
        });
    let db = Database::connect(options).await.map_err(|e| anyhow::anyhow!("cannot connect to {shown}: {e}"))?;
    db.ping().await.map_err(|e| anyhow::anyhow!("cannot reach {shown}: {e}"))?;
    Ok(db)
}

/// Applies pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await.context("migration failed")?;
    Ok(())
}

/// Refuses to serve a database that is not fully migrated.
pub async fn ensure_migrated(db: &DatabaseConnection, url: &SecretString) -> anyhow::Result<()> {
    let pending = Migrator::get_pending_migrations(db).await.context("cannot read the migration state")?;
    if !pending.is_empty() {
        bail!("{} has {} pending migration(s): run `consortium migrate` first", masked(url), pending.len());
    }
    Ok(())
}
