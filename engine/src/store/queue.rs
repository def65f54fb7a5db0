//! The queue's SQL: enqueue with idempotency, claim under a lease, renew and reap leases, write attempts back,
//! and the admin actions as conditional updates. Which status may go where is decided by
//! `queue::lifecycle`; these functions take the allowed source statuses as arguments.
//!
//! Every writing function runs in a `BEGIN IMMEDIATE` transaction: it takes SQLite's write lock before it reads,
//! so what it checks cannot change before it writes, and two workers never claim the same operation.

use chrono::{DateTime, Utc};
use dto::{
    ConnectorId, EntryId, ExecutionAttempt, OperationId, ProvisioningOperation, TenantId, UserId,
};
use enums::{ConnectorStatus, OperationStatus, OperationType};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqlitePool, Transaction};
use uuid::Uuid;

use super::{
    get_operation, parse_enum, parse_id, parse_json, parse_opt_id, parse_opt_time, parse_time, ts,
};
use crate::connector::{ConnectorSettings, ConnectorTarget};

/// Opens a transaction holding SQLite's write lock from its first statement.
pub async fn begin_write(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// `'a', 'b'` for an SQL `IN (...)` list of statuses (their spellings are fixed identifiers, never input).
fn status_list(statuses: &[OperationStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The level of an operation log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Normal progress.
    Info,
    /// Something went wrong and will be retried, or waits.
    Warn,
    /// Something went wrong for good.
    Error,
}

impl LogLevel {
    /// `info`, `warn` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// A log line to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLog {
    /// When it happened.
    pub at: DateTime<Utc>,
    /// How bad it is.
    pub level: LogLevel,
    /// What happened.
    pub message: String,
}

impl NewLog {
    /// A line at `at`.
    pub fn new(at: DateTime<Utc>, level: LogLevel, message: impl Into<String>) -> Self {
        Self {
            at,
            level,
            message: message.into(),
        }
    }
}

/// Writes log lines of one operation.
pub(super) async fn insert_logs(
    conn: &mut SqliteConnection,
    lines: &[(TenantId, OperationId, &NewLog)],
) -> Result<(), sqlx::Error> {
    if lines.is_empty() {
        return Ok(());
    }
    let mut sql = QueryBuilder::new(
        "INSERT INTO operation_logs (id, tenant_id, operation_id, timestamp, level, message) ",
    );
    sql.push_values(lines, |mut row, (tenant, operation, log)| {
        row.push_bind(Uuid::new_v4().to_string())
            .push_bind(tenant.to_string())
            .push_bind(operation.to_string())
            .push_bind(ts(log.at))
            .push_bind(log.level.as_str())
            .push_bind(log.message.clone());
    });
    sql.build().execute(conn).await?;
    Ok(())
}

/// How an enqueued operation is deduplicated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyKey {
    /// Given by the caller: a second enqueue with it answers the first operation, whatever became of it.
    Given(String),
    /// Derived from the content: answers the first operation while it is still in flight (or waiting in the
    /// dead-letter queue); once it is settled (completed, cancelled, resolved) the same change may be queued
    /// again, and the settled one keeps its key suffixed with its id.
    Derived(String),
}

impl IdempotencyKey {
    /// The key as stored.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Given(key) | Self::Derived(key) => key,
        }
    }
}

/// An operation to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOperation {
    /// Its id, if it is new.
    pub id: OperationId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Target connector (must be the tenant's).
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
    /// Higher runs first.
    pub priority: i32,
    /// Failed attempts before the dead-letter queue.
    pub max_retries: i32,
    /// Deduplication key.
    pub idempotency_key: IdempotencyKey,
    /// Enqueued at.
    pub created_at: DateTime<Utc>,
}

/// What an enqueue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new operation was queued.
    Created(OperationId),
    /// An operation with the same idempotency key was there already; nothing was queued.
    Existing(OperationId),
}

impl Enqueued {
    /// The operation's id.
    pub const fn id(self) -> OperationId {
        match self {
            Self::Created(id) | Self::Existing(id) => id,
        }
    }
}

/// Why operations could not be enqueued.
#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    /// The tenant has no such connector; nothing was enqueued.
    #[error("connector {0} not found")]
    UnknownConnector(ConnectorId),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Enqueues `operations` in one transaction (all or none), each `pending` with a first log line, or answers
