//! Provisioning operations, their attempts and logs, queue statistics and conflicts.

use chrono::{DateTime, Utc};
use dto::{
    ConflictId, ConnectorId, EntryId, ExecutionAttempt, OperationId, OperationLog, OperationQuery,
    PageRequest, ProvisioningOperation, QueueStatistics, TenantId, UserId,
};
use enums::{ConflictOutcome, OperationStatus};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::{
    count, page_binds, parse_enum, parse_id, parse_json, parse_opt_id, parse_opt_time, parse_time,
    ts,
};

#[derive(FromRow)]
struct OperationRow {
    id: String,
    tenant_id: String,
    connector_id: String,
    connector_name: Option<String>,
    user_id: String,
    operation_type: String,
    object_class: String,
    target_uid: Option<String>,
    status: String,
    priority: i32,
    retry_count: i32,
    max_retries: i32,
    error_message: Option<String>,
    payload: String,
    idempotency_key: String,
    next_retry_at: Option<String>,
    created_at: String,
    updated_at: String,
    started_at: Option<String>,
    completed_at: Option<String>,
    resolution_notes: Option<String>,
    resolved_by: Option<String>,
    resolved_at: Option<String>,
}

impl TryFrom<OperationRow> for ProvisioningOperation {
    type Error = sqlx::Error;

    fn try_from(row: OperationRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: parse_id(&row.id)?,
            tenant_id: parse_id(&row.tenant_id)?,
            connector_id: parse_id(&row.connector_id)?,
            connector_name: row.connector_name,
            user_id: parse_id(&row.user_id)?,
            operation_type: parse_enum(&row.operation_type)?,
            object_class: row.object_class,
            target_uid: row.target_uid,
            status: parse_enum(&row.status)?,
            priority: row.priority,
            retry_count: row.retry_count,
            max_retries: row.max_retries,
            error_message: row.error_message,
            payload: Some(parse_json(&row.payload)?),
            idempotency_key: Some(row.idempotency_key),
            next_retry_at: parse_opt_time(row.next_retry_at.as_deref())?,
            created_at: parse_time(&row.created_at)?,
            updated_at: parse_time(&row.updated_at)?,
            started_at: parse_opt_time(row.started_at.as_deref())?,
            completed_at: parse_opt_time(row.completed_at.as_deref())?,
            resolution_notes: row.resolution_notes,
            resolved_by: parse_opt_id(row.resolved_by.as_deref())?,
            resolved_at: parse_opt_time(row.resolved_at.as_deref())?,
        })
    }
}

/// Appends `WHERE ...` for the tenant and every filter of `query` (its page is not read).
fn push_filters(sql: &mut QueryBuilder<'_, Sqlite>, tenant: TenantId, query: &OperationQuery) {
    sql.push(" WHERE o.tenant_id = ")
        .push_bind(tenant.to_string());
    if let Some(connector) = query.connector_id {
        sql.push(" AND o.connector_id = ")
            .push_bind(connector.to_string());
    }
    if let Some(user) = query.user_id {
        sql.push(" AND o.user_id = ").push_bind(user.to_string());
    }
    if let Some(status) = query.status {
        sql.push(" AND o.status = ").push_bind(status.as_str());
    }
    if let Some(kind) = query.operation_type {
        sql.push(" AND o.operation_type = ")
            .push_bind(kind.as_str());
    }
    if let Some(from) = query.from_date {
        sql.push(" AND o.created_at >= ").push_bind(ts(from));
    }
    if let Some(to) = query.to_date {
        sql.push(" AND o.created_at <= ").push_bind(ts(to));
    }
}

