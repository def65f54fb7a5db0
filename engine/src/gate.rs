//! The start gate: every start an operator (or a schedule) triggers is decided here, before anything is
//! queued, with exactly one answer: accepted, `deduped` (an equivalent start is already active: here it is),
//! `scope_busy` (different work holds the connector: this is it), or `blocked` (the connector cannot take work:
//! why, and what to do).
//!
//! Each check runs inside the caller's write transaction (SQLite's `BEGIN IMMEDIATE`: one writer at a time),
//! and the caller admits its work in that same transaction. So the decision and the admission are one step:
//! two concurrent starts never both see a free connector.
//!
//! | start | blocked | deduped | scope_busy |
//! |---|---|---|---|
//! | run (`mode`) | connector disabled / offline / credentials refused | an active run of the same mode | an active run of the other mode; a remediation in flight |
//! | resume a paused run | same | — (the run itself: invalid state) | another active run; a remediation in flight |
//! | retry an operation | same | an active operation with the same connector, target and type | — |
//! | remediate (one or bulk) | same | — (the discrepancy's own claim: 409 settled) | an active run |
//!
//! A remediation is "in flight" from its claim to the transaction that settles and audits it
//! (`remediations_in_flight`). An engine that stopped mid-way gives its entries back at its next start
//! ([`take_interrupted`]); an entry older than [`IN_FLIGHT_LEASE`] holds nothing even before that.

use chrono::{DateTime, Duration, Utc};
use dto::{ActiveWork, ConnectorId, DiscrepancyId, OperationId, RunId, TenantId, UserId};
use enums::{
    ConnectorStatus, OperationType, ReconciliationMode, RemediationAction, RemediationDirection,
};
use sqlx::SqliteConnection;

use crate::store::{parse_enum, parse_id, parse_time, ts, ConnectorState};

/// How long a remediation in flight holds its connector at most (its connector calls time out well before).
pub const IN_FLIGHT_LEASE: Duration = Duration::minutes(5);

/// Why a start was not admitted (the gate's answers other than accepted).
#[derive(Debug, Clone, PartialEq)]
pub enum StartRefusal {
    /// The connector cannot take work: a reason code, a message and the next step.
    Blocked {
        /// `connector_disabled`, `credentials_invalid` or `connector_offline`.
        reason_code: &'static str,
        /// For people.
        message: String,
        /// What to do about it.
        next_step: &'static str,
    },
    /// An equivalent start is active: the existing work.
    Deduped(Existing),
    /// Different work holds the connector.
    ScopeBusy(ActiveWork),
}

/// The work a deduped start points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// A reconciliation run.
    Run(RunId),
    /// A provisioning operation.
    Operation(OperationId),
}

/// One sentence for people (a bulk item's skip reason).
pub fn describe(refusal: &StartRefusal) -> String {
    match refusal {
        StartRefusal::Blocked {
            message, next_step, ..
        } => format!("not started: {message}; {next_step}"),
        StartRefusal::Deduped(_) => "not started: an equivalent start is already active".to_owned(),
        StartRefusal::ScopeBusy(active) if active.kind == "remediation" => {
            "not started: a remediation is changing this connector right now".to_owned()
        }
        StartRefusal::ScopeBusy(active) => {
            format!(
                "not started: reconciliation run {} holds this connector",
                active.id
            )
        }
    }
}

/// `blocked` when the connector cannot take work, with why and what to do.
pub fn blocked(state: &ConnectorState) -> Result<(), StartRefusal> {
    let name = &state.target.name;
    let (reason_code, message, next_step) = match state.status {
        ConnectorStatus::Disabled | ConnectorStatus::Inactive => (
            "connector_disabled",
            format!("{name} is disabled"),
            "enable the connector",
        ),
        ConnectorStatus::Offline | ConnectorStatus::Error => (
            "connector_offline",
            format!("{name} cannot be reached"),
            "bring the connector back online",
        ),
        ConnectorStatus::Active if !state.credentials_valid => (
            "credentials_invalid",
            format!("{name}'s credentials are refused"),
            "fix its credentials",
        ),
        ConnectorStatus::Active => return Ok(()),
    };
    Err(StartRefusal::Blocked {
        reason_code,
        message,
        next_step,
    })
}

