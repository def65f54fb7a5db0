//! Workers: claim due operations in batches under a lease, run each through its connector, write the
//! results back in one transaction per batch, and keep the queue healthy between batches — return the
//! operations of workers that died (expired leases) and release the operations awaiting a connector that
//! answers again.
//!
//! A worker renews its leases while it works through a batch, so a slow connector does not lose its
//! operations to another worker; one that lost a lease anyway (it hung past its expiry) finds its write-back
//! refused and drops its result. Two workers never settle one operation.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use dto::{ConnectorId, ExecutionAttempt};
use enums::{ConnectorStatus, OperationStatus, OperationType};
use rand::{rngs::StdRng, Rng, SeedableRng};
use tokio::{sync::watch, task::JoinHandle};

use super::{
    lifecycle::{self, next_status, sources, Event},
    Queue, RetryPolicy,
};
use crate::{
    conflicts::target_key,
    connector::{Call, Connector, ConnectorError, ErrorClass, NewAccount},
    store::{self, ClaimedOperation, ConnectorState, LogLevel, NewLog, Settled},
};

/// Results are written back at least this often while a batch runs, so a slow batch shows its progress.
const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// One worker: a lease owner that claims, runs and settles operations.
pub struct Worker {
    queue: Queue,
    owner: String,
    policy: RetryPolicy,
    rng: StdRng,
    stop: Option<watch::Receiver<bool>>,
    last_reap: Option<Instant>,
    last_recheck: Option<Instant>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("owner", &self.owner)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Worker {
    /// A worker of `queue` holding leases as `owner` (unique among the workers sharing the database), with the
    /// queue's retry policy.
    pub fn new(queue: Queue, owner: impl Into<String>) -> Self {
        let policy = queue.config().retry;
        Self {
            queue,
            owner: owner.into(),
            policy,
            rng: StdRng::from_entropy(),
            stop: None,
            last_reap: None,
            last_recheck: None,
        }
    }

    /// The same worker with another retry policy (the demo seeds with a fast one).
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The same worker drawing its jitter from `seed` (reproducible runs).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.rng = StdRng::seed_from_u64(seed);
        self
    }

