//! Target systems, as the worker sees them: the [`Connector`] trait, its classified errors, and the
//! [`ConnectorRegistry`] that maps a connector's `connector_type` to the implementation that talks to it.
//!
//! The engine ships one implementation, the [`directory`] connector (accounts in a SQLite file of their own).
//! An LDAP or SCIM connector implements the same trait and registers under its own type; the worker, the
//! queue and the API do not change.

pub mod directory;

use std::{collections::HashMap, fmt, future::Future, pin::Pin, sync::Arc};

use chrono::{DateTime, Utc};
use dto::{ConnectorId, TenantId, UserId};
use serde::{Deserialize, Serialize};

pub use directory::{DirectoryConnector, DirectoryStore, DIRECTORY_TYPE};

/// What a connector call returns: a boxed future, so that the trait can be used as `dyn Connector`.
pub type ConnectorFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ConnectorError>> + Send + 'a>>;

/// An account's attributes in the target system.
pub type Attributes = serde_json::Map<String, serde_json::Value>;

/// How a connector failure should be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Worth trying again later (time-out, reset connection, rate limit): retried with backoff.
    Transient,
    /// Will fail the same way every time (bad data, no such account): the dead-letter queue.
    Permanent,
    /// The system cannot be reached at all: the operation waits for it without using a retry.
    Offline,
}

impl ErrorClass {
    /// `transient`, `permanent` or `offline`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Transient => "transient",
            Self::Permanent => "permanent",
            Self::Offline => "offline",
        }
    }
}

/// A failed connector call: its class, a machine code (e.g. `TIMEOUT`) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorError {
    /// How to handle it.
    pub class: ErrorClass,
    /// Machine code, e.g. `ACCOUNT_NOT_FOUND`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl ConnectorError {
    fn new(class: ErrorClass, code: &str, message: impl Into<String>) -> Self {
        Self {
            class,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// A failure worth retrying.
    pub fn transient(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Transient, code, message)
    }

    /// A failure that retrying cannot fix.
    pub fn permanent(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Permanent, code, message)
    }

    /// The system is unreachable.
    pub fn offline(code: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Offline, code, message)
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ConnectorError {}

/// A storage failure inside a connector is worth retrying: the target may be busy.
impl From<sqlx::Error> for ConnectorError {
    fn from(err: sqlx::Error) -> Self {
        Self::transient(
            "TARGET_STORAGE_ERROR",
            format!("the target's storage failed: {err}"),
        )
    }
}

/// One configured connector of a tenant, as a call needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorTarget {
    /// Its id.
    pub id: ConnectorId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Display name, for messages.
    pub name: String,
    /// Kind of system; picks the implementation in the [`ConnectorRegistry`].
    pub connector_type: String,
    /// Its settings as stored (connection details for real systems; injected faults, see
    /// [`ConnectorSettings`]).
    pub settings: serde_json::Value,
}

/// One call to a connector: where it goes, and a key naming it (for queue work the operation and attempt, so
/// the call can be traced, and deduplicated by systems that support it).
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The connector called.
    pub target: &'a ConnectorTarget,
    /// Names this call, e.g. `<operation id>#<attempt>`.
    pub key: &'a str,
}

/// An account in a target system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Its id in the target.
    pub uid: String,
    /// Object class, e.g. `user`.
    pub object_class: String,
    /// The identity it belongs to, when known.
    pub owner: Option<UserId>,
    /// Its attributes.
    pub attributes: Attributes,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
}

/// An account to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAccount {
    /// Its id in the target.
    pub uid: String,
    /// Object class, e.g. `user`.
    pub object_class: String,
    /// The identity it is for.
    pub owner: Option<UserId>,
    /// Its attributes.
    pub attributes: Attributes,
}

/// The uid an account created for an identity gets when nothing else names one: the local part of its email.
/// The one rule, used by the worker's creates and by remediation.
pub fn uid_from_email(email: &str) -> Option<String> {
    email
        .split('@')
        .next()
        .map(str::trim)
        .filter(|local| !local.is_empty())
        .map(str::to_owned)
}

/// Which accounts a search returns, in uid order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountSearch {
    /// Only this object class.
    pub object_class: Option<String>,
    /// Only accounts of this identity.
    pub owner: Option<UserId>,
    /// Only uids after this one (paging).
    pub after_uid: Option<String>,
    /// Only accounts created or changed after this moment (delta reconciliation).
    pub changed_since: Option<DateTime<Utc>>,
    /// At most this many (0: a connector default).
    pub limit: u32,
}

