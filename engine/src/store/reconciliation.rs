//! Reconciliation runs, their discrepancies and the audit log.

use chrono::{DateTime, Utc};
use dto::{ActionId, ConnectorId, DiscrepancyId, RunId, TenantId, UserId};
use enums::{
    DiscrepancyType, ReconciliationMode, ReconciliationRunStatus, RemediationAction,
    RemediationDirection, ResolutionStatus,
};
use sqlx::SqliteConnection;

use super::ts;

fn json_text<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(e.into()))
}

/// A reconciliation run to store.
#[derive(Debug, Clone)]
pub struct NewRun {
    /// Its id.
    pub id: RunId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The connector reconciled.
    pub connector_id: ConnectorId,
    /// full or delta.
    pub mode: ReconciliationMode,
    /// Report only, change nothing.
    pub dry_run: bool,
    /// Lifecycle state.
    pub status: ReconciliationRunStatus,
    /// Started by a schedule rather than a person.
    pub scheduled: bool,
    /// Started at.
    pub started_at: DateTime<Utc>,
    /// Finished at.
    pub completed_at: Option<DateTime<Utc>>,
    /// Accounts in scope.
    pub accounts_total: i64,
    /// Accounts compared so far.
    pub accounts_processed: i64,
    /// Discrepancies found so far.
    pub discrepancies_found: i64,
    /// Calls made to the target system.
    pub api_calls_made: i64,
    /// Wall time, once finished.
    pub duration_seconds: Option<f64>,
    /// Who started it; none for a schedule.
    pub created_by: Option<UserId>,
    /// Why it failed.
    pub error_message: Option<String>,
}

/// Stores a reconciliation run.
pub async fn insert_run(conn: &mut SqliteConnection, run: &NewRun) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO reconciliation_runs (id, tenant_id, connector_id, mode, dry_run, status, trigger_kind,
                                          started_at, completed_at, accounts_total, accounts_processed,
                                          discrepancies_found, api_calls_made, duration_seconds, created_by,
                                          error_message, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(run.id.to_string())
    .bind(run.tenant_id.to_string())
    .bind(run.connector_id.to_string())
    .bind(run.mode.as_str())
    .bind(run.dry_run)
    .bind(run.status.as_str())
    .bind(if run.scheduled { "schedule" } else { "manual" })
    .bind(ts(run.started_at))
    .bind(run.completed_at.map(ts))
    .bind(run.accounts_total)
    .bind(run.accounts_processed)
    .bind(run.discrepancies_found)
    .bind(run.api_calls_made)
    .bind(run.duration_seconds)
    .bind(run.created_by.map(|id| id.to_string()))
    .bind(&run.error_message)
    .bind(ts(run.started_at))
    .bind(ts(run.completed_at.unwrap_or(run.started_at)))
    .execute(conn)
    .await?;
    Ok(())
}

/// One attribute that differs: `{"xavyo": .., "target": ..}` on the wire.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttributeDiff {
    /// The value xavyo holds.
    pub xavyo: serde_json::Value,
    /// The value the target holds.
    pub target: serde_json::Value,
}

/// A discrepancy to store.
#[derive(Debug, Clone)]
pub struct NewDiscrepancy {
    /// Its id.
    pub id: DiscrepancyId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The connector reconciled.
    pub connector_id: ConnectorId,
    /// The run that found it.
    pub run_id: RunId,
    /// Its classification.
    pub discrepancy_type: DiscrepancyType,
    /// The xavyo identity, when there is one.
    pub identity_id: Option<UserId>,
    /// The target account, when there is one.
    pub external_uid: Option<String>,
    /// First mismatched attribute (mismatch only).
    pub attribute_name: Option<String>,
    /// Its xavyo value.
    pub expected_value: Option<String>,
    /// Its target value.
    pub actual_value: Option<String>,
    /// Every mismatched attribute by name (mismatch only).
    pub mismatched_attributes: Option<std::collections::BTreeMap<String, AttributeDiff>>,
    /// What could fix it.
    pub suggested_actions: Vec<RemediationAction>,
    /// Where its resolution stands.
    pub resolution_status: ResolutionStatus,
    /// Resolved or ignored at.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Resolved or ignored by.
    pub resolved_by: Option<UserId>,
    /// Found at.
    pub created_at: DateTime<Utc>,
}

/// Stores a discrepancy.
pub async fn insert_discrepancy(
    conn: &mut SqliteConnection,
    d: &NewDiscrepancy,
) -> Result<(), sqlx::Error> {
    let mismatched = d
        .mismatched_attributes
        .as_ref()
        .map(json_text)
        .transpose()?;
    sqlx::query(
        "INSERT INTO discrepancies (id, tenant_id, connector_id, run_id, discrepancy_type, identity_id,
                                    external_uid, attribute_name, expected_value, actual_value,
                                    mismatched_attributes, suggested_actions, resolution_status, resolved_at,
                                    resolved_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(d.id.to_string())
    .bind(d.tenant_id.to_string())
    .bind(d.connector_id.to_string())
    .bind(d.run_id.to_string())
    .bind(d.discrepancy_type.as_str())
    .bind(d.identity_id.map(|id| id.to_string()))
    .bind(&d.external_uid)
    .bind(&d.attribute_name)
    .bind(&d.expected_value)
    .bind(&d.actual_value)
    .bind(mismatched)
    .bind(json_text(&d.suggested_actions)?)
    .bind(d.resolution_status.as_str())
    .bind(d.resolved_at.map(ts))
    .bind(d.resolved_by.map(|id| id.to_string()))
    .bind(ts(d.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// An entry of the reconciliation audit log to store.
#[derive(Debug, Clone)]
pub struct NewAction {
    /// Its id.
    pub id: ActionId,
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The connector acted on.
    pub connector_id: ConnectorId,
    /// The discrepancy it remediated, if any.
    pub discrepancy_id: Option<DiscrepancyId>,
    /// What was done: a remediation action, or `ignore`.
    pub action_type: String,
    /// Which side won.
    pub direction: Option<RemediationDirection>,
    /// `success`, `failure` or `skipped`.
    pub result: String,
    /// Whether it only reported.
    pub dry_run: bool,
    /// Who did it.
    pub performed_by: Option<UserId>,
    /// When.
    pub performed_at: DateTime<Utc>,
    /// Before/after state or the error.
    pub details: Option<serde_json::Value>,
}

/// Stores an audit log entry.
pub async fn insert_action(
    conn: &mut SqliteConnection,
    action: &NewAction,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO reconciliation_actions (id, tenant_id, connector_id, discrepancy_id, action_type, direction,
                                             result, dry_run, performed_by, performed_at, details)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(action.id.to_string())
    .bind(action.tenant_id.to_string())
    .bind(action.connector_id.to_string())
    .bind(action.discrepancy_id.map(|id| id.to_string()))
    .bind(&action.action_type)
    .bind(action.direction.map(|d| d.as_str()))
    .bind(&action.result)
    .bind(action.dry_run)
    .bind(action.performed_by.map(|id| id.to_string()))
    .bind(ts(action.performed_at))
    .bind(action.details.as_ref().map(|d| d.to_string()))
    .execute(conn)
    .await?;
    Ok(())
}