/// Starting a reconciliation run of `mode`.
pub async fn run(
    conn: &mut SqliteConnection,
    state: &ConnectorState,
    mode: ReconciliationMode,
    now: DateTime<Utc>,
) -> Result<Result<(), StartRefusal>, sqlx::Error> {
    if let Err(refusal) = blocked(state) {
        return Ok(Err(refusal));
    }
    let connector = state.target.id;
    if let Some((active, active_mode)) = active_run(conn, connector, None).await? {
        return Ok(Err(if active_mode == mode.as_str() {
            StartRefusal::Deduped(Existing::Run(active))
        } else {
            run_busy(active)
        }));
    }
    Ok(match remediation_in_flight(conn, connector, now).await? {
        Some(discrepancy) => Err(remediation_busy(discrepancy)),
        None => Ok(()),
    })
}

/// Resuming the paused run `run`.
pub async fn resume(
    conn: &mut SqliteConnection,
    state: &ConnectorState,
    run: RunId,
    now: DateTime<Utc>,
) -> Result<Result<(), StartRefusal>, sqlx::Error> {
    if let Err(refusal) = blocked(state) {
        return Ok(Err(refusal));
    }
    let connector = state.target.id;
    if let Some((active, _)) = active_run(conn, connector, Some(run)).await? {
        return Ok(Err(run_busy(active)));
    }
    Ok(match remediation_in_flight(conn, connector, now).await? {
        Some(discrepancy) => Err(remediation_busy(discrepancy)),
        None => Ok(()),
    })
}

/// Retrying `operation` (of `kind` on `target_uid`).
pub async fn retry(
    conn: &mut SqliteConnection,
    state: &ConnectorState,
    operation: OperationId,
    kind: OperationType,
    target_uid: Option<&str>,
) -> Result<Result<(), StartRefusal>, sqlx::Error> {
    if let Err(refusal) = blocked(state) {
        return Ok(Err(refusal));
    }
    let same: Option<String> = sqlx::query_scalar(
        "SELECT id FROM operations
         WHERE connector_id = ? AND operation_type = ? AND target_uid IS ? AND id <> ?
           AND status IN ('pending', 'in_progress', 'awaiting_system')
         ORDER BY created_at LIMIT 1",
    )
    .bind(state.target.id.to_string())
    .bind(kind.as_str())
    .bind(target_uid)
    .bind(operation.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match same {
        Some(id) => Err(StartRefusal::Deduped(Existing::Operation(parse_id(&id)?))),
        None => Ok(()),
    })
}

/// Remediating a discrepancy of the connector (the caller then claims it and marks it in flight).
pub async fn remediation(
    conn: &mut SqliteConnection,
    state: &ConnectorState,
) -> Result<Result<(), StartRefusal>, sqlx::Error> {
    if let Err(refusal) = blocked(state) {
        return Ok(Err(refusal));
    }
    Ok(match active_run(conn, state.target.id, None).await? {
        Some((run, _)) => Err(run_busy(run)),
        None => Ok(()),
    })
}