/// A target system the worker provisions accounts in. Every method answers a classified [`ConnectorError`]
/// when it fails, so the queue knows whether to retry, dead-letter or wait.
pub trait Connector: Send + Sync {
    /// What this implementation can do beyond provisioning and reconciliation (e.g.
    /// `dto::Connector::FAULT_INJECTION`), as the API tells the console.
    fn capabilities(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether the system can be reached now (the queue asks before releasing the operations awaiting it).
    fn check<'a>(&'a self, call: Call<'a>) -> ConnectorFuture<'a, ()>;
    /// Creates an account; creating one that already exists for the same identity updates it instead.
    fn create<'a>(
        &'a self,
        call: Call<'a>,
        account: &'a NewAccount,
    ) -> ConnectorFuture<'a, Account>;
    /// Merges `changes` into an existing account (a null value removes the attribute).
    fn update<'a>(
        &'a self,
        call: Call<'a>,
        uid: &'a str,
        changes: &'a Attributes,
    ) -> ConnectorFuture<'a, Account>;
    /// Deletes an existing account.
    fn delete<'a>(&'a self, call: Call<'a>, uid: &'a str) -> ConnectorFuture<'a, ()>;
    /// One account, if it exists.
    fn get<'a>(&'a self, call: Call<'a>, uid: &'a str) -> ConnectorFuture<'a, Option<Account>>;
    /// The accounts among `uids` that exist, by uid: one round trip where the system allows (a bulk
    /// remediation reads its accounts so), one [`Connector::get`] each otherwise.
    fn get_many<'a>(
        &'a self,
        call: Call<'a>,
        uids: &'a [String],
    ) -> ConnectorFuture<'a, HashMap<String, Account>> {
        Box::pin(async move {
            let mut found = HashMap::new();
            for uid in uids {
                if let Some(account) = self.get(call, uid).await? {
                    found.insert(uid.clone(), account);
                }
            }
            Ok(found)
        })
    }
    /// Accounts matching `query`, in uid order.
    fn search<'a>(
        &'a self,
        call: Call<'a>,
        query: &'a AccountSearch,
    ) -> ConnectorFuture<'a, Vec<Account>>;
    /// How many accounts match `query` (its paging fields ignored).
    fn count<'a>(&'a self, call: Call<'a>, query: &'a AccountSearch) -> ConnectorFuture<'a, u64>;
    /// The uids of accounts deleted after `since`, in uid order, at most `limit` after `after_uid`.
    fn deleted_since<'a>(
        &'a self,
        call: Call<'a>,
        since: DateTime<Utc>,
        after_uid: Option<&'a str>,
        limit: u32,
    ) -> ConnectorFuture<'a, Vec<String>>;
}

/// The implementations the engine knows, by `connector_type`.
#[derive(Clone, Default)]
pub struct ConnectorRegistry {
    by_type: HashMap<String, Arc<dyn Connector>>,
}

impl fmt::Debug for ConnectorRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut types: Vec<_> = self.by_type.keys().collect();
        types.sort();
        f.debug_struct("ConnectorRegistry")
            .field("types", &types)
            .finish()
    }
}

impl ConnectorRegistry {
    /// The built-in connectors: `directory` over `directory`'s accounts, taking injected faults when
    /// `fault_injection` (see [`crate::EngineConfig::fault_injection`]).
    pub fn builtin(directory: DirectoryStore, fault_injection: bool) -> Self {
        let directory = if fault_injection {
            DirectoryConnector::with_faults(directory)
        } else {
            DirectoryConnector::new(directory)
        };
        let mut registry = Self::default();
        registry.register(DIRECTORY_TYPE, Arc::new(directory));
        registry
    }

    /// Makes `connector` handle the connectors of type `connector_type` (replacing any other).
    pub fn register(&mut self, connector_type: &str, connector: Arc<dyn Connector>) {
        self.by_type.insert(connector_type.to_owned(), connector);
    }

    /// What connectors of this type can do (nothing when no implementation is registered).
    pub fn capabilities(&self, connector_type: &str) -> Vec<String> {
        self.get(connector_type)
            .map(|c| c.capabilities().iter().map(|&c| c.to_owned()).collect())
            .unwrap_or_default()
    }

    /// The implementation for `connector_type`, if one is registered.
    pub fn get(&self, connector_type: &str) -> Option<Arc<dyn Connector>> {
        self.by_type.get(connector_type).cloned()
    }
}

/// Failures an admin can inject into a connector, to show and test the failure paths for real: stored in the
/// connector's `settings`, read by the directory connector on every call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectorSettings {
    /// Unreachable: every call fails `offline`.
    #[serde(default)]
    pub offline: bool,
    /// Share of calls (0.0–1.0) that fail with a transient error.
    #[serde(default)]
    pub error_rate: f64,
    /// Milliseconds every call waits before it runs.
    #[serde(default)]
    pub latency_ms: u64,
}

impl ConnectorSettings {
    /// Longest injected latency accepted (beyond it a call would outlive reasonable leases).
    pub const MAX_LATENCY_MS: u64 = 10_000;

    /// Reads the fault settings out of a connector's stored settings; anything missing or malformed counts as
    /// no fault.
    pub fn from_stored(settings: &serde_json::Value) -> Self {
        let offline = settings
            .get("offline")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let error_rate = settings
            .get("error_rate")
            .and_then(serde_json::Value::as_f64)
            .filter(|r| r.is_finite())
            .map_or(0.0, |r| r.clamp(0.0, 1.0));
        let latency_ms = settings
            .get("latency_ms")
            .and_then(serde_json::Value::as_u64)
            .map_or(0, |ms| ms.min(Self::MAX_LATENCY_MS));
        Self {
            offline,
            error_rate,
            latency_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn settings_read_leniently() {
        let stored =
            json!({"offline": true, "error_rate": 3.0, "latency_ms": 99_999, "host": "ldap"});
        let settings = ConnectorSettings::from_stored(&stored);
        assert_eq!(
            settings,
            ConnectorSettings {
                offline: true,
                error_rate: 1.0,
                latency_ms: ConnectorSettings::MAX_LATENCY_MS
            }
        );
        assert_eq!(
            ConnectorSettings::from_stored(&json!("nonsense")),
            ConnectorSettings::default()
        );
    }

    #[test]
    fn the_registry_maps_types_to_implementations() {
        let registry = ConnectorRegistry::default();
        assert!(registry.get(DIRECTORY_TYPE).is_none());
        assert!(format!("{registry:?}").contains("types"));
    }
}
