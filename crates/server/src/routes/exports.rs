//! `GET /api/exports/consolidation.{docx,xlsx,csv}`: the consolidation of a unit
//! and period as the official Word report (Decree 30/2020) and the per-unit
//! indicator table. Same scope and rights as `GET /api/consolidation`.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use danvan_core::aggregate::Consolidation;
use danvan_core::time::vn_date;
use danvan_core::{Plan, ReportForm};

use super::Binary;
use crate::aggregate::{consolidation_for, form_of, PeriodScope, Scope};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::export::{self, DocxInput};
use crate::routes::obligations::percent_encode;
use crate::state::{AppState, Catalog};
use danvan_core::api::ErrorBody;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// "bao-cao-tong-hop_kontum.tpkontum_2024-03.docx"
fn file_name(c: &Consolidation, ext: &str) -> String {
    format!("bao-cao-tong-hop_{}_{}.{ext}", c.unit_id, c.period)
}

fn attachment(bytes: Vec<u8>, mime: &'static str, name: &str) -> Result<Response, AppError> {
    let disposition = format!("attachment; filename*=UTF-8''{}", percent_encode(name));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(AppError::internal)?),
        ],
        bytes,
    )
        .into_response())
}

/// The consolidation with the plan and form it was made from.
async fn load<'c>(
    state: &AppState,
    catalog: &'c Catalog,
    auth: &AuthUser,
    scope: &Scope,
) -> Result<(Consolidation, &'c Plan, &'c ReportForm), AppError> {
    let c = consolidation_for(state, &auth.user, scope, Utc::now()).await?;
    let plan = catalog.plan(&c.plan_id).ok_or_else(|| AppError::NotFound("Không có kế hoạch".into()))?;
    let form = form_of(catalog, plan)?;
    Ok((c, plan, form))
}

#[utoipa::path(
    get, path = "/exports/consolidation.docx", tag = "review",
    params(PeriodScope),
    responses(
        (status = 200, description = "The consolidated report as a Word document (Decree 30/2020), as an attachment", content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", body = Binary),
        (status = 400, description = "No period, or a malformed one (`invalid_period`); a repeated parameter (`bad_request`)", body = ErrorBody),
        (status = 403, description = "The caller may not see the unit's data (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit, no form, or the unit did not exist then (`not_found`); a period the plan does not cover (`period_outside_plan`)", body = ErrorBody),
    )
)]
pub async fn docx(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Response, AppError> {
    let catalog = state.catalog();
    let (c, plan, form) = load(&state, &catalog, &auth, &scope).await?;
    let input = DocxInput::new(&c, form, plan, &catalog.tree, vn_date(Utc::now())).map_err(AppError::internal)?;
    let bytes = export::docx(&input).map_err(AppError::internal)?;
    attachment(bytes, DOCX, &file_name(&c, "docx"))
}

#[utoipa::path(
    get, path = "/exports/consolidation.xlsx", tag = "review",
    params(PeriodScope),
    responses(
        (status = 200, description = "The indicator table per unit as a spreadsheet, as an attachment", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Binary),
        (status = 400, description = "No period, or a malformed one (`invalid_period`); a repeated parameter (`bad_request`)", body = ErrorBody),
        (status = 403, description = "The caller may not see the unit's data (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit, no form, or the unit did not exist then (`not_found`); a period the plan does not cover (`period_outside_plan`)", body = ErrorBody),
    )
)]
pub async fn xlsx(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Response, AppError> {
    let catalog = state.catalog();
    let (c, _, form) = load(&state, &catalog, &auth, &scope).await?;
    let bytes = export::xlsx(&c, form).map_err(AppError::internal)?;
    attachment(bytes, XLSX, &file_name(&c, "xlsx"))
}

#[utoipa::path(
    get, path = "/exports/consolidation.csv", tag = "review",
    params(PeriodScope),
    responses(
        (status = 200, description = "The indicator table per unit as CSV (UTF-8), as an attachment", content_type = "text/csv", body = String),
        (status = 400, description = "No period, or a malformed one (`invalid_period`); a repeated parameter (`bad_request`)", body = ErrorBody),
        (status = 403, description = "The caller may not see the unit's data (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit, no form, or the unit did not exist then (`not_found`); a period the plan does not cover (`period_outside_plan`)", body = ErrorBody),
    )
)]
pub async fn csv(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Response, AppError> {
    let catalog = state.catalog();
    let (c, _, form) = load(&state, &catalog, &auth, &scope).await?;
    let text = export::csv(&c, form);
    attachment(text.into_bytes(), "text/csv; charset=utf-8", &file_name(&c, "csv"))
}