    /// The lease owner it claims as.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    fn stopping(&self) -> bool {
        self.stop.as_ref().is_some_and(|stop| *stop.borrow())
    }

    /// Claims one batch of due operations, runs them, and writes the results back. Answers how many it
    /// claimed (0: nothing was due).
    pub async fn run_once(&mut self) -> Result<usize, sqlx::Error> {
        let config = self.queue.config();
        let lease = config.lease;
        let batch = config.batch_size.max(1);
        let renew_after = config.lease / 2;
        let now = Utc::now();
        let claimed = store::claim_operations(
            self.queue.pool(),
            &self.owner,
            &sources(Event::Claimed),
            now,
            later(now, lease),
            batch,
        )
        .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let mut ids: Vec<ConnectorId> = claimed.iter().map(|op| op.connector_id).collect();
        ids.sort();
        ids.dedup();
        let connectors: HashMap<ConnectorId, ConnectorState> =
            store::connector_states(self.queue.pool(), &ids)
                .await?
                .into_iter()
                .map(|c| (c.target.id, c))
                .collect();

        let mut renewed = Instant::now();
        let mut flushed = Instant::now();
        let mut results = Vec::with_capacity(claimed.len());
        for (n, op) in claimed.iter().enumerate() {
            if self.stopping() {
                let message = "The engine is stopping: handed back unrun";
                results.extend(claimed[n..].iter().map(|op| released(op, message)));
                break;
            }
            if renewed.elapsed() >= renew_after {
                store::renew_leases(self.queue.pool(), &self.owner, later(Utc::now(), lease))
                    .await?;
                renewed = Instant::now();
            }
            let settled = self.run_one(op, connectors.get(&op.connector_id)).await;
            results.push(settled);
            if flushed.elapsed() >= FLUSH_EVERY {
                self.write_back(&mut results).await?;
                flushed = Instant::now();
            }
        }
        self.write_back(&mut results).await?;
        Ok(claimed.len())
    }

    async fn write_back(&self, results: &mut Vec<Settled>) -> Result<(), sqlx::Error> {
        if results.is_empty() {
            return Ok(());
        }
        let lost = store::settle_operations(self.queue.pool(), &self.owner, results).await?;
        for id in lost {
            tracing::warn!(operation = %id, owner = %self.owner, "lease lost before the result was written; result dropped");
        }
        results.clear();
        Ok(())
    }

    async fn run_one(
        &mut self,
        op: &ClaimedOperation,
        connector: Option<&ConnectorState>,
    ) -> Settled {
        let number = op.attempts.saturating_add(1);
        let started_at = Utc::now();
        let clock = Instant::now();
        let outcome = match connector {
            None => Err(ConnectorError::permanent(
                "CONNECTOR_NOT_FOUND",
                "the operation's connector no longer exists",
            )),
            Some(c) if c.status == ConnectorStatus::Disabled => {
                let message = format!(
                    "{} is disabled: handed back unrun; it waits until the connector is enabled",
                    c.target.name
                );
                return released(op, &message);
            }
            Some(c) if c.status == ConnectorStatus::Offline => Err(ConnectorError::offline(
                "CONNECTOR_OFFLINE",
                format!("{} is offline", c.target.name),
            )),
            Some(c) if !c.credentials_valid => Err(ConnectorError::offline(
                "CREDENTIALS_INVALID",
                format!("the credentials of {} do not work", c.target.name),
            )),
            Some(c) => match self.queue.connectors().get(&c.target.connector_type) {
                None => Err(ConnectorError::permanent(
                    "UNSUPPORTED_CONNECTOR_TYPE",
                    format!(
                        "no connector implementation for type `{}`",
                        c.target.connector_type
                    ),
                )),
                Some(implementation) => {
                    let key = format!("{}#{number}", op.id);
                    let call = Call {
                        target: &c.target,
                        key: &key,
                    };
                    execute(implementation.as_ref(), call, op).await
                }
            },
        };
        let duration_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
        let finished_at = Utc::now();
        let roll: f64 = self.rng.gen();
        let class = outcome.as_ref().err().map(|e| e.class);
        let settlement =
            lifecycle::settle(class, op.retry_count, op.max_retries, &self.policy, roll);
        let next_retry_at = settlement.retry_in.map(|d| later(finished_at, d));

        let mut logs = Vec::with_capacity(2);
        let log = |level, message: String| NewLog::new(finished_at, level, message);
        match &outcome {
            Ok(uid) => logs.push(log(
                LogLevel::Info,
                match uid {
                    Some(uid) => {
                        format!("Attempt {number} succeeded in {duration_ms} ms (account `{uid}`)")
                    }
                    None => format!("Attempt {number} succeeded in {duration_ms} ms"),
                },
            )),
            Err(err) => {
                let what = format!(
                    "Attempt {number} failed ({}): {}: {}",
                    err.class.as_str(),
                    err.code,
                    err.message
                );
                match settlement.event {
                    Event::FailedWillRetry => logs.push(log(
                        LogLevel::Warn,
                        format!(
                            "{what}. Failure {} of {} allowed; next try in {}",
                            settlement.retry_count,
                            op.max_retries,
                            human(settlement.retry_in.unwrap_or_default())
                        ),
                    )),
                    Event::SystemOffline => logs.push(log(
                        LogLevel::Warn,
                        format!("{what}. Waiting for the connector to come back; no retry used"),
                    )),
                    _ => {
                        logs.push(log(LogLevel::Error, what));
                        let why = if err.class == ErrorClass::Permanent {
                            "a permanent error".to_owned()
                        } else {
                            format!(
                                "{} failed attempts, the most allowed",
                                settlement.retry_count
                            )
                        };
                        logs.push(log(
                            LogLevel::Error,
                            format!("Moved to the dead-letter queue: {why}"),
                        ));
                    }
                }
            }
        }
        let (error_code, error_message) = match &outcome {
            Ok(_) => (None, None),
            Err(err) => (Some(err.code.clone()), Some(err.message.clone())),
        };
        Settled {
            operation_id: op.id,
            tenant_id: op.tenant_id,
            status: settlement.status,
            retry_count: settlement.retry_count,
            next_retry_at,
            error_message: error_message.clone(),
            target_uid: outcome.as_ref().ok().cloned().flatten(),
            started_at: Some(started_at),
            completed_at: (settlement.status == OperationStatus::Completed).then_some(finished_at),
            attempt: Some(ExecutionAttempt {
                attempt_number: number,
                started_at,
                completed_at: Some(finished_at),
                success: outcome.is_ok(),
                error_code,
                error_message,
                duration_ms: Some(duration_ms),
            }),
            logs,
            at: finished_at,
        }
    }

    /// Returns the operations whose lease expired (their worker died) to the queue, and wakes the workers when
    /// there were some. Answers how many.
    pub async fn reap(&self) -> Result<usize, sqlx::Error> {
        let to = next_status(OperationStatus::InProgress, Event::Released)
            .unwrap_or(OperationStatus::Pending);
        let reaped = store::reap_expired_leases(self.queue.pool(), to, Utc::now()).await?;
        if !reaped.is_empty() {
            tracing::warn!(count = reaped.len(), "expired leases returned to the queue");
            self.queue.wake();
        }
        Ok(reaped.len())
    }

    /// Probes the active connectors that have operations awaiting them; the operations of those that answer
    /// go back to `pending`. Answers how many.
    pub async fn recheck(&self) -> Result<u64, sqlx::Error> {
        let waiting = OperationStatus::AwaitingSystem;
        let back = next_status(waiting, Event::SystemBack).unwrap_or(OperationStatus::Pending);
        let mut released = 0;
        for c in store::connectors_with_waiting(self.queue.pool(), waiting).await? {
            if c.status != ConnectorStatus::Active || !c.credentials_valid {
                continue;
            }
            let Some(implementation) = self.queue.connectors().get(&c.target.connector_type) else {
                continue;
            };
            let key = format!("check:{}", c.target.id);
            let call = Call {
                target: &c.target,
                key: &key,
            };
            if implementation.check(call).await.is_ok() {
                released += store::release_waiting(
                    self.queue.pool(),
                    c.target.id,
                    waiting,
                    back,
                    "The connector answers again: back in the queue",
                    Utc::now(),
                )
                .await?;
            }
        }
        if released > 0 {
            tracing::info!(
                released,
                "operations released: their connectors answer again"
            );
            self.queue.wake();
        }
        Ok(released)
    }

    /// Reaps and rechecks when their intervals have passed.
    pub async fn housekeeping(&mut self) -> Result<(), sqlx::Error> {
        let config = self.queue.config();
        let (reap_every, recheck_every) = (config.reap_interval, config.recheck_interval);
        if self.last_reap.is_none_or(|t| t.elapsed() >= reap_every) {
            self.last_reap = Some(Instant::now());
            self.reap().await?;
        }
        if self
            .last_recheck
            .is_none_or(|t| t.elapsed() >= recheck_every)
        {
            self.last_recheck = Some(Instant::now());
            self.recheck().await?;
        }
        Ok(())
    }

    /// Runs batches until nothing is due, waiting for failed operations whose retry comes due within
    /// `horizon`. Answers how many operations it claimed in all.
    pub async fn drain(&mut self, horizon: Duration) -> Result<usize, sqlx::Error> {
        let mut total = 0;
        let mut idle_rounds = 0;
        loop {
            let claimed = self.run_once().await?;
            total += claimed;
            if claimed > 0 {
                idle_rounds = 0;
                continue;
            }
            let Some(due) =
                store::next_retry_due(self.queue.pool(), OperationStatus::Failed).await?
            else {
                break;
            };
            let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
            // A retry due now that no claim takes twice running is not coming: stop rather than spin.
            idle_rounds += usize::from(wait.is_zero());
            if wait > horizon || idle_rounds > 2 {
                break;
            }
            tokio::time::sleep(wait + Duration::from_millis(1)).await;
        }
        Ok(total)
    }

    /// Works until `stop` turns true: housekeeping, a batch, and when nothing was due a nap that an enqueue or
    /// a retry cuts short.
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        self.stop = Some(stop.clone());
        let poll = self.queue.config().poll_interval;
        let queue = self.queue.clone();
        loop {
            if *stop.borrow() {
                break;
            }
            // Listen before looking, so that a wake-up sent while this worker claims is not lost.
            let woken = queue.notify().notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Err(err) = self.housekeeping().await {
                tracing::error!(%err, owner = %self.owner, "worker housekeeping failed");
            }
            let claimed = match self.run_once().await {
                Ok(n) => n,
                Err(err) => {
                    // Operations claimed before the failure come back when their lease expires.
                    tracing::error!(%err, owner = %self.owner, "worker batch failed");
                    0
                }
            };
            if claimed > 0 {
                continue;
            }
            tokio::select! {
                () = &mut woken => {}
                () = tokio::time::sleep(poll) => {}
                changed = stop.changed() => if changed.is_err() { break },
            }
        }
        tracing::debug!(owner = %self.owner, "worker stopped");
    }
}

