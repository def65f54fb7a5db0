//! Reconciliation schedules (one per connector) and the discrepancy trend.
//!
//! `next_run_at` is written by whoever changes a schedule, computed by the one rule in `dto::ScheduleRule`:
//! on every save and enable (null while disabled), and by the scheduler when it claims a due firing (see
//! [`claim_firing`]). The trend reads `discrepancy_trend`, which only the triggers of migration 0004 write.

use chrono::{DateTime, NaiveDate, Utc};
use dto::{ConnectorId, ReconciliationSchedule, RunId, ScheduleId, TenantId, UpsertSchedule};
use enums::{DiscrepancyType, ReconciliationMode, ScheduleFrequency};
use sqlx::{FromRow, SqlitePool};

use super::{parse_enum, parse_id, parse_opt_id, parse_opt_time, parse_time, ts};

const SCHEDULE_COLUMNS: &str = "s.id, s.tenant_id, s.connector_id, c.name AS connector_name, s.mode, s.frequency,
    s.day_of_week, s.day_of_month, s.hour_of_day, s.cron_expression, s.enabled, s.last_run_at, s.last_run_id,
    s.last_outcome, s.next_run_at, s.created_at, s.updated_at";

#[derive(FromRow)]
struct ScheduleRow {
    id: String,
    tenant_id: String,
    connector_id: String,
    connector_name: Option<String>,
    mode: String,
    frequency: String,
    day_of_week: Option<i64>,
    day_of_month: Option<i64>,
    hour_of_day: i64,
    cron_expression: Option<String>,
    enabled: bool,
    last_run_at: Option<String>,
    last_run_id: Option<String>,
    last_outcome: Option<String>,
    next_run_at: Option<String>,
    created_at: String,
    updated_at: String,
}

/// A stored schedule with its tenant (the scheduler's view).
#[derive(Debug, Clone)]
pub struct StoredSchedule {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The schedule as the API answers it.
    pub schedule: ReconciliationSchedule,
}

fn small(value: i64, what: &str) -> Result<u8, sqlx::Error> {
    u8::try_from(value).map_err(|_| super::corrupt(what, &value.to_string()))
}

impl TryFrom<ScheduleRow> for StoredSchedule {
    type Error = sqlx::Error;

    fn try_from(row: ScheduleRow) -> Result<Self, Self::Error> {
        Ok(Self {
            tenant_id: parse_id(&row.tenant_id)?,
            schedule: ReconciliationSchedule {
                id: parse_id(&row.id)?,
                connector_id: parse_id(&row.connector_id)?,
                connector_name: row.connector_name,
                mode: parse_enum::<ReconciliationMode>(&row.mode)?,
                frequency: parse_enum::<ScheduleFrequency>(&row.frequency)?,
                day_of_week: row
                    .day_of_week
                    .map(|d| small(d, "day_of_week"))
                    .transpose()?,
                day_of_month: row
                    .day_of_month
                    .map(|d| small(d, "day_of_month"))
                    .transpose()?,
                hour_of_day: small(row.hour_of_day, "hour_of_day")?,
                cron_expression: row.cron_expression,
                enabled: row.enabled,
                last_run_at: parse_opt_time(row.last_run_at.as_deref())?,
                last_run_id: parse_opt_id(row.last_run_id.as_deref())?,
                last_outcome: row.last_outcome,
                next_run_at: parse_opt_time(row.next_run_at.as_deref())?,
                created_at: parse_time(&row.created_at)?,
                updated_at: Some(parse_time(&row.updated_at)?),
            },
        })
    }
}

/// A connector's schedule; none when it has none (or the connector is another tenant's).
pub async fn get_schedule(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
) -> Result<Option<ReconciliationSchedule>, sqlx::Error> {
    sqlx::query_as::<_, ScheduleRow>(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules s JOIN connectors c ON c.id = s.connector_id
         WHERE s.tenant_id = ? AND s.connector_id = ?"
    ))
    .bind(tenant.to_string())
    .bind(connector.to_string())
    .fetch_optional(pool)
    .await?
    .map(|row| StoredSchedule::try_from(row).map(|s| s.schedule))
    .transpose()
}

/// Every schedule of the tenant, by connector name.
pub async fn list_schedules(
    pool: &SqlitePool,
    tenant: TenantId,
) -> Result<Vec<ReconciliationSchedule>, sqlx::Error> {
    sqlx::query_as::<_, ScheduleRow>(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules s JOIN connectors c ON c.id = s.connector_id
         WHERE s.tenant_id = ? ORDER BY c.name, s.connector_id"
    ))
    .bind(tenant.to_string())
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|row| StoredSchedule::try_from(row).map(|s| s.schedule))
    .collect()
}

