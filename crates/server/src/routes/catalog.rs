//! `/api/admin/units/*` and `/api/admin/plans/*`: the unit tree and the plans as
//! runtime data. Only an administrator of a province (a unit with no parent) changes
//! them: they are the same for everyone. Every change is checked in full before
//! anything is written, audited, and made current for every request at once
//! (`CatalogCell::reload`); phones see the new catalog version at their next sync.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{Datelike, Utc};
use danvan_core::api::ErrorBody;
use danvan_core::catalog::{
    CopyPlanRequest, CopyPlanResponse, DraftInfo, DraftResponse, MoveAccountsRequest, MoveAccountsResponse, PlanCheck,
    PlanDocument, PlanSummary, PlansAdminResponse, UnitImportResponse,
};
use danvan_core::time::vn_date;
use danvan_core::tree_import::plan_tree_import;

use super::admin::{Admin, ImportQuery};
use super::{Binary, Discarded};
use crate::catalog::plans::{check_plan, copy_to_year, is_slug};
use crate::catalog::unit_files::{export_csv, read_unit_file};
use crate::catalog::Catalog;
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store::{NewAudit, PlanVersion};

const MSG_NOT_PROVINCE: &str =
    "Chỉ quản trị viên cấp tỉnh mới thay đổi được cây đơn vị và kế hoạch (dùng chung cho cả tỉnh)";

/// A province administrator: an administrator whose unit has no parent.
fn require_province_admin(catalog: &Catalog, admin: &Admin) -> Result<(), AppError> {
    match catalog.tree.get(&admin.user.unit_id) {
        Some(u) if u.parent.is_none() => Ok(()),
        _ => Err(AppError::Forbidden(MSG_NOT_PROVINCE.into())),
    }
}

fn wants_commit(q: &ImportQuery) -> bool {
    q.commit.as_deref().is_some_and(|c| matches!(c, "1" | "true" | "yes"))
}

async fn reload(state: &AppState) -> Result<(), AppError> {
    state.catalog_cell.reload(&state.store).await.map_err(AppError::internal)?;
    Ok(())
}

/// `POST /api/admin/units/import[?commit=1]`: a unit-tree file (CSV, XLSX, JSON),
/// previewed, or applied when valid and asked to.
#[utoipa::path(
    post, path = "/admin/units/import", tag = "catalog-admin",
    params(ImportQuery),
    request_body(
        description = "A unit-tree file: CSV (as `export.csv` writes it), XLSX, or a JSON array of rows, read by its content whatever the media type; a file that is none of them is an answer with `errors`",
        content(
            (Binary = "text/csv"),
            (Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Binary = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "The changes it would make (or made), or every problem with the file", body = UnitImportResponse),
        (status = 400, description = "No file: an empty body (`empty_file`)", body = ErrorBody),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn import_units(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<UnitImportResponse>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    if body.is_empty() {
        return Err(super::empty_file());
    }
    let now = Utc::now();
    let rows = match read_unit_file(&body) {
        Ok(rows) => rows,
        Err(errors) => return Ok(Json(UnitImportResponse { errors, ..UnitImportResponse::default() })),
    };
    let import = match plan_tree_import(&catalog.tree, &rows, vn_date(now)) {
        Ok(import) => import,
        Err(errors) => return Ok(Json(UnitImportResponse { errors, ..UnitImportResponse::default() })),
    };
    let mut response =
        UnitImportResponse { valid: true, committed: false, errors: Vec::new(), changes: Some(import.changes.clone()) };
    if !wants_commit(&q) || import.changes.is_empty() {
        return Ok(Json(response));
    }
    let audit = NewAudit {
        action: "units.import",
        target: None,
        unit_id: Some(&admin.user.unit_id),
        detail: Some(import.changes.summary_vi()),
    };
    state.store.save_units(&import.units, &admin.actor, &audit, now).await?;
    reload(&state).await?;
    tracing::info!(admin = %admin.user.username, changes = %import.changes.summary_vi(), "đã nhập cây đơn vị");
    response.committed = true;
    Ok(Json(response))
}

/// `GET /api/admin/units/export.csv`: the tree in the import format, with ids.
#[utoipa::path(
    get, path = "/admin/units/export.csv", tag = "catalog-admin",
    responses(
        (status = 200, description = "The unit tree in the import format, with ids, as an attachment", content_type = "text/csv", body = String),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn export_units(admin: Admin, State(state): State<AppState>) -> Result<Response, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"cay-don-vi.csv\"")),
        ],
        export_csv(&catalog.tree),
    )
        .into_response())
}