/// Hands an operation back to the queue unrun: no attempt, no retry used.
fn released(op: &ClaimedOperation, message: &str) -> Settled {
    let now = Utc::now();
    Settled {
        operation_id: op.id,
        tenant_id: op.tenant_id,
        status: next_status(OperationStatus::InProgress, Event::Released)
            .unwrap_or(OperationStatus::Pending),
        retry_count: op.retry_count,
        next_retry_at: None,
        error_message: None,
        target_uid: None,
        started_at: None,
        completed_at: None,
        attempt: None,
        logs: vec![NewLog::new(now, LogLevel::Info, message)],
        at: now,
    }
}

/// `at + d`, saturating at a year ahead (configured durations beyond that are not meant literally).
fn later(at: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    let d = chrono::Duration::from_std(d)
        .unwrap_or(chrono::Duration::days(365))
        .min(chrono::Duration::days(365));
    at.checked_add_signed(d).unwrap_or(at)
}

/// "under 1 ms", "850 ms", "31 s", "4 min 10 s".
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        "under 1 ms".to_owned()
    } else if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Runs one operation through its connector; answers the account's uid when it is known.
async fn execute(
    connector: &dyn Connector,
    call: Call<'_>,
    op: &ClaimedOperation,
) -> Result<Option<String>, ConnectorError> {
    let Some(payload) = op.payload.as_object() else {
        return Err(ConnectorError::permanent(
            "INVALID_PAYLOAD",
            "the payload must be a JSON object",
        ));
    };
    let mut attributes = payload.clone();
    attributes.remove("uid");
    // The same rule that tells which account two operations share (conflict detection).
    let uid = target_key(op.operation_type, op.target_uid.as_deref(), &op.payload);
    match op.operation_type {
        OperationType::Create => {
            let uid = uid.ok_or_else(|| {
                ConnectorError::permanent(
                    "INVALID_PAYLOAD",
                    "a create needs a target_uid, or a uid or an email in its payload",
                )
            })?;
            let account = NewAccount {
                uid,
                object_class: op.object_class.clone(),
                owner: Some(op.user_id),
                attributes,
            };
            let created = connector.create(call, &account).await?;
            Ok(Some(created.uid))
        }
        OperationType::Update => {
            let uid = uid.ok_or_else(|| missing_uid("an update"))?;
            connector.update(call, &uid, &attributes).await?;
            Ok(Some(uid))
        }
        OperationType::Delete => {
            let uid = uid.ok_or_else(|| missing_uid("a delete"))?;
            connector.delete(call, &uid).await?;
            Ok(Some(uid))
        }
    }
}

