//! Conflicts between operations: recorded (and the later operation held) by the claim, listed, and resolved
//! by an admin together with what the outcome does to the held operation. The rules are in
//! `crate::conflicts`; this is their SQL.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use dto::{
    ConflictId, ConflictQuery, OperationId, PageRequest, ProvisioningConflict, ResolveConflict,
    TenantId, UserId, CONFLICT_PENDING, CONFLICT_RESOLVED,
};
use enums::{OperationStatus, OperationType};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::queue::{begin_write, insert_logs, LogLevel, NewLog};
use super::{count, page_binds, parse_enum, parse_id, parse_json, parse_opt_id, parse_opt_time};
use super::{parse_time, ts};
use crate::conflicts::{detect, Change, HeldFate, ACTIVE};

/// `'a', 'b'` for an SQL `IN (...)` list of statuses (fixed identifiers, never input).
fn status_list(statuses: &[OperationStatus]) -> String {
    statuses
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(FromRow)]
struct Pairing {
    later: String,
    tenant_id: String,
    later_type: String,
    later_payload: String,
    earlier: String,
    earlier_type: String,
    earlier_payload: String,
}

/// Of the `candidates` a claim is about to take, holds the pending ones that collide with an earlier active
/// operation on the same connector and account (one they were not in conflict with before): records the
/// conflict with the oldest such operation, marks the candidate held by it, and logs it on both. Answers the
/// ids held. Runs inside the claim's write transaction.
pub(super) async fn hold_conflicting(
    conn: &mut SqliteConnection,
    candidates: &[String],
    now: DateTime<Utc>,
) -> Result<HashSet<String>, sqlx::Error> {
    let mut held = HashSet::new();
    if candidates.is_empty() {
        return Ok(held);
    }
    // `e.status IN (...)` is the condition of the partial index `operations_active_target` (migration 0005).
    let mut sql = QueryBuilder::<Sqlite>::new(format!(
        "SELECT c.id AS later, c.tenant_id, c.operation_type AS later_type, c.payload AS later_payload,
                e.id AS earlier, e.operation_type AS earlier_type, e.payload AS earlier_payload
         FROM operations c
         JOIN operations e ON e.connector_id = c.connector_id AND e.target_key = c.target_key
                          AND e.status IN ({active}) AND e.created_at < c.created_at
         WHERE c.status = '{pending}' AND c.target_key IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM conflicts k WHERE k.operation_id_b = c.id AND k.operation_id_a = e.id)
           AND c.id IN (",
        active = status_list(&ACTIVE),
        pending = OperationStatus::Pending.as_str(),
    ));
    let mut list = sql.separated(", ");
    for id in candidates {
        list.push_bind(id.clone());
    }
    sql.push(") ORDER BY c.id, e.created_at, e.id");
    let pairings: Vec<Pairing> = sql.build_query_as().fetch_all(&mut *conn).await?;
    for p in pairings {
        if held.contains(&p.later) {
            continue;
        }
        let earlier_payload: serde_json::Value = parse_json(&p.earlier_payload)?;
        let later_payload: serde_json::Value = parse_json(&p.later_payload)?;
        let found = detect(
            Change {
                operation_type: parse_enum::<OperationType>(&p.earlier_type)?,
                payload: &earlier_payload,
            },
            Change {
                operation_type: parse_enum::<OperationType>(&p.later_type)?,
                payload: &later_payload,
            },
        );
        let Some(found) = found else {
            continue;
        };
        let id = ConflictId(Uuid::new_v4());
        let attributes = serde_json::to_string(&found.affected_attributes)
            .map_err(|e| sqlx::Error::Encode(e.into()))?;
        sqlx::query(
            "INSERT INTO conflicts (id, tenant_id, operation_id_a, operation_id_b, conflict_type,
                                    affected_attributes, status, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id.to_string())
        .bind(&p.tenant_id)
        .bind(&p.earlier)
        .bind(&p.later)
        .bind(found.conflict_type.as_str())
        .bind(attributes)
        .bind(CONFLICT_PENDING)
        .bind(ts(now))
        .execute(&mut *conn)
        .await?;
        sqlx::query("UPDATE operations SET held_by_conflict = ?, updated_at = ? WHERE id = ?")
            .bind(id.to_string())
            .bind(ts(now))
            .bind(&p.later)
            .execute(&mut *conn)
            .await?;
        let what = if found.affected_attributes.is_empty() {
            format!("{} on the whole account", found.conflict_type.label())
        } else {
            format!(
                "{} of {}",
                found.conflict_type.label(),
                found.affected_attributes.join(", ")
            )
        };
        let tenant: TenantId = parse_id(&p.tenant_id)?;
        let later: OperationId = parse_id(&p.later)?;
        let earlier: OperationId = parse_id(&p.earlier)?;
        let held_line = NewLog::new(
            now,
            LogLevel::Warn,
            format!(
                "Held: conflicts with the earlier operation {earlier} ({what}); it waits until an admin \
                 resolves conflict {id}"
            ),
        );
        let earlier_line = NewLog::new(
            now,
            LogLevel::Info,
            format!("The later operation {later} conflicts with this one ({what}): it is held (conflict {id})"),
        );
        insert_logs(
            &mut *conn,
            &[
                (tenant, later, &held_line),
                (tenant, earlier, &earlier_line),
            ],
        )
        .await?;
        held.insert(p.later);
    }
    Ok(held)
}

