//! Reconciliation runs as the reconciler and the API use them: admission, claiming with a lease, batch
//! checkpoints, admin changes, reports; the discrepancies they find and the audit log.

use chrono::{DateTime, Utc};
use dto::{
    ActionId, ActionSummary, ConnectorId, Discrepancy, DiscrepancyId, DiscrepancySummary,
    MismatchedAttribute, PageRequest, PerformanceMetrics, ReconciliationAction,
    ReconciliationReport, ReconciliationRun, RunId, TenantId, UserId,
};
use enums::{
    DiscrepancyType, ReconciliationMode, ReconciliationRunStatus, RemediationAction,
    ResolutionStatus, RunAction,
};
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::{
    begin_write, connector_state, parse_enum, parse_id, parse_json, parse_opt_id, parse_opt_time,
    parse_time, ts,
};

// ---------------------------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------------------------

#[derive(FromRow)]
struct RunRow {
    id: String,
    tenant_id: String,
    connector_id: String,
    mode: String,
    dry_run: bool,
    status: String,
    started_at: String,
    completed_at: Option<String>,
    accounts_total: i64,
    accounts_processed: i64,
    discrepancies_found: i64,
    api_calls_made: i64,
    duration_seconds: Option<f64>,
    created_by: Option<String>,
    error_message: Option<String>,
    resume_cursor: Option<String>,
    changes_since: Option<String>,
}

const RUN_COLUMNS: &str = "id, tenant_id, connector_id, mode, dry_run, status, started_at, completed_at,
    accounts_total, accounts_processed, discrepancies_found, api_calls_made, duration_seconds, created_by,
    error_message, resume_cursor, changes_since";

/// A run as the reconciler works on it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunState {
    /// What the API shows.
    pub run: ReconciliationRun,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// Calls made to the connector so far.
    pub api_calls_made: u64,
    /// Where to continue (JSON written by the reconciler), none before the first batch.
    pub resume_cursor: Option<String>,
    /// A delta run looks at changes after this moment; none for a full run.
    pub changes_since: Option<DateTime<Utc>>,
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl TryFrom<RunRow> for RunState {
    type Error = sqlx::Error;

    fn try_from(row: RunRow) -> Result<Self, Self::Error> {
        let status: ReconciliationRunStatus = parse_enum(&row.status)?;
        Ok(Self {
            run: ReconciliationRun {
                id: parse_id(&row.id)?,
                connector_id: parse_id(&row.connector_id)?,
                mode: parse_enum(&row.mode)?,
                dry_run: Some(row.dry_run),
                status,
                started_at: (status != ReconciliationRunStatus::Pending
                    || row.resume_cursor.is_some())
                .then(|| parse_time(&row.started_at))
                .transpose()?,
                completed_at: parse_opt_time(row.completed_at.as_deref())?,
                accounts_total: count(row.accounts_total),
                accounts_processed: count(row.accounts_processed),
                discrepancies_found: count(row.discrepancies_found),
                duration_seconds: row.duration_seconds,
                created_by: parse_opt_id(row.created_by.as_deref())?,
                error_message: row.error_message,
            },
            tenant_id: parse_id(&row.tenant_id)?,
            api_calls_made: count(row.api_calls_made),
            resume_cursor: row.resume_cursor,
            changes_since: parse_opt_time(row.changes_since.as_deref())?,
        })
    }
}

pub use crate::gate::{Existing, StartRefusal};

/// A run to admit.
#[derive(Debug, Clone, Copy)]
pub struct RunRequest {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The connector to reconcile.
    pub connector_id: ConnectorId,
    /// Full or delta.
    pub mode: ReconciliationMode,
    /// Report only.
    pub dry_run: bool,
    /// Who asked; none for a schedule.
    pub created_by: Option<UserId>,
    /// Started by a schedule.
    pub scheduled: bool,
}

