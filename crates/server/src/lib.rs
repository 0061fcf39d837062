//! danvan server: serves the web app and its JSON API over SQLite.
//!
//! `app(state)` builds the whole router so tests can drive it over real HTTP;
//! `main.rs` only reads the configuration, opens the state and serves.

use std::future::{Future, IntoFuture};
use std::time::Duration;

use axum::Router;
use tower_http::trace::TraceLayer;

pub mod access;
pub mod aggregate;
pub mod auth;
pub mod backup;
pub mod config;
pub mod error;
pub mod export;
pub mod routes;
pub mod seed;
pub mod state;
pub mod static_files;
pub mod store;
pub mod sync;

pub use config::{Config, PasswordCost};
pub use error::AppError;
pub use state::{AppState, StartupError};

/// The whole application: `/api/*` (JSON) and the web app at `/`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/api", routes::api())
        .fallback(static_files::serve)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// How long in-flight requests get to finish after the shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serves `router` until `signal` resolves, then lets in-flight requests finish
/// for at most `grace` before returning anyway (a client that never finishes its
/// request, or a stuck handler, must not keep the process alive forever).
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: Router,
    signal: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            signal.await;
            let _ = signalled_tx.send(());
        })
        .into_future();
    let deadline = async move {
        // If the server ends on its own the sender is dropped: never time out then.
        if signalled_rx.await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        res = server => res,
        () = deadline => {
            tracing::warn!(grace_secs = grace.as_secs_f64(), "còn yêu cầu chưa xong sau thời gian chờ: dừng hẳn");
            Ok(())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `systemctl stop` and `docker stop` send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "không lắng nghe được Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "không lắng nghe được SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("đang dừng máy chủ");
}