/// The accounts (target keys) of the connector that operations in one of `statuses` work on.
pub async fn targets_in(
    pool: &SqlitePool,
    connector: dto::ConnectorId,
    statuses: &[OperationStatus],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT DISTINCT target_key FROM operations
         WHERE connector_id = ? AND status IN ({}) AND target_key IS NOT NULL",
        status_list(statuses)
    ))
    .bind(connector.to_string())
    .fetch_all(pool)
    .await
}

const CONFLICT_SELECT: &str =
    "SELECT id, tenant_id, operation_id_a, operation_id_b, conflict_type, affected_attributes, status, outcome,
            notes, created_at, resolved_at, resolved_by FROM conflicts";

#[derive(FromRow)]
struct ConflictRow {
    id: String,
    tenant_id: String,
    operation_id_a: String,
    operation_id_b: String,
    conflict_type: String,
    affected_attributes: String,
    status: String,
    outcome: Option<String>,
    notes: Option<String>,
    created_at: String,
    resolved_at: Option<String>,
    resolved_by: Option<String>,
}

impl TryFrom<ConflictRow> for ProvisioningConflict {
    type Error = sqlx::Error;

    fn try_from(row: ConflictRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: parse_id(&row.id)?,
            tenant_id: Some(parse_id(&row.tenant_id)?),
            operation_id_a: parse_id(&row.operation_id_a)?,
            operation_id_b: Some(parse_id(&row.operation_id_b)?),
            conflict_type: row.conflict_type,
            affected_attributes: parse_json(&row.affected_attributes)?,
            status: row.status,
            outcome: row.outcome.as_deref().map(parse_enum).transpose()?,
            notes: row.notes,
            created_at: parse_time(&row.created_at)?,
            resolved_at: parse_opt_time(row.resolved_at.as_deref())?,
            resolved_by: parse_opt_id(row.resolved_by.as_deref())?,
        })
    }
}

fn push_filters(sql: &mut QueryBuilder<'_, Sqlite>, tenant: TenantId, query: &ConflictQuery) {
    sql.push(" WHERE tenant_id = ")
        .push_bind(tenant.to_string());
    if let Some(op) = query.operation_id {
        sql.push(" AND (operation_id_a = ")
            .push_bind(op.to_string())
            .push(" OR operation_id_b = ")
            .push_bind(op.to_string())
            .push(")");
    }
    if let Some(kind) = query.conflict_type {
        sql.push(" AND conflict_type = ").push_bind(kind.as_str());
    }
    if query.pending_only == Some(true) {
        sql.push(" AND status = ").push_bind(CONFLICT_PENDING);
    }
}

/// The tenant's conflicts matching `query`, newest first, one page, with how many match in all.
pub async fn list_conflicts(
    pool: &SqlitePool,
    tenant: TenantId,
    query: &ConflictQuery,
    page: PageRequest,
) -> Result<(Vec<ProvisioningConflict>, u64), sqlx::Error> {
    let mut total = QueryBuilder::new("SELECT COUNT(*) FROM conflicts");
    push_filters(&mut total, tenant, query);
    let total: i64 = total.build_query_scalar().fetch_one(pool).await?;
    let (limit, offset) = page_binds(page);
    let mut sql = QueryBuilder::new(CONFLICT_SELECT);
    push_filters(&mut sql, tenant, query);
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let rows: Vec<ConflictRow> = sql.build_query_as().fetch_all(pool).await?;
    let conflicts = rows
        .into_iter()
        .map(ProvisioningConflict::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((conflicts, count(total)))
}

async fn conflict_in(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: ConflictId,
) -> Result<Option<ProvisioningConflict>, sqlx::Error> {
    sqlx::query_as::<_, ConflictRow>(&format!("{CONFLICT_SELECT} WHERE tenant_id = ? AND id = ?"))
        .bind(tenant.to_string())
        .bind(id.to_string())
        .fetch_optional(conn)
        .await?
        .map(ProvisioningConflict::try_from)
        .transpose()
}

/// The tenant's conflict with this id; none for an unknown id or another tenant's.
pub async fn get_conflict(
    pool: &SqlitePool,
    tenant: TenantId,
    id: ConflictId,
) -> Result<Option<ProvisioningConflict>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    conflict_in(&mut conn, tenant, id).await
}

