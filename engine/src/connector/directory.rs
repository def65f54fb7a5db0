//! The built-in directory connector: a target system whose accounts live in a SQLite database of their own
//! (`<engine database stem>.directory.db` beside the engine's file), with failures an admin can inject
//! through the connector's settings ([`ConnectorSettings`]): `offline`, `error_rate`, `latency_ms`.
//!
//! Injected transient errors are drawn from the call's key (operation and attempt) rather than from a random
//! generator, so a given attempt of a given operation meets the same fate at a given error rate: the demo and
//! the tests are reproducible, and the share of failing calls is still `error_rate`.

use std::{path::Path, path::PathBuf, str::FromStr, time::Duration};

use chrono::{DateTime, Utc};
use dto::{ConnectorId, UserId};
use sha2::{Digest, Sha256};
use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    FromRow, QueryBuilder, SqlitePool,
};

use super::{
    Account, AccountSearch, Attributes, Call, Connector, ConnectorError, ConnectorFuture,
    ConnectorSettings, NewAccount,
};
use crate::{
    store::{parse_json, parse_opt_id, parse_time, secure_database_file, ts},
    EngineError,
};

/// The `connector_type` this connector serves.
pub const DIRECTORY_TYPE: &str = "directory";

/// Longest uid the directory accepts.
const MAX_UID_LEN: usize = 256;
/// Page size of a search that asks for none.
const DEFAULT_SEARCH_LIMIT: u32 = 100;

/// The directory's accounts database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DirectoryStore {
    pool: SqlitePool,
}

impl DirectoryStore {
    /// Where the directory database of the engine database `database` lives: beside it, named
    /// `<stem>.directory.db`.
    pub fn path_beside(database: &Path) -> PathBuf {
        let stem = database
            .file_stem()
            .map_or_else(|| "engine".into(), |s| s.to_string_lossy().into_owned());
        database.with_file_name(format!("{stem}.directory.db"))
    }

    /// Opens (creating if needed, private like the engine's own file) the directory database at `path` and
    /// migrates it.
    pub async fn open(path: &Path) -> Result<Self, EngineError> {
        secure_database_file(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Self::migrated(pool).await
    }

    /// A directory that lives in memory and dies with the store (tests).
    pub async fn in_memory() -> Result<Self, EngineError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?;
        // Every connection to `:memory:` is a database of its own: keep exactly one, for ever.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Self::migrated(pool).await
    }

    async fn migrated(pool: SqlitePool) -> Result<Self, EngineError> {
        sqlx::migrate!("./directory_migrations").run(&pool).await?;
        Ok(Self { pool })
    }

