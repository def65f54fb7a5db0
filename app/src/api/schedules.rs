//! Server functions of reconciliation schedules and the discrepancy trend.
//!
//! The pages' functions answer the DTOs. The schedule form's functions (command forms, see
//! `components::commands`) take its URL-encoded fields and answer text: a sentence for a toast, or the
//! server-rendered HTML of the next five runs (or of what is wrong), computed by the shared rule
//! (`dto::ScheduleRule`, never in the browser's WASM). The form is checked with that rule before any upstream
//! call: xavyo-idp saves an unknown frequency as `daily`. Every function checks the session is an
//! administrator's.

#![allow(
    clippy::too_many_arguments,
    reason = "a form's server function takes one argument per field"
)]

use dto::{
    enums::{ReconciliationMode, ScheduleFrequency},
    ConnectorId, ReconciliationSchedule, ScheduleList, Trend, TrendQuery,
};
use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::ssr;

/// How many upcoming runs the schedule form shows.
pub const UPCOMING_RUNS: usize = 5;

/// `GET /reconciliation/schedules`.
#[server]
pub async fn list_schedules() -> Result<ScheduleList, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.list_schedules(session.caller())
        .await
        .map_err(ssr::upstream)
}

/// `GET /connectors/{id}/reconciliation/schedule`; none when the connector has no schedule.
#[server]
pub async fn get_schedule(
    connector_id: ConnectorId,
) -> Result<Option<ReconciliationSchedule>, AppError> {
    let (session, api) = ssr::require_admin().await?;
    match api.get_schedule(session.caller(), connector_id).await {
        Ok(schedule) => Ok(Some(schedule)),
        Err(client::ClientError::Api { status: 404, .. }) => Ok(None),
        Err(e) => Err(ssr::upstream(e)),
    }
}

/// `GET /reconciliation/trend`, the range checked first.
#[server]
pub async fn discrepancy_trend(query: TrendQuery) -> Result<Trend, AppError> {
    let (session, api) = ssr::require_admin().await?;
    query.validate().map_err(|e| ssr::fail(e.into()))?;
    api.discrepancy_trend(session.caller(), &query)
        .await
        .map_err(ssr::upstream)
}

/// The schedule form's fields as the form sends them (text; the ones the frequency does not use are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleFields {
    /// `full` or `delta`.
    pub mode: String,
    /// A frequency.
    pub frequency: String,
    /// 0-6 (weekly).
    pub day_of_week: Option<String>,
    /// 1-31 (monthly).
    pub day_of_month: Option<String>,
    /// 0-23.
    pub hour_of_day: Option<String>,
    /// Five fields (cron).
    pub cron_expression: Option<String>,
}

impl ScheduleFields {
    /// The request these fields make, checked by the shared rule (naming the field at fault).
    pub fn request(&self) -> Result<dto::UpsertSchedule, AppError> {
        let invalid = |field: &str, message: String| AppError::Validation {
            field: Some(field.to_owned()),
            message,
        };
        let mode: ReconciliationMode = self
            .mode
            .parse()
            .map_err(|e: dto::enums::UnknownVariant| invalid("mode", e.to_string()))?;
        let frequency: ScheduleFrequency = self
            .frequency
            .parse()
            .map_err(|e: dto::enums::UnknownVariant| invalid("frequency", e.to_string()))?;
        // A number the shared rule then judges; text that is no number at all is refused here.
        let number = |field: &str, value: &Option<String>| -> Result<Option<u8>, AppError> {
            match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v
                    .parse::<u32>()
                    .map(|n| Some(u8::try_from(n).unwrap_or(u8::MAX)))
                    .map_err(|_| invalid(field, format!("{field} must be a whole number"))),
            }
        };
        let uses = |f: ScheduleFrequency| frequency == f;
        let request = dto::UpsertSchedule {
            mode,
            frequency,
            day_of_week: if uses(ScheduleFrequency::Weekly) {
                number("day_of_week", &self.day_of_week)?
            } else {
                None
            },
            day_of_month: if uses(ScheduleFrequency::Monthly) {
                number("day_of_month", &self.day_of_month)?
            } else {
                None
            },
            hour_of_day: if uses(ScheduleFrequency::Hourly) || uses(ScheduleFrequency::Cron) {
                number("hour_of_day", &self.hour_of_day)?.unwrap_or(0)
            } else {
                number("hour_of_day", &self.hour_of_day)?
                    .ok_or_else(|| invalid("hour_of_day", "hour_of_day is required".to_owned()))?
            },
            cron_expression: if uses(ScheduleFrequency::Cron) {
                self.cron_expression.clone()
            } else {
                None
            },
            enabled: true,
        };
        #[cfg(feature = "ssr")]
        request.rule()?;
        #[cfg(not(feature = "ssr"))]
        request.validate()?;
        Ok(request)
    }
}