/// What resolving a conflict did.
#[derive(Debug, Clone, PartialEq)]
pub enum ConflictResolution {
    /// Resolved; the conflict as it is now, and whether its held operation went back to the queue.
    Resolved {
        /// The conflict, resolved.
        conflict: Box<ProvisioningConflict>,
        /// The held operation may run now (wake the workers).
        released: bool,
    },
    /// The tenant has no such conflict.
    NotFound,
    /// It was resolved already (its status is given); nothing changed.
    Refused(String),
}

/// Resolves the tenant's pending conflict as `resolution` says, by `by` (`actor` names them in the log), and
/// applies `fate` to the operation it holds, in one transaction: released back to the queue, or cancelled
/// (from one of the statuses a cancel applies to). The check and the write are one conditional UPDATE, so
/// two admins cannot both resolve it. An operation no longer held (an admin cancelled it meanwhile) is left
/// as it is.
#[allow(clippy::too_many_arguments)]
pub async fn resolve_conflict(
    pool: &SqlitePool,
    tenant: TenantId,
    id: ConflictId,
    resolution: &ResolveConflict,
    by: UserId,
    actor: &str,
    fate: &HeldFate,
    now: DateTime<Utc>,
) -> Result<ConflictResolution, sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    let held: Option<(String, String)> = sqlx::query_as(
        "UPDATE conflicts SET status = ?1, outcome = ?2, notes = ?3, resolved_at = ?4, resolved_by = ?5
         WHERE tenant_id = ?6 AND id = ?7 AND status = ?8
         RETURNING operation_id_a, operation_id_b",
    )
    .bind(CONFLICT_RESOLVED)
    .bind(resolution.outcome.as_str())
    .bind(&resolution.notes)
    .bind(ts(now))
    .bind(by.to_string())
    .bind(tenant.to_string())
    .bind(id.to_string())
    .bind(CONFLICT_PENDING)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((earlier, operation)) = held else {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM conflicts WHERE tenant_id = ? AND id = ?")
                .bind(tenant.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        return Ok(status.map_or(ConflictResolution::NotFound, ConflictResolution::Refused));
    };
    let outcome = resolution.outcome;
    let why = resolution
        .notes
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let changed = match fate {
        // Held operations are pending; one an admin cancelled meanwhile stays as it is.
        HeldFate::Release => sqlx::query(
            "UPDATE operations SET held_by_conflict = NULL, updated_at = ?
             WHERE tenant_id = ? AND id = ? AND held_by_conflict = ? AND status = ?",
        )
        .bind(ts(now))
        .bind(tenant.to_string())
        .bind(&operation)
        .bind(id.to_string())
        .bind(OperationStatus::Pending.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        HeldFate::Cancel { from, to } => sqlx::query(&format!(
            "UPDATE operations SET status = ?, held_by_conflict = NULL, next_retry_at = NULL, updated_at = ?
             WHERE tenant_id = ? AND id = ? AND held_by_conflict = ? AND status IN ({})",
            status_list(from)
        ))
        .bind(to.as_str())
        .bind(ts(now))
        .bind(tenant.to_string())
        .bind(&operation)
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?
        .rows_affected(),
    };
    if changed > 0 {
        let message = match fate {
            HeldFate::Release => format!(
                "Released by {actor}: conflict {id} with operation {earlier} resolved as {outcome}{why}; \
                 back in the queue"
            ),
            HeldFate::Cancel { .. } => format!(
                "Cancelled by {actor}: conflict {id} with operation {earlier} resolved as {outcome}{why}; \
                 this change will not be made"
            ),
        };
        let line = NewLog::new(now, LogLevel::Info, message);
        insert_logs(&mut tx, &[(tenant, parse_id(&operation)?, &line)]).await?;
    }
    let conflict = conflict_in(&mut tx, tenant, id).await?;
    tx.commit().await?;
    Ok(conflict.map_or(ConflictResolution::NotFound, |c| {
        ConflictResolution::Resolved {
            conflict: Box::new(c),
            released: changed > 0 && *fate == HeldFate::Release,
        }
    }))
}