    /// Removes every account of these connectors (a fresh demo seed: a directory file left beside a deleted
    /// engine database must not keep the old demo's accounts).
    pub async fn remove_accounts(&self, connectors: &[ConnectorId]) -> Result<u64, sqlx::Error> {
        let mut removed = 0;
        for connector in connectors {
            removed += sqlx::query("DELETE FROM accounts WHERE connector_id = ?")
                .bind(connector.to_string())
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }

    /// Stores accounts as they are, in one transaction (seeding).
    pub async fn insert_accounts(
        &self,
        accounts: &[(ConnectorId, NewAccount)],
    ) -> Result<(), sqlx::Error> {
        let now = ts(Utc::now());
        let mut tx = self.pool.begin().await?;
        for (connector, account) in accounts {
            sqlx::query(
                "INSERT INTO accounts (connector_id, uid, object_class, owner_id, attributes, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(connector.to_string())
            .bind(&account.uid)
            .bind(&account.object_class)
            .bind(account.owner.map(|o| o.to_string()))
            .bind(attributes_json(&account.attributes))
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many accounts `connector` holds.
    pub async fn count_accounts(&self, connector: ConnectorId) -> Result<u64, sqlx::Error> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE connector_id = ?")
            .bind(connector.to_string())
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Closes the database.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[derive(FromRow)]
struct AccountRow {
    uid: String,
    object_class: String,
    owner_id: Option<String>,
    attributes: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<AccountRow> for Account {
    type Error = sqlx::Error;

    fn try_from(row: AccountRow) -> Result<Self, Self::Error> {
        Ok(Self {
            uid: row.uid,
            object_class: row.object_class,
            owner: parse_opt_id::<UserId>(row.owner_id.as_deref())?,
            attributes: parse_json(&row.attributes)?,
            created_at: parse_time(&row.created_at)?,
            updated_at: parse_time(&row.updated_at)?,
        })
    }
}

const ACCOUNT_COLUMNS: &str = "uid, object_class, owner_id, attributes, created_at, updated_at";

/// The directory connector over a [`DirectoryStore`].
#[derive(Debug, Clone)]
pub struct DirectoryConnector {
    store: DirectoryStore,
    /// Whether it offers and honours injected faults.
    faults: bool,
}

impl DirectoryConnector {
    /// A connector over `store` that takes no injected faults: settings stored by an engine that took them
    /// are ignored, so nobody is left with a connector offline that they cannot bring back.
    pub fn new(store: DirectoryStore) -> Self {
        Self {
            store,
            faults: false,
        }
    }

    /// A connector over `store` that takes injected faults (demo mode, or an engine started with them).
    pub fn with_faults(store: DirectoryStore) -> Self {
        Self {
            store,
            faults: true,
        }
    }

    /// The injected faults of the call's connector, when this connector takes them.
    fn settings(&self, call: Call<'_>) -> ConnectorSettings {
        if self.faults {
            ConnectorSettings::from_stored(&call.target.settings)
        } else {
            ConnectorSettings::default()
        }
    }

    /// Applies the injected faults of the call's connector: offline, then latency, then the error rate.
    async fn faults(&self, call: Call<'_>) -> Result<(), ConnectorError> {
        let settings = self.settings(call);
        if settings.offline {
            return Err(ConnectorError::offline(
                "CONNECTOR_OFFLINE",
                format!("{} is offline", call.target.name),
            ));
        }
        if settings.latency_ms > 0 {
            tokio::time::sleep(Duration::from_millis(settings.latency_ms)).await;
        }
        let (roll, pick) = rolls(call.key);
        if roll < settings.error_rate {
            let name = &call.target.name;
            return Err(match pick % 3 {
                0 => ConnectorError::transient(
                    "CONNECTION_RESET",
                    format!("{name} reset the connection"),
                ),
                1 => ConnectorError::transient("TIMEOUT", format!("{name} did not answer in time")),
                _ => ConnectorError::transient(
                    "RATE_LIMITED",
                    format!("{name} answered 429 Too Many Requests"),
                ),
            });
        }
        Ok(())
    }
}

/// Two stable draws from a call key: a share in [0, 1) and a pick.
fn rolls(key: &str) -> (f64, u64) {
    let digest = Sha256::digest(key.as_bytes());
    let mut first = [0_u8; 8];
    let mut second = [0_u8; 8];
    first.copy_from_slice(&digest[..8]);
    second.copy_from_slice(&digest[8..16]);
    // 53 bits: exactly representable, uniform in [0, 1).
    let share = (u64::from_be_bytes(first) >> 11) as f64 / (1_u64 << 53) as f64;
    (share, u64::from_be_bytes(second))
}

/// Attribute values the directory stores: scalars, and lists of scalars.
fn check_attributes(attributes: &Attributes) -> Result<(), ConnectorError> {
    use serde_json::Value;
    let scalar = |v: &Value| !matches!(v, Value::Array(_) | Value::Object(_));
    for (name, value) in attributes {
        let fits = match value {
            Value::Array(items) => items.iter().all(scalar),
            other => scalar(other),
        };
        if !fits {
            return Err(ConnectorError::permanent(
                "INVALID_ATTRIBUTE",
                format!("attribute `{name}` must be a string, number, boolean or a list of them"),
            ));
        }
    }
    Ok(())
}

fn check_uid(uid: &str) -> Result<(), ConnectorError> {
    if uid.trim().is_empty() || uid.len() > MAX_UID_LEN || uid.chars().any(char::is_control) {
        return Err(ConnectorError::permanent(
            "INVALID_UID",
            format!("`{uid}` is not a valid uid (1 to {MAX_UID_LEN} printable characters)"),
        ));
    }
    Ok(())
}

fn attributes_json(attributes: &Attributes) -> String {
    serde_json::Value::Object(attributes.clone()).to_string()
}

impl Connector for DirectoryConnector {
    fn capabilities(&self) -> &'static [&'static str] {
        if self.faults {
            &[dto::Connector::FAULT_INJECTION]
        } else {
            &[]
        }
    }

    fn check<'a>(&'a self, call: Call<'a>) -> ConnectorFuture<'a, ()> {
        Box::pin(async move {
            if self.settings(call).offline {
                return Err(ConnectorError::offline(
                    "CONNECTOR_OFFLINE",
                    format!("{} is offline", call.target.name),
                ));
            }
            sqlx::query("SELECT 1").execute(&self.store.pool).await?;
            Ok(())
        })
    }

    fn create<'a>(
        &'a self,
        call: Call<'a>,
        account: &'a NewAccount,
    ) -> ConnectorFuture<'a, Account> {
        Box::pin(async move {
            self.faults(call).await?;
            check_uid(&account.uid)?;
            check_attributes(&account.attributes)?;
            let now = ts(Utc::now());
            // One statement: insert, or update an account of the same owner (a repeated create), or nothing.
            let row = sqlx::query_as::<_, AccountRow>(&format!(
                "INSERT INTO accounts (connector_id, uid, object_class, owner_id, attributes, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (connector_id, uid) DO UPDATE
                    SET attributes = json_patch(accounts.attributes, excluded.attributes),
                        object_class = excluded.object_class, updated_at = excluded.updated_at
                    WHERE accounts.owner_id IS excluded.owner_id
                 RETURNING {ACCOUNT_COLUMNS}"
            ))
            .bind(call.target.id.to_string())
            .bind(&account.uid)
            .bind(&account.object_class)
            .bind(account.owner.map(|o| o.to_string()))
            .bind(attributes_json(&account.attributes))
            .bind(&now)
            .bind(&now)
            .fetch_optional(&self.store.pool)
            .await?;
            match row {
                Some(row) => Ok(Account::try_from(row)?),
                None => Err(ConnectorError::permanent(
                    "UID_TAKEN",
                    format!(
                        "`{}` already exists in {} and belongs to another identity",
                        account.uid, call.target.name
                    ),
                )),
            }
        })
    }

    fn update<'a>(
        &'a self,
        call: Call<'a>,
        uid: &'a str,
        changes: &'a Attributes,
    ) -> ConnectorFuture<'a, Account> {
        Box::pin(async move {
            self.faults(call).await?;
            check_attributes(changes)?;
            let row = sqlx::query_as::<_, AccountRow>(&format!(
                "UPDATE accounts SET attributes = json_patch(attributes, ?), updated_at = ?
                 WHERE connector_id = ? AND uid = ?
                 RETURNING {ACCOUNT_COLUMNS}"
            ))
            .bind(attributes_json(changes))
            .bind(ts(Utc::now()))
            .bind(call.target.id.to_string())
            .bind(uid)
            .fetch_optional(&self.store.pool)
            .await?;
            row.map(Account::try_from)
                .transpose()?
                .ok_or_else(|| not_found(call, uid))
        })
    }

    fn delete<'a>(&'a self, call: Call<'a>, uid: &'a str) -> ConnectorFuture<'a, ()> {
        Box::pin(async move {
            self.faults(call).await?;
            let deleted = sqlx::query("DELETE FROM accounts WHERE connector_id = ? AND uid = ?")
                .bind(call.target.id.to_string())
                .bind(uid)
                .execute(&self.store.pool)
                .await?
                .rows_affected();
            if deleted == 0 {
                return Err(not_found(call, uid));
            }
            Ok(())
        })
    }

    fn get<'a>(&'a self, call: Call<'a>, uid: &'a str) -> ConnectorFuture<'a, Option<Account>> {
        Box::pin(async move {
            self.faults(call).await?;
            let row = sqlx::query_as::<_, AccountRow>(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE connector_id = ? AND uid = ?"
            ))
            .bind(call.target.id.to_string())
            .bind(uid)
            .fetch_optional(&self.store.pool)
            .await?;
            Ok(row.map(Account::try_from).transpose()?)
        })
    }

    fn get_many<'a>(
        &'a self,
        call: Call<'a>,
        uids: &'a [String],
    ) -> ConnectorFuture<'a, std::collections::HashMap<String, Account>> {
        Box::pin(async move {
            // One call to the system, however many accounts (faults apply once, as to one request).
            self.faults(call).await?;
            let mut found = std::collections::HashMap::with_capacity(uids.len());
            // SQLite takes at most 32,766 parameters; a bulk is at most 100.
            for chunk in uids.chunks(500) {
                let mut sql = QueryBuilder::new(format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE connector_id = "
                ));
                sql.push_bind(call.target.id.to_string())
                    .push(" AND uid IN (");
                let mut list = sql.separated(", ");
                for uid in chunk {
                    list.push_bind(uid);
                }
                sql.push(")");
                for row in sql
                    .build_query_as::<AccountRow>()
                    .fetch_all(&self.store.pool)
                    .await?
                {
                    let account = Account::try_from(row)?;
                    found.insert(account.uid.clone(), account);
                }
            }
            Ok(found)
        })
    }

    fn search<'a>(
        &'a self,
        call: Call<'a>,
        query: &'a AccountSearch,
    ) -> ConnectorFuture<'a, Vec<Account>> {
        Box::pin(async move {
            self.faults(call).await?;
            let mut sql = QueryBuilder::new(format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE connector_id = "
            ));
            sql.push_bind(call.target.id.to_string());
            if let Some(class) = &query.object_class {
                sql.push(" AND object_class = ").push_bind(class.clone());
            }
            if let Some(owner) = query.owner {
                sql.push(" AND owner_id = ").push_bind(owner.to_string());
            }
            if let Some(after) = &query.after_uid {
                sql.push(" AND uid > ").push_bind(after.clone());
            }
            if let Some(since) = query.changed_since {
                sql.push(" AND updated_at > ").push_bind(ts(since));
            }
            let limit = if query.limit == 0 {
                DEFAULT_SEARCH_LIMIT
            } else {
                query.limit
            };
            sql.push(" ORDER BY uid LIMIT ").push_bind(i64::from(limit));
            let rows: Vec<AccountRow> = sql.build_query_as().fetch_all(&self.store.pool).await?;
            Ok(rows
                .into_iter()
                .map(Account::try_from)
                .collect::<Result<_, _>>()?)
        })
    }

    fn count<'a>(&'a self, call: Call<'a>, query: &'a AccountSearch) -> ConnectorFuture<'a, u64> {
        Box::pin(async move {
            self.faults(call).await?;
            let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM accounts WHERE connector_id = ");
            sql.push_bind(call.target.id.to_string());
            if let Some(class) = &query.object_class {
                sql.push(" AND object_class = ").push_bind(class.clone());
            }
            if let Some(owner) = query.owner {
                sql.push(" AND owner_id = ").push_bind(owner.to_string());
            }
            if let Some(since) = query.changed_since {
                sql.push(" AND updated_at > ").push_bind(ts(since));
            }
            let n: i64 = sql.build_query_scalar().fetch_one(&self.store.pool).await?;
            Ok(u64::try_from(n).unwrap_or(0))
        })
    }

    fn deleted_since<'a>(
        &'a self,
        call: Call<'a>,
        since: DateTime<Utc>,
        after_uid: Option<&'a str>,
        limit: u32,
    ) -> ConnectorFuture<'a, Vec<String>> {
        Box::pin(async move {
            self.faults(call).await?;
            let uids = sqlx::query_scalar(
                "SELECT uid FROM deleted_accounts
                 WHERE connector_id = ? AND deleted_at > ? AND uid > ?
                 ORDER BY uid LIMIT ?",
            )
            .bind(call.target.id.to_string())
            .bind(ts(since))
            .bind(after_uid.unwrap_or(""))
            .bind(i64::from(limit.max(1)))
            .fetch_all(&self.store.pool)
            .await?;
            Ok(uids)
        })
    }
}