/// A page of the tenant's operations matching `query`, newest first, with connector names, and how many match.
pub async fn list_operations(
    pool: &SqlitePool,
    tenant: TenantId,
    query: &OperationQuery,
    page: PageRequest,
) -> Result<(Vec<ProvisioningOperation>, u64), sqlx::Error> {
    let (limit, offset) = page_binds(page);
    // One read transaction: the page and the total come from the same snapshot.
    let mut tx = pool.begin().await?;
    let mut sql = QueryBuilder::new(
        "SELECT o.id, o.tenant_id, o.connector_id, c.name AS connector_name, o.user_id, o.operation_type,
                o.object_class, o.target_uid, o.status, o.priority, o.retry_count, o.max_retries, o.error_message,
                o.payload, o.idempotency_key, o.next_retry_at, o.created_at, o.updated_at, o.started_at,
                o.completed_at, o.resolution_notes, o.resolved_by, o.resolved_at
         FROM operations o LEFT JOIN connectors c ON c.id = o.connector_id AND c.tenant_id = o.tenant_id",
    );
    push_filters(&mut sql, tenant, query);
    sql.push(" ORDER BY o.created_at DESC, o.id DESC LIMIT ")
        .push_bind(limit);
    sql.push(" OFFSET ").push_bind(offset);
    let rows: Vec<OperationRow> = sql.build_query_as().fetch_all(&mut *tx).await?;

    let mut total = QueryBuilder::new("SELECT COUNT(*) FROM operations o");
    push_filters(&mut total, tenant, query);
    let total: i64 = total.build_query_scalar().fetch_one(&mut *tx).await?;
    tx.commit().await?;

    let operations = rows
        .into_iter()
        .map(ProvisioningOperation::try_from)
        .collect::<Result<_, _>>()?;
    Ok((operations, count(total)))
}

/// Counts per status, mean processing time of completed operations, and the success rate, for the tenant or
/// one of its connectors.
pub async fn queue_statistics(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: Option<ConnectorId>,
) -> Result<QueueStatistics, sqlx::Error> {
    let scope = OperationQuery {
        connector_id: connector,
        ..OperationQuery::default()
    };
    let mut tx = pool.begin().await?;
    let mut sql = QueryBuilder::new("SELECT o.status, COUNT(*) FROM operations o");
    push_filters(&mut sql, tenant, &scope);
    sql.push(" GROUP BY o.status");
    let counts: Vec<(String, i64)> = sql.build_query_as().fetch_all(&mut *tx).await?;

    // julianday() reads RFC 3339 with a `Z`; its difference is in days.
    let mut sql = QueryBuilder::new(
        "SELECT AVG((julianday(o.completed_at) - julianday(o.started_at)) * 86400.0) FROM operations o",
    );
    push_filters(&mut sql, tenant, &scope);
    sql.push(
        " AND o.status = 'completed' AND o.started_at IS NOT NULL AND o.completed_at IS NOT NULL",
    );
    let avg_processing_time_secs: Option<f64> =
        sql.build_query_scalar().fetch_one(&mut *tx).await?;
    tx.commit().await?;

    let mut stats = QueueStatistics {
        avg_processing_time_secs,
        ..QueueStatistics::default()
    };
    for (status, n) in counts {
        let n = count(n);
        match parse_enum::<OperationStatus>(&status)? {
            OperationStatus::Pending => stats.pending = n,
            OperationStatus::InProgress => stats.in_progress = n,
            OperationStatus::Completed => stats.completed = n,
            OperationStatus::Failed => stats.failed = n,
            OperationStatus::DeadLetter => stats.dead_letter = n,
            OperationStatus::AwaitingSystem => stats.awaiting_system = n,
            OperationStatus::Resolved | OperationStatus::Cancelled => {}
        }
    }
    stats.success_rate = success_rate(&stats);
    Ok(stats)
}

/// Percentage of operations whose execution settled that succeeded: completed over completed, failed and dead
/// letter. None when none has settled yet (xavyo-idp answers 100 there, which reads as a claim).
pub fn success_rate(stats: &QueueStatistics) -> Option<f64> {
    let settled = stats.completed + stats.failed + stats.dead_letter;
    (settled > 0).then(|| stats.completed as f64 * 100.0 / settled as f64)
}

/// Where a worker's lease on an operation stands.
#[derive(Debug, Clone)]
pub struct Lease {
    /// The worker holding it.
    pub owner: String,
    /// When another worker may take the operation over.
    pub expires_at: DateTime<Utc>,
}