/// Marks a claimed remediation as holding its connector until [`remediation_done`].
pub async fn remediation_started(
    conn: &mut SqliteConnection,
    connector: ConnectorId,
    discrepancy: DiscrepancyId,
    direction: RemediationDirection,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO remediations_in_flight (discrepancy_id, connector_id, direction, started_at)
         VALUES (?, ?, ?, ?)
         ON CONFLICT (discrepancy_id) DO UPDATE SET direction = excluded.direction,
                                                    started_at = excluded.started_at",
    )
    .bind(discrepancy.to_string())
    .bind(connector.to_string())
    .bind(direction.as_str())
    .bind(ts(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// The remediation is over: it no longer holds the connector (in the transaction that settles and audits it).
pub async fn remediation_done(
    conn: &mut SqliteConnection,
    discrepancy: DiscrepancyId,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM remediations_in_flight WHERE discrepancy_id = ?")
        .bind(discrepancy.to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// A remediation an engine stopped in the middle of: claimed, never settled nor audited.
#[derive(Debug, Clone, PartialEq)]
pub struct Interrupted {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The connector it held.
    pub connector_id: ConnectorId,
    /// The claimed discrepancy.
    pub discrepancy_id: DiscrepancyId,
    /// What was asked.
    pub action: RemediationAction,
    /// Which way (none for a claim made before the direction was kept).
    pub direction: Option<RemediationDirection>,
    /// Who asked.
    pub by: Option<UserId>,
    /// When it was claimed (the claim's `resolved_at`).
    pub claimed_at: DateTime<Utc>,
}

/// Every remediation in flight whose discrepancy still carries its claim, and forgets them all: at an
/// engine's start none of them is running any more.
pub async fn take_interrupted(
    conn: &mut SqliteConnection,
) -> Result<Vec<Interrupted>, sqlx::Error> {
    let rows: Vec<InterruptedRow> = sqlx::query_as(
        "SELECT d.tenant_id, f.connector_id, f.discrepancy_id, d.resolved_action, f.direction,
                d.resolved_by, d.resolved_at
         FROM remediations_in_flight f JOIN discrepancies d ON d.id = f.discrepancy_id
         WHERE d.resolution_status = 'resolved' AND d.resolved_action IS NOT NULL
           AND d.resolved_at IS NOT NULL
         ORDER BY f.started_at",
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM remediations_in_flight")
        .execute(&mut *conn)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(Interrupted {
                tenant_id: parse_id(&row.tenant_id)?,
                connector_id: parse_id(&row.connector_id)?,
                discrepancy_id: parse_id(&row.discrepancy_id)?,
                action: parse_enum(&row.resolved_action)?,
                direction: row.direction.as_deref().map(parse_enum).transpose()?,
                by: row.resolved_by.as_deref().map(parse_id).transpose()?,
                claimed_at: parse_time(&row.resolved_at)?,
            })
        })
        .collect()
}

#[derive(sqlx::FromRow)]
struct InterruptedRow {
    tenant_id: String,
    connector_id: String,
    discrepancy_id: String,
    resolved_action: String,
    direction: Option<String>,
    resolved_by: Option<String>,
    resolved_at: String,
}

/// The connector's active run (pending, running or paused), other than `except`.
async fn active_run(
    conn: &mut SqliteConnection,
    connector: ConnectorId,
    except: Option<RunId>,
) -> Result<Option<(RunId, String)>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT id, mode FROM reconciliation_runs
         WHERE connector_id = ? AND status IN ('pending', 'running', 'paused') AND id IS NOT ?
         ORDER BY created_at LIMIT 1",
    )
    .bind(connector.to_string())
    .bind(except.map(|r| r.to_string()))
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|(id, mode)| Ok((parse_id(&id)?, mode))).transpose()
}

async fn remediation_in_flight(
    conn: &mut SqliteConnection,
    connector: ConnectorId,
    now: DateTime<Utc>,
) -> Result<Option<DiscrepancyId>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT discrepancy_id FROM remediations_in_flight WHERE connector_id = ? AND started_at > ?
         ORDER BY started_at LIMIT 1",
    )
    .bind(connector.to_string())
    .bind(ts(now - IN_FLIGHT_LEASE))
    .fetch_optional(&mut *conn)
    .await?;
    id.map(|id| parse_id(&id)).transpose()
}

fn run_busy(run: RunId) -> StartRefusal {
    StartRefusal::ScopeBusy(ActiveWork {
        kind: "reconciliation_run".into(),
        id: run.0,
    })
}

fn remediation_busy(discrepancy: DiscrepancyId) -> StartRefusal {
    StartRefusal::ScopeBusy(ActiveWork {
        kind: "remediation".into(),
        id: discrepancy.0,
    })
}