fn not_found(call: Call<'_>, uid: &str) -> ConnectorError {
    ConnectorError::permanent(
        "ACCOUNT_NOT_FOUND",
        format!("{} has no account `{uid}`", call.target.name),
    )
}

#[cfg(test)]
mod tests {
    use dto::TenantId;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::connector::{ConnectorTarget, ErrorClass};

    fn target(settings: serde_json::Value) -> ConnectorTarget {
        ConnectorTarget {
            id: ConnectorId(Uuid::from_u128(7)),
            tenant_id: TenantId(Uuid::from_u128(1)),
            name: "Test Directory".into(),
            connector_type: DIRECTORY_TYPE.into(),
            settings,
        }
    }

    fn attrs(value: serde_json::Value) -> Attributes {
        value.as_object().cloned().unwrap_or_default()
    }

    fn new_account(uid: &str, owner: u128) -> NewAccount {
        NewAccount {
            uid: uid.into(),
            object_class: "user".into(),
            owner: Some(UserId(Uuid::from_u128(owner))),
            attributes: attrs(json!({"mail": format!("{uid}@example.test"), "title": "Engineer"})),
        }
    }

    #[tokio::test]
    async fn accounts_are_created_updated_found_and_deleted() {
        let store = DirectoryStore::in_memory().await.expect("opens");
        let connector = DirectoryConnector::new(store.clone());
        let target = target(json!({}));
        let call = Call {
            target: &target,
            key: "k",
        };

        let created = connector
            .create(call, &new_account("ada", 1))
            .await
            .expect("created");
        assert_eq!(created.uid, "ada");
        let again = connector
            .create(call, &new_account("ada", 1))
            .await
            .expect("a repeated create of the same owner is an update");
        assert_eq!(again.created_at, created.created_at);
        let taken = connector
            .create(call, &new_account("ada", 2))
            .await
            .expect_err("another owner");
        assert_eq!(
            (taken.class, taken.code.as_str()),
            (ErrorClass::Permanent, "UID_TAKEN")
        );

        let changes = attrs(json!({"title": "Lead", "mail": null}));
        let updated = connector
            .update(call, "ada", &changes)
            .await
            .expect("updated");
        assert_eq!(updated.attributes, attrs(json!({"title": "Lead"})));
        let found = connector.get(call, "ada").await.expect("read");
        assert_eq!(found, Some(updated));

        connector
            .create(call, &new_account("bob", 2))
            .await
            .expect("created");
        let page = connector
            .search(
                call,
                &AccountSearch {
                    after_uid: Some("ada".into()),
                    ..AccountSearch::default()
                },
            )
            .await
            .expect("searched");
        assert_eq!(
            page.iter().map(|a| a.uid.as_str()).collect::<Vec<_>>(),
            ["bob"]
        );

        connector.delete(call, "ada").await.expect("deleted");
        assert_eq!(store.count_accounts(target.id).await.expect("counted"), 1);
        for err in [
            connector.delete(call, "ada").await.expect_err("gone"),
            connector
                .update(call, "ada", &changes)
                .await
                .expect_err("gone"),
        ] {
            assert_eq!(
                (err.class, err.code.as_str()),
                (ErrorClass::Permanent, "ACCOUNT_NOT_FOUND")
            );
        }
    }

