//! III.1 implementation plans and the "Dân vận khéo" register.
//!
//! A unit records its own implementation plan and registers its own models
//! (`may_write_report_of`); a unit above recognises and commends them
//! (`may_review_report_of`); anyone who may see a unit's data may read them.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, Utc};
use danvan_core::aggregate::MovementModel;
use danvan_core::api::{
    ErrorBody, ImplementationPlanInput, ImplementationPlanRecord, ImplementationPlansResponse, ModelStep,
    ModelsResponse, NewModel,
};
use danvan_core::time::vn_date;
use danvan_core::{OrgUnit, Plan};
use serde::Deserialize;
use utoipa::IntoParams;

use super::Binary;

use crate::access::{may_review_report_of, may_see_data_of, may_write_report_of};
use crate::aggregate::{implementation_plans, models_in, Scope};
use crate::auth::AuthUser;
use crate::error::{ApiJson as JsonBody, AppError};
use crate::net::ClientAddr;
use crate::state::{AppState, Catalog};
use crate::store::{Actor, ModelRow, User};

/// Largest implementation-plan document (a scanned PDF or photos of it).
pub const MAX_FILE_BYTES: usize = 3 * 1024 * 1024;
const FILE_TYPES: [&str; 4] = ["application/pdf", "image/jpeg", "image/png", "image/webp"];
const MAX_TEXT: usize = 200;
const MAX_DESCRIPTION: usize = 4000;

fn invalid(message: impl Into<String>) -> AppError {
    AppError::coded(StatusCode::BAD_REQUEST, "invalid", message.into())
}

fn plan_exists<'c>(catalog: &'c Catalog, plan_id: &str) -> Result<&'c Plan, AppError> {
    catalog.plan(plan_id).ok_or_else(|| AppError::NotFound(format!("Không có kế hoạch «{plan_id}»").into()))
}

fn unit_exists<'c>(catalog: &'c Catalog, unit_id: &str) -> Result<&'c OrgUnit, AppError> {
    catalog.tree.get(unit_id).ok_or_else(|| AppError::NotFound(format!("Không có đơn vị «{unit_id}»").into()))
}

/// Who made a change, for the audit log that keeps every change of these records.
fn actor(auth: &AuthUser, addr: &ClientAddr) -> Actor {
    Actor { user_id: Some(auth.user.id), name: auth.user.username.clone(), address: addr.text() }
}

/// A document date under `plan` (`Plan::obligation_date_problem`), or 400.
fn check_date(plan: &Plan, what: &str, on: chrono::NaiveDate) -> Result<(), AppError> {
    match plan.obligation_date_problem(on, vn_date(Utc::now())) {
        Some(problem) => Err(invalid(format!("{what} {problem}"))),
        None => Ok(()),
    }
}

fn own_unit_only(user: &User, unit_id: &str) -> Result<(), AppError> {
    if may_write_report_of(user, unit_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden("Bạn chỉ được cập nhật thông tin của đơn vị mình".into()))
    }
}

// --- III.1 ------------------------------------------------------------------------

