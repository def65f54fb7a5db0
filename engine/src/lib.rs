//! The embedded provisioning engine: the console's out-of-the-box upstream.
//!
//! It serves the provisioning API of `shared/reference/api-contract.md` (the canonical shapes of the `dto`
//! crate) from one SQLite file, with xavyo-idp-compatible auth: `POST /auth/login` with `X-Tenant-ID`, HS256
//! access JWTs and rotating refresh tokens. Every other route needs a bearer token, an `X-Tenant-ID` equal to
//! its `tid`, and the `admin` or `super_admin` role.
//!
//! [`start`] opens and migrates the database and the directory connector's own database, seeds the demo data
//! when asked (the `demo` module, behind the `demo` feature: through the real queue, worker and directory connector), starts the queue's
//! workers ([`queue`]), the reconciler ([`reconcile`]) and the scheduler ([`schedule`]), binds and serves in a
//! tokio task. [`Engine`] is the same without the listener: its [`Engine::router`] is driven with `oneshot` in
//! tests.
//!
//! The queue (see [`queue`] for the decisions, [`queue::lifecycle`] for the state machine):
//!
//! | method | path | answers |
//! |---|---|---|
//! | POST | `/operations` `{connector_id, user_id, operation_type, object_class?, target_uid?, payload?, priority?, idempotency_key?}` | 201 new, 200 the operation holding the same key; 404 unknown connector; 400 naming the field |
//! | GET | `/features` | `{features}`: what this engine does beyond xavyo-idp's API (the console offers pause, retry of failed operations, sort and ignore auditing only where listed); xavyo-idp answers 404 |
//! | GET | `/operations?connector_id&user_id&status&operation_type&from_date&to_date&sort&limit&offset` | `{operations, total, limit, offset}`; `sort` = `newest` (default), `oldest`, `priority` |
//! | GET | `/operations/stats?connector_id`, `/operations/dlq?connector_id&limit&offset` | statistics; dead letters as a list |
//! | GET | `/operations/{id}`, `/operations/{id}/logs`, `/operations/{id}/attempts` | the operation (with `connector_name`), `{logs, operation_id}`, `{attempts, operation_id}` |
//! | POST | `/operations/{id}/retry` (from failed, dead_letter), `/cancel` (from pending), `/resolve` `{resolution_notes?}` (from dead_letter) | 200 the operation; 409 `invalid_operation_state` with `current_status`, nothing changed |
//! | GET | `/operations/conflicts?operation_id&conflict_type&pending_only&limit&offset`, `/operations/conflicts/{id}` | conflicts the worker detected (see [`conflicts`] and `specs/conflicts.md`), newest first; one conflict |
//! | POST | `/operations/conflicts/{id}/resolve` `{outcome, notes?}` | the conflict, resolved; applied/merged release the held operation, superseded/rejected cancel it; 409 `invalid_operation_state` once resolved |
//! | GET, PUT | `/connectors/{id}/settings` `{offline, error_rate, latency_ms}` | injected faults of a connector that supports them (its `capabilities`; only in demo mode or with [`EngineConfig::fault_injection`]), with its status; 404 otherwise |
//!
//! Reconciliation (see [`reconcile`] and `specs/reconciliation.md`), under `/connectors/{id}/reconciliation`:
//!
//! | method | path | answers |
//! |---|---|---|
//! | POST | `/runs` `{mode, dry_run?}` | 202 the pending run; 409 `deduped` / `scope_busy`, 422 `blocked` (nothing queued) |
//! | GET | `/runs?mode&status&limit&offset`, `/runs/{run_id}`, `/runs/{run_id}/report` | runs newest first; one run; its report |
//! | POST | `/runs/{run_id}/cancel` (204), `/pause`, `/resume` | the run; 409 `invalid_operation_state` when its status does not allow it |
//! | GET | `/discrepancies?run_id&discrepancy_type&resolution_status&identity_id&external_uid&limit&offset`, `/discrepancies/{did}` | list, one |
//! | POST | `/discrepancies/{did}/remediate` `{action, direction, identity_id?, dry_run?}` | the result; 400 naming the field for an action the type does not take; 409 when already settled |
//! | POST | `/discrepancies/bulk-remediate` `{items, dry_run?}`, `/discrepancies/preview` `{discrepancy_ids}`, `/discrepancies/{did}/ignore` | per-item results with totals (1..=100 items); previews; 204 |
//! | GET | `/actions?discrepancy_id&action_type&result&dry_run&limit&offset` | the audit log |
//!
//! Schedules and the trend (see [`schedule`] and `specs/schedules.md`):
//!
//! | method | path | answers |
//! |---|---|---|
//! | GET, PUT, DELETE | `/connectors/{id}/reconciliation/schedule` `{mode, frequency, day_of_week?, day_of_month?, hour_of_day, cron_expression?, enabled?}` | the schedule with its `next_run_at`; 404 when none; 400 naming the field; 204 on delete |
//! | POST | `/connectors/{id}/reconciliation/schedule/enable`, `/disable` | 204 |
//! | GET | `/reconciliation/schedules` | `{schedules}` with connector names |
//! | GET | `/reconciliation/trend?connector_id&from&to` | one point per UTC day (default the last 30, at most 366), counts by type |
//!
//! Other tenants' ids answer 404; malformed ids 400 JSON; every route but login, refresh, logout and
//! `/healthz` is admin-only.
//!
//! Demo credentials (fixed demo data, for loopback use):
//!
//! | tenant | id | account | password | roles |
//! |---|---|---|---|---|
//! | Demo Corp | `00000000-0000-4000-8000-00000000d001` | `admin@demo.local` | `demo-admin-pass` | admin |
//! | Demo Corp | same | `viewer@demo.local` | `demo-viewer-pass` | user |
//! | Other Corp | `00000000-0000-4000-8000-00000000d002` | `admin@other.local` | `demo-admin-pass` | admin |