    #[tokio::test]
    async fn bad_data_is_a_permanent_error() {
        let connector = DirectoryConnector::new(DirectoryStore::in_memory().await.expect("opens"));
        let target = target(json!({}));
        let call = Call {
            target: &target,
            key: "k",
        };
        let mut nested = new_account("eve", 1);
        nested.attributes = attrs(json!({"manager": {"uid": "ada"}}));
        let err = connector.create(call, &nested).await.expect_err("nested");
        assert_eq!(
            (err.class, err.code.as_str()),
            (ErrorClass::Permanent, "INVALID_ATTRIBUTE")
        );
        let err = connector
            .create(call, &new_account(" ", 1))
            .await
            .expect_err("blank uid");
        assert_eq!(err.code, "INVALID_UID");
        let listed = attrs(json!({"groups": ["a", "b"], "active": true, "level": 3}));
        let mut fine = new_account("eve", 1);
        fine.attributes = listed;
        connector
            .create(call, &fine)
            .await
            .expect("lists of scalars are fine");
    }

    #[tokio::test]
    async fn a_connector_without_fault_injection_ignores_stored_faults() {
        let connector = DirectoryConnector::new(DirectoryStore::in_memory().await.expect("opens"));
        assert!(connector.capabilities().is_empty());
        let faulty = target(json!({"offline": true, "error_rate": 1.0}));
        let call = Call {
            target: &faulty,
            key: "k",
        };
        connector.check(call).await.expect("not offline");
        connector
            .create(call, &new_account("ada", 1))
            .await
            .expect("no injected error");
    }