/// the operation already holding its idempotency key.
pub async fn enqueue_operations(
    pool: &SqlitePool,
    operations: &[NewOperation],
) -> Result<Vec<Enqueued>, EnqueueError> {
    let mut tx = begin_write(pool).await?;
    let mut connectors: Vec<(ConnectorId, TenantId, String, ConnectorStatus)> = Vec::new();
    let mut results = Vec::with_capacity(operations.len());
    for op in operations {
        let known = connectors
            .iter()
            .find(|(id, tenant, ..)| *id == op.connector_id && *tenant == op.tenant_id)
            .cloned();
        let (_, _, name, status) = match known {
            Some(found) => found,
            None => {
                let row: Option<(String, String)> = sqlx::query_as(
                    "SELECT name, status FROM connectors WHERE id = ? AND tenant_id = ?",
                )
                .bind(op.connector_id.to_string())
                .bind(op.tenant_id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
                let (name, status) = row.ok_or(EnqueueError::UnknownConnector(op.connector_id))?;
                let found = (op.connector_id, op.tenant_id, name, parse_enum(&status)?);
                connectors.push(found.clone());
                found
            }
        };
        let existing: Option<(String, String)> = sqlx::query_as(
            "SELECT id, status FROM operations WHERE tenant_id = ? AND idempotency_key = ?",
        )
        .bind(op.tenant_id.to_string())
        .bind(op.idempotency_key.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id, status)) = existing {
            let settled = matches!(
                parse_enum::<OperationStatus>(&status)?,
                OperationStatus::Completed | OperationStatus::Cancelled | OperationStatus::Resolved
            );
            if !(settled && matches!(op.idempotency_key, IdempotencyKey::Derived(_))) {
                results.push(Enqueued::Existing(parse_id(&id)?));
                continue;
            }
            sqlx::query(
                "UPDATE operations SET idempotency_key = idempotency_key || ':' || id WHERE id = ?",
            )
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO operations (id, tenant_id, connector_id, user_id, operation_type, object_class, target_uid,
                                     status, priority, retry_count, max_retries, payload, idempotency_key,
                                     created_at, updated_at, target_key)
             VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?, ?, ?, ?, ?)",
        )
        .bind(op.id.to_string())
        .bind(op.tenant_id.to_string())
        .bind(op.connector_id.to_string())
        .bind(op.user_id.to_string())
        .bind(op.operation_type.as_str())
        .bind(&op.object_class)
        .bind(&op.target_uid)
        .bind(op.priority)
        .bind(op.max_retries)
        .bind(op.payload.to_string())
        .bind(op.idempotency_key.as_str())
        .bind(ts(op.created_at))
        .bind(ts(op.created_at))
        .bind(crate::conflicts::target_key(
            op.operation_type,
            op.target_uid.as_deref(),
            &op.payload,
        ))
        .execute(&mut *tx)
        .await?;
        let mut logs = vec![NewLog::new(
            op.created_at,
            LogLevel::Info,
            format!(
                "Queued: {} on {name} (priority {})",
                op.operation_type, op.priority
            ),
        )];
        if status == ConnectorStatus::Disabled {
            logs.push(NewLog::new(
                op.created_at,
                LogLevel::Warn,
                format!("{name} is disabled: the operation waits until it is enabled again"),
            ));
        }
        let lines: Vec<_> = logs.iter().map(|l| (op.tenant_id, op.id, l)).collect();
        insert_logs(&mut tx, &lines).await?;
        results.push(Enqueued::Created(op.id));
    }
    tx.commit().await?;
    Ok(results)
}

#[derive(FromRow)]
struct ClaimedRow {
    id: String,
    tenant_id: String,
    connector_id: String,
    user_id: String,
    operation_type: String,
    object_class: String,
    target_uid: Option<String>,
    payload: String,
    priority: i32,
    retry_count: i32,
    max_retries: i32,
    created_at: String,
    attempts: i32,
}

/// An operation a worker holds the lease of.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedOperation {
    /// Its id.
    pub id: OperationId,
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
    /// The attributes.
    pub payload: serde_json::Value,
    /// Higher runs first.
    pub priority: i32,
    /// Failed attempts so far.
    pub retry_count: i32,
    /// Failed attempts allowed.
    pub max_retries: i32,
    /// Enqueued at.
    pub created_at: DateTime<Utc>,
    /// Attempts recorded so far (the next one is numbered one more).
    pub attempts: i32,
}

impl TryFrom<ClaimedRow> for ClaimedOperation {
    type Error = sqlx::Error;

