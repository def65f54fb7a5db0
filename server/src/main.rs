//! Starts the console. Everything but argument parsing lives in the library, where tests can reach it.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    server::init_tracing();
    match server::run(server::Config::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
