//! Engine-wide settings (key/value).

use chrono::{DateTime, Utc};
use sqlx::{SqliteConnection, SqlitePool};

use super::ts;
use crate::demo_login::DEMO_TENANT;

/// Present in a database the demo seed wrote: it holds accounts whose passwords are published.
const DEMO_DATA: &str = "demo_data";

/// The value stored under `key`, if any.
pub async fn setting(pool: &SqlitePool, key: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
        .bind(key)
        .fetch_optional(pool)
        .await
}

/// Stores `value` under `key` unless a value is already there; returns the value in force afterwards, so two
/// engines starting on one file agree.
pub async fn setting_or_insert(
    pool: &SqlitePool,
    key: &str,
    value: &str,
) -> Result<String, sqlx::Error> {
    sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .bind(ts(Utc::now()))
        .execute(pool)
        .await?;
    sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
        .bind(key)
        .fetch_one(pool)
        .await
}

/// Marks the database as holding the demo data (in the seed's own transaction).
pub async fn mark_demo_data(
    conn: &mut SqliteConnection,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING")
        .bind(DEMO_DATA)
        .bind(ts(at))
        .bind(ts(at))
        .execute(conn)
        .await?;
    Ok(())
}

/// Whether the database holds the demo data: the seed's mark, or the demo tenant of a seed older than the mark.
pub async fn holds_demo_data(pool: &SqlitePool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM settings WHERE key = ?) OR EXISTS (SELECT 1 FROM tenants WHERE id = ?)",
    )
    .bind(DEMO_DATA)
    .bind(DEMO_TENANT.to_string())
    .fetch_one(pool)
    .await
}