    fn try_from(row: ClaimedRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: parse_id(&row.id)?,
            tenant_id: parse_id(&row.tenant_id)?,
            connector_id: parse_id(&row.connector_id)?,
            user_id: parse_id(&row.user_id)?,
            operation_type: parse_enum(&row.operation_type)?,
            object_class: row.object_class,
            target_uid: row.target_uid,
            payload: parse_json(&row.payload)?,
            priority: row.priority,
            retry_count: row.retry_count,
            max_retries: row.max_retries,
            created_at: parse_time(&row.created_at)?,
            attempts: row.attempts,
        })
    }
}

/// Claims up to `limit` due operations for `owner` until `lease_until`: those in a status of `claimable` —
/// `failed` ones only once `next_retry_at` has come — whose connector is not disabled and that no conflict
/// holds, highest priority first, then oldest. A pending candidate that collides with an earlier active
/// operation on its account is held instead (a conflict is recorded, see [`super::hold_conflicting`]), in the
/// same transaction, so two workers can never both run colliding operations. Answers the claimed in order.
pub async fn claim_operations(
    pool: &SqlitePool,
    owner: &str,
    claimable: &[OperationStatus],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedOperation>, sqlx::Error> {
    // The partial index `operations_claim` (migration 0002) walks due work in claim order and stops after a
    // batch; left to itself the planner prefers an equality lookup on status and sorts every pending row.
    // `o.status IN (...)` is the index's own condition, so it applies.
    let select = format!(
        "SELECT o.id FROM operations o INDEXED BY operations_claim
         WHERE o.status IN ({statuses})
           AND (o.status <> 'failed' OR o.next_retry_at <= ?1)
           AND o.held_by_conflict IS NULL
           AND NOT EXISTS (SELECT 1 FROM connectors c WHERE c.id = o.connector_id AND c.status = 'disabled')
         ORDER BY o.priority DESC, o.created_at, o.id
         LIMIT ?2",
        statuses = status_list(claimable)
    );
    let mut tx = begin_write(pool).await?;
    let mut ids: Vec<String> = Vec::new();
    loop {
        let candidates: Vec<String> = sqlx::query_scalar(&select)
            .bind(ts(now))
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let found = candidates.len();
        // The ones taken in an earlier round are still pending until the UPDATE below.
        let fresh: Vec<String> = candidates
            .into_iter()
            .filter(|id| !ids.contains(id))
            .collect();
        let held = super::hold_conflicting(&mut tx, &fresh, now).await?;
        ids.extend(fresh.into_iter().filter(|id| !held.contains(id)));
        // Held ones (now out of the select) leave a gap in the batch: look again, unless the queue ran dry.
        if held.is_empty() || found < usize::try_from(limit).unwrap_or(usize::MAX) {
            break;
        }
    }
    if ids.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    let mut sql = QueryBuilder::new(
        "UPDATE operations
         SET status = 'in_progress', lease_owner = ",
    );
    sql.push_bind(owner)
        .push(", lease_expires_at = ")
        .push_bind(ts(lease_until))
        .push(", started_at = ")
        .push_bind(ts(now))
        .push(", updated_at = ")
        .push_bind(ts(now))
        .push(" WHERE id IN (");
    let mut list = sql.separated(", ");
    for id in &ids {
        list.push_bind(id.clone());
    }
    sql.push(
        ") RETURNING id, tenant_id, connector_id, user_id, operation_type, object_class, target_uid, payload,
                   priority, retry_count, max_retries, created_at,
                   (SELECT COALESCE(MAX(a.attempt_number), 0) FROM operation_attempts a
                     WHERE a.operation_id = operations.id) AS attempts",
    );
    let rows: Vec<ClaimedRow> = sql.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let mut claimed = rows
        .into_iter()
        .map(ClaimedOperation::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    // RETURNING has no order of its own.
    claimed.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.created_at.cmp(&b.created_at))
            .then(a.id.cmp(&b.id))
    });
    Ok(claimed)
}