#![warn(missing_docs)]

mod api;
pub mod auth;
pub mod conflicts;
pub mod connector;
#[cfg(feature = "demo")]
pub mod demo;
mod demo_login;
mod error;
pub mod gate;
pub mod queue;
pub mod reconcile;
pub mod schedule;
mod state;
pub mod store;
pub mod throttle;

use std::{net::SocketAddr, path::PathBuf};

use axum::{serve::ListenerExt, Router};
use sqlx::SqlitePool;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use api::router;
pub use connector::{ConnectorRegistry, DirectoryStore};
pub use demo_login::DemoLogin;
pub use error::{ApiError, EngineError};
pub use queue::{Queue, QueueConfig, RetryPolicy, Workers};
pub use reconcile::{Reconciler, ReconcilerConfig, ReconcilerTask};
pub use schedule::{Scheduler, SchedulerConfig, SchedulerTask};
pub use state::AppState;
pub use store::open_database;

/// How to start the engine. The queue's knobs are a [`QueueConfig`] of their own, given to [`start_with`]
/// (kept apart so that the callers building this struct field by field need not change).
#[derive(Clone)]
pub struct EngineConfig {
    /// The SQLite file (created with its folder when missing); the directory connector's accounts live
    /// beside it in `<stem>.directory.db`.
    pub database_path: PathBuf,
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// HS256 signing secret (at least 32 characters); none: generated at first start and kept in the database.
    pub jwt_secret: Option<String>,
    /// Seed the demo tenants, accounts and history into an empty database. Without it, a database holding
    /// the demo data (its seed marks it) is refused.
    pub demo: bool,
    /// Offer fault injection (a connector taken offline, an error rate, latency: `/connectors/{id}/settings`)
    /// and honour the faults stored. Demo mode always does; otherwise it is off, so that no admin of a real
    /// deployment can take its connectors down from the console.
    pub fault_injection: bool,
    /// How reconciliation runs are executed.
    pub reconciler: ReconcilerConfig,
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("database_path", &self.database_path)
            .field("bind", &self.bind)
            .field(
                "jwt_secret",
                &self.jwt_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("demo", &self.demo)
            .field("fault_injection", &self.fault_injection)
            .field("reconciler", &self.reconciler)
            .finish()
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            database_path: PathBuf::from("data/engine.db"),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            jwt_secret: None,
            demo: false,
            fault_injection: false,
            reconciler: ReconcilerConfig::default(),
        }
    }
}

/// The engine without its listener: databases open, demo seeded when asked, workers running.
pub struct Engine {
    state: AppState,
    directory: DirectoryStore,
    workers: Workers,
    reconciling: ReconcilerTask,
    scheduler: Scheduler,
    scheduling: SchedulerTask,
    demo: Option<DemoLogin>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("queue", self.state.queue())
            .field("workers", &self.workers)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens and migrates both databases, resolves the signing secret, seeds the demo data when
    /// `config.demo`, and starts `queue.workers` workers.
    pub async fn open(config: &EngineConfig, queue: QueueConfig) -> Result<Self, EngineError> {
        let pool = open_database(&config.database_path).await?;
        if !config.demo && store::holds_demo_data(&pool).await? {
            pool.close().await;
            return Err(EngineError::Config(format!(
                "{} holds the demo data, whose accounts have published passwords: start in demo mode \
                 (--demo, DEMO=1) to use it, or give another database file (ENGINE_DATABASE)",
                config.database_path.display()
            )));
        }
        let directory =
            DirectoryStore::open(&DirectoryStore::path_beside(&config.database_path)).await?;
        let secret = auth::resolve_jwt_secret(&pool, config.jwt_secret.clone()).await?;
        let connectors =
            ConnectorRegistry::builtin(directory.clone(), config.demo || config.fault_injection);
        let reconciler = Reconciler::new(pool.clone(), connectors.clone(), config.reconciler);
        // Before anything can claim again: a remediation the last engine stopped in the middle of holds its
        // connector and its discrepancy until it is given back.
        reconciler.give_back_interrupted().await?;
        let queue = Queue::new(pool, queue, connectors);
        let demo = if config.demo {
            Some(seed_demo(&queue, &reconciler, &directory).await?)
        } else {
            None
        };
        let workers = Workers::start(&queue);
        let reconciling = reconciler.start();
        let scheduler = Scheduler::new(reconciler.clone(), SchedulerConfig::default());
        let scheduling = scheduler.start();
        Ok(Self {
            state: AppState::new(queue, reconciler, &secret),
            directory,
            workers,
            reconciling,
            scheduler,
            scheduling,
            demo,
        })
    }

