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

use crate::aggregate::{consolidation_for, form_of, Scope};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::export::{self, DocxInput};
use crate::routes::obligations::percent_encode;
use crate::state::{AppState, Catalog};

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
