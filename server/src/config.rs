//! Configuration from flags and environment variables.

use std::{path::PathBuf, time::Duration};

/// How the console runs. Every flag can also be set by the environment variable named beside it.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "server", about = "Provisioning operations console")]
pub struct Config {
    /// Base URL of the provisioning API (xavyo-idp). Unset: start the embedded engine on loopback.
    #[arg(long, env = "UPSTREAM_URL")]
    pub upstream_url: Option<String>,
    /// SQLite file of the embedded engine.
    #[arg(long, env = "ENGINE_DATABASE", default_value = "data/engine.db")]
    pub engine_database: PathBuf,
    /// Seed an empty engine database with demo data and print the demo login.
    #[arg(long, env = "DEMO", value_parser = clap::builder::FalseyValueParser::new())]
    pub demo: bool,
    /// Secret signing the embedded engine's tokens (generated and stored in its database when unset).
    #[arg(long, env = "ENGINE_JWT_SECRET", hide_env_values = true)]
    pub engine_jwt_secret: Option<String>,
    /// Mark session cookies `Secure` (set it when the console is served over https).
    #[arg(long, env = "SECURE_COOKIES", value_parser = clap::builder::FalseyValueParser::new())]
    pub secure_cookies: bool,
    /// Seconds an upstream call may take before the console gives up on it.
    #[arg(long, env = "UPSTREAM_TIMEOUT_SECS", default_value_t = 10)]
    pub upstream_timeout_secs: u64,
}

impl Config {
    /// Timeouts of upstream calls.
    pub fn timeouts(&self) -> client::Timeouts {
        client::Timeouts {
            connect: Duration::from_secs(3)
                .min(Duration::from_secs(self.upstream_timeout_secs.max(1))),
            request: Duration::from_secs(self.upstream_timeout_secs.max(1)),
        }
    }
}
