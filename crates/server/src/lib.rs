//! danvan server: serves the web app and its JSON API over SQLite.
//!
//! `app(state)` builds the whole router so tests can drive it over real HTTP;
//! `main.rs` only reads the configuration, opens the state and serves.

use axum::Router;
use tower_http::trace::TraceLayer;

pub mod access;
pub mod auth;
pub mod config;
pub mod error;
pub mod routes;
pub mod seed;
pub mod state;
pub mod static_files;
pub mod store;

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