/// Extends every lease `owner` holds to `until`; answers how many.
pub async fn renew_leases(
    pool: &SqlitePool,
    owner: &str,
    until: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE operations SET lease_expires_at = ? WHERE status = 'in_progress' AND lease_owner = ?",
    )
    .bind(ts(until))
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Returns the in-progress operations whose lease ran out before `now` to `to` (pending), with a log line each:
/// their worker stopped without finishing them. Answers their ids.
pub async fn reap_expired_leases(
    pool: &SqlitePool,
    to: OperationStatus,
    now: DateTime<Utc>,
) -> Result<Vec<OperationId>, sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "UPDATE operations SET status = ?1, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?2
         WHERE status = 'in_progress' AND lease_expires_at < ?2
         RETURNING id, tenant_id",
    )
    .bind(to.as_str())
    .bind(ts(now))
    .fetch_all(&mut *tx)
    .await?;
    let log = NewLog::new(
        now,
        LogLevel::Warn,
        "The worker's lease ran out before it finished (it stopped or crashed): back in the queue",
    );
    let mut ids = Vec::with_capacity(rows.len());
    let mut lines = Vec::with_capacity(rows.len());
    for (id, tenant) in &rows {
        let id: OperationId = parse_id(id)?;
        lines.push((parse_id(tenant)?, id, &log));
        ids.push(id);
    }
    insert_logs(&mut tx, &lines).await?;
    tx.commit().await?;
    Ok(ids)
}

/// How a worker leaves an operation it held.
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The operation.
    pub operation_id: OperationId,
    /// Its tenant.
    pub tenant_id: TenantId,
    /// Its new status.
    pub status: OperationStatus,
    /// Failed attempts counted.
    pub retry_count: i32,
    /// When a failed one is tried again.
    pub next_retry_at: Option<DateTime<Utc>>,
    /// The last error; none after a success (kept as it was when no attempt was made).
    pub error_message: Option<String>,
    /// The account's id in the target, when the attempt learned it (kept otherwise).
    pub target_uid: Option<String>,
    /// When the attempt started (kept from the claim when none).
    pub started_at: Option<DateTime<Utc>>,
    /// Completed at.
    pub completed_at: Option<DateTime<Utc>>,
    /// The attempt made; none when the operation was handed back unrun.
    pub attempt: Option<ExecutionAttempt>,
    /// Log lines to add.
    pub logs: Vec<NewLog>,
    /// When it was settled.
    pub at: DateTime<Utc>,
}

/// Writes back what `owner` did with the operations it held, in one transaction: each operation's new state,
/// attempt and log lines. An operation whose lease `owner` lost (reaped and claimed by another worker) is
/// left alone: its id is answered among the lost.
pub async fn settle_operations(
    pool: &SqlitePool,
    owner: &str,
    settled: &[Settled],
) -> Result<Vec<OperationId>, sqlx::Error> {
    if settled.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = begin_write(pool).await?;
    // One statement for the whole batch: the new states as a VALUES table, applied where the lease still holds.
    let mut applied = std::collections::HashSet::with_capacity(settled.len());
    for chunk in settled.chunks(512) {
        let mut sql = QueryBuilder::new(
            "WITH v (id, status, retry_count, next_retry_at, attempted, error_message, target_uid, started_at,
                     completed_at, updated_at) AS (",
        );
        sql.push_values(chunk, |mut row, s| {
            row.push_bind(s.operation_id.to_string())
                .push_bind(s.status.as_str())
                .push_bind(s.retry_count)
                .push_bind(s.next_retry_at.map(ts))
                .push_bind(s.attempt.is_some())
                .push_bind(s.error_message.clone())
                .push_bind(s.target_uid.clone())
                .push_bind(s.started_at.map(ts))
                .push_bind(s.completed_at.map(ts))
                .push_bind(ts(s.at));
        });
        sql.push(
            ") UPDATE operations
             SET status = v.status, retry_count = v.retry_count, next_retry_at = v.next_retry_at,
                 error_message = CASE WHEN v.attempted THEN v.error_message ELSE operations.error_message END,
                 target_uid = COALESCE(v.target_uid, operations.target_uid),
                 target_key = COALESCE(v.target_uid, operations.target_uid, operations.target_key),
                 started_at = COALESCE(v.started_at, operations.started_at), completed_at = v.completed_at,
                 lease_owner = NULL, lease_expires_at = NULL, updated_at = v.updated_at
             FROM v WHERE operations.id = v.id AND operations.status = 'in_progress'
               AND operations.lease_owner = ",
        );
        sql.push_bind(owner).push(" RETURNING operations.id");
        let ids: Vec<String> = sql.build_query_scalar().fetch_all(&mut *tx).await?;
        for id in ids {
            applied.insert(parse_id::<OperationId>(&id)?);
        }
    }
    let mut lost = Vec::new();
    let mut kept: Vec<&Settled> = Vec::with_capacity(settled.len());
    for s in settled {
        if applied.contains(&s.operation_id) {
            kept.push(s);
        } else {
            lost.push(s.operation_id);
        }
    }
    let attempts: Vec<_> = kept
        .iter()
        .filter_map(|s| s.attempt.as_ref().map(|a| (*s, a)))
        .collect();
    if !attempts.is_empty() {
        let mut sql = QueryBuilder::new(
            "INSERT INTO operation_attempts (id, tenant_id, operation_id, attempt_number, started_at, completed_at,
                                             success, error_code, error_message, duration_ms) ",
        );
        sql.push_values(&attempts, |mut row, (s, a)| {
            row.push_bind(EntryId(Uuid::new_v4()).to_string())
                .push_bind(s.tenant_id.to_string())
                .push_bind(s.operation_id.to_string())
                .push_bind(a.attempt_number)
                .push_bind(ts(a.started_at))
                .push_bind(a.completed_at.map(ts))
                .push_bind(a.success)
                .push_bind(a.error_code.clone())
                .push_bind(a.error_message.clone())
                .push_bind(a.duration_ms);
        });
        sql.build().execute(&mut *tx).await?;
    }
    let lines: Vec<_> = kept
        .iter()
        .flat_map(|s| s.logs.iter().map(|l| (s.tenant_id, s.operation_id, l)))
        .collect();
    // SQLite binds at most 32766 values a statement: 6 a line.
    for chunk in lines.chunks(4096) {
        insert_logs(&mut tx, chunk).await?;
    }
    let completed: Vec<String> = kept
        .iter()
        .filter(|s| s.status == OperationStatus::Completed)
        .map(|s| s.operation_id.to_string())
        .collect();
    for chunk in completed.chunks(512) {
        keep_links(&mut tx, chunk, ts(settled[0].at)).await?;
    }
    tx.commit().await?;
    Ok(lost)
}