    #[tokio::test]
    async fn injected_faults() {
        let connector =
            DirectoryConnector::with_faults(DirectoryStore::in_memory().await.expect("opens"));
        let offline = target(json!({"offline": true}));
        let err = connector
            .create(
                Call {
                    target: &offline,
                    key: "k",
                },
                &new_account("ada", 1),
            )
            .await
            .expect_err("offline");
        assert_eq!(
            (err.class, err.code.as_str()),
            (ErrorClass::Offline, "CONNECTOR_OFFLINE")
        );
        let err = connector
            .check(Call {
                target: &offline,
                key: "k",
            })
            .await
            .expect_err("offline");
        assert_eq!(err.class, ErrorClass::Offline);

        let always = target(json!({"error_rate": 1.0}));
        let never = target(json!({"error_rate": 0.0, "latency_ms": 5}));
        let half = target(json!({"error_rate": 0.5}));
        let mut failed_half = 0;
        for n in 0..200 {
            let key = format!("op#{n}");
            let uid = format!("u{n}");
            let err = connector
                .create(
                    Call {
                        target: &always,
                        key: &key,
                    },
                    &new_account(&uid, 1),
                )
                .await
                .expect_err("always fails");
            assert_eq!(err.class, ErrorClass::Transient);
            let half_call = Call {
                target: &half,
                key: &key,
            };
            let first = connector.check(half_call).await.is_ok();
            let fails = connector.faults(half_call).await.is_err();
            assert_eq!(
                fails,
                connector.faults(half_call).await.is_err(),
                "one key, one fate"
            );
            assert!(first, "check ignores the error rate");
            failed_half += usize::from(fails);
        }
        assert!(
            (70..=130).contains(&failed_half),
            "{failed_half} of 200 at 0.5"
        );
        let started = std::time::Instant::now();
        connector
            .create(
                Call {
                    target: &never,
                    key: "x",
                },
                &new_account("ada", 1),
            )
            .await
            .expect("never fails");
        assert!(
            started.elapsed() >= Duration::from_millis(5),
            "latency applies"
        );
    }

    #[test]
    fn the_database_sits_beside_the_engines() {
        assert_eq!(
            DirectoryStore::path_beside(Path::new("data/engine.db")),
            PathBuf::from("data/engine.directory.db")
        );
        assert_eq!(
            DirectoryStore::path_beside(Path::new("/tmp/x/demo.sqlite")),
            PathBuf::from("/tmp/x/demo.directory.db")
        );
    }
}
