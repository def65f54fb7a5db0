//! Reconciliation: runs that compare xavyo's identities with a connector's accounts ([`Reconciler`]), the pure
//! classification of what differs ([`classify`]), and remediation ([`remedy`]). The behaviour is specified in
//! `specs/reconciliation.md`.
//!
//! A run is admitted by [`Reconciler::admit`] (one write transaction that also refuses a second active run of
//! the connector, or a connector that cannot take work) and executed in the background: a task claims pending
//! runs with a lease and walks the connector's accounts in batches. Each batch's discrepancies, the counters
//! and the checkpoint are written in one transaction that also checks the run is still the task's to run, so
//! a pause or a cancel stops it at the next batch and a resumed run continues exactly where it stopped. A run
//! whose lease expired (its engine stopped mid-run) goes back to `pending` and continues from its checkpoint.

pub mod classify;
pub mod remedy;

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::Arc,
    time::Duration,
};

use chrono::Utc;
use dto::{RunId, UserId};
use enums::{DiscrepancyType, RemediationAction, ResolutionStatus};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use tokio::{
    sync::{watch, Notify, Semaphore},
    task::JoinSet,
};

use crate::{
    connector::{
        AccountSearch, Call, Connector, ConnectorError, ConnectorRegistry, ConnectorTarget,
        ErrorClass,
    },
    store::{self, Found, Progress, RunRequest, RunState, StartRefusal},
};

/// How the reconciler works.
#[derive(Debug, Clone, Copy)]
pub struct ReconcilerConfig {
    /// Accounts (or links, or identities) per batch and transaction.
    pub batch_size: u32,
    /// How long a claimed run stays the task's without a checkpoint.
    pub lease: Duration,
    /// Runs executed at once.
    pub concurrency: usize,
    /// How often the background task looks for work when nobody wakes it.
    pub poll: Duration,
    /// Remediations of one connector at once (a bulk's items, and single ones): each makes its connector
    /// calls one after the other, so this bounds the calls a connector sees from remediation.
    pub remediations_per_connector: usize,
}

impl Default for ReconcilerConfig {
    fn default() -> Self {
        Self {
            batch_size: 1000,
            lease: Duration::from_secs(60),
            concurrency: 2,
            poll: Duration::from_secs(1),
            remediations_per_connector: 8,
        }
    }
}

/// Where a run continues: the phase it is in and the last key it finished.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
enum Cursor {
    /// Walking accounts (and, in a full run, the links in the same uid range) after this uid.
    Accounts { after: Option<String> },
    /// Full runs: links after the last account, whose accounts are all gone.
    LinksTail { after: Option<String> },
    /// Delta runs: accounts deleted since the last run, after this uid.
    Tombstones { after: Option<String> },
    /// Identities with no account, after this id.
    Missing { after: Option<UserId> },
    /// Nothing left.
    Done,
}

/// The reconciliation service of an engine. Cheap to clone.
#[derive(Clone)]
pub struct Reconciler {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    connectors: ConnectorRegistry,
    config: ReconcilerConfig,
    wake: Notify,
    /// Each connector's share of remediations at once ([`ReconcilerConfig::remediations_per_connector`]).
    remediation_slots: std::sync::Mutex<HashMap<dto::ConnectorId, Arc<Semaphore>>>,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// A run stopped before its end, and why.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    /// Paused, cancelled or reaped: no longer this task's run.
    Lost,
    /// The engine is stopping; the run goes back to `pending`.
    Shutdown,
}

