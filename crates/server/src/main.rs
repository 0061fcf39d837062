use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use danvan_server::backup::{self, DatabaseLock};
use danvan_server::{app, serve_with_limits, shutdown_signal, AppState, Config, SHUTDOWN_GRACE};
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
    match std::env::args().nth(1).as_deref() {
        None => {}
        // Devices see a new epoch and resend what the server lacks (`restore` below
        // does this itself).
        Some("new-epoch") => {
            let _lock = DatabaseLock::acquire_for(&config.database_url)?;
            let store = danvan_server::store::Store::open(&config.database_url).await?;
            // PostgreSQL has no file lock: refuse while a server is still connected
            // (it would keep answering with the old epoch it read at start).
            let others = store.other_servers().await?;
            if !others.is_empty() {
                store.close().await;
                return Err(format!(
                    "máy chủ danvan-server vẫn đang kết nối tới cơ sở dữ liệu (từ {}): dừng mọi tiến trình máy chủ \
                     trước khi đặt epoch mới, rồi khởi động lại",
                    others.join(", ")
                )
                .into());
            }
            store.migrate().await?;
            let epoch = danvan_server::auth::random_hex(16);
            store.renew_epoch(&epoch).await?;
            store.close().await;
            tracing::info!(%epoch, "đã đặt epoch mới cho cơ sở dữ liệu");
            return Ok(());
        }
        // A consistent copy while the server runs; a restore that also starts a new
        // epoch, refused while a server holds the database lock (`backup.rs`).
        Some("backup") => {
            backup::backup_command(&config.database_url, std::env::args().skip(2)).await?;
            return Ok(());
        }
        Some("restore") => {
            backup::restore_command(&config.database_url, std::env::args().skip(2)).await?;
            return Ok(());
        }
        // Accounts from the command line (first start, scripts): `cli.rs`.
        Some(cmd) if danvan_server::cli::COMMANDS.contains(&cmd) => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            return danvan_server::cli::run(&config, cmd, &args).await;
        }
        Some(other) => {
            return Err(format!(
                "lệnh không rõ: {other} (có: new-epoch, backup, restore, {})",
                danvan_server::cli::COMMANDS.join(", ")
            )
            .into())
        }
    }
    if let Some(warning) = config.demo_warning() {
        tracing::warn!("{warning}");
    }
    // Held until the process ends: a second server, or a restore, on this database
    // refuses to run meanwhile.
    let _lock = DatabaseLock::acquire_for(&config.database_url)?;
    let state = AppState::open(&config).await?;
    danvan_server::catalog::watch(
        state.catalog_cell.clone(),
        state.store.clone(),
        danvan_server::catalog::CATALOG_POLL,
    );
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| format!("không mở được cổng {}: {e}", config.addr))?;
    tracing::info!(
        addr = %config.addr,
        database = %danvan_server::store::redact_url(&config.database_url),
        dist = %config.dist.display(),
        demo = config.demo,
        "danvan-server đang chạy tại http://{}",
        config.addr
    );
    serve_with_limits(listener, app(state.clone()), shutdown_signal(), SHUTDOWN_GRACE, config.limits.clone()).await?;
    // A request cut off by the grace period may still hold a connection: do not
    // wait for it forever either.
    if tokio::time::timeout(Duration::from_secs(5), state.close()).await.is_err() {
        tracing::warn!("cơ sở dữ liệu chưa đóng xong: dừng hẳn");
    }
    Ok(())
}