/// Admits a run in one write transaction: none for an unknown connector (or another tenant's); a refusal
/// when the connector cannot take work or a run of it is active; otherwise the new `pending` run. A delta
/// run looks at what changed since the start of the connector's last completed run (a full run when none).
pub async fn admit_run(
    pool: &SqlitePool,
    request: RunRequest,
    id: RunId,
    now: DateTime<Utc>,
) -> Result<Option<Result<RunState, StartRefusal>>, sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    let Some(state) = connector_state(&mut tx, request.tenant_id, request.connector_id).await?
    else {
        return Ok(None);
    };
    if let Err(refusal) = crate::gate::run(&mut tx, &state, request.mode, now).await? {
        return Ok(Some(Err(refusal)));
    }
    let since: Option<String> = match request.mode {
        ReconciliationMode::Full => None,
        ReconciliationMode::Delta => sqlx::query_scalar(
            "SELECT started_at FROM reconciliation_runs WHERE connector_id = ? AND status = 'completed'
             ORDER BY started_at DESC LIMIT 1",
        )
        .bind(request.connector_id.to_string())
        .fetch_optional(&mut *tx)
        .await?,
    };
    let row: RunRow = sqlx::query_as(&format!(
        "INSERT INTO reconciliation_runs (id, tenant_id, connector_id, mode, dry_run, status, trigger_kind,
                                          started_at, created_by, changes_since, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?) RETURNING {RUN_COLUMNS}"
    ))
    .bind(id.to_string())
    .bind(request.tenant_id.to_string())
    .bind(request.connector_id.to_string())
    .bind(request.mode.as_str())
    .bind(request.dry_run)
    .bind(if request.scheduled {
        "schedule"
    } else {
        "manual"
    })
    .bind(ts(now))
    .bind(request.created_by.map(|u| u.to_string()))
    .bind(since)
    .bind(ts(now))
    .bind(ts(now))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(Ok(RunState::try_from(row)?)))
}

/// One run of the tenant's connector; none for an unknown id, another connector's or another tenant's.
pub async fn run_state(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    id: RunId,
) -> Result<Option<RunState>, sqlx::Error> {
    sqlx::query_as::<_, RunRow>(&format!(
        "SELECT {RUN_COLUMNS} FROM reconciliation_runs WHERE tenant_id = ? AND connector_id = ? AND id = ?"
    ))
    .bind(tenant.to_string())
    .bind(connector.to_string())
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?
    .map(RunState::try_from)
    .transpose()
}