#[utoipa::path(
    get, path = "/implementation-plans", tag = "obligations",
    params(Scope),
    responses(
        (status = 200, description = "Every unit of the subtree that owes a III.1 implementation plan, with its record", body = ImplementationPlansResponse),
        (status = 400, description = "A malformed period (`invalid_period`); a repeated parameter (`bad_request`)", body = ErrorBody),
        (status = 403, description = "The caller may not see the unit's data (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit, or the unit did not exist then (`not_found`); a period the plan does not cover (`period_outside_plan`)", body = ErrorBody),
    )
)]
pub async fn list_implementation_plans(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Json<ImplementationPlansResponse>, AppError> {
    let catalog = state.catalog();
    let r = scope.resolve(&catalog, &auth.user)?;
    Ok(Json(implementation_plans(&state.store, &r.tree, r.plan, &r.unit_id, Utc::now()).await?))
}

async fn record_of(state: &AppState, plan_id: &str, unit_id: &str) -> Result<ImplementationPlanRecord, AppError> {
    let catalog = state.catalog();
    let plan = plan_exists(&catalog, plan_id)?;
    let all = implementation_plans(&state.store, &catalog.tree, plan, unit_id, Utc::now()).await?;
    all.records
        .into_iter()
        .find(|r| r.unit_id == unit_id)
        .ok_or_else(|| AppError::NotFound("Đơn vị này không phải xây dựng kế hoạch triển khai".into()))
}

#[utoipa::path(
    put, path = "/implementation-plans/{plan}/{unit}", tag = "obligations",
    params(
        ("plan" = String, Path, description = "A plan id"),
        ("unit" = String, Path, description = "A unit id"),
    ),
    request_body = ImplementationPlanInput,
    responses(
        (status = 200, description = "Recorded", body = ImplementationPlanRecord),
        (status = 400, description = "The unit owes none, a blank or too long number, a date after today (`invalid`); a malformed body (`bad_request`)", body = ErrorBody),
        (status = 403, description = "Not the caller's own unit (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit (`not_found`)", body = ErrorBody),
    )
)]
pub async fn put_implementation_plan(
    auth: AuthUser,
    addr: ClientAddr,
    State(state): State<AppState>,
    Path((plan_id, unit_id)): Path<(String, String)>,
    JsonBody(input): JsonBody<ImplementationPlanInput>,
) -> Result<Json<ImplementationPlanRecord>, AppError> {
    let catalog = state.catalog();
    let plan = plan_exists(&catalog, &plan_id)?;
    let unit = unit_exists(&catalog, &unit_id)?;
    own_unit_only(&auth.user, &unit_id)?;
    if !danvan_core::aggregate::owes_implementation_plan(plan, unit) {
        return Err(invalid("Đơn vị này không phải xây dựng kế hoạch triển khai theo mục III.1"));
    }
    let doc = input.doc_number.trim();
    if doc.is_empty() || doc.chars().count() > MAX_TEXT {
        return Err(invalid("Cần ghi số, ký hiệu văn bản (tối đa 200 ký tự)"));
    }
    check_date(plan, "Ngày ban hành", input.issued_on)?;
    let now = Utc::now();
    let actor = actor(&auth, &addr);
    state.store.put_implementation_plan(&plan_id, &unit_id, doc, input.issued_on, auth.user.id, &actor, now).await?;
    Ok(Json(record_of(&state, &plan_id, &unit_id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileName {
    /// The file's name as the official chose it (control characters and slashes
    /// dropped, 200 characters kept); default `ke-hoach.pdf`.
    pub name: Option<String>,
}

#[utoipa::path(
    put, path = "/implementation-plans/{plan}/{unit}/file", tag = "obligations",
    params(
        ("plan" = String, Path, description = "A plan id"),
        ("unit" = String, Path, description = "A unit id"),
        FileName,
    ),
    request_body(
        description = "The document itself: a PDF or photos of it, 1 byte to 3 MiB",
        content(
            (Binary = "application/pdf"),
            (Binary = "image/jpeg"),
            (Binary = "image/png"),
            (Binary = "image/webp"),
        ),
    ),
    responses(
        (status = 200, description = "Attached (replacing an earlier file)", body = ImplementationPlanRecord),
        (status = 400, description = "An empty file (`invalid`)", body = ErrorBody),
        (status = 403, description = "Not the caller's own unit (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit (`not_found`)", body = ErrorBody),
        (status = 409, description = "No record yet: the number and date come first (`no_record`)", body = ErrorBody),
        (status = 413, description = "Over 3 MiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not a PDF, JPEG, PNG or WebP (`unsupported_type`)", body = ErrorBody),
    )
)]
pub async fn put_implementation_plan_file(
    auth: AuthUser,
    State(state): State<AppState>,
    Path((plan_id, unit_id)): Path<(String, String)>,
    Query(q): Query<FileName>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImplementationPlanRecord>, AppError> {
    let catalog = state.catalog();
    plan_exists(&catalog, &plan_id)?;
    unit_exists(&catalog, &unit_id)?;
    own_unit_only(&auth.user, &unit_id)?;
    let mime = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !FILE_TYPES.contains(&mime.as_str()) {
        return Err(AppError::coded(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_type",
            "Chỉ nhận tệp PDF hoặc ảnh (JPEG, PNG, WebP)",
        ));
    }
    if body.is_empty() {
        return Err(invalid("Tệp rỗng"));
    }
    if body.len() > MAX_FILE_BYTES {
        return Err(AppError::PayloadTooLarge);
    }
    let name = q.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or("ke-hoach.pdf");
    let name: String = name.chars().filter(|c| !c.is_control() && *c != '/' && *c != '\\').take(MAX_TEXT).collect();
    if !state.store.put_implementation_plan_file(&plan_id, &unit_id, &name, &mime, &body).await? {
        return Err(AppError::coded(
            StatusCode::CONFLICT,
            "no_record",
            "Cần lưu số và ngày văn bản trước khi đính kèm tệp",
        ));
    }
    Ok(Json(record_of(&state, &plan_id, &unit_id).await?))
}

#[utoipa::path(
    get, path = "/implementation-plans/{plan}/{unit}/file", tag = "obligations",
    params(
        ("plan" = String, Path, description = "A plan id"),
        ("unit" = String, Path, description = "A unit id"),
    ),
    responses(
        (status = 200, description = "The file as uploaded, with its media type", content(
            (Binary = "application/pdf"),
            (Binary = "image/jpeg"),
            (Binary = "image/png"),
            (Binary = "image/webp"),
        )),
        (status = 403, description = "The caller may not see the unit's data (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such unit, or no file (`not_found`)", body = ErrorBody),
    )
)]
pub async fn get_implementation_plan_file(
    auth: AuthUser,
    State(state): State<AppState>,
    Path((plan_id, unit_id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let catalog = state.catalog();
    unit_exists(&catalog, &unit_id)?;
    if !may_see_data_of(&catalog.tree, &auth.user, &unit_id) {
        return Err(AppError::Forbidden("Bạn không có quyền xem tài liệu của đơn vị này".into()));
    }
    let (name, mime, bytes) = state
        .store
        .implementation_plan_file(&plan_id, &unit_id)
        .await?
        .ok_or_else(|| AppError::NotFound("Chưa có tệp kế hoạch".into()))?;
    let disposition = format!("attachment; filename*=UTF-8''{}", percent_encode(&name));
    let value = |s: &str| HeaderValue::from_str(s).map_err(AppError::internal);
    Ok((
        [
            (header::CONTENT_TYPE, value(&mime)?),
            (header::CONTENT_DISPOSITION, value(&disposition)?),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        bytes,
    )
        .into_response())
}

/// RFC 5987 percent-encoding for a file name in Content-Disposition.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// --- "Dân vận khéo" -------------------------------------------------------------------

#[utoipa::path(
    get, path = "/models", tag = "obligations",
    params(Scope),
    responses(
        (status = 200, description = "The \"Dân vận khéo\" register over the unit's subtree", body = ModelsResponse),
        (status = 400, description = "A malformed period (`invalid_period`); a repeated parameter (`bad_request`)", body = ErrorBody),
        (status = 403, description = "The caller may not see the unit's data (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit, or the unit did not exist then (`not_found`); a period the plan does not cover (`period_outside_plan`)", body = ErrorBody),
    )
)]
pub async fn list_models(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Json<ModelsResponse>, AppError> {
    let catalog = state.catalog();
    let r = scope.resolve(&catalog, &auth.user)?;
    let rows = state.store.models(&r.plan.id).await?;
    Ok(Json(ModelsResponse { models: models_in(&r.tree, rows, &r.unit_id) }))
}

async fn model_view(state: &AppState, id: i64) -> Result<MovementModel, AppError> {
    let catalog = state.catalog();
    let row = state.store.model(id).await?.ok_or_else(|| AppError::NotFound("Không tìm thấy mô hình".into()))?;
    let unit = row.unit_id.clone();
    models_in(&catalog.tree, vec![row], &unit).pop().ok_or_else(|| AppError::NotFound("Không tìm thấy mô hình".into()))
}

#[utoipa::path(
    post, path = "/models", tag = "obligations",
    request_body = NewModel,
    responses(
        (status = 201, description = "Registered", body = MovementModel),
        (status = 400, description = "A blank or too long name, too long a description, a date after today (`invalid`); a malformed body (`bad_request`)", body = ErrorBody),
        (status = 403, description = "Not the caller's own unit (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit (`not_found`)", body = ErrorBody),
    )
)]
pub async fn register_model(
    auth: AuthUser,
    addr: ClientAddr,
    State(state): State<AppState>,
    JsonBody(input): JsonBody<NewModel>,
) -> Result<(StatusCode, Json<MovementModel>), AppError> {
    let catalog = state.catalog();
    let plan = plan_exists(&catalog, &input.plan_id)?;
    unit_exists(&catalog, &input.unit_id)?;
    own_unit_only(&auth.user, &input.unit_id)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > MAX_TEXT {
        return Err(invalid("Cần ghi tên mô hình (tối đa 200 ký tự)"));
    }
    if input.description.chars().count() > MAX_DESCRIPTION {
        return Err(invalid("Mô tả tối đa 4000 ký tự"));
    }
    let now = Utc::now();
    let on = input.registered_on.unwrap_or_else(|| vn_date(now));
    check_date(plan, "Ngày đăng ký", on)?;
    let actor = actor(&auth, &addr);
    let id = state
        .store
        .insert_model(
            &input.plan_id,
            &input.unit_id,
            name,
            input.field,
            input.description.trim(),
            on,
            auth.user.id,
            &actor,
            now,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(model_view(&state, id).await?)))
}

