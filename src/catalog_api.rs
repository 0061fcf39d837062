//! The catalog administration API (`/api/admin/units/*`, `/api/admin/plans/*`):
//! unit-tree imports, plans, drafts, copies and publishing. Online only, like the
//! rest of the administrator's screens.

use danvan_core::catalog::{
    CopyPlanRequest, CopyPlanResponse, DraftResponse, MoveAccountsRequest, MoveAccountsResponse, PlanCheck,
    PlanDocument, PlansAdminResponse, UnitImportResponse,
};
use gloo_net::http::{Request, RequestBuilder};

use crate::api::{bearer, decode, error_for, get, post, send_body, ApiError, Body, TIMEOUT_MS};

fn uri(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

async fn call<T: serde::de::DeserializeOwned>(
    builder: RequestBuilder,
    token: &str,
    body: Option<Body<'_>>,
    timeout_ms: u32,
) -> Result<T, ApiError> {
    let (status, text) = send_body(builder.header("Authorization", &bearer(token)), body, timeout_ms).await?;
    if (200..300).contains(&status) {
        decode(text)
    } else {
        Err(error_for(status, &text))
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<Body<'static>, ApiError> {
    serde_json::to_string(value).map(Body::Json).map_err(|_| ApiError::Decode)
}

/// `POST /api/admin/units/import[?commit=1]` with the file's bytes.
pub async fn import_units(token: &str, bytes: &[u8], mime: &str, commit: bool) -> Result<UnitImportResponse, ApiError> {
    let path = if commit { "/api/admin/units/import?commit=1" } else { "/api/admin/units/import" };
    let mime = if mime.is_empty() { "application/octet-stream" } else { mime };
    // A whole province's tree, checked and written in one transaction: longer on 2G.
    call(Request::post(path), token, Some(Body::Bytes { bytes, mime }), TIMEOUT_MS * 4).await
}

/// `POST /api/admin/units/{id}/move-accounts`.
pub async fn move_accounts(token: &str, unit_id: &str, to: &str) -> Result<MoveAccountsResponse, ApiError> {
    post(
        &format!("/api/admin/units/{}/move-accounts", uri(unit_id)),
        Some(token),
        &MoveAccountsRequest { to: to.into() },
    )
    .await
}

pub async fn plans(token: &str) -> Result<PlansAdminResponse, ApiError> {
    get("/api/admin/plans", token).await
}

/// `POST /api/admin/plans/import[?commit=1]`.
pub async fn import_plan(token: &str, doc: &PlanDocument, commit: bool) -> Result<PlanCheck, ApiError> {
    let path = if commit { "/api/admin/plans/import?commit=1" } else { "/api/admin/plans/import" };
    call(Request::post(path), token, Some(json(doc)?), TIMEOUT_MS * 2).await
}

pub async fn copy_plan(token: &str, plan_id: &str, year: i32) -> Result<CopyPlanResponse, ApiError> {
    post(&format!("/api/admin/plans/{}/copy", uri(plan_id)), Some(token), &CopyPlanRequest { year }).await
}

pub async fn draft(token: &str, plan_id: &str) -> Result<DraftResponse, ApiError> {
    get(&format!("/api/admin/plans/{}/draft", uri(plan_id)), token).await
}

/// `POST /api/admin/plans/{id}/draft`: a correction of a published plan.
pub async fn start_draft(token: &str, plan_id: &str) -> Result<DraftResponse, ApiError> {
    call(Request::post(&format!("/api/admin/plans/{}/draft", uri(plan_id))), token, None, TIMEOUT_MS).await
}

pub async fn save_draft(token: &str, doc: &PlanDocument) -> Result<DraftResponse, ApiError> {
    let path = format!("/api/admin/plans/{}/draft", uri(&doc.plan.id));
    call(Request::put(&path), token, Some(json(doc)?), TIMEOUT_MS * 2).await
}

pub async fn discard_draft(token: &str, plan_id: &str) -> Result<serde_json::Value, ApiError> {
    call(Request::delete(&format!("/api/admin/plans/{}/draft", uri(plan_id))), token, None, TIMEOUT_MS).await
}

pub async fn publish(token: &str, plan_id: &str) -> Result<PlanCheck, ApiError> {
    call(Request::post(&format!("/api/admin/plans/{}/publish", uri(plan_id))), token, None, TIMEOUT_MS * 2).await
}