/// `POST /api/admin/units/{id}/move-accounts`: the accounts of a closed unit go to
/// one of its successors.
#[utoipa::path(
    post, path = "/admin/units/{id}/move-accounts", tag = "catalog-admin",
    params(("id" = String, Path, description = "A closed unit's id")),
    request_body = MoveAccountsRequest,
    responses(
        (status = 200, description = "How many accounts moved", body = MoveAccountsResponse),
        (status = 400, description = "`to` is not one of the unit's successors (`bad_request`)", body = ErrorBody),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such unit (`not_found`)", body = ErrorBody),
    )
)]
pub async fn move_accounts(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<MoveAccountsRequest>,
) -> Result<Json<MoveAccountsResponse>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    let unit = catalog.tree.get(&id).ok_or_else(|| AppError::NotFound(format!("Không có đơn vị «{id}»").into()))?;
    if !unit.successors.contains(&input.to) {
        return Err(AppError::BadRequest(format!("«{}» không phải đơn vị kế thừa của {}", input.to, unit.name).into()));
    }
    let audit =
        NewAudit { action: "units.move_accounts", target: Some(&unit.id), unit_id: Some(&input.to), detail: None };
    let moved = state.store.move_accounts(&unit.id, &input.to, &admin.actor, &audit, Utc::now()).await?;
    Ok(Json(MoveAccountsResponse { moved: moved as u32 }))
}

fn summary(versions: &[PlanVersion], id: &str) -> Option<PlanSummary> {
    let mine: Vec<&PlanVersion> = versions.iter().filter(|v| v.plan.id == id).collect();
    let published = mine.iter().filter(|v| v.published).max_by_key(|v| v.version);
    let draft = mine.iter().find(|v| !v.published);
    let shown = published.or(draft)?;
    Some(PlanSummary {
        id: id.to_string(),
        number: shown.plan.number.clone(),
        title: shown.plan.title.clone(),
        validity: shown.plan.validity(),
        demo: shown.plan.demo,
        published_version: published.map(|v| v.version),
        published_at: published.and_then(|v| v.published_at),
        draft: draft.map(|d| DraftInfo { version: d.version, saved_at: d.created_at, saved_by: d.created_by.clone() }),
    })
}

/// `GET /api/admin/plans`: every plan, published or still a draft, newest first.
#[utoipa::path(
    get, path = "/admin/plans", tag = "catalog-admin", operation_id = "list_plans_admin",
    responses(
        (status = 200, description = "Every plan, published or still a draft, newest first", body = PlansAdminResponse),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn list_plans(admin: Admin, State(state): State<AppState>) -> Result<Json<PlansAdminResponse>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    let versions = state.store.plan_versions(None).await?;
    let mut ids: Vec<String> = versions.iter().map(|v| v.plan.id.clone()).collect();
    ids.dedup();
    let mut plans: Vec<PlanSummary> = ids.iter().filter_map(|id| summary(&versions, id)).collect();
    plans.sort_by(|a, b| b.validity.first.cmp(&a.validity.first).then(a.id.cmp(&b.id)));
    Ok(Json(PlansAdminResponse { plans }))
}

fn check_response(catalog: &Catalog, doc: PlanDocument) -> (PlanCheck, Option<PlanDocument>) {
    match check_plan(catalog, doc) {
        Ok(checked) => (
            PlanCheck {
                valid: true,
                errors: Vec::new(),
                version: Some(checked.doc.plan.version),
                changes: Some(checked.changes),
                committed: false,
            },
            Some(checked.doc),
        ),
        Err(errors) => (PlanCheck { valid: false, errors, ..PlanCheck::default() }, None),
    }
}

/// Publishes a checked plan, reloads the catalog.
async fn publish(state: &AppState, admin: &Admin, doc: &PlanDocument, check: &mut PlanCheck) -> Result<(), AppError> {
    let detail = check.changes.as_ref().map(|c| format!("phiên bản {}: {}", doc.plan.version, c.summary_vi()));
    let audit = NewAudit { action: "plan.publish", target: Some(&doc.plan.id), unit_id: None, detail };
    state.store.publish_plan(&doc.plan, doc.form.as_ref(), &admin.actor, &audit, Utc::now()).await?;
    reload(state).await?;
    tracing::info!(admin = %admin.user.username, plan = %doc.plan.id, version = doc.plan.version, "đã công bố kế hoạch");
    check.committed = true;
    Ok(())
}