/// The model as stored, if `user` is above its unit (recognises, commends it).
async fn reviewable_model(state: &AppState, user: &User, id: i64) -> Result<ModelRow, AppError> {
    let catalog = state.catalog();
    let model = state.store.model(id).await?.ok_or_else(|| AppError::NotFound("Không tìm thấy mô hình".into()))?;
    if !may_review_report_of(&catalog.tree, user, &model.unit_id) {
        return Err(AppError::Forbidden("Chỉ cấp trên của đơn vị mới công nhận, khen thưởng mô hình".into()));
    }
    Ok(model)
}

/// The date of a decision on `model`: today unless given; never before the step
/// it follows, and within the dates its plan allows.
fn step_date(state: &AppState, model: &ModelRow, step: &ModelStep, earliest: NaiveDate) -> Result<NaiveDate, AppError> {
    let on = step.on.unwrap_or_else(|| vn_date(Utc::now()));
    let catalog = state.catalog();
    let plan = plan_exists(&catalog, &model.plan_id)?;
    check_date(plan, "Ngày quyết định", on)?;
    if on < earliest {
        return Err(invalid("Ngày quyết định không được trước bước trước đó"));
    }
    Ok(on)
}

#[utoipa::path(
    post, path = "/models/{id}/recognise", tag = "obligations",
    params(("id" = i64, Path, description = "A model id")),
    request_body = ModelStep,
    responses(
        (status = 200, description = "Recognised", body = MovementModel),
        (status = 400, description = "A date after today or before the registration (`invalid`); a malformed body (`bad_request`)", body = ErrorBody),
        (status = 403, description = "Not a unit above the model's (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such model (`not_found`)", body = ErrorBody),
    )
)]
pub async fn recognise_model(
    auth: AuthUser,
    addr: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(step): JsonBody<ModelStep>,
) -> Result<Json<MovementModel>, AppError> {
    let model = reviewable_model(&state, &auth.user, id).await?;
    let on = step_date(&state, &model, &step, model.registered_on)?;
    state.store.recognise_model(&model, on, auth.user.id, &actor(&auth, &addr), Utc::now()).await?;
    Ok(Json(model_view(&state, id).await?))
}