fn missing_uid(what: &str) -> ConnectorError {
    ConnectorError::permanent(
        "INVALID_PAYLOAD",
        format!("{what} needs a target_uid, or a uid in its payload"),
    )
}

/// The running worker tasks of an engine.
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("count", &self.tasks.len())
            .finish()
    }
}

impl Workers {
    /// Starts `queue.config().workers` worker tasks, named after a fresh instance id so that engines sharing a
    /// database never share a lease owner.
    pub fn start(queue: &Queue) -> Self {
        let (stop, stopped) = watch::channel(false);
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let instance = instance.get(..8).unwrap_or("engine");
        let tasks = (0..queue.config().workers)
            .map(|n| {
                let worker = Worker::new(queue.clone(), format!("worker-{instance}-{n}"));
                tokio::spawn(worker.run(stopped.clone()))
            })
            .collect();
        Self { stop, tasks }
    }

    /// How many workers run.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether none runs.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Asks the workers to stop, and waits for them: each finishes the operation it is running, hands the rest
    /// of its batch back to the queue, and writes its results.
    pub async fn stop(self) {
        // Workers that are gone already do not need telling.
        let _ = self.stop.send(true);
        for task in self.tasks {
            if let Err(err) = task.await {
                tracing::error!(%err, "a worker task ended abnormally");
            }
        }
    }
}