impl Reconciler {
    /// A reconciler over the engine's database and connectors.
    pub fn new(pool: SqlitePool, connectors: ConnectorRegistry, config: ReconcilerConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                connectors,
                config,
                wake: Notify::new(),
                remediation_slots: std::sync::Mutex::default(),
            }),
        }
    }

    /// The database pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.inner.pool
    }

    /// The connector implementations.
    pub fn connectors(&self) -> &ConnectorRegistry {
        &self.inner.connectors
    }

    /// Tells the background task there is work.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Admits a run (see [`store::admit_run`]) and wakes the background task. None for an unknown connector.
    pub async fn admit(
        &self,
        request: RunRequest,
    ) -> Result<Option<Result<RunState, StartRefusal>>, sqlx::Error> {
        let id = RunId(uuid::Uuid::new_v4());
        let admitted = store::admit_run(self.pool(), request, id, Utc::now()).await?;
        if matches!(admitted, Some(Ok(_))) {
            self.wake();
        }
        Ok(admitted)
    }

    /// Claims the oldest pending run and executes it to its end (or until it is paused or cancelled) as
    /// `owner`. Answers its id; none when nothing was pending.
    pub async fn run_next(&self, owner: &str) -> Result<Option<RunId>, sqlx::Error> {
        let (_keep, running) = watch::channel(false);
        self.claim_and_execute(owner, running).await
    }

    /// Executes pending runs one after the other until none is left (the demo seed and tests). Answers how
    /// many ran.
    pub async fn drain(&self, owner: &str) -> Result<usize, sqlx::Error> {
        let mut ran = 0;
        while self.run_next(owner).await?.is_some() {
            ran += 1;
        }
        Ok(ran)
    }

    async fn claim_and_execute(
        &self,
        owner: &str,
        stop: watch::Receiver<bool>,
    ) -> Result<Option<RunId>, sqlx::Error> {
        let now = Utc::now();
        let Some(run) = store::claim_run(self.pool(), owner, now, self.lease_from(now)).await?
        else {
            return Ok(None);
        };
        let id = run.run.id;
        self.execute(owner, run, stop).await?;
        Ok(Some(id))
    }

    fn lease_from(&self, now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
        now + chrono::Duration::from_std(self.inner.config.lease)
            .unwrap_or(chrono::Duration::seconds(60))
    }

    /// Starts the background task: it puts back runs whose lease expired, then claims and executes pending
    /// runs, `concurrency` at a time.
    pub fn start(&self) -> ReconcilerTask {
        let (stop, stopped) = watch::channel(false);
        let this = self.clone();
        let handle = tokio::spawn(async move { this.background(stopped).await });
        ReconcilerTask { stop, handle }
    }

    async fn background(self, mut stopped: watch::Receiver<bool>) {
        let instance = uuid::Uuid::new_v4().simple().to_string();
        let instance = instance.get(..8).unwrap_or("engine").to_owned();
        let permits = Arc::new(Semaphore::new(self.inner.config.concurrency.max(1)));
        let mut running = JoinSet::new();
        let mut n = 0_u64;
        loop {
            if *stopped.borrow() {
                break;
            }
            match store::recover_runs(self.pool(), Utc::now()).await {
                Ok(ids) if !ids.is_empty() => {
                    tracing::warn!(
                        count = ids.len(),
                        "reconciliation runs recovered after their lease expired"
                    );
                }
                Ok(_) => {}
                Err(err) => tracing::error!(%err, "recovering reconciliation runs failed"),
            }
            // Start as many pending runs as there are free permits.
            while let Ok(permit) = Arc::clone(&permits).try_acquire_owned() {
                n += 1;
                let owner = format!("reconciler-{instance}-{n}");
                let now = Utc::now();
                match store::claim_run(self.pool(), &owner, now, self.lease_from(now)).await {
                    Ok(Some(run)) => {
                        let this = self.clone();
                        let stop = stopped.clone();
                        running.spawn(async move {
                            let id = run.run.id;
                            if let Err(err) = this.execute(&owner, run, stop).await {
                                tracing::error!(%err, run = %id, "reconciliation run stopped on a database error");
                            }
                            drop(permit);
                        });
                    }
                    Ok(None) => break,
                    Err(err) => {
                        tracing::error!(%err, "claiming a reconciliation run failed");
                        break;
                    }
                }
            }
            while running.try_join_next().is_some() {}
            tokio::select! {
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(self.inner.config.poll) => {}
                _ = stopped.changed() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
        }
        while running.join_next().await.is_some() {}
    }

    /// Executes a claimed run to its end. A connector failure fails the run; a database failure is answered
    /// (the lease then expires and the run is recovered).
    async fn execute(
        &self,
        owner: &str,
        run: RunState,
        stop: watch::Receiver<bool>,
    ) -> Result<(), sqlx::Error> {
        let id = run.run.id;
        let pool = self.pool();
        let mut conn = pool.acquire().await?;
        let state = store::connector_state(&mut conn, run.tenant_id, run.run.connector_id).await?;
        drop(conn);
        let target_and_impl = state.and_then(|s| {
            self.connectors()
                .get(&s.target.connector_type)
                .map(|implementation| (s.target, implementation))
        });
        let Some((target, implementation)) = target_and_impl else {
            store::finish_run(
                pool,
                id,
                owner,
                Err("the connector no longer exists or has no implementation"),
                Utc::now(),
            )
            .await?;
            return Ok(());
        };
        let mut walk = Walk {
            reconciler: self,
            owner,
            run: &run,
            target: &target,
            connector: implementation.as_ref(),
            mappings: store::mappings(pool, run.run.connector_id).await?,
            processed: run.run.accounts_processed,
            total: run.run.accounts_total,
            calls: run.api_calls_made,
            stop,
        };
        let started = std::time::Instant::now();
        match walk.walk().await {
            Ok(Ok(())) => {
                store::finish_run(pool, id, owner, Ok(()), Utc::now()).await?;
                tracing::info!(run = %id, processed = walk.processed, elapsed_ms = started.elapsed().as_millis() as u64, "reconciliation run completed");
            }
            Ok(Err(Stop::Lost)) => {
                tracing::info!(run = %id, "reconciliation run stopped: paused or cancelled");
            }
            Ok(Err(Stop::Shutdown)) => {
                store::release_run(pool, id, owner, Utc::now()).await?;
            }
            Err(WalkError::Connector(err)) => {
                let message = format!("{}: {}", err.code, err.message);
                store::finish_run(pool, id, owner, Err(&message), Utc::now()).await?;
                tracing::warn!(run = %id, %message, "reconciliation run failed");
            }
            Err(WalkError::Database(err)) => return Err(err),
        }
        Ok(())
    }
}

