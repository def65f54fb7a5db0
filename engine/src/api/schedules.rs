//! `/connectors/{id}/reconciliation/schedule` (one schedule per connector), `/reconciliation/schedules` and
//! `/reconciliation/trend`. The behaviour is specified in `specs/schedules.md`; every id of another tenant
//! answers 404.

use axum::{extract::State, http::StatusCode, Json};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use dto::{
    ConnectorId, ReconciliationSchedule, ScheduleList, Trend, TrendPoint, TrendQuery,
    UpsertSchedule,
};
use enums::{DiscrepancyType, ReconciliationMode};

use super::{
    body::JsonObject,
    params::{PathId, QueryParams},
};
use crate::{auth::AdminContext, store, ApiError, AppState};

/// Days the trend answers when no range is given.
const DEFAULT_TREND_DAYS: i64 = 30;
/// Longest range the trend answers, in days.
pub const MAX_TREND_DAYS: i64 = 366;
/// Longest cron expression accepted.
const MAX_CRON: usize = 200;

async fn known_connector(
    state: &AppState,
    admin: &AdminContext,
    id: ConnectorId,
) -> Result<(), ApiError> {
    store::get_connector(state.pool(), admin.tenant_id, id)
        .await?
        .map(|_| ())
        .ok_or_else(|| ApiError::NotFound(format!("connector {id} not found")))
}

fn no_schedule(id: ConnectorId) -> ApiError {
    ApiError::NotFound(format!("connector {id} has no reconciliation schedule"))
}

/// `GET /connectors/{id}/reconciliation/schedule`: 404 when there is none.
pub async fn get(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
) -> Result<Json<ReconciliationSchedule>, ApiError> {
    known_connector(&state, &admin, id).await?;
    store::get_schedule(state.pool(), admin.tenant_id, id)
        .await?
        .map(Json)
        .ok_or_else(|| no_schedule(id))
}

/// A small whole number for the dto's range checks to judge (anything out of a `u8` is out of every range).
fn small(body: &JsonObject, name: &str) -> Result<Option<u8>, ApiError> {
    Ok(body
        .integer(name, i64::MIN..=i64::MAX)?
        .map(|n| u8::try_from(n).unwrap_or(u8::MAX)))
}

/// `PUT /connectors/{id}/reconciliation/schedule {mode, frequency, day_of_week?, day_of_month?, hour_of_day,
/// cron_expression?, enabled?}`: creates or replaces it, with its next run.
pub async fn put(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
    body: JsonObject,
) -> Result<Json<ReconciliationSchedule>, ApiError> {
    // `frequency` is a frequency, or (as xavyo-idp takes it) a cron expression standing for itself.
    let frequency = body
        .text("frequency", MAX_CRON)?
        .ok_or_else(|| ApiError::validation("frequency", "frequency is required"))?;
    let (frequency, cron_expression) =
        dto::read_frequency(&frequency, body.text("cron_expression", MAX_CRON)?).map_err(|e| {
            ApiError::validation(
                "frequency",
                format!(
                    "frequency must be one of: {} or a five-field cron expression (got `{}`)",
                    e.expected, e.value
                ),
            )
        })?;
    let request = UpsertSchedule {
        mode: body.required_member::<ReconciliationMode>("mode")?,
        frequency,
        day_of_week: small(&body, "day_of_week")?,
        day_of_month: small(&body, "day_of_month")?,
        hour_of_day: small(&body, "hour_of_day")?
            .ok_or_else(|| ApiError::validation("hour_of_day", "hour_of_day is required"))?,
        cron_expression,
        enabled: body.bool("enabled")?.unwrap_or(true),
    };
    let rule = request.rule()?;
    known_connector(&state, &admin, id).await?;
    let now = Utc::now();
    let next = if request.enabled {
        rule.next_after(now)
    } else {
        None
    };
    store::put_schedule(state.pool(), admin.tenant_id, id, &request, next, now)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("connector {id} not found")))
}

/// `DELETE /connectors/{id}/reconciliation/schedule`: 204; 404 when there is none.
pub async fn delete(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
) -> Result<StatusCode, ApiError> {
    known_connector(&state, &admin, id).await?;
    if store::delete_schedule(state.pool(), admin.tenant_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_schedule(id))
    }
}