/// `POST /api/admin/plans/import[?commit=1]`: a plan and its form as JSON
/// (`{"plan": …, "form": …}`), checked and previewed, or published.
#[utoipa::path(
    post, path = "/admin/plans/import", tag = "catalog-admin",
    params(ImportQuery),
    request_body = PlanDocument,
    responses(
        (status = 200, description = "Every problem that keeps it from being published, or what publishing changes (and, with `commit`, published)", body = PlanCheck),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn import_plan(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    ApiJson(doc): ApiJson<PlanDocument>,
) -> Result<Json<PlanCheck>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    let (mut check, checked) = check_response(&catalog, doc);
    if let (Some(doc), true) = (checked, wants_commit(&q)) {
        publish(&state, &admin, &doc, &mut check).await?;
    }
    Ok(Json(check))
}

fn draft_of(versions: Vec<PlanVersion>) -> Option<PlanVersion> {
    versions.into_iter().find(|v| !v.published)
}

/// `GET /api/admin/plans/{id}/draft`.
#[utoipa::path(
    get, path = "/admin/plans/{id}/draft", tag = "catalog-admin",
    params(("id" = String, Path, description = "A plan id")),
    responses(
        (status = 200, description = "The draft and what publishing it would do", body = DraftResponse),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
        (status = 404, description = "The plan has no draft (`not_found`)", body = ErrorBody),
    )
)]
pub async fn get_draft(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DraftResponse>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    let draft = draft_of(state.store.plan_versions(Some(&id)).await?)
        .ok_or_else(|| AppError::NotFound(format!("Kế hoạch «{id}» không có bản nháp").into()))?;
    let info = DraftInfo { version: draft.version, saved_at: draft.created_at, saved_by: draft.created_by.clone() };
    let doc = PlanDocument { plan: draft.plan, form: draft.form };
    let (check, _) = check_response(&catalog, doc.clone());
    Ok(Json(DraftResponse { doc, check, info }))
}

/// `POST /api/admin/plans/{id}/draft`: a draft of the next version of a published
/// plan (a correction), starting from what is published. An existing draft is kept.
#[utoipa::path(
    post, path = "/admin/plans/{id}/draft", tag = "catalog-admin",
    params(("id" = String, Path, description = "A plan id")),
    responses(
        (status = 200, description = "The draft of the next version (an existing draft is kept)", body = DraftResponse),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such published plan (`not_found`)", body = ErrorBody),
    )
)]
pub async fn start_draft(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<DraftResponse>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    if draft_of(state.store.plan_versions(Some(&id)).await?).is_none() {
        let plan = catalog.plan(&id).ok_or_else(|| AppError::NotFound(format!("Không có kế hoạch «{id}»").into()))?;
        let mut plan = plan.clone();
        plan.version += 1;
        let form = catalog.form_for_plan(&id).cloned();
        let audit = NewAudit {
            action: "plan.draft",
            target: Some(&id),
            unit_id: None,
            detail: Some(format!("bắt đầu phiên bản {}", plan.version)),
        };
        state.store.save_draft(&plan, form.as_ref(), &admin.actor, Some(&audit), Utc::now()).await?;
    }
    get_draft(admin, State(state), Path(id)).await
}

/// `PUT /api/admin/plans/{id}/draft`: saves the edited draft whatever its state
/// (work in progress), and answers what publishing it would do or what stops it.
#[utoipa::path(
    put, path = "/admin/plans/{id}/draft", tag = "catalog-admin",
    params(("id" = String, Path, description = "A plan id")),
    request_body = PlanDocument,
    responses(
        (status = 200, description = "Saved whatever its state, with what publishing it would do or what stops it", body = DraftResponse),
        (status = 400, description = "The plan's id is not the draft's (`bad_request`)", body = ErrorBody),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
        (status = 404, description = "The plan has no draft (`not_found`)", body = ErrorBody),
    )
)]
pub async fn save_draft(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(mut doc): ApiJson<PlanDocument>,
) -> Result<Json<DraftResponse>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    let existing = draft_of(state.store.plan_versions(Some(&id)).await?)
        .ok_or_else(|| AppError::NotFound(format!("Kế hoạch «{id}» không có bản nháp").into()))?;
    if doc.plan.id != id {
        return Err(AppError::BadRequest("Không đổi được mã của kế hoạch trong bản nháp".into()));
    }
    // The version is the server's to number.
    doc.plan.version = existing.version;
    state.store.save_draft(&doc.plan, doc.form.as_ref(), &admin.actor, None, Utc::now()).await?;
    get_draft(admin, State(state), Path(id)).await
}

