//! The provisioning queue: enqueue with idempotency, the admin actions (retry, cancel, resolve), connector fault
//! settings, and the workers that run operations through their connectors ([`worker`]). The rules of the
//! state machine are in [`lifecycle`], the backoff in [`RetryPolicy`].
//!
//! Decisions worth knowing:
//! - A connector that is `disabled` gets no work: its pending operations are not claimed and stay `pending`
//!   (each says so once in its log, when queued), and run when it is enabled again.
//! - A connector that is `offline`, or whose calls fail `offline`, or whose credentials do not work, sends
//!   the operation to `awaiting_system` without using a retry. Setting `offline: false` in its settings brings
//!   it back at once (status `active`); otherwise the workers probe it every `recheck_interval`. Either way
//!   its waiting operations return to `pending`.
//! - Fault settings and status go together: `offline: true` makes an active connector `offline`,
//!   `offline: false` makes an offline one `active`; a disabled connector stays disabled.

pub mod lifecycle;
mod policy;
pub mod worker;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use dto::{ConnectorId, OperationId, ProvisioningOperation, TenantId, UserId};
use enums::{ConnectorStatus, OperationStatus, OperationType};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;
use tokio::sync::Notify;

pub use policy::{QueueConfig, RetryPolicy};
pub use worker::{Worker, Workers};

use crate::{
    connector::{ConnectorRegistry, ConnectorSettings},
    store::{
        self, AdminChange, AdminMove, AdminOutcome, EnqueueError, Enqueued, IdempotencyKey,
        NewOperation, RefusedState,
    },
};
use lifecycle::{next_status, sources, Event};

/// The queue: a handle on the database, the connectors and the workers' wake-up call. Cheap to clone.
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    config: QueueConfig,
    connectors: ConnectorRegistry,
    wake: Notify,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("config", &self.inner.config)
            .field("connectors", &self.inner.connectors)
            .finish_non_exhaustive()
    }
}

/// Why an admin action was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The tenant has no such operation (or connector).
    #[error("not found")]
    NotFound,
    /// The operation's status does not allow the action; nothing changed.
    #[error("{message}")]
    InvalidState {
        /// Its status.
        current: OperationStatus,
        /// Why, naming the status (and who resolved it, when resolved).
        message: String,
    },
    /// The start gate did not admit the retry (blocked or deduped); nothing changed.
    #[error("not started: {0:?}")]
    Refused(crate::gate::StartRefusal),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// An operation to enqueue, as a caller describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationRequest {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Target connector.
    pub connector_id: ConnectorId,
    /// The identity provisioned.
    pub user_id: UserId,
    /// create / update / delete.
    pub operation_type: OperationType,
    /// Target object class.
    pub object_class: String,
    /// The account's id in the target, when known.
    pub target_uid: Option<String>,
    /// The attributes (a JSON object).
    pub payload: serde_json::Value,
    /// Higher runs first (default 0).
    pub priority: Option<i32>,
    /// Failed attempts before the dead-letter queue (default: the queue's).
    pub max_retries: Option<i32>,
    /// Deduplicates enqueues; derived from the content when absent.
    pub idempotency_key: Option<String>,
}

