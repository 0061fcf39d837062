//! The JSON API under `/api`.

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::{middleware, Json, Router};
use danvan_core::api::{ErrorBody, ErrorDetail};
use danvan_core::sync::PushResponse;
use serde::Serialize;
use std::sync::OnceLock;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{
    AdditionalProperties, AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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

/// Every `/api` route, each registered together with its description
/// (`#[utoipa::path]` on the handler, collected by `routes!`): a route cannot be
/// added without being described, nor described without being routed.
/// tests/openapi.rs checks the result against the running router.
fn json_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(openapi))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::enrolment))
        .routes(routes!(auth::enrol))
        .routes(routes!(auth::me))
        .routes(routes!(auth::my_devices))
        .routes(routes!(auth::end_my_device))
        .routes(routes!(auth::sign_out_elsewhere))
        .routes(routes!(auth::change_password))
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::import))
        .routes(routes!(admin::template_xlsx))
        .routes(routes!(admin::template_csv))
        .routes(routes!(admin::get, admin::update))
        .routes(routes!(admin::disable))
        .routes(routes!(admin::enable))
        .routes(routes!(admin::reset))
        .routes(routes!(admin::sign_out_everywhere))
        .routes(routes!(admin::devices))
        .routes(routes!(admin::end_device))
        .routes(routes!(admin::new_codes))
        .routes(routes!(admin::audit))
        .routes(routes!(admin::audit_csv))
        .routes(routes!(catalog::import_units))
        .routes(routes!(catalog::export_units))
        .routes(routes!(catalog::move_accounts))
        .routes(routes!(catalog::list_plans))
        .routes(routes!(catalog::import_plan))
        .routes(routes!(catalog::get_draft, catalog::start_draft, catalog::save_draft, catalog::discard_draft))
        .routes(routes!(catalog::publish_draft))
        .routes(routes!(catalog::copy_plan))
        .routes(routes!(plans::list))
        .routes(routes!(units::list))
        .routes(routes!(tasks::list))
        .routes(routes!(forms::get))
        .routes(routes!(sync::push))
        .routes(routes!(sync::pull))
        .routes(routes!(reports::revisions))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(dashboard::consolidation))
        .routes(routes!(exports::docx))
        .routes(routes!(exports::xlsx))
        .routes(routes!(exports::csv))
        .routes(routes!(obligations::list_implementation_plans))
        .routes(routes!(obligations::put_implementation_plan))
        .routes(routes!(obligations::list_models, obligations::register_model))
        .routes(routes!(obligations::recognise_model))
        .routes(routes!(obligations::commend_model))
}

/// The routes that take files, under the attachment body limit.
fn upload_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(attachments::upload, attachments::download))
        .routes(routes!(obligations::put_implementation_plan_file, obligations::get_implementation_plan_file))
}

/// Every `/api` route (nested under `/api` by `crate::app`).
pub fn api() -> Router<AppState> {
    let (json_routes, _) = json_routes().split_for_parts();
    let json_routes = json_routes
        // Innermost first: extractors stop at the limit; the layer rejects an
        // oversized Content-Length before reading anything.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // Phones on 2G gzip large pushes (`Content-Encoding: gzip`): Vietnamese
        // narratives shrink by about half. The 1 MiB limit above applies to the
        // decompressed body as the handlers read it (no gzip bomb), the one below
        // to the bytes on the wire.
        .layer(RequestDecompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT));
    let (upload_routes, _) = upload_routes().split_for_parts();
    let upload_routes = upload_routes
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

/// The API's OpenAPI 3.1 description, made from the same routers as [`api`]: the
/// handlers' `#[utoipa::path]` attributes and the core types' schemas
/// (`danvan-core`'s `openapi` feature), then [`Conventions`].
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let mut doc = OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .nest("/api", json_routes().merge(upload_routes()))
        .into_openapi();
    Conventions.modify(&mut doc);
    doc
}

