//! The scheduler: fires due reconciliation schedules through the same start path an admin's
//! `POST /connectors/{id}/reconciliation/runs` takes ([`Reconciler::admit`], so the start gate decides).
//!
//! Each tick reads the enabled schedules whose `next_run_at` has come (the index on `(enabled, next_run_at)`),
//! and for each one first *claims* the firing: one conditional UPDATE moves `next_run_at` from the slot it read
//! to the schedule's first slot strictly after now, and only the caller whose UPDATE changed the row goes on.
//! So two ticks, or two engines on one database, never fire a slot twice; a firing whose start is then refused
//! (`deduped`, `scope_busy`, `blocked`) has still used its slot, and the answer is recorded on the schedule.
//! After a downtime the overdue schedule fires once (its old slot is due) and moves to the next slot after
//! now: one catch-up run, not one per slot missed. A crash between the claim and the start loses that one
//! firing rather than risk a second run. Disabled schedules have no `next_run_at` and are never due.
//! When a schedule fires is `dto::ScheduleRule`'s pure computation, shared with the console.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use dto::{ConnectorId, RunId, ScheduleId};
use tokio::sync::{watch, Notify};

use crate::{
    reconcile::Reconciler,
    store::{self, RunRequest, StartRefusal, StoredSchedule},
};

/// How the scheduler works.
#[derive(Debug, Clone, Copy)]
pub struct SchedulerConfig {
    /// How often the background task looks for due schedules.
    pub poll: Duration,
    /// Schedules read per query.
    pub batch: u32,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(5),
            batch: 100,
        }
    }
}

/// What one firing did.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// The schedule.
    pub schedule_id: ScheduleId,
    /// Its connector.
    pub connector_id: ConnectorId,
    /// The run it started, when the gate accepted it.
    pub run_id: Option<RunId>,
    /// The gate's answer as recorded: `accepted`, `deduped`, `scope_busy`, `blocked:<reason_code>`, or
    /// `connector_not_found`.
    pub outcome: String,
}

/// The recorded spelling of a start's answer.
pub fn outcome(answer: &Option<Result<store::RunState, StartRefusal>>) -> String {
    match answer {
        None => "connector_not_found".to_owned(),
        Some(Ok(_)) => "accepted".to_owned(),
        Some(Err(StartRefusal::Deduped(_))) => "deduped".to_owned(),
        Some(Err(StartRefusal::ScopeBusy(_))) => "scope_busy".to_owned(),
        Some(Err(StartRefusal::Blocked { reason_code, .. })) => format!("blocked:{reason_code}"),
    }
}

/// The scheduler of an engine. Cheap to clone.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

struct Inner {
    reconciler: Reconciler,
    config: SchedulerConfig,
    wake: Notify,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    /// A scheduler starting runs through `reconciler`.
    pub fn new(reconciler: Reconciler, config: SchedulerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                reconciler,
                config,
                wake: Notify::new(),
            }),
        }
    }

    /// Tells the background task to look now.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Fires every schedule due at `now` (each at most once, see the module docs); answers what this call
    /// fired (firings another tick claimed first are not in it).
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Vec<Firing>, sqlx::Error> {
        let pool = self.inner.reconciler.pool();
        let mut fired = Vec::new();
        loop {
            let due = store::due_schedules(pool, now, self.inner.config.batch).await?;
            let full = due.len() == self.inner.config.batch as usize;
            for schedule in due {
                if let Some(firing) = self.fire(schedule, now).await? {
                    fired.push(firing);
                }
            }
            // Every schedule read has left the due set (claimed here or elsewhere), so this ends.
            if !full {
                return Ok(fired);
            }
        }
    }

    async fn fire(
        &self,
        stored: StoredSchedule,
        now: DateTime<Utc>,
    ) -> Result<Option<Firing>, sqlx::Error> {
        let pool = self.inner.reconciler.pool();
        let schedule = &stored.schedule;
        let Some(due) = schedule.next_run_at else {
            return Ok(None);
        };
        // A stored schedule always has a rule (it was checked when saved); if not, it stops being due.
        let next = match schedule.rule() {
            Ok(rule) => rule.next_after(now),
            Err(err) => {
                tracing::error!(schedule = %schedule.id, message = %err.message, "stored schedule has no rule");
                None
            }
        };
        if !store::claim_firing(pool, schedule.id, due, next, now).await? {
            return Ok(None);
        }
        let request = RunRequest {
            tenant_id: stored.tenant_id,
            connector_id: schedule.connector_id,
            mode: schedule.mode,
            dry_run: false,
            created_by: None,
            scheduled: true,
        };
        let answer = self.inner.reconciler.admit(request).await?;
        let run_id = match &answer {
            Some(Ok(run)) => Some(run.run.id),
            _ => None,
        };
        let outcome = outcome(&answer);
        store::record_firing(pool, schedule.id, now, run_id, &outcome).await?;
        tracing::info!(schedule = %schedule.id, connector = %schedule.connector_id, %outcome, "schedule fired");
        Ok(Some(Firing {
            schedule_id: schedule.id,
            connector_id: schedule.connector_id,
            run_id,
            outcome,
        }))
    }

    /// Starts the background task: a tick now, then one every `poll` (or when woken).
    pub fn start(&self) -> SchedulerTask {
        let (stop, mut stopped) = watch::channel(false);
        let this = self.clone();
        let handle = tokio::spawn(async move {
            loop {
                if let Err(err) = this.tick(Utc::now()).await {
                    tracing::error!(%err, "scheduler tick failed");
                }
                tokio::select! {
                    _ = tokio::time::sleep(this.inner.config.poll) => {}
                    _ = this.inner.wake.notified() => {}
                    _ = stopped.changed() => return,
                }
            }
        });
        SchedulerTask { stop, handle }
    }
}

/// The running background task of a [`Scheduler`].
#[derive(Debug)]
pub struct SchedulerTask {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl SchedulerTask {
    /// Stops it after its current tick.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.handle.await {
            tracing::error!(%err, "scheduler task ended abnormally");
        }
    }
}