/// Keeps the links (shadows) in step with completed operations: a create links the account to the identity
/// it was made for (when that identity is the tenant's and neither side is linked yet), a delete unlinks it.
async fn keep_links(
    conn: &mut sqlx::SqliteConnection,
    operation_ids: &[String],
    now: String,
) -> Result<(), sqlx::Error> {
    let in_list = |sql: &mut QueryBuilder<'_, Sqlite>| {
        let mut list = sql.separated(", ");
        for id in operation_ids {
            list.push_bind(id.clone());
        }
    };
    let mut sql = QueryBuilder::new(
        "INSERT INTO account_links (tenant_id, connector_id, identity_id, external_uid, linked_at)
         SELECT o.tenant_id, o.connector_id, o.user_id, o.target_uid, ",
    );
    sql.push_bind(now).push(
        " FROM operations o JOIN identities i ON i.id = o.user_id AND i.tenant_id = o.tenant_id
         WHERE o.operation_type = 'create' AND o.target_uid IS NOT NULL AND o.id IN (",
    );
    in_list(&mut sql);
    sql.push(") ON CONFLICT DO NOTHING");
    sql.build().execute(&mut *conn).await?;
    let mut sql = QueryBuilder::new(
        "DELETE FROM account_links WHERE (connector_id, external_uid) IN
            (SELECT connector_id, target_uid FROM operations WHERE operation_type = 'delete' AND id IN (",
    );
    in_list(&mut sql);
    sql.push("))");
    sql.build().execute(&mut *conn).await?;
    Ok(())
}

/// A connector as the worker needs it: where to call, and whether it takes work.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorState {
    /// Where calls go.
    pub target: ConnectorTarget,
    /// `active`, `disabled` or `offline`.
    pub status: ConnectorStatus,
    /// Whether its credentials work.
    pub credentials_valid: bool,
}

#[derive(FromRow)]
struct ConnectorStateRow {
    id: String,
    tenant_id: String,
    name: String,
    connector_type: String,
    status: String,
    credentials_valid: bool,
    settings: String,
}

impl TryFrom<ConnectorStateRow> for ConnectorState {
    type Error = sqlx::Error;

    fn try_from(row: ConnectorStateRow) -> Result<Self, Self::Error> {
        Ok(Self {
            target: ConnectorTarget {
                id: parse_id(&row.id)?,
                tenant_id: parse_id(&row.tenant_id)?,
                name: row.name,
                connector_type: row.connector_type,
                settings: parse_json(&row.settings)?,
            },
            status: parse_enum(&row.status)?,
            credentials_valid: row.credentials_valid,
        })
    }
}

const CONNECTOR_STATE_SELECT: &str =
    "SELECT id, tenant_id, name, connector_type, status, credentials_valid, settings FROM connectors";

/// The connectors with these ids (of any tenant: the worker serves them all); missing ones are left out.
pub async fn connector_states(
    pool: &SqlitePool,
    ids: &[ConnectorId],
) -> Result<Vec<ConnectorState>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = QueryBuilder::new(CONNECTOR_STATE_SELECT);
    sql.push(" WHERE id IN (");
    let mut list = sql.separated(", ");
    for id in ids {
        list.push_bind(id.to_string());
    }
    sql.push(")");
    let rows: Vec<ConnectorStateRow> = sql.build_query_as().fetch_all(pool).await?;
    rows.into_iter().map(ConnectorState::try_from).collect()
}