async fn set_enabled(
    state: &AppState,
    admin: &AdminContext,
    id: ConnectorId,
    enabled: bool,
) -> Result<StatusCode, ApiError> {
    known_connector(state, admin, id).await?;
    let schedule = store::get_schedule(state.pool(), admin.tenant_id, id)
        .await?
        .ok_or_else(|| no_schedule(id))?;
    let now = Utc::now();
    let next = if enabled {
        schedule.rule()?.next_after(now)
    } else {
        None
    };
    if store::set_schedule_enabled(state.pool(), admin.tenant_id, id, next, now).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_schedule(id))
    }
}

/// `POST .../schedule/enable`: 204, its next run computed from now.
pub async fn enable(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&state, &admin, id, true).await
}

/// `POST .../schedule/disable`: 204; a disabled schedule has no next run.
pub async fn disable(
    admin: AdminContext,
    State(state): State<AppState>,
    PathId(id): PathId<ConnectorId>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&state, &admin, id, false).await
}

/// `GET /reconciliation/schedules`: every connector's schedule, with the connector's name.
pub async fn list(
    admin: AdminContext,
    State(state): State<AppState>,
) -> Result<Json<ScheduleList>, ApiError> {
    Ok(Json(ScheduleList {
        schedules: store::list_schedules(state.pool(), admin.tenant_id).await?,
    }))
}

/// `from`/`to` as an RFC 3339 time or a `YYYY-MM-DD` day (its midnight, UTC).
fn instant(params: &QueryParams, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(raw) = params.text(name, 64)? else {
        return Ok(None);
    };
    if let Ok(day) = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
        return Ok(Some(day.and_time(NaiveTime::MIN).and_utc()));
    }
    params.time(name).map_err(|_| {
        ApiError::validation(
            name,
            format!("{name} must be a date (YYYY-MM-DD) or an RFC 3339 time"),
        )
    })
}

/// `GET /reconciliation/trend?connector_id&from&to`: discrepancies found per UTC day (the day of the run that
/// found them), by type, one point for every day of the range (default the last 30 days; at most 366).
pub async fn trend(
    admin: AdminContext,
    State(state): State<AppState>,
    params: QueryParams,
) -> Result<Json<Trend>, ApiError> {
    let query = TrendQuery {
        connector_id: params.id("connector_id")?,
        from: instant(&params, "from")?,
        to: instant(&params, "to")?,
    };
    query.validate()?;
    let to = query.to.unwrap_or_else(Utc::now);
    let from = query.from.unwrap_or_else(|| {
        (to.date_naive() - Duration::days(DEFAULT_TREND_DAYS - 1))
            .and_time(NaiveTime::MIN)
            .and_utc()
    });
    if from > to {
        return Err(ApiError::validation("from", "from must not be after to"));
    }
    let (first, last) = (from.date_naive(), to.date_naive());
    if (last - first).num_days() >= MAX_TREND_DAYS {
        return Err(ApiError::validation(
            "from",
            format!("the range may cover at most {MAX_TREND_DAYS} days"),
        ));
    }
    if let Some(connector) = query.connector_id {
        known_connector(&state, &admin, connector).await?;
    }
    let counts = store::trend_counts(
        state.pool(),
        admin.tenant_id,
        query.connector_id,
        first,
        last,
    )
    .await?;
    let mut counts = counts.into_iter().peekable();
    let data_points = first
        .iter_days()
        .take_while(|day| *day <= last)
        .map(|date| {
            let mut by_type: std::collections::BTreeMap<DiscrepancyType, u64> =
                DiscrepancyType::ALL.iter().map(|t| (*t, 0)).collect();
            while let Some(count) = counts.next_if(|c| c.day == date) {
                by_type.insert(count.discrepancy_type, count.count);
            }
            TrendPoint {
                date,
                total: by_type.values().sum(),
                by_type,
            }
        })
        .collect();
    Ok(Json(Trend {
        data_points,
        connector_id: query.connector_id,
        from,
        to,
    }))
}