impl Queue {
    /// A queue over a migrated pool, running operations through `connectors`.
    pub fn new(pool: SqlitePool, config: QueueConfig, connectors: ConnectorRegistry) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                config,
                connectors,
                wake: Notify::new(),
            }),
        }
    }

    /// The database pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    /// The configuration.
    pub fn config(&self) -> &QueueConfig {
        &self.inner.config
    }

    /// The connector implementations.
    pub fn connectors(&self) -> &ConnectorRegistry {
        &self.inner.connectors
    }

    /// Wakes the idle workers: there is work.
    pub fn wake(&self) {
        self.inner.wake.notify_waiters();
    }

    fn notify(&self) -> &Notify {
        &self.inner.wake
    }

    /// The operation `request` describes, enqueued at `now` with id `id`.
    pub fn new_operation(
        &self,
        id: OperationId,
        request: OperationRequest,
        now: DateTime<Utc>,
    ) -> NewOperation {
        let idempotency_key = match request.idempotency_key {
            Some(key) => IdempotencyKey::Given(key),
            None => IdempotencyKey::Derived(content_key(&request)),
        };
        NewOperation {
            id,
            tenant_id: request.tenant_id,
            connector_id: request.connector_id,
            user_id: request.user_id,
            operation_type: request.operation_type,
            object_class: request.object_class,
            target_uid: request.target_uid,
            payload: request.payload,
            priority: request.priority.unwrap_or(0),
            max_retries: request.max_retries.unwrap_or(self.inner.config.max_retries),
            idempotency_key,
            created_at: now,
        }
    }

    /// Enqueues operations in one transaction (all or none) and wakes the workers; each answer says whether
    /// it was queued or deduplicated to an operation already there.
    pub async fn enqueue(
        &self,
        operations: &[NewOperation],
    ) -> Result<Vec<Enqueued>, EnqueueError> {
        let done = store::enqueue_operations(self.pool(), operations).await?;
        if done.iter().any(|e| matches!(e, Enqueued::Created(_))) {
            self.wake();
        }
        Ok(done)
    }

    /// The tenant's operation with this id, as it is now.
    pub async fn operation(
        &self,
        tenant: TenantId,
        id: OperationId,
    ) -> Result<Option<ProvisioningOperation>, sqlx::Error> {
        let mut conn = self.pool().acquire().await?;
        store::get_operation(&mut conn, tenant, id).await
    }

    /// Sends a `failed` or `dead_letter` operation back to `pending` with a fresh retry budget and no error,
    /// and wakes the workers.
    pub async fn retry(
        &self,
        tenant: TenantId,
        id: OperationId,
        actor: &str,
    ) -> Result<ProvisioningOperation, ActionError> {
        let op = self
            .admin(
                tenant,
                id,
                AdminChange::Retry,
                Event::Retry,
                &format!("Retry requested by {actor}"),
            )
            .await?;
        self.wake();
        Ok(op)
    }

    /// Cancels a `pending` operation.
    pub async fn cancel(
        &self,
        tenant: TenantId,
        id: OperationId,
        actor: &str,
    ) -> Result<ProvisioningOperation, ActionError> {
        self.admin(
            tenant,
            id,
            AdminChange::Cancel,
            Event::Cancel,
            &format!("Cancelled by {actor}"),
        )
        .await
    }

    /// Resolves a `dead_letter` operation by hand, recording who (`by`, `actor` for the log) and why.
    pub async fn resolve(
        &self,
        tenant: TenantId,
        id: OperationId,
        by: UserId,
        actor: &str,
        notes: Option<String>,
    ) -> Result<ProvisioningOperation, ActionError> {
        let log = match &notes {
            Some(notes) => format!("Resolved by {actor}: {notes}"),
            None => format!("Resolved by {actor}"),
        };
        self.admin(
            tenant,
            id,
            AdminChange::Resolve { by, notes },
            Event::Resolve,
            &log,
        )
        .await
    }

    async fn admin(
        &self,
        tenant: TenantId,
        id: OperationId,
        change: AdminChange,
        event: Event,
        log: &str,
    ) -> Result<ProvisioningOperation, ActionError> {
        let from = sources(event);
        // Every event an admin triggers has one destination, whatever it leaves from.
        let to = from
            .first()
            .and_then(|&s| next_status(s, event))
            .ok_or(ActionError::NotFound)?;
        let step = AdminMove {
            from: &from,
            to,
            log,
        };
        match store::apply_admin_change(self.pool(), tenant, id, &change, step, Utc::now()).await? {
            AdminOutcome::Applied(op) => Ok(*op),
            AdminOutcome::NotFound => Err(ActionError::NotFound),
            AdminOutcome::Gated(refusal) => Err(ActionError::Refused(refusal)),
            AdminOutcome::Refused(state) => Err(ActionError::InvalidState {
                current: state.status,
                message: refusal(event, &state),
            }),
        }
    }

    /// The fault settings of the tenant's connector; none for an unknown id or another tenant's.
    pub async fn connector_settings(
        &self,
        tenant: TenantId,
        id: ConnectorId,
    ) -> Result<Option<ConnectorSettings>, sqlx::Error> {
        let mut conn = self.pool().acquire().await?;
        Ok(store::connector_state(&mut conn, tenant, id)
            .await?
            .map(|c| ConnectorSettings::from_stored(&c.target.settings)))
    }

    /// Stores the fault settings of the tenant's connector, and its status with them (see the module docs).
    /// When that leaves it `active`, the operations awaiting it go back to `pending` and the workers wake.
    /// Answers the connector's status; none for an unknown id or another tenant's.
    pub async fn set_connector_settings(
        &self,
        tenant: TenantId,
        id: ConnectorId,
        settings: ConnectorSettings,
    ) -> Result<Option<ConnectorStatus>, sqlx::Error> {
        let back = next_status(OperationStatus::AwaitingSystem, Event::SystemBack)
            .unwrap_or(OperationStatus::Pending);
        let updated = store::set_fault_settings(
            self.pool(),
            tenant,
            id,
            &settings,
            (OperationStatus::AwaitingSystem, back),
            "The connector is back online: back in the queue",
            Utc::now(),
        )
        .await?;
        if let Some((status, released)) = updated {
            if released > 0 {
                tracing::info!(connector = %id, released, "connector back online");
                self.wake();
            }
            return Ok(Some(status));
        }
        Ok(None)
    }
}