/// The connectors that have operations in status `waiting`, with their state.
pub async fn connectors_with_waiting(
    pool: &SqlitePool,
    waiting: OperationStatus,
) -> Result<Vec<ConnectorState>, sqlx::Error> {
    let rows: Vec<ConnectorStateRow> = sqlx::query_as(&format!(
        "{CONNECTOR_STATE_SELECT} WHERE id IN (SELECT DISTINCT connector_id FROM operations WHERE status = ?)"
    ))
    .bind(waiting.as_str())
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(ConnectorState::try_from).collect()
}

/// The tenant's connector with this id, with its state; none for an unknown id or another tenant's.
pub async fn connector_state(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ConnectorId,
) -> Result<Option<ConnectorState>, sqlx::Error> {
    sqlx::query_as::<_, ConnectorStateRow>(&format!(
        "{CONNECTOR_STATE_SELECT} WHERE tenant_id = ? AND id = ?"
    ))
    .bind(tenant.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?
    .map(ConnectorState::try_from)
    .transpose()
}

/// Writes fault settings into the tenant's connector's settings (other keys kept) and sets its status with
/// them: a disabled connector stays disabled, otherwise `offline` when `settings.offline`, else `active`. When
/// it ends `active`, its operations in `release.0` move to `release.1` with `message` logged. One transaction.
/// Answers the status and how many operations moved; none when the tenant has no such connector.
pub async fn set_fault_settings(
    pool: &SqlitePool,
    tenant: TenantId,
    id: ConnectorId,
    settings: &ConnectorSettings,
    release: (OperationStatus, OperationStatus),
    message: &str,
    now: DateTime<Utc>,
) -> Result<Option<(ConnectorStatus, u64)>, sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    let status: Option<String> = sqlx::query_scalar(
        "UPDATE connectors
         SET settings = json_set(settings, '$.offline', json(CASE ?1 WHEN 1 THEN 'true' ELSE 'false' END),
                                 '$.error_rate', ?2, '$.latency_ms', ?3),
             status = CASE WHEN status = 'disabled' THEN 'disabled' WHEN ?1 = 1 THEN 'offline' ELSE 'active' END,
             updated_at = ?4
         WHERE tenant_id = ?5 AND id = ?6
         RETURNING status",
    )
    .bind(settings.offline)
    .bind(settings.error_rate)
    .bind(i64::try_from(settings.latency_ms).unwrap_or(i64::MAX))
    .bind(ts(now))
    .bind(tenant.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(status) = status else {
        return Ok(None);
    };
    let status: ConnectorStatus = parse_enum(&status)?;
    let moved = if status == ConnectorStatus::Active {
        move_waiting(&mut tx, id, release.0, release.1, message, now).await?
    } else {
        0
    };
    tx.commit().await?;
    Ok(Some((status, moved)))
}

/// Sets the status of a connector (operator configuration; the demo disables Legacy HR with it).
pub async fn set_connector_status(
    pool: &SqlitePool,
    id: ConnectorId,
    status: ConnectorStatus,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE connectors SET status = ?, updated_at = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(ts(now))
        .bind(id.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// The earliest `next_retry_at` of the operations in status `waiting` whose connector takes work (not
/// disabled).
pub async fn next_retry_due(
    pool: &SqlitePool,
    waiting: OperationStatus,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    let at: Option<String> = sqlx::query_scalar(
        "SELECT MIN(o.next_retry_at) FROM operations o JOIN connectors c ON c.id = o.connector_id
         WHERE o.status = ? AND c.status <> 'disabled'",
    )
    .bind(waiting.as_str())
    .fetch_one(pool)
    .await?;
    parse_opt_time(at.as_deref())
}

/// Moves the connector's operations in status `from` to `to` (the connector came back), with a log line each.
pub async fn release_waiting(
    pool: &SqlitePool,
    connector: ConnectorId,
    from: OperationStatus,
    to: OperationStatus,
    message: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    let moved = move_waiting(&mut tx, connector, from, to, message, now).await?;
    tx.commit().await?;
    Ok(moved)
}

async fn move_waiting(
    conn: &mut SqliteConnection,
    connector: ConnectorId,
    from: OperationStatus,
    to: OperationStatus,
    message: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "UPDATE operations SET status = ?, updated_at = ? WHERE connector_id = ? AND status = ?
         RETURNING id, tenant_id",
    )
    .bind(to.as_str())
    .bind(ts(now))
    .bind(connector.to_string())
    .bind(from.as_str())
    .fetch_all(&mut *conn)
    .await?;
    let log = NewLog::new(now, LogLevel::Info, message);
    let lines = rows
        .iter()
        .map(|(id, tenant)| Ok((parse_id(tenant)?, parse_id(id)?, &log)))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    for chunk in lines.chunks(4096) {
        insert_logs(conn, chunk).await?;
    }
    Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
}

/// An admin's change of an operation's status.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminChange {
    /// Back to the queue, with a fresh retry budget and no error.
    Retry,
    /// Withdrawn before it ran.
    Cancel,
    /// Settled by hand.
    Resolve {
        /// Who resolved it.
        by: UserId,
        /// Why.
        notes: Option<String>,
    },
}

/// The state of an operation an admin change was refused on.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusedState {
    /// Its status.
    pub status: OperationStatus,
    /// Who resolved it, with their email when the account still exists.
    pub resolved_by: Option<(UserId, Option<String>)>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
}

