//! The JSON API under `/api`.

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post};
use axum::{middleware, Json, Router};
use serde_json::{json, Value};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::{json_errors, AppError, MSG_NOT_FOUND};
use crate::state::AppState;

pub mod auth;
pub mod plans;
pub mod tasks;
pub mod units;

/// Largest request body the API accepts (413 beyond).
pub const BODY_LIMIT: usize = 1024 * 1024;

pub fn api() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/plans", get(plans::list))
        .route("/units", get(units::list))
        .route("/tasks", get(tasks::list))
        .fallback(not_found)
        // Innermost first: extractors stop at the limit; the layer rejects an
        // oversized Content-Length before reading anything.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::map_response(json_errors))
        // API answers are per-user and may carry a token: never cache them.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(CompressionLayer::new())
}

async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}

async fn not_found() -> AppError {
    AppError::NotFound(MSG_NOT_FOUND.into())
}