/// [`openapi_document`] as served: made once.
pub fn openapi_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| openapi_document().to_json().expect("the OpenAPI document serializes"))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "danvan API",
        description = "JSON API of danvan (offline-first reporting on Kế hoạch 413/KH-UBND). \
Every error is `{\"error\": {\"code\", \"message\"}}` with a stable code and a Vietnamese message. \
Request bodies are limited to 1 MiB except attachment and implementation-plan file uploads (3 MiB): \
413 `payload_too_large` beyond. Responses are `Cache-Control: no-store`. Any request may also get \
`503 timeout` (the server took over 60 s to answer; retry after `Retry-After`) or, while sending \
a body, `408 body_timeout` (the body stalled for 30 s); see crates/server/src/serve.rs. A busy \
database is `503 unavailable` with `Retry-After`. Sign-in and enrolment answer \
`429 too_many_attempts` with `Retry-After` after repeated failures. Generated from the code \
(crates/server/src/routes/mod.rs): every route is registered with its description.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    servers((url = "/")),
    security(("bearer" = [])),
    tags(
        (name = "meta", description = "The server itself. No sign-in."),
        (name = "auth", description = "Signing in and out, enrolment with a one-time code."),
        (name = "account", description = "The signed-in official's own account: devices, password."),
        (name = "catalog", description = "Plans, units, forms and the caller's tasks."),
        (name = "sync", description = "The offline queue: push mutations, pull changes (crates/core/src/sync.rs)."),
        (name = "reports", description = "A report's history."),
        (name = "attachments", description = "The bytes of the files attached to reports."),
        (name = "review", description = "Dashboard, consolidation and its official exports."),
        (name = "obligations", description = "III.1 implementation plans and the \"Dân vận khéo\" register."),
        (name = "admin", description = "Account administration (administrators, within their unit's subtree)."),
        (name = "catalog-admin", description = "The unit tree and the plans as data (province administrators)."),
    ),
    components(schemas(ErrorBody, Ended, Discarded, EpochMismatch, InvalidAccount, PushForbidden, PushResponse))
)]
struct ApiDoc;

/// What every operation shares, added to the generated operations so each handler
/// lists only its own answers:
/// - the bearer scheme; `security(())` on a handler (no sign-in) becomes `[]`;
/// - 401 on every signed-in operation (`crate::auth::AuthUser`: no token, an
///   unknown, expired or ended one);
/// - 400 `bad_request` where the request has a body, query parameters (axum's
///   extractors refuse malformed or repeated ones) or a numeric path parameter;
/// - 413 and 408 where it has a body (the limits of [`api`], serve.rs's body timeout);
/// - 503 everywhere (a busy database, or serve.rs's request time limit).
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        // serde reads an externally tagged enum's object (`{"save": {…}}`) by its
        // first key: any other key is an unknown variant, so each such variant
        // object takes no other property.
        for schema in components.schemas.values_mut() {
            if let RefOr::T(Schema::OneOf(one_of)) = schema {
                for item in &mut one_of.items {
                    if let RefOr::T(Schema::Object(o)) = item {
                        let tag = o.properties.keys().next();
                        if o.properties.len() == 1 && o.required.len() == 1 && tag == o.required.first() {
                            o.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
                        }
                    }
                }
            }
        }
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The token from POST /api/auth/login or /api/auth/enrol."))
                    .build(),
            ),
        );
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("Error"))).build())
        };
        let retry_after =
            |description: &str| HeaderBuilder::new().schema(u64::schema()).description(Some(description)).build();
        for item in doc.paths.paths.values_mut() {
            let ops = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for op in ops.into_iter().flatten() {
                // `security(())` is `[{}]` (optional sign-in); these need none at all.
                if op.security.as_ref().is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default())) {
                    op.security = Some(Vec::new());
                }
                let public = op.security.as_ref().is_some_and(Vec::is_empty);
                let params = op.parameters.as_deref().unwrap_or_default();
                let malformed = op.request_body.is_some()
                    || params.iter().any(|p| {
                        p.parameter_in == ParameterIn::Query
                            || (p.parameter_in == ParameterIn::Path && !is_string(p.schema.as_ref()))
                    });
                let responses = &mut op.responses.responses;
                let mut add = |code: &str, response: Response| {
                    responses.entry(code.to_string()).or_insert(RefOr::T(response));
                };
                if !public {
                    add(
                        "401",
                        error("No token, or an unknown, expired or ended one (`unauthorized`, `device_ended`)").build(),
                    );
                }
                if malformed {
                    add("400", error("A malformed request (`bad_request`)").build());
                }
                if op.request_body.is_some() {
                    add("413", error("Body over the limit (`payload_too_large`)").build());
                    add("408", error("The body stalled for 30 s (`body_timeout`); the connection is closed").build());
                }
                add(
                    "503",
                    error("The database is busy (`unavailable`) or the answer took over 60 s (`timeout`); nothing of the failing step was done")
                        .header("Retry-After", retry_after("Seconds to wait before retrying"))
                        .build(),
                );
            }
        }
    }
}