/// What an admin change did.
#[derive(Debug, Clone, PartialEq)]
pub enum AdminOutcome {
    /// Applied; the operation as it is now.
    Applied(Box<ProvisioningOperation>),
    /// The tenant has no such operation.
    NotFound,
    /// Its status does not allow the change; nothing changed.
    Refused(RefusedState),
    /// A retry the start gate did not admit; nothing changed.
    Gated(crate::gate::StartRefusal),
}

/// Where an admin change may leave from, where it goes, and what it logs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdminMove<'a> {
    /// The statuses it applies to.
    pub from: &'a [OperationStatus],
    /// The status it leaves the operation in.
    pub to: OperationStatus,
    /// The log line it adds.
    pub log: &'a str,
}

#[derive(FromRow)]
struct CurrentRow {
    status: String,
    resolved_by: Option<String>,
    resolved_at: Option<String>,
    email: Option<String>,
}

/// The start gate's answer to retrying the operation, when its status allows a retry at all (otherwise the
/// conditional UPDATE refuses it as usual).
async fn gate_retry(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: OperationId,
    from: &[OperationStatus],
) -> Result<Option<crate::gate::StartRefusal>, sqlx::Error> {
    let row: Option<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT status, connector_id, operation_type, target_uid FROM operations WHERE tenant_id = ? AND id = ?",
    )
    .bind(tenant.to_string())
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let Some((status, connector, kind, target_uid)) = row else {
        return Ok(None);
    };
    let status: OperationStatus = parse_enum(&status)?;
    if !from.contains(&status) {
        return Ok(None);
    }
    let Some(state) = connector_state(conn, tenant, parse_id(&connector)?).await? else {
        return Ok(None);
    };
    let kind = parse_enum(&kind)?;
    Ok(
        crate::gate::retry(conn, &state, id, kind, target_uid.as_deref())
            .await?
            .err(),
    )
}

