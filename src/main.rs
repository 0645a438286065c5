//! The `osp-gateway` binary: parse configuration, set up logging, serve.

use clap::Parser;
use osp_gateway::{
    config::Config,
    logging,
    startup::{Application, shutdown_signal},
};

/// mimalloc rather than the system allocator: pod lists allocate many small
/// objects, and argon2's 19 MiB blocks are handed back to the system instead of
/// lingering in per-thread arenas (measured in bench/).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = Config::parse();
    logging::init(&config.log, config.log_format);

    let config = match config.load() {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("{errors}");
            return std::process::ExitCode::from(2);
        }
    };
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("{err:#}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(
        "serving on http://{addr} (GraphQL playground at http://{addr}/graphql)",
        addr = app.local_addr()
    );
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("server error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