/// Creates or replaces the connector's schedule (a replaced one keeps its id, creation time and history);
/// none when the connector is not the tenant's. `next_run_at` is the caller's, from the schedule's rule
/// (none while disabled).
pub async fn put_schedule(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    schedule: &UpsertSchedule,
    next_run_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<ReconciliationSchedule>, sqlx::Error> {
    // Only the fields the frequency uses are kept: a daily schedule has no weekday.
    let (day_of_week, day_of_month, cron_expression) = match schedule.frequency {
        ScheduleFrequency::Weekly => (schedule.day_of_week, None, None),
        ScheduleFrequency::Monthly => (None, schedule.day_of_month, None),
        ScheduleFrequency::Cron => (
            None,
            None,
            schedule.cron_expression.as_deref().map(str::trim),
        ),
        ScheduleFrequency::Hourly | ScheduleFrequency::Daily => (None, None, None),
    };
    let written = sqlx::query(
        "INSERT INTO schedules (id, tenant_id, connector_id, mode, frequency, day_of_week, day_of_month,
                                hour_of_day, cron_expression, enabled, next_run_at, created_at, updated_at)
         SELECT ?, tenant_id, id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM connectors WHERE id = ? AND tenant_id = ?
         ON CONFLICT (connector_id) DO UPDATE SET
             mode = excluded.mode, frequency = excluded.frequency, day_of_week = excluded.day_of_week,
             day_of_month = excluded.day_of_month, hour_of_day = excluded.hour_of_day,
             cron_expression = excluded.cron_expression, enabled = excluded.enabled,
             next_run_at = excluded.next_run_at, updated_at = excluded.updated_at",
    )
    .bind(ScheduleId(uuid::Uuid::new_v4()).to_string())
    .bind(schedule.mode.as_str())
    .bind(schedule.frequency.as_str())
    .bind(day_of_week)
    .bind(day_of_month)
    .bind(schedule.hour_of_day)
    .bind(cron_expression)
    .bind(schedule.enabled)
    .bind(next_run_at.map(ts))
    .bind(ts(now))
    .bind(ts(now))
    .bind(connector.to_string())
    .bind(tenant.to_string())
    .execute(pool)
    .await?;
    if written.rows_affected() == 0 {
        return Ok(None);
    }
    get_schedule(pool, tenant, connector).await
}

/// Deletes the connector's schedule; false when there was none.
pub async fn delete_schedule(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM schedules WHERE tenant_id = ? AND connector_id = ?")
        .bind(tenant.to_string())
        .bind(connector.to_string())
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// Turns the schedule on (with its next slot) or off (no next slot); false when there is none.
pub async fn set_schedule_enabled(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: ConnectorId,
    next_run_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let changed = sqlx::query(
        "UPDATE schedules SET enabled = ?, next_run_at = ?, updated_at = ?
         WHERE tenant_id = ? AND connector_id = ?",
    )
    .bind(next_run_at.is_some())
    .bind(next_run_at.map(ts))
    .bind(ts(now))
    .bind(tenant.to_string())
    .bind(connector.to_string())
    .execute(pool)
    .await?;
    Ok(changed.rows_affected() > 0)
}

/// Enabled schedules whose next slot is at or before `now`, the most overdue first, at most `limit`
/// (the index on `(enabled, next_run_at)` answers it).
pub async fn due_schedules(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<StoredSchedule>, sqlx::Error> {
    sqlx::query_as::<_, ScheduleRow>(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM schedules s INDEXED BY schedules_due
         JOIN connectors c ON c.id = s.connector_id
         WHERE s.enabled = 1 AND s.next_run_at <= ? ORDER BY s.next_run_at LIMIT ?"
    ))
    .bind(ts(now))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(StoredSchedule::try_from)
    .collect()
}

/// Claims a due firing: moves `next_run_at` from the slot that was due (`due`) to `next`, only if it is
/// still enabled and still due at that slot. True for the one caller that wins; another tick or another
/// process that read the same slot gets false and fires nothing.
pub async fn claim_firing(
    pool: &SqlitePool,
    id: ScheduleId,
    due: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let claimed = sqlx::query(
        "UPDATE schedules SET next_run_at = ?, updated_at = ?
         WHERE id = ? AND enabled = 1 AND next_run_at = ?",
    )
    .bind(next.map(ts))
    .bind(ts(now))
    .bind(id.to_string())
    .bind(ts(due))
    .execute(pool)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Records what a firing did: the gate's answer, and the run when one was started.
pub async fn record_firing(
    pool: &SqlitePool,
    id: ScheduleId,
    fired_at: DateTime<Utc>,
    run: Option<RunId>,
    outcome: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE schedules SET last_outcome = ?,
                last_run_at = CASE WHEN ? IS NULL THEN last_run_at ELSE ? END,
                last_run_id = COALESCE(?, last_run_id)
         WHERE id = ?",
    )
    .bind(outcome)
    .bind(run.map(|r| r.to_string()))
    .bind(ts(fired_at))
    .bind(run.map(|r| r.to_string()))
    .bind(id.to_string())
    .execute(pool)
    .await?;
    Ok(())
}

/// Sets a schedule's next slot without firing (the demo moves its clock back; tests simulate downtime).
pub async fn set_next_run_at(
    pool: &SqlitePool,
    id: ScheduleId,
    next: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE schedules SET next_run_at = ? WHERE id = ?")
        .bind(ts(next))
        .bind(id.to_string())
        .execute(pool)
        .await?;
    Ok(())
}

/// Discrepancies found on one day, by type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendCount {
    /// The UTC day.
    pub day: NaiveDate,
    /// The type counted.
    pub discrepancy_type: DiscrepancyType,
    /// How many.
    pub count: u64,
}

/// The tenant's discrepancies found per day and type from `from` to `to` (inclusive, UTC days), one
/// connector or all; days without any are absent.
pub async fn trend_counts(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: Option<ConnectorId>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<TrendCount>, sqlx::Error> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT day, discrepancy_type, SUM(count) FROM discrepancy_trend
         WHERE tenant_id = ?1 AND day BETWEEN ?2 AND ?3 AND (?4 IS NULL OR connector_id = ?4)
         GROUP BY day, discrepancy_type HAVING SUM(count) > 0 ORDER BY day",
    )
    .bind(tenant.to_string())
    .bind(from.format("%Y-%m-%d").to_string())
    .bind(to.format("%Y-%m-%d").to_string())
    .bind(connector.map(|c| c.to_string()))
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(day, kind, count)| {
            Ok(TrendCount {
                day: NaiveDate::parse_from_str(&day, "%Y-%m-%d")
                    .map_err(|_| super::corrupt("day", &day))?,
                discrepancy_type: parse_enum(&kind)?,
                count: super::count(count),
            })
        })
        .collect()
}
