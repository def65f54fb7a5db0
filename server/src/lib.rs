//! The console's server: picks the upstream (xavyo-idp, or the embedded engine on loopback), builds the
//! BFF state, and serves the Leptos app with its session and security layers.

// Leptos view types nest deeply; rendering them needs more than the default query depth.
#![recursion_limit = "256"]

mod config;
mod security;
mod session;

use std::{net::SocketAddr, sync::Arc};

use app::{api::LoginHint, ssr::BffState, App};
use axum::{
    extract::State, http::StatusCode, middleware, routing::get, serve::ListenerExt, Router,
};
use client::ApiClient;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{compression::CompressionLayer, trace::TraceLayer};

pub use config::Config;
pub use session::RefreshCoordinator;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Leptos configuration (site address, output names) could not be read.
    #[error("leptos configuration: {0}")]
    Leptos(String),
    /// The embedded engine failed to start.
    #[error("embedded engine: {0}")]
    Engine(String),
    /// The upstream client could not be built.
    #[error("upstream client: {0}")]
    Client(#[from] client::ClientError),
    /// The listening socket could not be opened or served.
    #[error("listening on {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The failure.
        source: std::io::Error,
    },
}

/// The axum state: the BFF state plus the refresh coordinator.
#[derive(Clone)]
pub struct AppState {
    /// What server functions see.
    pub bff: BffState,
    /// Single-flight refreshes of rotating refresh tokens.
    pub refresher: Arc<RefreshCoordinator>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see [`Config::trusted_proxies`]).
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.bff.leptos_options.clone()
    }
}

/// Logs to stderr; `RUST_LOG` tunes it. Request logs carry method, path and status, never headers.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// The whole HTTP surface of the console.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let bff = state.bff.clone();
    // What every render sees: the BFF state, and the script nonce the CSP layer put on this request.
    let context = move || {
        provide_context(bff.clone());
        let nonce = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<security::CspNonce>().cloned());
        if let Some(security::CspNonce(nonce)) = nonce {
            provide_context(nonce);
        }
    };
    let options = state.bff.leptos_options.clone();
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(context, app::shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session::session_layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::same_origin_layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::browser_address_layer,
        ))
        .layer(middleware::from_fn(security::cache_control_layer))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::served_host_layer,
        ))
        .with_state(state.clone());
    security::with_headers(app, &state.bff.site)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, String) {
    match state.bff.api.ping().await {
        Ok(_) => (StatusCode::OK, "ready".to_owned()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {e}")),
    }
}

/// Starts the upstream (or the embedded engine), serves the console until Ctrl-C or SIGTERM, then stops
/// both gracefully.
pub async fn run(config: Config) -> Result<(), StartError> {
    let conf = get_configuration(None).map_err(|e| StartError::Leptos(e.to_string()))?;
    let leptos_options = conf.leptos_options;
    let addr = leptos_options.site_addr;

    let (base_url, engine, demo) = match &config.upstream_url {
        Some(url) => {
            tracing::info!(upstream = %url, "using the configured provisioning API");
            (url.clone(), None, None)
        }
        None => {
            // The engine creates its data folder itself, private to its account (0700).
            let engine = engine::start(engine::EngineConfig {
                database_path: config.engine_database.clone(),
                bind: config.engine_bind,
                jwt_secret: config.engine_jwt_secret.clone(),
                demo: config.demo,
                ..engine::EngineConfig::default()
            })
            .await
            .map_err(|e| StartError::Engine(e.to_string()))?;
            tracing::info!(addr = %engine.addr, db = %config.engine_database.display(), "embedded engine started");
            let demo = engine.demo.clone();
            (engine.base_url(), Some(engine), demo)
        }
    };

    let api = ApiClient::new(&base_url, config.timeouts())?;
    let hint = demo.as_ref().map(|d| {
        Arc::new(LoginHint {
            tenant_id: d.tenant_id,
            email: d.email.clone(),
        })
    });
    let state = AppState {
        bff: BffState {
            leptos_options,
            api,
            site: config.public_url.clone().unwrap_or_default(),
            demo: hint,
        },
        refresher: Arc::new(RefreshCoordinator::default()),
        trusted_proxies: config.trusted_proxies.clone().into(),
    };

    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|source| StartError::Io { addr, source })?;
    println!("Provisioning console: http://{addr}");
    if let Some(d) = &demo {
        println!(
            "Demo login   tenant {}   email {}   password {}",
            d.tenant_id, d.email, d.password
        );
        println!(
            "Non-admin    tenant {}   email {}   password {}",
            d.tenant_id, d.viewer_email, d.viewer_password
        );
    }
    // TCP_NODELAY: see the engine's server (a ~40 ms Nagle/delayed-ACK stall otherwise).
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(|source| StartError::Io { addr, source })?;
    if let Some(engine) = engine {
        engine.shutdown().await;
    }
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