/// `PUT /connectors/{id}/reconciliation/schedule` from the schedule form. A saved schedule stays enabled or
/// disabled as it is now (read first: the form may be older than the last toggle); a new one is enabled.
/// Answers a sentence for the toast: how often it runs and when next.
#[server]
pub async fn save_schedule(
    connector_id: ConnectorId,
    mode: String,
    frequency: String,
    day_of_week: Option<String>,
    day_of_month: Option<String>,
    hour_of_day: Option<String>,
    cron_expression: Option<String>,
) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    let fields = ScheduleFields {
        mode,
        frequency,
        day_of_week,
        day_of_month,
        hour_of_day,
        cron_expression,
    };
    let mut request = fields.request().map_err(ssr::fail)?;
    request.enabled = match api.get_schedule(session.caller(), connector_id).await {
        Ok(current) => current.enabled,
        Err(client::ClientError::Api { status: 404, .. }) => true,
        Err(e) => return Err(ssr::upstream(e)),
    };
    let saved = api
        .put_schedule(session.caller(), connector_id, &request)
        .await
        .map_err(ssr::upstream)?;
    Ok(saved_sentence(&request, &saved))
}

/// What a save did, from what the upstream answered it stored (never from what was asked): how often it runs
/// and when next, and every field it stored differently from what was asked.
pub fn saved_sentence(asked: &dto::UpsertSchedule, saved: &ReconciliationSchedule) -> String {
    let next = match (saved.enabled, saved.next_run_at) {
        (false, _) => " It is disabled: it will not run until enabled.".to_owned(),
        (true, Some(at)) => format!(" Next run: {}.", at.format("%Y-%m-%d %H:%M UTC")),
        (true, None) => " It is enabled; the upstream gives no time for its next run.".to_owned(),
    };
    let differ = asked.differences(saved);
    let warning = if differ.is_empty() {
        String::new()
    } else {
        let asked_for = dto::describe(
            asked.frequency,
            asked.day_of_week,
            asked.day_of_month,
            asked.hour_of_day,
            asked.cron_expression.as_deref(),
        );
        format!(
            " The upstream did not store what was asked ({asked_for}): it differs in {}.",
            differ.join(", ")
        )
    };
    format!("Schedule saved: {}.{next}{warning}", saved.describe())
}

/// The next five runs of the form's schedule as server-rendered HTML, or what is wrong with it: the form's
/// live check (nothing is saved).
#[server]
pub async fn preview_schedule(
    mode: String,
    frequency: String,
    day_of_week: Option<String>,
    day_of_month: Option<String>,
    hour_of_day: Option<String>,
    cron_expression: Option<String>,
) -> Result<String, AppError> {
    use crate::components::schedules::UpcomingRuns;
    ssr::require_admin().await?;
    let fields = ScheduleFields {
        mode,
        frequency,
        day_of_week,
        day_of_month,
        hour_of_day,
        cron_expression,
    };
    let runs = fields
        .request()
        .and_then(|r| Ok(r.rule()?))
        .map(|rule| rule.upcoming(std::time::SystemTime::now().into(), UPCOMING_RUNS));
    Ok(view! { <UpcomingRuns runs/> }.to_html())
}

