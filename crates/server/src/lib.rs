//! danvan server: serves the web app and its JSON API over SQLite or PostgreSQL.
//!
//! `app(state)` builds the whole router so tests can drive it over real HTTP;
//! `main.rs` only reads the configuration, opens the state and serves.

use axum::{middleware, Router};
use tower_http::trace::TraceLayer;

pub mod access;
pub mod accounts;
pub mod aggregate;
pub mod auth;
pub mod backup;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod export;
pub mod maintenance;
pub mod net;
pub mod push_queue;
pub mod routes;
pub mod security_headers;
pub mod seed;
pub mod serve;
pub mod state;
pub mod static_files;
pub mod store;
pub mod sync;
pub mod tables;
pub mod throttle;

pub use config::{Config, PasswordCost};
pub use error::AppError;
pub use serve::{serve_until, serve_with_limits, shutdown_signal, Limits, SHUTDOWN_GRACE};
pub use state::{AppState, StartupError};

use security_headers::SecurityHeaders;

/// The whole application: `/api/*` (JSON) and the web app at `/`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .nest("/api", routes::api())
        .fallback(static_files::serve)
        .layer(TraceLayer::new_for_http())
        // Outermost, so every answer has them: pages, assets, API errors, 404s.
        .layer(middleware::from_fn_with_state(SecurityHeaders::new(state.clone()), security_headers::add))
        .with_state(state)
}