/// The background task of a [`Reconciler`].
pub struct ReconcilerTask {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

impl ReconcilerTask {
    /// Asks the task to stop and waits: runs in progress stop at their next batch and go back to `pending`.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.handle.await {
            tracing::error!(%err, "the reconciler task ended abnormally");
        }
    }
}

enum WalkError {
    Connector(ConnectorError),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for WalkError {
    fn from(err: sqlx::Error) -> Self {
        Self::Database(err)
    }
}

impl From<ConnectorError> for WalkError {
    fn from(err: ConnectorError) -> Self {
        Self::Connector(err)
    }
}

/// Calls the connector with the attempt's number, trying a transient failure again up to three times.
async fn retrying<T, F, Fut>(mut call: F) -> Result<T, ConnectorError>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<T, ConnectorError>>,
{
    let mut attempt = 0_u64;
    loop {
        match call(attempt).await {
            Err(err) if err.class == ErrorClass::Transient && attempt < 3 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            other => return other,
        }
    }
}

/// One execution of a run: its position and counters.
struct Walk<'a> {
    reconciler: &'a Reconciler,
    owner: &'a str,
    run: &'a RunState,
    target: &'a ConnectorTarget,
    connector: &'a dyn Connector,
    mappings: Vec<store::Mapping>,
    processed: u64,
    total: u64,
    calls: u64,
    stop: watch::Receiver<bool>,
}