    /// The API over this engine.
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The queue.
    pub fn queue(&self) -> &Queue {
        self.state.queue()
    }

    /// The database pool.
    pub fn pool(&self) -> &SqlitePool {
        self.state.pool()
    }

    /// The directory connector's accounts.
    pub fn directory(&self) -> &DirectoryStore {
        &self.directory
    }

    /// The demo credentials, when seeded.
    pub fn demo(&self) -> Option<&DemoLogin> {
        self.demo.as_ref()
    }

    /// The reconciliation service.
    pub fn reconciler(&self) -> &Reconciler {
        self.state.reconciler()
    }

    /// The scheduler (its background task ticks every few seconds; tests tick it themselves too).
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// Stops the workers (each finishes its current operation and hands the rest back) and the reconciler
    /// (runs in progress stop at their next batch and go back to pending), and closes both databases.
    pub async fn shutdown(self) {
        self.scheduling.stop().await;
        self.reconciling.stop().await;
        self.workers.stop().await;
        self.state.pool().close().await;
        self.directory.close().await;
    }
}

/// A serving engine. Dropping it also stops the server, without waiting; [`Self::shutdown`] waits.
pub struct RunningEngine {
    /// The address it listens on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The demo credentials, when started with `demo`.
    pub demo: Option<DemoLogin>,
    engine: Engine,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningEngine {
    /// Stops accepting, lets requests in flight finish, stops the workers, and closes the databases.
    pub async fn shutdown(self) {
        // The server task may already be gone; then there is nobody to tell.
        let _ = self.stop.send(());
        if let Err(err) = self.task.await {
            tracing::error!(%err, "engine server task ended abnormally");
        }
        self.engine.shutdown().await;
    }

    /// `http://<addr>`, the base URL of the API.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The engine behind the listener.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// [`start_with`] the default [`QueueConfig`].
pub async fn start(config: EngineConfig) -> Result<RunningEngine, EngineError> {
    start_with(config, QueueConfig::default()).await
}

#[cfg(feature = "demo")]
async fn seed_demo(
    queue: &Queue,
    reconciler: &Reconciler,
    directory: &DirectoryStore,
) -> Result<DemoLogin, EngineError> {
    demo::ensure_seeded(queue, reconciler, directory).await
}

/// Without the `demo` feature there is nothing to seed: say so rather than start empty.
#[cfg(not(feature = "demo"))]
async fn seed_demo(
    _: &Queue,
    _: &Reconciler,
    _: &DirectoryStore,
) -> Result<DemoLogin, EngineError> {
    Err(EngineError::Config(
        "this build has no demo data: build with the `demo` feature (scripts/run.sh does)".into(),
    ))
}

/// Opens the [`Engine`] (databases, demo seed when asked, workers, reconciler, scheduler), binds, and serves in
/// a tokio task.
pub async fn start_with(
    config: EngineConfig,
    queue: QueueConfig,
) -> Result<RunningEngine, EngineError> {
    let engine = Engine::open(&config, queue).await?;
    let listener = match TcpListener::bind(config.bind).await {
        Ok(listener) => listener,
        Err(source) => {
            engine.shutdown().await;
            return Err(EngineError::Bind {
                addr: config.bind,
                source,
            });
        }
    };
    let addr = listener.local_addr()?;
    let app = engine.router();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // Responses go out in more than one write: without TCP_NODELAY, Nagle's algorithm holds the last one
        // until the client's delayed ACK (~40 ms on Linux), a stall that showed as the BFF's p99.
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        // The peer's address reaches the login throttle (see `throttle::ClientAddress`).
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let serving = axum::serve(listener, app).with_graceful_shutdown(async {
            // A dropped sender also stops the server.
            let _ = stopped.await;
        });
        if let Err(err) = serving.await {
            tracing::error!(%err, "engine server stopped with an error");
        }
    });
    tracing::info!(%addr, database = %config.database_path.display(), demo = config.demo, "engine listening");
    Ok(RunningEngine {
        addr,
        demo: engine.demo.clone(),
        engine,
        stop,
        task,
    })
}