#[utoipa::path(
    post, path = "/models/{id}/commend", tag = "obligations",
    params(("id" = i64, Path, description = "A model id")),
    request_body = ModelStep,
    responses(
        (status = 200, description = "Commended", body = MovementModel),
        (status = 400, description = "A date after today or before the recognition, no commendation or too long a one (`invalid`); a malformed body (`bad_request`)", body = ErrorBody),
        (status = 403, description = "Not a unit above the model's (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such model (`not_found`)", body = ErrorBody),
        (status = 409, description = "Not recognised yet (`not_recognised`)", body = ErrorBody),
    )
)]
pub async fn commend_model(
    auth: AuthUser,
    addr: ClientAddr,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    JsonBody(step): JsonBody<ModelStep>,
) -> Result<Json<MovementModel>, AppError> {
    let model = reviewable_model(&state, &auth.user, id).await?;
    let Some(recognised) = model.recognised_on else {
        return Err(AppError::coded(
            StatusCode::CONFLICT,
            "not_recognised",
            "Mô hình cần được công nhận trước khi khen thưởng",
        ));
    };
    let on = step_date(&state, &model, &step, recognised)?;
    let note = step.note.as_deref().map(str::trim).unwrap_or("");
    if note.is_empty() || note.chars().count() > MAX_TEXT {
        return Err(invalid("Cần ghi hình thức khen thưởng (tối đa 200 ký tự)"));
    }
    state.store.commend_model(&model, on, note, auth.user.id, &actor(&auth, &addr), Utc::now()).await?;
    Ok(Json(model_view(&state, id).await?))
}
