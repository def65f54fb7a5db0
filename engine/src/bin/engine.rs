//! Runs the provisioning engine on its own: `engine --database data/engine.db --bind 127.0.0.1:8090 --demo`.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::Parser;
use engine::{EngineConfig, QueueConfig};
use tracing_subscriber::EnvFilter;

/// The embedded provisioning engine: the provisioning API over one SQLite file.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The SQLite file, created with its folder when missing.
    #[arg(long, env = "ENGINE_DATABASE", default_value = "data/engine.db")]
    database: PathBuf,
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "ENGINE_BIND", default_value = "127.0.0.1:8090")]
    bind: SocketAddr,
    /// Seed demo data into an empty database (builds with the `demo` feature only; the demo accounts are
    /// listed in the README and printed at start).
    #[arg(long, env = "ENGINE_DEMO")]
    demo: bool,
    /// HS256 secret for access tokens (32+ characters); by default one is generated and kept in the database.
    #[arg(long, env = "ENGINE_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Queue workers running operations through their connectors (0: accept work, run none).
    #[arg(long, env = "ENGINE_WORKERS", default_value_t = 2)]
    workers: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = EngineConfig {
        database_path: args.database,
        bind: args.bind,
        jwt_secret: args.jwt_secret,
        demo: args.demo,
        ..EngineConfig::default()
    };
    let queue = QueueConfig {
        workers: args.workers,
        ..QueueConfig::default()
    };
    let engine = match engine::start_with(config, queue).await {
        Ok(engine) => engine,
        Err(err) => {
            eprintln!("engine: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("engine listening on {}", engine.base_url());
    if let Some(demo) = &engine.demo {
        println!(
            "demo tenant {} — log in as {} / {}",
            demo.tenant_id, demo.email, demo.password
        );
    }
    if let Err(err) = tokio::signal::ctrl_c().await {
        eprintln!("engine: cannot wait for Ctrl-C: {err}");
    }
    engine.shutdown().await;
    ExitCode::SUCCESS
}
