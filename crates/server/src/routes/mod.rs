//! The JSON API under `/api`.

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post, put};
use axum::{middleware, Json, Router};
use serde_json::{json, Value};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::{json_errors, AppError, MSG_NOT_FOUND};
use crate::state::AppState;

pub mod admin;
pub mod attachments;
pub mod auth;
pub mod catalog;
pub mod dashboard;
pub mod exports;
pub mod forms;
pub mod obligations;
pub mod plans;
pub mod reports;
pub mod sync;
pub mod tasks;
pub mod units;

/// Largest request body the API accepts (413 beyond), except attachment uploads
/// (`attachments::BODY_LIMIT`).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The API's OpenAPI 3.1 description, written by hand next to this crate.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// Every `/api` route. Keep `openapi.json` in step: a test compares the paths
/// registered here (the `.route("...")` lines of this file) with its `paths`.
pub fn api() -> Router<AppState> {
    let json_routes = Router::new()
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/enrolment", post(auth::enrolment))
        .route("/auth/enrol", post(auth::enrol))
        .route("/me", get(auth::me))
        .route("/me/devices", get(auth::my_devices))
        .route("/me/devices/{id}", delete(auth::end_my_device))
        .route("/me/sign-out-everywhere", post(auth::sign_out_elsewhere))
        .route("/me/password", post(auth::change_password))
        .route("/admin/accounts", get(admin::list).post(admin::create))
        .route("/admin/accounts/import", post(admin::import))
        .route("/admin/accounts/template.xlsx", get(admin::template_xlsx))
        .route("/admin/accounts/template.csv", get(admin::template_csv))
        .route("/admin/accounts/{id}", get(admin::get).put(admin::update))
        .route("/admin/accounts/{id}/disable", post(admin::disable))
        .route("/admin/accounts/{id}/enable", post(admin::enable))
        .route("/admin/accounts/{id}/reset", post(admin::reset))
        .route("/admin/accounts/{id}/sign-out", post(admin::sign_out_everywhere))
        .route("/admin/accounts/{id}/devices", get(admin::devices))
        .route("/admin/devices/{id}", delete(admin::end_device))
        .route("/admin/enrolment-codes", post(admin::new_codes))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit.csv", get(admin::audit_csv))
        .route("/admin/units/import", post(catalog::import_units))
        .route("/admin/units/export.csv", get(catalog::export_units))
        .route("/admin/units/{id}/move-accounts", post(catalog::move_accounts))
        .route("/admin/plans", get(catalog::list_plans))
        .route("/admin/plans/import", post(catalog::import_plan))
        .route(
            "/admin/plans/{id}/draft",
            get(catalog::get_draft).post(catalog::start_draft).put(catalog::save_draft).delete(catalog::discard_draft),
        )
        .route("/admin/plans/{id}/publish", post(catalog::publish_draft))
        .route("/admin/plans/{id}/copy", post(catalog::copy_plan))
        .route("/plans", get(plans::list))
        .route("/units", get(units::list))
        .route("/tasks", get(tasks::list))
        .route("/forms/{plan}", get(forms::get))
        .route("/sync/push", post(sync::push))
        .route("/sync/pull", post(sync::pull))
        .route("/reports/{id}/revisions", get(reports::revisions))
        .route("/dashboard", get(dashboard::dashboard))
        .route("/consolidation", get(dashboard::consolidation))
        .route("/exports/consolidation.docx", get(exports::docx))
        .route("/exports/consolidation.xlsx", get(exports::xlsx))
        .route("/exports/consolidation.csv", get(exports::csv))
        .route("/implementation-plans", get(obligations::list_implementation_plans))
        .route("/implementation-plans/{plan}/{unit}", put(obligations::put_implementation_plan))
        .route("/models", get(obligations::list_models).post(obligations::register_model))
        .route("/models/{id}/recognise", post(obligations::recognise_model))
        .route("/models/{id}/commend", post(obligations::commend_model))
        // Innermost first: extractors stop at the limit; the layer rejects an
        // oversized Content-Length before reading anything. `Router::layer` wraps
        // the routes added so far only, so the uploads below keep their own limit.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Phones on 2G gzip large pushes (`Content-Encoding: gzip`): Vietnamese
        // narratives shrink by about half. The 1 MiB limit above applies to the
        // decompressed body as the handlers read it (no gzip bomb), the one below
        // to the bytes on the wire.
        .layer(RequestDecompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    let upload_routes = Router::new()
        .route("/attachments/{id}", put(attachments::upload).get(attachments::download))
        .route(
            "/implementation-plans/{plan}/{unit}/file",
            put(obligations::put_implementation_plan_file).get(obligations::get_implementation_plan_file),
        )
        .layer(DefaultBodyLimit::max(attachments::BODY_LIMIT))
        .layer(RequestBodyLimitLayer::new(attachments::BODY_LIMIT))
        .layer(middleware::map_response(attachments::too_large_json));
    json_routes
        .merge(upload_routes)
        .fallback(not_found)
        .layer(middleware::map_response(json_errors))
        // API answers are per-user and may carry a token: never cache them.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(CompressionLayer::new())
}

async fn health() -> Json<Value> {
    Json(json!({ "ok": true }))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], OPENAPI_JSON)
}

async fn not_found() -> AppError {
    AppError::NotFound(MSG_NOT_FOUND.into())
}
