//! Provisioning operations, their attempts and logs, and queue statistics.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SubsecRound, Utc};
use dto::{
    ConnectorId, ExecutionAttempt, OperationId, OperationLog, OperationQuery, OperationSort,
    PageRequest, ProvisioningOperation, QueueStatistics, TenantId,
};
use enums::OperationStatus;
use sqlx::{FromRow, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::{
    count, page_binds, parse_enum, parse_id, parse_json, parse_opt_id, parse_opt_time, parse_time,
    ts,
};

#[derive(FromRow)]
pub(super) struct OperationRow {
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
pub(super) fn push_filters(
    sql: &mut QueryBuilder<'_, Sqlite>,
    tenant: TenantId,
    query: &OperationQuery,
) {
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

/// The columns of a [`ProvisioningOperation`] from `operations o` joined with `connectors c`.
const OPERATION_COLUMNS: &str =
    "o.id, o.tenant_id, o.connector_id, c.name AS connector_name, o.user_id, o.operation_type, o.object_class,
     o.target_uid, o.status, o.priority, o.retry_count, o.max_retries, o.error_message, o.payload,
     o.idempotency_key, o.next_retry_at, o.created_at, o.updated_at, o.started_at, o.completed_at,
     o.resolution_notes, o.resolved_by, o.resolved_at";

/// The connector's name, when it still exists.
const CONNECTOR_JOIN: &str =
    "LEFT JOIN connectors c ON c.id = o.connector_id AND c.tenant_id = o.tenant_id";

/// `ORDER BY` of a sort order. The tie-break on rowid runs the same way as in the indexes (whose rowid is
/// always ascending), so a page is read straight off an index, without sorting.
fn order_by(sort: OperationSort) -> &'static str {
    match sort {
        OperationSort::Newest => " ORDER BY o.created_at DESC, o.rowid ASC",
        OperationSort::Oldest => " ORDER BY o.created_at ASC, o.rowid DESC",
        OperationSort::Priority => " ORDER BY o.priority DESC, o.created_at DESC, o.rowid ASC",
    }
}

/// A page of the tenant's operations matching `query`, in its sort order (newest first by default), with
/// connector names, and how many match.
pub async fn list_operations(
    pool: &SqlitePool,
    tenant: TenantId,
    query: &OperationQuery,
    page: PageRequest,
) -> Result<(Vec<ProvisioningOperation>, u64), sqlx::Error> {
    let (limit, offset) = page_binds(page);
    // One read transaction: the page and the total come from the same snapshot.
    let mut tx = pool.begin().await?;
    // The page is picked from an index (the rows skipped by an offset are never read), then its rows are read.
    let order = order_by(query.sort.unwrap_or_default());
    let mut sql = QueryBuilder::new("SELECT ");
    sql.push(OPERATION_COLUMNS)
        .push(" FROM (SELECT o.rowid AS rid FROM operations o");
    push_filters(&mut sql, tenant, query);
    sql.push(order).push(" LIMIT ").push_bind(limit);
    sql.push(" OFFSET ").push_bind(offset);
    sql.push(") AS page JOIN operations o ON o.rowid = page.rid ")
        .push(CONNECTOR_JOIN)
        .push(order);
    let rows: Vec<OperationRow> = sql.build_query_as().fetch_all(&mut *tx).await?;

    let total = count_matching(&mut tx, tenant, query).await?;
    tx.commit().await?;

    let operations = rows
        .into_iter()
        .map(ProvisioningOperation::try_from)
        .collect::<Result<_, _>>()?;
    Ok((operations, count(total)))
}

/// A creation-time range, inclusive, either side open.
pub(crate) type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// How a count over a creation-time range splits: whole UTC days, added up from `operation_counts`, and the
/// partial days at either end, counted row by row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CountPlan {
    /// The whole days, first and last (inclusive; none: unbounded on that side); none when there is no whole
    /// day in the range.
    pub days: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Ranges to count row by row (inclusive bounds).
    pub exact: Vec<TimeRange>,
}

/// Splits `[from, to]` (inclusive, either side open) for counting.
pub(crate) fn count_plan(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> CountPlan {
    // Stored times have microseconds: compare at that precision.
    let (from, to) = (
        from.map(|t| t.trunc_subsecs(6)),
        to.map(|t| t.trunc_subsecs(6)),
    );
    let micro = Duration::microseconds(1);
    let start = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc();
    let end = |d: NaiveDate| start(d) + Duration::days(1) - micro;
    let first = from.map(|f| {
        let d = f.date_naive();
        if f == start(d) {
            d
        } else {
            d + Duration::days(1)
        }
    });
    let last = to.map(|t| {
        let d = t.date_naive();
        if t == end(d) {
            d
        } else {
            d - Duration::days(1)
        }
    });
    if let (Some(a), Some(b)) = (first, last) {
        if a > b {
            return CountPlan {
                days: None,
                exact: vec![(from, to)],
            };
        }
    }
    let mut exact = Vec::new();
    if let (Some(f), Some(a)) = (from, first) {
        if f < start(a) {
            exact.push((Some(f), Some(start(a) - micro)));
        }
    }
    if let (Some(t), Some(b)) = (to, last) {
        if t > end(b) {
            exact.push((Some(end(b) + micro), Some(t)));
        }
    }
    CountPlan {
        days: Some((first, last)),
        exact,
    }
}

/// How many of the tenant's operations match `query`'s filters. Without a user filter the whole days come from
/// `operation_counts` (kept by triggers) and only partial days are counted row by row, so a total costs the
/// same over a thousand rows or a million.
async fn count_matching(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    query: &OperationQuery,
) -> Result<i64, sqlx::Error> {
    let exact = |from, to| OperationQuery {
        from_date: from,
        to_date: to,
        ..query.clone()
    };
    let plan = if query.user_id.is_some() {
        CountPlan {
            days: None,
            exact: vec![(query.from_date, query.to_date)],
        }
    } else {
        count_plan(query.from_date, query.to_date)
    };
    let mut total = 0;
    if let Some((first, last)) = plan.days {
        let mut sql = QueryBuilder::new(
            "SELECT COALESCE(SUM(count), 0) FROM operation_counts WHERE tenant_id = ",
        );
        sql.push_bind(tenant.to_string());
        if let Some(connector) = query.connector_id {
            sql.push(" AND connector_id = ")
                .push_bind(connector.to_string());
        }
        if let Some(status) = query.status {
            sql.push(" AND status = ").push_bind(status.as_str());
        }
        if let Some(kind) = query.operation_type {
            sql.push(" AND operation_type = ").push_bind(kind.as_str());
        }
        if let Some(first) = first {
            sql.push(" AND day >= ")
                .push_bind(first.format("%Y-%m-%d").to_string());
        }
        if let Some(last) = last {
            sql.push(" AND day <= ")
                .push_bind(last.format("%Y-%m-%d").to_string());
        }
        let days: i64 = sql.build_query_scalar().fetch_one(&mut *conn).await?;
        total += days;
    }
    for (from, to) in plan.exact {
        let mut sql = QueryBuilder::new("SELECT COUNT(*) FROM operations o");
        push_filters(&mut sql, tenant, &exact(from, to));
        let rows: i64 = sql.build_query_scalar().fetch_one(&mut *conn).await?;
        total += rows;
    }
    Ok(total)
}

/// The tenant's operation with this id, with its connector's name; none for an unknown id or another tenant's.
pub async fn get_operation(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: OperationId,
) -> Result<Option<ProvisioningOperation>, sqlx::Error> {
    sqlx::query_as::<_, OperationRow>(&format!(
        "SELECT {OPERATION_COLUMNS} FROM operations o {CONNECTOR_JOIN} WHERE o.tenant_id = ? AND o.id = ?"
    ))
    .bind(tenant.to_string())
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?
    .map(ProvisioningOperation::try_from)
    .transpose()
}

/// Whether the tenant has an operation with this id.
async fn operation_exists(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    id: OperationId,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM operations WHERE tenant_id = ? AND id = ?")
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

#[derive(FromRow)]
struct AttemptRow {
    attempt_number: i32,
    started_at: String,
    completed_at: Option<String>,
    success: bool,
    error_code: Option<String>,
    error_message: Option<String>,
    duration_ms: Option<i64>,
}

/// The attempts of the tenant's operation, oldest first; none when the tenant has no such operation.
pub async fn operation_attempts(
    pool: &SqlitePool,
    tenant: TenantId,
    id: OperationId,
) -> Result<Option<Vec<ExecutionAttempt>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !operation_exists(&mut tx, tenant, id).await? {
        return Ok(None);
    }
    let rows = sqlx::query_as::<_, AttemptRow>(
        "SELECT attempt_number, started_at, completed_at, success, error_code, error_message, duration_ms
         FROM operation_attempts WHERE operation_id = ? ORDER BY attempt_number",
    )
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.into_iter()
        .map(|row| {
            Ok(ExecutionAttempt {
                attempt_number: row.attempt_number,
                started_at: parse_time(&row.started_at)?,
                completed_at: parse_opt_time(row.completed_at.as_deref())?,
                success: row.success,
                error_code: row.error_code,
                error_message: row.error_message,
                duration_ms: row.duration_ms,
            })
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

#[derive(FromRow)]
struct LogRow {
    id: String,
    timestamp: String,
    level: String,
    message: String,
}

/// The log of the tenant's operation, oldest first; none when the tenant has no such operation.
pub async fn operation_logs(
    pool: &SqlitePool,
    tenant: TenantId,
    id: OperationId,
) -> Result<Option<Vec<OperationLog>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !operation_exists(&mut tx, tenant, id).await? {
        return Ok(None);
    }
    // rowid breaks ties between lines written in the same microsecond, in the order they were written.
    let rows = sqlx::query_as::<_, LogRow>(
        "SELECT id, timestamp, level, message FROM operation_logs
         WHERE operation_id = ? ORDER BY timestamp, rowid",
    )
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    rows.into_iter()
        .map(|row| {
            Ok(OperationLog {
                id: parse_id(&row.id)?,
                operation_id: id,
                timestamp: parse_time(&row.timestamp)?,
                level: row.level,
                message: row.message,
            })
        })
        .collect::<Result<_, _>>()
        .map(Some)
}

/// Counts per status, mean processing time of completed operations, and the success rate, for the tenant or
/// one of its connectors.
pub async fn queue_statistics(
    pool: &SqlitePool,
    tenant: TenantId,
    connector: Option<ConnectorId>,
) -> Result<QueueStatistics, sqlx::Error> {
    // From the counts the triggers keep: a statistics request costs the same at any size.
    let mut sql = QueryBuilder::new(
        "SELECT status, SUM(count), SUM(busy_seconds), SUM(timed) FROM operation_counts WHERE tenant_id = ",
    );
    sql.push_bind(tenant.to_string());
    if let Some(connector) = connector {
        sql.push(" AND connector_id = ")
            .push_bind(connector.to_string());
    }
    sql.push(" GROUP BY status");
    let rows: Vec<(String, i64, f64, i64)> = sql.build_query_as().fetch_all(pool).await?;

    let mut stats = QueueStatistics::default();
    for (status, n, busy_seconds, timed) in rows {
        let n = count(n);
        match parse_enum::<OperationStatus>(&status)? {
            OperationStatus::Pending => stats.pending = n,
            OperationStatus::InProgress => stats.in_progress = n,
            OperationStatus::Completed => {
                stats.completed = n;
                stats.avg_processing_time_secs =
                    (timed > 0).then(|| (busy_seconds / timed as f64).max(0.0));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn whole_days_come_from_the_counts_and_the_ends_are_counted() {
        assert_eq!(
            count_plan(None, None),
            CountPlan {
                days: Some((None, None)),
                exact: vec![]
            }
        );
        let plan = count_plan(
            Some(t("2026-11-01T10:00:00Z")),
            Some(t("2026-11-08T09:30:00Z")),
        );
        assert_eq!(
            plan.days,
            Some((Some(d("2026-11-02")), Some(d("2026-11-07"))))
        );
        assert_eq!(
            plan.exact,
            vec![
                (
                    Some(t("2026-11-01T10:00:00Z")),
                    Some(t("2026-11-01T23:59:59.999999Z"))
                ),
                (
                    Some(t("2026-11-08T00:00:00Z")),
                    Some(t("2026-11-08T09:30:00Z"))
                ),
            ]
        );
        // Midnight to the last microsecond: whole days only.
        let plan = count_plan(
            Some(t("2026-11-01T00:00:00Z")),
            Some(t("2026-11-03T23:59:59.999999Z")),
        );
        assert_eq!(
            plan.days,
            Some((Some(d("2026-11-01")), Some(d("2026-11-03"))))
        );
        assert!(plan.exact.is_empty());
        // Open on one side.
        let plan = count_plan(Some(t("2026-11-01T12:00:00Z")), None);
        assert_eq!(plan.days, Some((Some(d("2026-11-02")), None)));
        assert_eq!(plan.exact.len(), 1);
        let plan = count_plan(None, Some(t("2026-11-01T12:00:00.5Z")));
        assert_eq!(plan.days, Some((None, Some(d("2026-10-31")))));
        assert_eq!(
            plan.exact,
            vec![(
                Some(t("2026-11-01T00:00:00Z")),
                Some(t("2026-11-01T12:00:00.5Z"))
            )]
        );
        // Within one day, or across one midnight: no whole day.
        for (from, to) in [
            ("2026-11-01T01:00:00Z", "2026-11-01T02:00:00Z"),
            ("2026-11-01T20:00:00Z", "2026-11-02T02:00:00Z"),
        ] {
            let plan = count_plan(Some(t(from)), Some(t(to)));
            assert_eq!(plan.days, None);
            assert_eq!(plan.exact, vec![(Some(t(from)), Some(t(to)))]);
        }
    }
}
