//! Runs the provisioning engine on its own: `engine --database data/engine.db --bind 127.0.0.1:8090 --demo`.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{builder::FalseyValueParser, Parser};
use engine::{EngineConfig, QueueConfig};
use tracing_subscriber::EnvFilter;

/// The embedded provisioning engine: the provisioning API over one SQLite file.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// The SQLite file, created with its folder when missing.
    #[arg(long, env = "ENGINE_DATABASE", default_value = "data/engine.db")]
    database: PathBuf,
    /// Address to listen on (port 0 picks a free one): a loopback address unless `--allow-public-bind`.
    #[arg(long, env = "ENGINE_BIND", default_value = "127.0.0.1:8090")]
    bind: SocketAddr,
    /// Let `--bind` name an address other machines reach (the engine speaks plain HTTP: put TLS in front).
    #[arg(long, env = "ENGINE_ALLOW_PUBLIC_BIND", value_parser = FalseyValueParser::new())]
    allow_public_bind: bool,
    /// Seed demo data into an empty database (builds with the `demo` feature only; the demo accounts are
    /// listed in the README and printed at start).
    #[arg(long, env = "ENGINE_DEMO")]
    demo: bool,
    /// HS256 secret for access tokens (32+ characters); by default one is generated and kept in the database.
    #[arg(long, env = "ENGINE_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Offer fault injection (connectors taken offline, error rates, latency) without demo mode; demo mode
    /// always offers it.
    #[arg(long, env = "ENGINE_FAULT_INJECTION", value_parser = FalseyValueParser::new())]
    fault_injection: bool,
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
    if let Err(refusal) = check_bind(args.bind, args.allow_public_bind) {
        eprintln!("engine: {refusal}");
        return ExitCode::FAILURE;
    }
    let config = EngineConfig {
        database_path: args.database,
        bind: args.bind,
        jwt_secret: args.jwt_secret,
        demo: args.demo,
        fault_injection: args.fault_injection,
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

/// Loopback only unless asked for: the API signs in whoever knows a password, over plain HTTP, and the
/// console that fronts it runs on the same machine.
fn check_bind(bind: SocketAddr, allow_public: bool) -> Result<(), String> {
    if bind.ip().is_loopback() || allow_public {
        return Ok(());
    }
    Err(format!(
        "{bind} is not a loopback address: the engine serves plain HTTP to this machine only; pass \
         --allow-public-bind (ENGINE_ALLOW_PUBLIC_BIND=1) to serve others, behind TLS"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_binds_unless_asked() {
        let addr = |s: &str| s.parse::<SocketAddr>().expect("address");
        for loopback in ["127.0.0.1:8090", "127.0.0.2:0", "[::1]:8090"] {
            assert_eq!(check_bind(addr(loopback), false), Ok(()), "{loopback}");
        }
        for public in ["0.0.0.0:8090", "[::]:8090", "192.168.1.10:8090"] {
            let refusal = check_bind(addr(public), false).expect_err(public);
            assert!(refusal.contains("--allow-public-bind"), "{refusal}");
            assert_eq!(check_bind(addr(public), true), Ok(()), "{public}");
        }
    }
}