/// `DELETE /api/admin/plans/{id}/draft`.
#[utoipa::path(
    delete, path = "/admin/plans/{id}/draft", tag = "catalog-admin",
    params(("id" = String, Path, description = "A plan id")),
    responses(
        (status = 200, description = "Discarded", body = Discarded),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
        (status = 404, description = "The plan has no draft (`not_found`)", body = ErrorBody),
    )
)]
pub async fn discard_draft(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    let audit = NewAudit { action: "plan.discard", target: Some(&id), unit_id: None, detail: None };
    if !state.store.discard_draft(&id, &admin.actor, &audit, Utc::now()).await? {
        return Err(AppError::NotFound(format!("Kế hoạch «{id}» không có bản nháp").into()));
    }
    Ok(Json(serde_json::json!({ "discarded": true })))
}

/// `POST /api/admin/plans/{id}/publish`: the draft becomes the version phones use.
#[utoipa::path(
    post, path = "/admin/plans/{id}/publish", tag = "catalog-admin",
    params(("id" = String, Path, description = "A plan id")),
    responses(
        (status = 200, description = "Published when valid (`committed`), else every problem", body = PlanCheck),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
        (status = 404, description = "The plan has no draft (`not_found`)", body = ErrorBody),
    )
)]
pub async fn publish_draft(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PlanCheck>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    let draft = draft_of(state.store.plan_versions(Some(&id)).await?)
        .ok_or_else(|| AppError::NotFound(format!("Kế hoạch «{id}» không có bản nháp").into()))?;
    let (mut check, checked) = check_response(&catalog, PlanDocument { plan: draft.plan, form: draft.form });
    if let Some(doc) = checked {
        publish(&state, &admin, &doc, &mut check).await?;
    }
    Ok(Json(check))
}

/// `POST /api/admin/plans/{id}/copy`: a draft of a new plan for another year.
#[utoipa::path(
    post, path = "/admin/plans/{id}/copy", tag = "catalog-admin",
    params(("id" = String, Path, description = "A plan id")),
    request_body = CopyPlanRequest,
    responses(
        (status = 200, description = "A draft of the new plan, with what the administrator should check", body = CopyPlanResponse),
        (status = 400, description = "The source plan's own year, or a new id that is not a valid one (`bad_request`)", body = ErrorBody),
        (status = 403, description = "Not an administrator of the province (a unit with no parent) (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such published plan (`not_found`)", body = ErrorBody),
        (status = 409, description = "The new plan (or its draft) exists already (`plan_exists`)", body = ErrorBody),
    )
)]
pub async fn copy_plan(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CopyPlanRequest>,
) -> Result<Json<CopyPlanResponse>, AppError> {
    let catalog = state.catalog();
    require_province_admin(&catalog, &admin)?;
    let source = catalog.plan(&id).ok_or_else(|| AppError::NotFound(format!("Không có kế hoạch «{id}»").into()))?;
    if !(2000..=2100).contains(&input.year) || input.year == source.issued_on.year() {
        return Err(AppError::BadRequest(
            format!("Năm {} không hợp lệ (khác năm của kế hoạch gốc, từ 2000 đến 2100)", input.year).into(),
        ));
    }
    let (doc, notes) = copy_to_year(&catalog.tree, source, catalog.form_for_plan(&id), input.year);
    let new_id = doc.plan.id.clone();
    if !is_slug(&new_id) {
        return Err(AppError::BadRequest(format!("Mã kế hoạch mới «{new_id}» không hợp lệ").into()));
    }
    let taken = catalog.plan(&new_id).is_some() || !state.store.plan_versions(Some(&new_id)).await?.is_empty();
    if taken {
        return Err(AppError::coded(
            axum::http::StatusCode::CONFLICT,
            "plan_exists",
            format!("Đã có kế hoạch «{new_id}» (hoặc bản nháp của nó)"),
        ));
    }
    let audit = NewAudit {
        action: "plan.copy",
        target: Some(&new_id),
        unit_id: None,
        detail: Some(format!("từ {} ({}) sang năm {}", source.number, source.id, input.year)),
    };
    state.store.save_draft(&doc.plan, doc.form.as_ref(), &admin.actor, Some(&audit), Utc::now()).await?;
    Ok(Json(CopyPlanResponse { plan_id: new_id, notes }))
}
