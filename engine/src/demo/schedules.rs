//! The demo's reconciliation schedules, saved as `PUT .../reconciliation/schedule` saves them and fired by the
//! real [`Scheduler`] at past moments: Corporate Directory's daily 02:00 full run (its last firing is the
//! nightly run of the history), Cloud CRM's weekly delta run (refused last Monday: the connector is offline),
//! and Legacy HR's monthly run, disabled.

use chrono::{DateTime, Datelike, Duration, Utc};
use dto::{ConnectorId, RunId, UpsertSchedule};
use enums::{ReconciliationMode, ScheduleFrequency};

use super::{setup::scheduled_run_start, CLOUD_CRM, CORPORATE_DIRECTORY, DEMO_TENANT, LEGACY_HR};
use crate::{
    reconcile::Reconciler,
    schedule::{Scheduler, SchedulerConfig},
    store, EngineError,
};

fn failed(what: &str, err: impl std::fmt::Debug) -> EngineError {
    EngineError::Demo(format!("{what}: {err:?}"))
}

/// Saves a schedule the way the API does (checked, with its next run from `now`).
async fn save(
    reconciler: &Reconciler,
    connector: ConnectorId,
    request: UpsertSchedule,
    now: DateTime<Utc>,
) -> Result<dto::ReconciliationSchedule, EngineError> {
    let rule = request.rule().map_err(|e| failed("schedule", e.message))?;
    let next = request.enabled.then(|| rule.next_after(now)).flatten();
    store::put_schedule(
        reconciler.pool(),
        DEMO_TENANT,
        connector,
        &request,
        next,
        now,
    )
    .await?
    .ok_or_else(|| failed("schedule", "no such connector"))
}

/// Fires `schedule` at the past moment `slot` through the scheduler, then lets its clock catch up with `now`
/// (its next run is its first slot after now, as if it had been waiting since). Answers the run it started.
async fn fire_at(
    reconciler: &Reconciler,
    schedule: &dto::ReconciliationSchedule,
    slot: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<RunId>, EngineError> {
    let pool = reconciler.pool();
    store::set_next_run_at(pool, schedule.id, slot).await?;
    let fired = Scheduler::new(reconciler.clone(), SchedulerConfig::default())
        .tick(slot)
        .await?;
    let firing = fired
        .into_iter()
        .find(|f| f.schedule_id == schedule.id)
        .ok_or_else(|| failed("schedule", "did not fire"))?;
    let rule = schedule.rule().map_err(|e| failed("schedule", e.message))?;
    if let Some(next) = rule.next_after(now) {
        store::set_next_run_at(pool, schedule.id, next).await?;
    }
    Ok(firing.run_id)
}

/// Saves the three schedules and fires the two enabled ones once in the past; answers the run Corporate
/// Directory's nightly firing started (pending: the caller executes it).
pub(super) async fn play(
    reconciler: &Reconciler,
    now: DateTime<Utc>,
) -> Result<RunId, EngineError> {
    let crm = save(
        reconciler,
        CLOUD_CRM,
        UpsertSchedule {
            mode: ReconciliationMode::Delta,
            frequency: ScheduleFrequency::Weekly,
            day_of_week: Some(1),
            day_of_month: None,
            hour_of_day: 3,
            cron_expression: None,
            enabled: true,
        },
        now,
    )
    .await?;
    // Its last Monday 03:00 at least a day ago: the gate refused it (Cloud CRM is offline).
    let day_before = now - Duration::days(1);
    let monday = day_before.date_naive()
        - Duration::days(i64::from(day_before.weekday().num_days_from_monday()));
    let slot = monday.and_time(chrono::NaiveTime::MIN).and_utc() + Duration::hours(3);
    let slot = if slot > day_before {
        slot - Duration::days(7)
    } else {
        slot
    };
    fire_at(reconciler, &crm, slot, now).await?;

    save(
        reconciler,
        LEGACY_HR,
        UpsertSchedule {
            mode: ReconciliationMode::Full,
            frequency: ScheduleFrequency::Monthly,
            day_of_week: None,
            day_of_month: Some(31),
            hour_of_day: 4,
            cron_expression: None,
            enabled: false,
        },
        now,
    )
    .await?;

    let nightly = save(
        reconciler,
        CORPORATE_DIRECTORY,
        UpsertSchedule {
            mode: ReconciliationMode::Full,
            frequency: ScheduleFrequency::Daily,
            day_of_week: None,
            day_of_month: None,
            hour_of_day: 2,
            cron_expression: None,
            enabled: true,
        },
        now,
    )
    .await?;
    fire_at(reconciler, &nightly, scheduled_run_start(now), now)
        .await?
        .ok_or_else(|| failed("nightly run", "refused"))
}
