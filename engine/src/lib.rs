//! The embedded provisioning engine: the console's out-of-the-box upstream.
//!
//! It serves the provisioning API of `shared/reference/api-contract.md` (the canonical shapes of the `dto`
//! crate) from one SQLite file, with xavyo-idp-compatible auth: `POST /auth/login` with `X-Tenant-ID`, HS256
//! access JWTs and rotating refresh tokens. Every other route needs a bearer token, an `X-Tenant-ID` equal to
//! its `tid`, and the `admin` or `super_admin` role.
//!
//! [`start`] opens and migrates the database, seeds the demo data when asked (see [`demo`]), binds and serves
//! in a tokio task; [`router`] is the same API over an [`AppState`], for tests.
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
pub mod demo;
mod error;
mod state;
pub mod store;

use std::{net::SocketAddr, path::PathBuf};

use sqlx::SqlitePool;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub use api::router;
pub use demo::DemoLogin;
pub use error::{ApiError, EngineError};
pub use state::AppState;
pub use store::open_database;

/// How to start the engine.
#[derive(Clone)]
pub struct EngineConfig {
    /// The SQLite file (created with its folder when missing).
    pub database_path: PathBuf,
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// HS256 signing secret (at least 32 characters); none: generated at first start and kept in the database.
    pub jwt_secret: Option<String>,
    /// Seed the demo tenants, accounts and history into an empty database.
    pub demo: bool,
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
        }
    }
}

/// A serving engine. Dropping it also stops the server, without waiting; [`Self::shutdown`] waits.
pub struct RunningEngine {
    /// The address it listens on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    /// The demo credentials, when started with `demo`.
    pub demo: Option<DemoLogin>,
    pool: SqlitePool,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningEngine {
    /// Stops accepting, lets requests in flight finish, and closes the database.
    pub async fn shutdown(self) {
        // The server task may already be gone; then there is nobody to tell.
        let _ = self.stop.send(());
        if let Err(err) = self.task.await {
            tracing::error!(%err, "engine server task ended abnormally");
        }
        self.pool.close().await;
    }

    /// `http://<addr>`, the base URL of the API.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Opens and migrates the database, seeds the demo data if asked, binds, and serves in a tokio task.
pub async fn start(config: EngineConfig) -> Result<RunningEngine, EngineError> {
    let pool = open_database(&config.database_path).await?;
    let secret = auth::resolve_jwt_secret(&pool, config.jwt_secret).await?;
    let demo = if config.demo {
        Some(demo::ensure_seeded(&pool).await?)
    } else {
        None
    };
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| EngineError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr()?;
    let app = router(AppState::new(pool.clone(), &secret));
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
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
        demo,
        pool,
        stop,
        task,
    })
}