/// Why `event` cannot apply to an operation in `state`, naming its status, who resolved it and when.
fn refusal(event: Event, state: &RefusedState) -> String {
    let allowed = sources(event)
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" or ");
    let verb = match event {
        Event::Retry => "retried",
        Event::Cancel => "cancelled",
        Event::Resolve => "resolved",
        _ => "changed",
    };
    let mut current = format!("the operation is {}", state.status);
    if state.status == OperationStatus::Resolved {
        current = match (&state.resolved_by, state.resolved_at) {
            (Some((_, Some(email))), Some(at)) => {
                format!(
                    "the operation was already resolved by {email} at {}",
                    store::ts(at)
                )
            }
            (Some((id, None)), Some(at)) => {
                format!(
                    "the operation was already resolved by user {id} at {}",
                    store::ts(at)
                )
            }
            _ => "the operation was already resolved".to_owned(),
        };
    }
    format!("{current}; only {allowed} operations can be {verb}")
}

/// The idempotency key derived from an operation's content: connector, user, type, object class, target uid
/// and payload (its keys sorted, so the order they were sent in does not matter), hashed.
pub fn content_key(request: &OperationRequest) -> String {
    let mut canonical = String::new();
    canonical_json(&request.payload, &mut canonical);
    let mut hasher = Sha256::new();
    for part in [
        request.connector_id.to_string().as_str(),
        request.user_id.to_string().as_str(),
        request.operation_type.as_str(),
        request.object_class.as_str(),
        request.target_uid.as_deref().unwrap_or(""),
        canonical.as_str(),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0x1f]);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("content:{hex}")
}

/// JSON with object keys sorted at every level.
fn canonical_json(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<_> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (n, key) in keys.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(key) {
                    canonical_json(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                canonical_json(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;

    fn request(payload: serde_json::Value) -> OperationRequest {
        OperationRequest {
            tenant_id: TenantId(Uuid::from_u128(1)),
            connector_id: ConnectorId(Uuid::from_u128(2)),
            user_id: UserId(Uuid::from_u128(3)),
            operation_type: OperationType::Update,
            object_class: "user".into(),
            target_uid: Some("ada".into()),
            payload,
            priority: None,
            max_retries: None,
            idempotency_key: None,
        }
    }

    #[test]
    fn the_content_key_ignores_key_order_and_nothing_else() {
        let a = content_key(&request(
            json!({"title": "Lead", "groups": ["x", {"b": 1, "a": 2}]}),
        ));
        let b = content_key(&request(
            json!({"groups": ["x", {"a": 2, "b": 1}], "title": "Lead"}),
        ));
        assert_eq!(a, b);
        assert!(a.starts_with("content:") && a.len() == "content:".len() + 64);
        let other_payload = content_key(&request(json!({"title": "Engineer"})));
        assert_ne!(a, other_payload);
        let mut other_type = request(json!({"title": "Lead", "groups": ["x", {"b": 1, "a": 2}]}));
        other_type.operation_type = OperationType::Create;
        assert_ne!(a, content_key(&other_type));
        let mut other_uid = request(json!({"title": "Lead", "groups": ["x", {"b": 1, "a": 2}]}));
        other_uid.target_uid = None;
        assert_ne!(a, content_key(&other_uid));
    }

    #[test]
    fn refusals_name_the_status_and_the_resolver() {
        let pending = RefusedState {
            status: OperationStatus::Pending,
            resolved_by: None,
            resolved_at: None,
        };
        assert_eq!(
            refusal(Event::Retry, &pending),
            "the operation is pending; only failed or dead_letter operations can be retried"
        );
        assert_eq!(
            refusal(Event::Resolve, &pending),
            "the operation is pending; only dead_letter operations can be resolved"
        );
        let at = DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let resolved = RefusedState {
            status: OperationStatus::Resolved,
            resolved_by: Some((UserId(Uuid::from_u128(9)), Some("admin@demo.local".into()))),
            resolved_at: at,
        };
        assert_eq!(
            refusal(Event::Resolve, &resolved),
            "the operation was already resolved by admin@demo.local at 2026-11-24T10:00:00.000000Z; \
             only dead_letter operations can be resolved"
        );
    }
}