/// The connector's runs, newest first, with the total.
pub async fn list_runs(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    mode: Option<ReconciliationMode>,
    status: Option<ReconciliationRunStatus>,
    page: PageRequest,
) -> Result<(Vec<ReconciliationRun>, u64), sqlx::Error> {
    let filter = |sql: &mut QueryBuilder<'_, Sqlite>| {
        sql.push(" WHERE tenant_id = ")
            .push_bind(tenant.to_string())
            .push(" AND connector_id = ")
            .push_bind(connector.to_string());
        if let Some(mode) = mode {
            sql.push(" AND mode = ").push_bind(mode.as_str());
        }
        if let Some(status) = status {
            sql.push(" AND status = ").push_bind(status.as_str());
        }
    };
    let mut sql = QueryBuilder::new(format!("SELECT {RUN_COLUMNS} FROM reconciliation_runs"));
    filter(&mut sql);
    sql.push(" ORDER BY started_at DESC, id DESC LIMIT ")
        .push_bind(i64::from(page.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
    let rows: Vec<RunRow> = sql.build_query_as().fetch_all(pool).await?;
    let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM reconciliation_runs");
    filter(&mut sql);
    let total: i64 = sql.build_query_scalar().fetch_one(pool).await?;
    let runs = rows
        .into_iter()
        .map(|row| RunState::try_from(row).map(|s| s.run))
        .collect::<Result<_, _>>()?;
    Ok((runs, count(total)))
}

/// Claims the oldest pending run for `owner` until `lease_until`: it becomes `running`. A run that starts for
/// the first time gets its `started_at`; a resumed one keeps it.
pub async fn claim_run(
    pool: &SqlitePool,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<RunState>, sqlx::Error> {
    sqlx::query_as::<_, RunRow>(&format!(
        "UPDATE reconciliation_runs
         SET status = 'running', lease_owner = ?, lease_expires_at = ?, updated_at = ?,
             started_at = CASE WHEN resume_cursor IS NULL THEN ? ELSE started_at END
         WHERE id = (SELECT id FROM reconciliation_runs WHERE status = 'pending' ORDER BY created_at LIMIT 1)
           AND status = 'pending'
         RETURNING {RUN_COLUMNS}"
    ))
    .bind(owner)
    .bind(ts(lease_until))
    .bind(ts(now))
    .bind(ts(now))
    .fetch_optional(pool)
    .await?
    .map(RunState::try_from)
    .transpose()
}

/// What one batch of a run adds: its progress and the new checkpoint.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    /// Accounts in scope (known after the first count).
    pub accounts_total: u64,
    /// Accounts compared so far.
    pub accounts_processed: u64,
    /// Connector calls so far.
    pub api_calls_made: u64,
    /// Discrepancies this batch found.
    pub found: u64,
    /// Where to continue.
    pub cursor: &'a str,
    /// The lease, renewed.
    pub lease_until: DateTime<Utc>,
}

/// Writes a batch's progress if `owner` still runs the run (not paused, cancelled or reaped meanwhile),
/// inside the caller's transaction (with the batch's discrepancies). Answers false when the run is no longer
/// the owner's to write: the caller rolls back and stops.
pub async fn checkpoint(
    conn: &mut SqliteConnection,
    run: RunId,
    owner: &str,
    progress: &Progress<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE reconciliation_runs
         SET accounts_total = ?, accounts_processed = ?, api_calls_made = ?, resume_cursor = ?,
             lease_expires_at = ?, updated_at = ?, discrepancies_found = discrepancies_found + ?
         WHERE id = ? AND status = 'running' AND lease_owner = ?",
    )
    .bind(i64::try_from(progress.accounts_total).unwrap_or(i64::MAX))
    .bind(i64::try_from(progress.accounts_processed).unwrap_or(i64::MAX))
    .bind(i64::try_from(progress.api_calls_made).unwrap_or(i64::MAX))
    .bind(progress.cursor)
    .bind(ts(progress.lease_until))
    .bind(ts(now))
    .bind(i64::try_from(progress.found).unwrap_or(i64::MAX))
    .bind(run.to_string())
    .bind(owner)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends a run that `owner` runs: `completed`, or `failed` with the error. Answers false when it was no
/// longer the owner's (cancelled, paused or reaped meanwhile).
pub async fn finish_run(
    pool: &SqlitePool,
    run: RunId,
    owner: &str,
    outcome: Result<(), &str>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let status = match outcome {
        Ok(()) => ReconciliationRunStatus::Completed,
        Err(_) => ReconciliationRunStatus::Failed,
    };
    let done = sqlx::query(
        "UPDATE reconciliation_runs
         SET status = ?, error_message = ?, completed_at = ?, updated_at = ?, lease_owner = NULL,
             lease_expires_at = NULL,
             duration_seconds = (julianday(?) - julianday(started_at)) * 86400.0,
             discrepancies_found = (SELECT COUNT(*) FROM discrepancies WHERE run_id = reconciliation_runs.id)
         WHERE id = ? AND status = 'running' AND lease_owner = ?",
    )
    .bind(status.as_str())
    .bind(outcome.err())
    .bind(ts(now))
    .bind(ts(now))
    .bind(ts(now))
    .bind(run.to_string())
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// What an admin change of a run came to.
#[derive(Debug, Clone, PartialEq)]
pub enum RunChange {
    /// Done: the run as it is now.
    Applied(Box<RunState>),
    /// No such run of this tenant's connector.
    NotFound,
    /// Its status does not allow the action; nothing changed.
    Refused(ReconciliationRunStatus),
    /// A resume the start gate did not admit; nothing changed.
    Gated(StartRefusal),
}

/// Applies an admin action to a run, conditionally on its status allowing it
/// ([`ReconciliationRunStatus::allows`]): cancel → `cancelled`, pause → `paused` (lease dropped, checkpoint
/// kept), resume → `pending` (the reconciler continues from the checkpoint).
pub async fn change_run(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    id: RunId,
    action: RunAction,
    now: DateTime<Utc>,
) -> Result<RunChange, sqlx::Error> {
    let sources: Vec<&str> = ReconciliationRunStatus::ALL
        .iter()
        .filter(|s| s.allows(action))
        .map(|s| s.as_str())
        .collect();
    let to = match action {
        RunAction::Cancel => ReconciliationRunStatus::Cancelled,
        RunAction::Pause => ReconciliationRunStatus::Paused,
        RunAction::Resume => ReconciliationRunStatus::Pending,
    };
    let mut tx = begin_write(pool).await?;
    if action == RunAction::Resume {
        // A resume admits work again: the start gate decides, in the transaction that resumes.
        let Some(state) = connector_state(&mut tx, tenant, connector).await? else {
            return Ok(RunChange::NotFound);
        };
        if let Err(refusal) = crate::gate::resume(&mut tx, &state, id, now).await? {
            let paused: Option<String> = sqlx::query_scalar(
                "SELECT status FROM reconciliation_runs WHERE tenant_id = ? AND connector_id = ? AND id = ?",
            )
            .bind(tenant.to_string())
            .bind(connector.to_string())
            .bind(id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            // Only a run that could resume hears the gate's answer; others the usual 404 / invalid state.
            if paused.as_deref() == Some(ReconciliationRunStatus::Paused.as_str()) {
                return Ok(RunChange::Gated(refusal));
            }
        }
    }
    let mut sql = QueryBuilder::new("UPDATE reconciliation_runs SET status = ");
    sql.push_bind(to.as_str())
        .push(", updated_at = ")
        .push_bind(ts(now))
        .push(", lease_owner = NULL, lease_expires_at = NULL");
    if action == RunAction::Cancel {
        sql.push(", completed_at = ")
            .push_bind(ts(now))
            .push(", duration_seconds = (julianday(")
            .push_bind(ts(now))
            .push(") - julianday(started_at)) * 86400.0");
    }
    sql.push(" WHERE tenant_id = ")
        .push_bind(tenant.to_string())
        .push(" AND connector_id = ")
        .push_bind(connector.to_string())
        .push(" AND id = ")
        .push_bind(id.to_string())
        .push(" AND status IN (");
    let mut list = sql.separated(", ");
    for s in sources {
        list.push_bind(s);
    }
    sql.push(format!(") RETURNING {RUN_COLUMNS}"));
    let row: Option<RunRow> = sql.build_query_as().fetch_optional(&mut *tx).await?;
    tx.commit().await?;
    if let Some(row) = row {
        return Ok(RunChange::Applied(Box::new(RunState::try_from(row)?)));
    }
    Ok(match run_state(pool, tenant, connector, id).await? {
        Some(state) => RunChange::Refused(state.run.status),
        None => RunChange::NotFound,
    })
}

/// Puts back to `pending` the runs whose lease expired while `running` (their engine stopped mid-run): the
/// reconciler continues them from their checkpoint. Answers their ids.
pub async fn recover_runs(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> Result<Vec<RunId>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE reconciliation_runs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                updated_at = ?
         WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < ?) RETURNING id",
    )
    .bind(ts(now))
    .bind(ts(now))
    .fetch_all(pool)
    .await?;
    ids.iter().map(|id| parse_id(id)).collect()
}

/// The report of a run: what it found, what was done about it, how fast it went.
pub async fn run_report(
    pool: &SqlitePool,
    state: &RunState,
) -> Result<ReconciliationReport, sqlx::Error> {
    let run = &state.run;
    let by_type: Vec<(String, i64)> = sqlx::query_as(
        "SELECT discrepancy_type, SUM(count) FROM discrepancy_counts WHERE run_id = ?
         GROUP BY discrepancy_type HAVING SUM(count) > 0",
    )
    .bind(run.id.to_string())
    .fetch_all(pool)
    .await?;
    let mut discrepancy_summary = DiscrepancySummary::default();
    for (kind, n) in by_type {
        let kind: DiscrepancyType = parse_enum(&kind)?;
        discrepancy_summary.total += count(n);
        discrepancy_summary.by_type.insert(kind, count(n));
    }
    let by_action: Vec<(String, i64)> = sqlx::query_as(
        "SELECT a.action_type, COUNT(*) FROM reconciliation_actions a
         JOIN discrepancies d ON d.id = a.discrepancy_id
         WHERE d.run_id = ? AND a.dry_run = 0 AND a.result = 'success' GROUP BY a.action_type",
    )
    .bind(run.id.to_string())
    .fetch_all(pool)
    .await?;
    let mut action_summary = ActionSummary::default();
    for (action, n) in by_action {
        action_summary.total += count(n);
        action_summary.by_action.insert(action, count(n));
    }
    let top: Vec<(String, i64)> = sqlx::query_as(
        "SELECT attribute_name, COUNT(*) AS n FROM discrepancies
         WHERE run_id = ? AND discrepancy_type = 'mismatch' AND attribute_name IS NOT NULL
         GROUP BY attribute_name ORDER BY n DESC, attribute_name LIMIT 10",
    )
    .bind(run.id.to_string())
    .fetch_all(pool)
    .await?;
    let seconds = run.duration_seconds.unwrap_or(0.0).max(0.0);
    Ok(ReconciliationReport {
        run_id: run.id,
        discrepancy_summary,
        action_summary,
        top_mismatched_attributes: top
            .into_iter()
            .map(|(attribute_name, n)| MismatchedAttribute {
                attribute_name,
                count: count(n),
            })
            .collect(),
        performance_metrics: PerformanceMetrics {
            // Whole milliseconds of a non-negative duration.
            total_duration_ms: (seconds * 1000.0).round() as u64,
            accounts_per_second: if seconds > 0.0 {
                run.accounts_processed as f64 / seconds
            } else {
                0.0
            },
            api_calls_made: Some(state.api_calls_made),
        },
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Discrepancies
// ---------------------------------------------------------------------------------------------------------------

/// A discrepancy a batch found, to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Its classification.
    pub discrepancy_type: DiscrepancyType,
    /// The identity, when there is one.
    pub identity_id: Option<UserId>,
    /// The account, when there is one.
    pub external_uid: Option<String>,
    /// The differing attribute (mismatch).
    pub attribute_name: Option<String>,
    /// xavyo's value (mismatch).
    pub expected: Option<serde_json::Value>,
    /// The target's value (mismatch).
    pub actual: Option<serde_json::Value>,
    /// The identities an account matched equally (collision).
    pub candidates: Vec<UserId>,
}

/// A JSON value as the discrepancy columns show it: strings bare, anything else as JSON text.
fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Stores what a batch found for a run, with new ids, inside the caller's transaction.
pub async fn insert_found(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    connector: ConnectorId,
    run: RunId,
    found: &[Found],
    now: DateTime<Utc>,
) -> Result<Vec<DiscrepancyId>, sqlx::Error> {
    let mut ids = Vec::with_capacity(found.len());
    for chunk in found.chunks(64) {
        let mut sql = QueryBuilder::new(
            "INSERT INTO discrepancies (id, tenant_id, connector_id, run_id, discrepancy_type, identity_id,
                                        external_uid, attribute_name, expected_value, actual_value,
                                        mismatched_attributes, suggested_actions, candidates, created_at) ",
        );
        sql.push_values(chunk, |mut row, f| {
            let id = DiscrepancyId(uuid::Uuid::new_v4());
            ids.push(id);
            let mismatched = f.attribute_name.as_ref().map(|name| {
                serde_json::json!({ name: {
                    "xavyo": f.expected.clone().unwrap_or_default(),
                    "target": f.actual.clone().unwrap_or_default(),
                }})
                .to_string()
            });
            let suggested = serde_json::to_string(f.discrepancy_type.remediations())
                .unwrap_or_else(|_| "[]".into());
            let candidates = (!f.candidates.is_empty()).then(|| {
                serde_json::Value::from(
                    f.candidates
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>(),
                )
                .to_string()
            });
            row.push_bind(id.to_string())
                .push_bind(tenant.to_string())
                .push_bind(connector.to_string())
                .push_bind(run.to_string())
                .push_bind(f.discrepancy_type.as_str())
                .push_bind(f.identity_id.map(|i| i.to_string()))
                .push_bind(f.external_uid.clone())
                .push_bind(f.attribute_name.clone())
                .push_bind(f.expected.as_ref().map(shown))
                .push_bind(f.actual.as_ref().map(shown))
                .push_bind(mismatched)
                .push_bind(suggested)
                .push_bind(candidates)
                .push_bind(ts(now));
        });
        sql.build().execute(&mut *conn).await?;
    }
    Ok(ids)
}

#[derive(FromRow)]
struct DiscrepancyRow {
    id: String,
    connector_id: String,
    run_id: String,
    discrepancy_type: String,
    identity_id: Option<String>,
    external_uid: Option<String>,
    attribute_name: Option<String>,
    expected_value: Option<String>,
    actual_value: Option<String>,
    mismatched_attributes: Option<String>,
    suggested_actions: String,
    candidates: Option<String>,
    resolution_status: String,
    resolved_action: Option<String>,
    resolved_at: Option<String>,
    resolved_by: Option<String>,
    created_at: String,
}

const DISCREPANCY_COLUMNS: &str = "id, connector_id, run_id, discrepancy_type, identity_id, external_uid,
    attribute_name, expected_value, actual_value, mismatched_attributes, suggested_actions, candidates,
    resolution_status, resolved_action, resolved_at, resolved_by, created_at";

impl TryFrom<DiscrepancyRow> for Discrepancy {
    type Error = sqlx::Error;

    fn try_from(row: DiscrepancyRow) -> Result<Self, Self::Error> {
        let candidates: Vec<String> = row
            .candidates
            .as_deref()
            .map(parse_json)
            .transpose()?
            .unwrap_or_default();
        Ok(Self {
            id: parse_id(&row.id)?,
            connector_id: Some(parse_id(&row.connector_id)?),
            run_id: parse_id(&row.run_id)?,
            discrepancy_type: parse_enum(&row.discrepancy_type)?,
            identity_id: parse_opt_id(row.identity_id.as_deref())?,
            external_uid: row.external_uid,
            attribute_name: row.attribute_name,
            expected_value: row.expected_value,
            actual_value: row.actual_value,
            mismatched_attributes: row
                .mismatched_attributes
                .as_deref()
                .map(parse_json)
                .transpose()?
                .unwrap_or_default(),
            suggested_actions: parse_json(&row.suggested_actions)?,
            candidate_identity_ids: candidates
                .iter()
                .map(|c| parse_id(c))
                .collect::<Result<_, _>>()?,
            resolution_status: parse_enum(&row.resolution_status)?,
            resolved_action: row.resolved_action.as_deref().map(parse_enum).transpose()?,
            resolved_at: parse_opt_time(row.resolved_at.as_deref())?,
            resolved_by: parse_opt_id(row.resolved_by.as_deref())?,
            created_at: parse_time(&row.created_at)?,
        })
    }
}

/// The filters of a discrepancy list.
#[derive(Debug, Clone, Default)]
pub struct DiscrepancyFilter {
    /// Only this run's.
    pub run_id: Option<RunId>,
    /// Only this type.
    pub discrepancy_type: Option<DiscrepancyType>,
    /// Only this resolution state.
    pub resolution_status: Option<ResolutionStatus>,
    /// Only this identity's.
    pub identity_id: Option<UserId>,
    /// Only this account's.
    pub external_uid: Option<String>,
}

/// The connector's discrepancies, newest first, with the total.
pub async fn list_discrepancies(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    filter: &DiscrepancyFilter,
    page: PageRequest,
) -> Result<(Vec<Discrepancy>, u64), sqlx::Error> {
    let push_filter = |sql: &mut QueryBuilder<'_, Sqlite>| {
        sql.push(" WHERE tenant_id = ")
            .push_bind(tenant.to_string())
            .push(" AND connector_id = ")
            .push_bind(connector.to_string());
        if let Some(run) = filter.run_id {
            sql.push(" AND run_id = ").push_bind(run.to_string());
        }
        if let Some(kind) = filter.discrepancy_type {
            sql.push(" AND discrepancy_type = ")
                .push_bind(kind.as_str());
        }
        if let Some(status) = filter.resolution_status {
            sql.push(" AND resolution_status = ")
                .push_bind(status.as_str());
        }
        if let Some(identity) = filter.identity_id {
            sql.push(" AND identity_id = ")
                .push_bind(identity.to_string());
        }
        if let Some(uid) = &filter.external_uid {
            sql.push(" AND external_uid = ").push_bind(uid.clone());
        }
    };
    let mut sql = QueryBuilder::new(format!("SELECT {DISCREPANCY_COLUMNS} FROM discrepancies"));
    push_filter(&mut sql);
    sql.push(" ORDER BY created_at DESC, id LIMIT ")
        .push_bind(i64::from(page.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
    let rows: Vec<DiscrepancyRow> = sql.build_query_as().fetch_all(pool).await?;
    let total: i64 = match filter.run_id {
        // A run's totals by type and resolution are kept by triggers (migration 0003): exact, and no walk over
        // a hundred thousand index entries for every page.
        Some(run) if filter.identity_id.is_none() && filter.external_uid.is_none() => {
            let mut sql = QueryBuilder::new(
                "SELECT COALESCE(SUM(c.count), 0) FROM discrepancy_counts c
                 JOIN reconciliation_runs r ON r.id = c.run_id WHERE c.run_id = ",
            );
            sql.push_bind(run.to_string())
                .push(" AND r.tenant_id = ")
                .push_bind(tenant.to_string())
                .push(" AND r.connector_id = ")
                .push_bind(connector.to_string());
            if let Some(kind) = filter.discrepancy_type {
                sql.push(" AND c.discrepancy_type = ")
                    .push_bind(kind.as_str());
            }
            if let Some(status) = filter.resolution_status {
                sql.push(" AND c.resolution_status = ")
                    .push_bind(status.as_str());
            }
            sql.build_query_scalar().fetch_one(pool).await?
        }
        _ => {
            let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM discrepancies");
            push_filter(&mut sql);
            sql.build_query_scalar().fetch_one(pool).await?
        }
    };
    let list = rows
        .into_iter()
        .map(Discrepancy::try_from)
        .collect::<Result<_, _>>()?;
    Ok((list, count(total)))
}

/// One discrepancy of the tenant's connector.
pub async fn get_discrepancy(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    id: DiscrepancyId,
) -> Result<Option<Discrepancy>, sqlx::Error> {
    sqlx::query_as::<_, DiscrepancyRow>(&format!(
        "SELECT {DISCREPANCY_COLUMNS} FROM discrepancies WHERE tenant_id = ? AND connector_id = ? AND id = ?"
    ))
    .bind(tenant.to_string())
    .bind(connector.to_string())
    .bind(id.to_string())
    .fetch_optional(pool)
    .await?
    .map(Discrepancy::try_from)
    .transpose()
}

/// Settles a pending discrepancy as `to` (resolved by `action`, or ignored), conditionally on it still being
/// pending; answers false when someone settled it first.
pub async fn settle_discrepancy(
    conn: &mut SqliteConnection,
    id: DiscrepancyId,
    to: ResolutionStatus,
    action: Option<RemediationAction>,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE discrepancies SET resolution_status = ?, resolved_action = ?, resolved_by = ?, resolved_at = ?
         WHERE id = ? AND resolution_status = 'pending'",
    )
    .bind(to.as_str())
    .bind(action.map(RemediationAction::as_str))
    .bind(by.map(|u| u.to_string()))
    .bind(ts(now))
    .bind(id.to_string())
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Gives back a claim made by [`settle_discrepancy`] whose change then failed: pending again, if it is still
/// the claim made at `at` by `by`.
pub async fn unsettle_discrepancy(
    conn: &mut SqliteConnection,
    id: DiscrepancyId,
    by: Option<UserId>,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE discrepancies SET resolution_status = 'pending', resolved_action = NULL, resolved_by = NULL,
                resolved_at = NULL
         WHERE id = ? AND resolution_status = 'resolved' AND resolved_by IS ? AND resolved_at = ?",
    )
    .bind(id.to_string())
    .bind(by.map(|u| u.to_string()))
    .bind(ts(at))
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------------------------

#[derive(FromRow)]
struct ActionRow {
    id: String,
    connector_id: String,
    discrepancy_id: Option<String>,
    action_type: String,
    direction: Option<String>,
    result: String,
    dry_run: bool,
    performed_by: Option<String>,
    performed_at: String,
    details: Option<String>,
}

impl TryFrom<ActionRow> for ReconciliationAction {
    type Error = sqlx::Error;

    fn try_from(row: ActionRow) -> Result<Self, Self::Error> {
        Ok(Self {
            id: parse_id::<ActionId>(&row.id)?,
            connector_id: Some(parse_id(&row.connector_id)?),
            discrepancy_id: parse_opt_id(row.discrepancy_id.as_deref())?,
            action_type: row.action_type,
            direction: row.direction.as_deref().map(parse_enum).transpose()?,
            result: row.result,
            dry_run: row.dry_run,
            performed_by: parse_opt_id(row.performed_by.as_deref())?,
            performed_at: parse_time(&row.performed_at)?,
            details: row.details.as_deref().map(parse_json).transpose()?,
        })
    }
}

/// The filters of the audit log.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    /// Only this discrepancy's.
    pub discrepancy_id: Option<DiscrepancyId>,
    /// Only this action type (`create` … `inactivate_identity`, `ignore`).
    pub action_type: Option<String>,
    /// Only this result (`success`, `failure`).
    pub result: Option<String>,
    /// Only dry (true) or real (false) entries.
    pub dry_run: Option<bool>,
}

/// The connector's audit log, newest first, with the total.
pub async fn list_actions(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    filter: &ActionFilter,
    page: PageRequest,
) -> Result<(Vec<ReconciliationAction>, u64), sqlx::Error> {
    let push_filter = |sql: &mut QueryBuilder<'_, Sqlite>| {
        sql.push(" WHERE tenant_id = ")
            .push_bind(tenant.to_string())
            .push(" AND connector_id = ")
            .push_bind(connector.to_string());
        if let Some(d) = filter.discrepancy_id {
            sql.push(" AND discrepancy_id = ").push_bind(d.to_string());
        }
        if let Some(a) = &filter.action_type {
            sql.push(" AND action_type = ").push_bind(a.clone());
        }
        if let Some(r) = &filter.result {
            sql.push(" AND result = ").push_bind(r.clone());
        }
        if let Some(dry) = filter.dry_run {
            sql.push(" AND dry_run = ").push_bind(dry);
        }
    };
    let mut sql = QueryBuilder::new(
        "SELECT id, connector_id, discrepancy_id, action_type, direction, result, dry_run, performed_by,
                performed_at, details FROM reconciliation_actions",
    );
    push_filter(&mut sql);
    sql.push(" ORDER BY performed_at DESC, id LIMIT ")
        .push_bind(i64::from(page.limit))
        .push(" OFFSET ")
        .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
    let rows: Vec<ActionRow> = sql.build_query_as().fetch_all(pool).await?;
    let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM reconciliation_actions");
    push_filter(&mut sql);
    let total: i64 = sql.build_query_scalar().fetch_one(pool).await?;
    let list = rows
        .into_iter()
        .map(ReconciliationAction::try_from)
        .collect::<Result<_, _>>()?;
    Ok((list, count(total)))
}

/// Hands a run that `owner` runs back to the queue of runs (the engine is stopping): `pending`, checkpoint
/// kept.
pub async fn release_run(
    pool: &SqlitePool,
    run: RunId,
    owner: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE reconciliation_runs SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                updated_at = ?
         WHERE id = ? AND status = 'running' AND lease_owner = ?",
    )
    .bind(ts(now))
    .bind(run.to_string())
    .bind(owner)
    .execute(pool)
    .await?;
    Ok(())
}

