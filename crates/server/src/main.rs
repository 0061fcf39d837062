use std::io::IsTerminal;
use std::process::ExitCode;

use danvan_server::{app, shutdown_signal, AppState, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        // Plain text when logging to a file or journald.
        .with_ansi(std::io::stdout().is_terminal())
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    let state = AppState::open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("không mở được cổng {}: {e}", config.addr))?;
    tracing::info!(
        addr = %config.addr,
        database = %config.database_url,
        dist = %config.dist.display(),
        demo = config.demo,
        "danvan-server đang chạy tại http://{}",
        config.addr
    );
    axum::serve(listener, app(state.clone())).with_graceful_shutdown(shutdown_signal()).await?;
    state.close().await;
    Ok(())
}