/// `POST .../schedule/enable` or `.../disable`; answers a sentence for the toast.
#[server]
pub async fn set_schedule_enabled(
    connector_id: ConnectorId,
    enabled: bool,
) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.set_schedule_enabled(session.caller(), connector_id, enabled)
        .await
        .map_err(ssr::upstream)?;
    // The answer has no body: read the schedule back and say what it is now, not what was asked.
    let now = api
        .get_schedule(session.caller(), connector_id)
        .await
        .map(|s| s.enabled)
        .ok();
    Ok(match (enabled, now) {
        (true, Some(true)) => "Schedule enabled.".to_owned(),
        (false, Some(false)) => "Schedule disabled: it will not run until enabled.".to_owned(),
        (_, Some(true)) => {
            "The upstream answered, but the schedule still reads as enabled.".to_owned()
        }
        (_, Some(false)) => {
            "The upstream answered, but the schedule still reads as disabled.".to_owned()
        }
        (_, None) => {
            "The upstream answered; the schedule could not be read back to check it.".to_owned()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dto::UpsertSchedule;

    fn asked_cron() -> UpsertSchedule {
        UpsertSchedule {
            mode: ReconciliationMode::Full,
            frequency: ScheduleFrequency::Cron,
            day_of_week: None,
            day_of_month: None,
            hour_of_day: 0,
            cron_expression: Some("0 2 * * 1".into()),
            enabled: true,
        }
    }

    fn saved(
        frequency: ScheduleFrequency,
        cron: Option<&str>,
        enabled: bool,
    ) -> ReconciliationSchedule {
        ReconciliationSchedule {
            id: "00000000-0000-4000-8000-000000000001".parse().unwrap(),
            connector_id: "00000000-0000-4000-8000-000000000002".parse().unwrap(),
            connector_name: None,
            mode: ReconciliationMode::Full,
            frequency,
            day_of_week: None,
            day_of_month: None,
            hour_of_day: 0,
            cron_expression: cron.map(str::to_owned),
            enabled,
            last_run_at: None,
            last_run_id: None,
            last_outcome: None,
            next_run_at: None,
            created_at: "2026-11-24T04:30:35Z".parse().unwrap(),
            updated_at: None,
        }
    }

    #[test]
    fn a_save_says_what_was_stored_and_where_it_differs_from_what_was_asked() {
        // Stored as asked, enabled, and the upstream gives no next run (xavyo-idp): never "It is disabled".
        let same = saved_sentence(
            &asked_cron(),
            &saved(ScheduleFrequency::Cron, Some("0 2 * * 1"), true),
        );
        assert_eq!(
            same,
            "Schedule saved: cron `0 2 * * 1` (UTC). It is enabled; the upstream gives no time for its next run."
        );
        // An upstream that stored `daily` instead of the cron: said, with what was asked.
        let daily = saved_sentence(&asked_cron(), &saved(ScheduleFrequency::Daily, None, true));
        assert!(
            daily.starts_with("Schedule saved: every day at 00:00 UTC."),
            "{daily}"
        );
        assert!(
            daily.ends_with("The upstream did not store what was asked (cron `0 2 * * 1` (UTC)): it differs in frequency, cron_expression."),
            "{daily}"
        );
        // Saved disabled: says so, from the answer.
        let off = saved_sentence(
            &asked_cron(),
            &saved(ScheduleFrequency::Cron, Some("0 2 * * 1"), false),
        );
        assert!(
            off.contains("It is disabled") && off.contains("differs in enabled"),
            "{off}"
        );
    }

    #[test]
    fn a_cron_schedule_is_sent_with_its_expression_in_frequency_as_xavyo_stores_it() {
        let sent = serde_json::to_value(asked_cron()).unwrap();
        assert_eq!(sent["frequency"], "0 2 * * 1");
        assert_eq!(sent["cron_expression"], "0 2 * * 1");
        let back: UpsertSchedule = serde_json::from_value(sent).unwrap();
        assert_eq!(back, asked_cron());
    }
}

/// `DELETE /connectors/{id}/reconciliation/schedule`; answers a sentence for the toast.
#[server]
pub async fn delete_schedule(connector_id: ConnectorId) -> Result<String, AppError> {
    let (session, api) = ssr::require_admin().await?;
    api.delete_schedule(session.caller(), connector_id)
        .await
        .map_err(ssr::upstream)?;
    Ok("Schedule deleted: the connector is no longer reconciled on its own.".to_owned())
}