impl Walk<'_> {
    fn call<'c>(&'c self, key: &'c str) -> Call<'c> {
        Call {
            target: self.target,
            key,
        }
    }

    /// Names a connector call of this run: the run, the call's number and the attempt, so that every call
    /// (and every retry) is traceable and meets its own fate under injected faults.
    fn key(&self, attempt: u64) -> String {
        format!("reconcile:{}:{}:{attempt}", self.run.run.id, self.calls)
    }

    fn batch(&self) -> u32 {
        self.reconciler.inner.config.batch_size.max(1)
    }

    async fn walk(&mut self) -> Result<Result<(), Stop>, WalkError> {
        let mut cursor = match &self.run.resume_cursor {
            Some(text) => serde_json::from_str(text).unwrap_or(Cursor::Accounts { after: None }),
            None => Cursor::Accounts { after: None },
        };
        if self.run.resume_cursor.is_none() {
            let query = AccountSearch {
                changed_since: self.run.changes_since,
                ..AccountSearch::default()
            };
            let this = &*self;
            self.total = retrying(|attempt| {
                let query = &query;
                async move {
                    let key = this.key(attempt);
                    this.connector.count(this.call(&key), query).await
                }
            })
            .await?;
            self.calls += 1;
        }
        loop {
            if *self.stop.borrow() {
                return Ok(Err(Stop::Shutdown));
            }
            let (found, processed, next) = match &cursor {
                Cursor::Accounts { after } => self.accounts(after.clone()).await?,
                Cursor::LinksTail { after } => self.links_tail(after.clone()).await?,
                Cursor::Tombstones { after } => self.tombstones(after.clone()).await?,
                Cursor::Missing { after } => self.missing(*after).await?,
                Cursor::Done => return Ok(Ok(())),
            };
            self.processed += processed;
            if !self.write(&found, &next).await? {
                return Ok(Err(Stop::Lost));
            }
            cursor = next;
        }
    }

    /// One page of accounts after `after`, classified.
    async fn accounts(
        &mut self,
        after: Option<String>,
    ) -> Result<(Vec<Found>, u64, Cursor), WalkError> {
        let pool = self.reconciler.pool();
        let connector_id = self.run.run.connector_id;
        let delta = self.run.changes_since.is_some();
        let query = AccountSearch {
            after_uid: after.clone(),
            changed_since: self.run.changes_since,
            limit: self.batch(),
            ..AccountSearch::default()
        };
        let this = &*self;
        let accounts = retrying(|attempt| {
            let query = &query;
            async move {
                let key = this.key(attempt);
                this.connector.search(this.call(&key), query).await
            }
        })
        .await?;
        self.calls += 1;
        let last = accounts.last().map(|a| a.uid.clone());
        let full_page = accounts.len() >= self.batch() as usize;
        let uids: Vec<String> = accounts.iter().map(|a| a.uid.clone()).collect();
        let links = if delta {
            store::links_of_uids(pool, connector_id, &uids).await?
        } else {
            // Every link up to the last account: the links of accounts that vanished in between show.
            match &last {
                Some(last) => {
                    store::links_between(pool, connector_id, after.as_deref(), Some(last), u32::MAX)
                        .await?
                }
                None => Vec::new(),
            }
        };
        let linked_uids: HashSet<&str> = links.iter().map(|l| l.external_uid.as_str()).collect();
        let identity_ids: Vec<UserId> = links.iter().map(|l| l.identity_id).collect();
        let identities = store::identities_by_id(pool, self.run.tenant_id, &identity_ids).await?;
        let unlinked: Vec<&crate::connector::Account> = accounts
            .iter()
            .filter(|a| !linked_uids.contains(a.uid.as_str()))
            .collect();
        let matches = self.correlate(&unlinked).await?;
        let matched: Vec<UserId> = matches.values().flatten().copied().collect();
        let linked = store::linked_identities(pool, connector_id, &matched).await?;
        let found = classify::classify(&classify::Batch {
            accounts: &accounts,
            links: &links,
            identities: &identities,
            matches: &matches,
            linked: &linked,
            mappings: &self.mappings,
        });
        let next = match (full_page, delta) {
            (true, _) => Cursor::Accounts { after: last },
            (false, false) => Cursor::LinksTail {
                after: last.or(after),
            },
            (false, true) => Cursor::Tombstones { after: None },
        };
        Ok((found, accounts.len() as u64, next))
    }

    /// For each account, the identities it matches on the first correlation attribute that matches anyone.
    async fn correlate(
        &self,
        accounts: &[&crate::connector::Account],
    ) -> Result<HashMap<String, Vec<UserId>>, sqlx::Error> {
        let mut matches: HashMap<String, Vec<UserId>> = HashMap::new();
        let mut undecided: Vec<&crate::connector::Account> = accounts.to_vec();
        for mapping in self
            .mappings
            .iter()
            .filter(|m| m.correlation_priority.is_some())
        {
            if undecided.is_empty() {
                break;
            }
            let values: Vec<(usize, String)> = undecided
                .iter()
                .enumerate()
                .filter_map(|(i, a)| {
                    classify::correlation_value(&classify::account_value(
                        &a.attributes,
                        &mapping.target_attribute,
                    ))
                    .map(|v| (i, v))
                })
                .collect();
            let distinct: Vec<String> = values
                .iter()
                .map(|(_, v)| v.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let pairs = store::correlate(
                self.reconciler.pool(),
                self.run.tenant_id,
                &mapping.identity_attribute,
                &distinct,
            )
            .await?;
            let mut by_value: HashMap<String, Vec<UserId>> = HashMap::new();
            for (value, id) in pairs {
                by_value.entry(value).or_default().push(id);
            }
            let mut decided = HashSet::new();
            for (i, value) in values {
                if let Some(ids) = by_value.get(&value) {
                    let mut ids = ids.clone();
                    ids.sort();
                    ids.dedup();
                    matches.insert(undecided[i].uid.clone(), ids);
                    decided.insert(i);
                }
            }
            undecided = undecided
                .into_iter()
                .enumerate()
                .filter(|(i, _)| !decided.contains(i))
                .map(|(_, a)| a)
                .collect();
        }
        Ok(matches)
    }

    /// Links after the last account: their accounts are all gone.
    async fn links_tail(
        &mut self,
        after: Option<String>,
    ) -> Result<(Vec<Found>, u64, Cursor), WalkError> {
        let links = store::links_between(
            self.reconciler.pool(),
            self.run.run.connector_id,
            after.as_deref(),
            None,
            self.batch(),
        )
        .await?;
        let next = if links.len() >= self.batch() as usize {
            Cursor::LinksTail {
                after: links.last().map(|l| l.external_uid.clone()),
            }
        } else {
            Cursor::Missing { after: None }
        };
        Ok((links.iter().map(classify::deleted).collect(), 0, next))
    }

    /// Delta runs: the linked accounts deleted since the last run.
    async fn tombstones(
        &mut self,
        after: Option<String>,
    ) -> Result<(Vec<Found>, u64, Cursor), WalkError> {
        let since = self.run.changes_since.unwrap_or_default();
        let batch = self.batch();
        let this = &*self;
        let uids = retrying(|attempt| {
            let after = after.as_deref();
            async move {
                let key = this.key(attempt);
                this.connector
                    .deleted_since(this.call(&key), since, after, batch)
                    .await
            }
        })
        .await?;
        self.calls += 1;
        let links =
            store::links_of_uids(self.reconciler.pool(), self.run.run.connector_id, &uids).await?;
        let next = if uids.len() >= batch as usize {
            Cursor::Tombstones {
                after: uids.last().cloned(),
            }
        } else {
            Cursor::Missing { after: None }
        };
        Ok((links.iter().map(classify::deleted).collect(), 0, next))
    }

    /// Identities with no account and no link (changed since the last run, for a delta run).
    async fn missing(
        &mut self,
        after: Option<UserId>,
    ) -> Result<(Vec<Found>, u64, Cursor), WalkError> {
        let identities = store::unlinked_identities(
            self.reconciler.pool(),
            self.run.tenant_id,
            self.run.run.connector_id,
            self.run.run.id,
            self.run.changes_since,
            after,
            self.batch(),
        )
        .await?;
        let next = if identities.len() >= self.batch() as usize {
            Cursor::Missing {
                after: identities.last().map(|i| i.id),
            }
        } else {
            Cursor::Done
        };
        Ok((
            identities.iter().map(|i| classify::missing(i.id)).collect(),
            0,
            next,
        ))
    }

    /// Writes a batch: its discrepancies, the automatic links of a run that is not dry, the counters and the
    /// checkpoint, in one transaction that holds only if the run is still this task's. Answers false otherwise.
    async fn write(&self, found: &[Found], next: &Cursor) -> Result<bool, sqlx::Error> {
        let run = &self.run.run;
        let now = Utc::now();
        let cursor = serde_json::to_string(next).unwrap_or_default();
        let mut tx = self.reconciler.pool().begin_with("BEGIN IMMEDIATE").await?;
        let ids = store::insert_found(
            &mut tx,
            self.run.tenant_id,
            run.connector_id,
            run.id,
            found,
            now,
        )
        .await?;
        if !run.is_dry_run() {
            for (id, f) in ids.iter().zip(found) {
                let (DiscrepancyType::Unlinked, Some(identity), Some(uid)) =
                    (f.discrepancy_type, f.identity_id, f.external_uid.as_deref())
                else {
                    continue;
                };
                if !store::insert_link(
                    &mut tx,
                    self.run.tenant_id,
                    run.connector_id,
                    identity,
                    uid,
                    now,
                )
                .await?
                {
                    continue;
                }
                store::settle_discrepancy(
                    &mut tx,
                    *id,
                    ResolutionStatus::Resolved,
                    Some(RemediationAction::Link),
                    run.created_by,
                    now,
                )
                .await?;
                store::insert_action(
                    &mut tx,
                    &store::NewAction {
                        id: dto::ActionId(uuid::Uuid::new_v4()),
                        tenant_id: self.run.tenant_id,
                        connector_id: run.connector_id,
                        discrepancy_id: Some(*id),
                        action_type: RemediationAction::Link.as_str().to_owned(),
                        direction: None,
                        result: "success".into(),
                        dry_run: false,
                        performed_by: run.created_by,
                        performed_at: now,
                        details: Some(serde_json::json!({
                            "automatic": true,
                            "run_id": run.id,
                            "changes": [remedy::link_change(identity, uid)],
                        })),
                    },
                )
                .await?;
            }
        }
        let progress = Progress {
            accounts_total: self.total.max(self.processed),
            accounts_processed: self.processed,
            api_calls_made: self.calls,
            found: found.len() as u64,
            cursor: &cursor,
            lease_until: self.reconciler.lease_from(now),
        };
        if !store::checkpoint(&mut tx, run.id, self.owner, &progress, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
}
