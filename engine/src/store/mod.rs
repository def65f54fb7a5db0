//! The storage layer: every SQL statement of the engine lives under this module.
//!
//! Queries are built at run time (`sqlx::query_as` with `FromRow` rows) rather than with the compile-time
//! checked macros: those need a live database or a prepared `.sqlx` cache at build time, which the
//! workspace's builds do not have. The HTTP tests run every query against a migrated database instead.
//!
//! Conventions (see `migrations/0001_initial.sql`): uuids are hyphenated TEXT, times RFC 3339 UTC TEXT with six
//! fractional digits (so text order is time order), booleans INTEGER 0/1, JSON as TEXT.

mod auth;
mod conflicts;
mod connectors;
mod directory;
mod files;
mod links;
mod operations;
mod queue;
mod reconciliation;
mod runs;
mod schedules;
mod settings;

use std::{path::Path, str::FromStr, time::Duration};

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};
use uuid::Uuid;

pub use auth::*;
pub use conflicts::*;
pub use connectors::*;
pub use directory::*;
pub use links::*;
pub use operations::*;
pub use queue::*;
pub use reconciliation::*;
pub use runs::*;
pub use schedules::*;
pub use settings::*;

pub(crate) use files::secure_database_file;

use crate::EngineError;

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if needed, private to the engine's account: see [`files`]) the SQLite file at `path` with
/// WAL, foreign keys and a busy timeout, and runs the migrations.
pub async fn open_database(path: &Path) -> Result<SqlitePool, EngineError> {
    secure_database_file(path)?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // 32 MiB of page cache a connection (allocated as used): the queue's indexes stay in memory.
        .pragma("cache_size", "-32768");
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!().run(&pool).await?;
    Ok(pool)
}

/// A time as stored: RFC 3339 UTC with six fractional digits.
pub fn ts(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A stored value that does not decode: the database holds something the engine never writes.
pub(crate) fn corrupt(what: &str, value: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("stored {what} `{value}` does not decode").into())
}

pub(crate) fn parse_time(value: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| corrupt("time", value))
}

pub(crate) fn parse_opt_time(value: Option<&str>) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    value.map(parse_time).transpose()
}

pub(crate) fn parse_id<T: From<Uuid>>(value: &str) -> Result<T, sqlx::Error> {
    Uuid::parse_str(value)
        .map(T::from)
        .map_err(|_| corrupt("id", value))
}

pub(crate) fn parse_opt_id<T: From<Uuid>>(value: Option<&str>) -> Result<Option<T>, sqlx::Error> {
    value.map(parse_id).transpose()
}

pub(crate) fn parse_enum<T: FromStr>(value: &str) -> Result<T, sqlx::Error> {
    value.parse().map_err(|_| corrupt("enum value", value))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(value: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(value).map_err(|_| corrupt("JSON", value))
}

/// `limit`/`offset` as SQLite binds them.
fn page_binds(page: dto::PageRequest) -> (i64, i64) {
    (
        i64::from(page.limit),
        i64::try_from(page.offset).unwrap_or(i64::MAX),
    )
}

fn count(total: i64) -> u64 {
    u64::try_from(total).unwrap_or(0)
}