fn is_string(schema: Option<&RefOr<Schema>>) -> bool {
    matches!(schema, Some(RefOr::T(Schema::Object(o))) if o.schema_type == SchemaType::Type(Type::String))
}

/// Bytes of a file (an upload, a download). Without `format: binary`, which
/// schemathesis fills with any bytes, the empty body included.
pub struct Binary;

impl PartialSchema for Binary {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            // Never empty: every upload refuses an empty body (400), no download is one.
            .min_length(Some(1))
            .into()
    }
}

impl ToSchema for Binary {}

/// How many devices were signed out.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ended {
    ended: u64,
}

/// `DELETE /api/admin/plans/{id}/draft`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Discarded {
    discarded: bool,
}

/// 409 `epoch_mismatch`: the error with this server's epoch.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EpochMismatch {
    error: ErrorDetail,
    /// The server's epoch: the client pulls again from cursor 0 with it.
    epoch: String,
}

/// 400 `invalid_account`: the error with every problem found.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct InvalidAccount {
    error: ErrorDetail,
    /// Vietnamese, one per problem (absent for other 400s such as `own_account`).
    errors: Option<Vec<String>>,
}

/// A push's 403: the push answer with `error` (a mutation refused for lack of
/// rights, recorded; the batch stopped after it), or an error alone
/// (`client_forbidden`).
pub struct PushForbidden;

impl PartialSchema for PushForbidden {
    fn schema() -> RefOr<Schema> {
        let push_refused =
            AllOfBuilder::new().item(Ref::from_schema_name("PushResponse")).item(Ref::from_schema_name("Error"));
        AnyOfBuilder::new().item(push_refused).item(Ref::from_schema_name("Error")).into()
    }
}

impl ToSchema for PushForbidden {}

/// `GET /api/health`.
#[derive(ToSchema, Serialize)]
struct Health {
    ok: bool,
}

/// Answers while the process runs.
#[utoipa::path(
    get, path = "/health", tag = "meta",
    security(()),
    responses((status = 200, description = "The process is up", body = Health))
)]
async fn health() -> Json<Health> {
    Json(Health { ok: true })
}

/// This document.
#[utoipa::path(
    get, path = "/openapi.json", tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 description of the API", content_type = "application/json", body = Object))
)]
async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], openapi_json())
}

/// An import with no file at all (an empty body): a malformed request, where a file
/// that is not a valid one gets an answer listing its problems.
fn empty_file() -> AppError {
    AppError::coded(axum::http::StatusCode::BAD_REQUEST, "empty_file", "Chưa có tệp nào được gửi lên")
}

async fn not_found() -> AppError {
    AppError::NotFound(MSG_NOT_FOUND.into())
}