/// Moves a run back in time (the demo's history): the run and what it found by `shift`, what was done about
/// its discrepancies (resolutions, the audit log) by `followup_shift`.
pub async fn backdate_run(
    pool: &SqlitePool,
    run: RunId,
    shift: chrono::Duration,
    followup_shift: chrono::Duration,
) -> Result<(), sqlx::Error> {
    let days = |d: chrono::Duration| d.num_milliseconds() as f64 / 86_400_000.0;
    // julianday arithmetic, written back in the stored format (six fractional digits, UTC).
    let back = |column: &str, shift: f64| {
        format!("{column} = strftime('%Y-%m-%dT%H:%M:%f', julianday({column}) - {shift}) || '000Z'")
    };
    let (run_days, followup_days) = (days(shift), days(followup_shift));
    let mut tx = begin_write(pool).await?;
    sqlx::query(&format!(
        "UPDATE reconciliation_runs SET {}, {}, {}, {} WHERE id = ?",
        back("started_at", run_days),
        back("completed_at", run_days),
        back("created_at", run_days),
        back("updated_at", run_days)
    ))
    .bind(run.to_string())
    .execute(&mut *tx)
    .await?;
    // What the run did itself (its automatic links) moves with the run.
    let automatic =
        "EXISTS (SELECT 1 FROM reconciliation_actions a WHERE a.discrepancy_id = discrepancies.id
                             AND json_extract(a.details, '$.automatic'))";
    sqlx::query(&format!(
        "UPDATE discrepancies SET {}, resolved_at = CASE WHEN {automatic} THEN {} ELSE {} END WHERE run_id = ?",
        back("created_at", run_days),
        back("resolved_at", run_days).trim_start_matches("resolved_at = "),
        back("resolved_at", followup_days).trim_start_matches("resolved_at = "),
    ))
    .bind(run.to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "UPDATE reconciliation_actions SET performed_at = CASE WHEN json_extract(details, '$.automatic')
                THEN {} ELSE {} END
         WHERE discrepancy_id IN (SELECT id FROM discrepancies WHERE run_id = ?)",
        back("performed_at", run_days).trim_start_matches("performed_at = "),
        back("performed_at", followup_days).trim_start_matches("performed_at = "),
    ))
    .bind(run.to_string())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
