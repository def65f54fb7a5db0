//! Engine-wide settings (key/value).

use chrono::Utc;
use sqlx::SqlitePool;

use super::ts;

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