/// Stores an operation as given (its `connector_name` is not stored: it is joined on read).
pub async fn insert_operation(
    conn: &mut SqliteConnection,
    op: &ProvisioningOperation,
    idempotency_key: &str,
    lease: Option<&Lease>,
) -> Result<(), sqlx::Error> {
    let payload = op.payload.clone().unwrap_or_else(|| serde_json::json!({}));
    sqlx::query(
        "INSERT INTO operations (id, tenant_id, connector_id, user_id, operation_type, object_class, target_uid,
                                 status, priority, retry_count, max_retries, error_message, payload,
                                 idempotency_key, next_retry_at, lease_owner, lease_expires_at, created_at,
                                 updated_at, started_at, completed_at, resolution_notes, resolved_by, resolved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(op.id.to_string())
    .bind(op.tenant_id.to_string())
    .bind(op.connector_id.to_string())
    .bind(op.user_id.to_string())
    .bind(op.operation_type.as_str())
    .bind(&op.object_class)
    .bind(&op.target_uid)
    .bind(op.status.as_str())
    .bind(op.priority)
    .bind(op.retry_count)
    .bind(op.max_retries)
    .bind(&op.error_message)
    .bind(payload.to_string())
    .bind(idempotency_key)
    .bind(op.next_retry_at.map(ts))
    .bind(lease.map(|l| l.owner.clone()))
    .bind(lease.map(|l| ts(l.expires_at)))
    .bind(ts(op.created_at))
    .bind(ts(op.updated_at))
    .bind(op.started_at.map(ts))
    .bind(op.completed_at.map(ts))
    .bind(&op.resolution_notes)
    .bind(op.resolved_by.map(|id| id.to_string()))
    .bind(op.resolved_at.map(ts))
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores one execution attempt of an operation under the row id `id`.
pub async fn insert_attempt(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    operation: OperationId,
    id: EntryId,
    attempt: &ExecutionAttempt,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO operation_attempts (id, tenant_id, operation_id, attempt_number, started_at, completed_at,
                                         success, error_code, error_message, duration_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.to_string())
    .bind(tenant.to_string())
    .bind(operation.to_string())
    .bind(attempt.attempt_number)
    .bind(ts(attempt.started_at))
    .bind(attempt.completed_at.map(ts))
    .bind(attempt.success)
    .bind(&attempt.error_code)
    .bind(&attempt.error_message)
    .bind(attempt.duration_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores one log line of an operation.
pub async fn insert_log(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    log: &OperationLog,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO operation_logs (id, tenant_id, operation_id, timestamp, level, message)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(log.id.to_string())
    .bind(tenant.to_string())
    .bind(log.operation_id.to_string())
    .bind(ts(log.timestamp))
    .bind(&log.level)
    .bind(&log.message)
    .execute(conn)
    .await?;
    Ok(())
}

/// A conflict between two operations to store.
#[derive(Debug, Clone)]
pub struct NewConflict {
    /// Its id.
    pub id: ConflictId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// First operation.
    pub operation_id_a: OperationId,
    /// Second operation.
    pub operation_id_b: OperationId,
    /// e.g. `concurrent_update`, `stale_data`, `missing_target`, `external_change`.
    pub conflict_type: String,
    /// Attributes both operations touch.
    pub affected_attributes: Vec<String>,
    /// How it was settled; none while pending.
    pub outcome: Option<ConflictOutcome>,
    /// Notes written when settled.
    pub notes: Option<String>,
    /// Detected at.
    pub created_at: DateTime<Utc>,
    /// Settled at.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Settled by.
    pub resolved_by: Option<UserId>,
}

/// Stores a conflict; its status is `resolved` when it has an outcome, else `pending`.
pub async fn insert_conflict(
    conn: &mut SqliteConnection,
    conflict: &NewConflict,
) -> Result<(), sqlx::Error> {
    let attributes = serde_json::to_string(&conflict.affected_attributes)
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    let status = if conflict.outcome.is_some() {
        "resolved"
    } else {
        "pending"
    };
    sqlx::query(
        "INSERT INTO conflicts (id, tenant_id, operation_id_a, operation_id_b, conflict_type, affected_attributes,
                                status, outcome, notes, created_at, resolved_at, resolved_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(conflict.id.to_string())
    .bind(conflict.tenant_id.to_string())
    .bind(conflict.operation_id_a.to_string())
    .bind(conflict.operation_id_b.to_string())
    .bind(&conflict.conflict_type)
    .bind(attributes)
    .bind(status)
    .bind(conflict.outcome.map(|o| o.as_str()))
    .bind(&conflict.notes)
    .bind(ts(conflict.created_at))
    .bind(conflict.resolved_at.map(ts))
    .bind(conflict.resolved_by.map(|id| id.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}