/// Applies `change` to the tenant's operation along `step` only if its status is one of `step.from` — the
/// check and the write are one conditional UPDATE, so two admins cannot both apply it.
pub async fn apply_admin_change(
    pool: &SqlitePool,
    tenant: TenantId,
    id: OperationId,
    change: &AdminChange,
    step: AdminMove<'_>,
    now: DateTime<Utc>,
) -> Result<AdminOutcome, sqlx::Error> {
    let AdminMove { from, to, log } = step;
    let set = match change {
        AdminChange::Retry => {
            "retry_count = 0, next_retry_at = NULL, error_message = NULL, completed_at = NULL, \
             lease_owner = NULL, lease_expires_at = NULL"
        }
        AdminChange::Cancel => "next_retry_at = NULL, lease_owner = NULL, lease_expires_at = NULL",
        AdminChange::Resolve { .. } => "resolved_by = ?5, resolved_at = ?2, resolution_notes = ?6",
    };
    // Retry and cancel leave ?5 and ?6 unused; SQLite ignores trailing binds.
    let sql = format!(
        "UPDATE operations SET status = ?1, updated_at = ?2, {set}
         WHERE tenant_id = ?3 AND id = ?4 AND status IN ({from})",
        from = status_list(from)
    );
    let (by, notes) = match change {
        AdminChange::Resolve { by, notes } => (Some(by.to_string()), notes.clone()),
        AdminChange::Retry | AdminChange::Cancel => (None, None),
    };
    let mut tx = begin_write(pool).await?;
    if matches!(change, AdminChange::Retry) {
        if let Some(refusal) = gate_retry(&mut tx, tenant, id, from).await? {
            return Ok(AdminOutcome::Gated(refusal));
        }
    }
    let done = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(ts(now))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(by)
        .bind(notes)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        let current: Option<CurrentRow> = sqlx::query_as(
            "SELECT o.status, o.resolved_by, o.resolved_at, u.email FROM operations o
             LEFT JOIN users u ON u.id = o.resolved_by AND u.tenant_id = o.tenant_id
             WHERE o.tenant_id = ? AND o.id = ?",
        )
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        return match current {
            None => Ok(AdminOutcome::NotFound),
            Some(row) => Ok(AdminOutcome::Refused(RefusedState {
                status: parse_enum(&row.status)?,
                resolved_by: parse_opt_id::<UserId>(row.resolved_by.as_deref())?
                    .map(|id| (id, row.email)),
                resolved_at: parse_opt_time(row.resolved_at.as_deref())?,
            })),
        };
    }
    let line = NewLog::new(now, LogLevel::Info, log);
    insert_logs(&mut tx, &[(tenant, id, &line)]).await?;
    let operation = get_operation(&mut tx, tenant, id).await?;
    tx.commit().await?;
    Ok(operation.map_or(AdminOutcome::NotFound, |op| {
        AdminOutcome::Applied(Box::new(op))
    }))
}

/// Moves the recorded history of operations back in time, each by its own span: its creation, start,
/// completion, resolution and last change, its attempts and its log, and the conflicts it was held by. Scheduled times (`next_retry_at`, a
/// lease's expiry) stay, as they are still to come. Times keep their format, at millisecond precision. The
/// demo seed uses it to spread the work it ran just now over the past month.
pub async fn backdate_operations(
    pool: &SqlitePool,
    spans: &[(OperationId, chrono::Duration)],
) -> Result<(), sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("CREATE TEMP TABLE IF NOT EXISTS backdate (id TEXT PRIMARY KEY NOT NULL, modifier TEXT NOT NULL)")
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM temp.backdate")
        .execute(&mut *tx)
        .await?;
    for chunk in spans.chunks(1000) {
        let mut sql = QueryBuilder::new("INSERT INTO temp.backdate (id, modifier) ");
        sql.push_values(chunk, |mut row, (id, span)| {
            let seconds = span.num_milliseconds() as f64 / 1000.0;
            row.push_bind(id.to_string())
                .push_bind(format!("{:+.3} seconds", -seconds));
        });
        sql.build().execute(&mut *tx).await?;
    }
    // strftime's %f has milliseconds; the stored format has six digits.
    let shift = |column: &str| {
        format!(
            "{column} = CASE WHEN {column} IS NULL THEN NULL \
             ELSE strftime('%Y-%m-%dT%H:%M:%f', {column}, b.modifier) || '000Z' END"
        )
    };
    let statements = [
        format!(
            "UPDATE operations SET {}, {}, {}, {}, {} FROM temp.backdate b WHERE b.id = operations.id",
            shift("created_at"),
            shift("updated_at"),
            shift("started_at"),
            shift("completed_at"),
            shift("resolved_at")
        ),
        format!(
            "UPDATE operation_attempts SET {}, {} FROM temp.backdate b WHERE b.id = operation_attempts.operation_id",
            shift("started_at"),
            shift("completed_at")
        ),
        format!(
            "UPDATE operation_logs SET {} FROM temp.backdate b WHERE b.id = operation_logs.operation_id",
            shift("timestamp")
        ),
        // A conflict goes back with the later operation, the one it held.
        format!(
            "UPDATE conflicts SET {}, {} FROM temp.backdate b WHERE b.id = conflicts.operation_id_b",
            shift("created_at"),
            shift("resolved_at")
        ),
    ];
    for statement in statements {
        sqlx::query(&statement).execute(&mut *tx).await?;
    }
    sqlx::query("DROP TABLE temp.backdate")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
