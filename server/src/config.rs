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
    /// Where the embedded engine listens: a loopback address (port 0 picks a free one). Tests fix it to
    /// reach the engine's API beside the console.
    #[arg(long, env = "ENGINE_BIND", default_value = "127.0.0.1:0", value_parser = parse_loopback)]
    pub engine_bind: std::net::SocketAddr,
    /// Seed an empty engine database with demo data and print the demo login.
    #[arg(long, env = "DEMO", value_parser = clap::builder::FalseyValueParser::new())]
    pub demo: bool,
    /// Secret signing the embedded engine's tokens (generated and stored in its database when unset).
    #[arg(long, env = "ENGINE_JWT_SECRET", hide_env_values = true)]
    pub engine_jwt_secret: Option<String>,
    /// Where browsers reach the console, e.g. `https://console.example.com` behind a TLS-terminating proxy:
    /// the only origin mutations are accepted from; over https, session cookies become `Secure` with the
    /// `__Host-` prefix and responses carry HSTS. Only its host (and loopback names) is served: any other
    /// `Host` is answered 421. Unset: only loopback names and the listening address (`LEPTOS_SITE_ADDR`) are
    /// served, and a mutation's `Origin` must match its `Host`.
    #[arg(long, env = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<app::ssr::PublicSite>,
    /// Addresses of the reverse proxies in front of the console (comma-separated). A request from one of them
    /// is attributed to the address it appended to `X-Forwarded-For`; from anyone else, to the TCP peer (a
    /// client cannot choose the address its failed sign-ins are counted against).
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Seconds an upstream call may take before the console gives up on it.
    #[arg(long, env = "UPSTREAM_TIMEOUT_SECS", default_value_t = 10)]
    pub upstream_timeout_secs: u64,
}

fn parse_public_url(url: &str) -> Result<app::ssr::PublicSite, String> {
    app::ssr::PublicSite::parse(url)
}

fn parse_loopback(addr: &str) -> Result<std::net::SocketAddr, String> {
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|_| format!("{addr:?} is not an address such as 127.0.0.1:8090"))?;
    if addr.ip().is_loopback() {
        Ok(addr)
    } else {
        Err(format!(
            "{addr} is not a loopback address: the embedded engine is only served to this machine"
        ))
    }
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
