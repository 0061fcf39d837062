//! `GET /api/dashboard` and `GET /api/consolidation`: completeness and timeliness
//! of a unit's subtree for one period, and the consolidation of its accepted
//! reports. Both check that the caller may see the unit (`aggregate::Scope`).

use axum::extract::{Query, State};
use axum::Json;
use chrono::Utc;
use danvan_core::aggregate::Consolidation;
use danvan_core::api::{DashboardResponse, ErrorBody};

use crate::aggregate::{consolidation_for, dashboard_for, PeriodScope, Scope};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    get, path = "/dashboard", tag = "review",
    params(PeriodScope),
    responses(
        (status = 200, description = "Completeness and timeliness of the unit's subtree", body = DashboardResponse),
        (status = 400, description = "A malformed period (`invalid_period`); a repeated parameter (`bad_request`)", body = ErrorBody),
        (status = 403, description = "The caller may not see the unit's data (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit, or the unit did not exist then (`not_found`); a period the plan does not cover (`period_outside_plan`)", body = ErrorBody),
    )
)]
pub async fn dashboard(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Json<DashboardResponse>, AppError> {
    Ok(Json(dashboard_for(&state, &auth.user, &scope, Utc::now()).await?))
}

#[utoipa::path(
    get, path = "/consolidation", tag = "review",
    params(PeriodScope),
    responses(
        (status = 200, description = "The sum of the accepted reports of the unit's subtree", body = Consolidation),
        (status = 400, description = "No period, or a malformed one (`invalid_period`); a repeated parameter (`bad_request`)", body = ErrorBody),
        (status = 403, description = "The caller may not see the unit's data (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such plan or unit, no form, or the unit did not exist then (`not_found`); a period the plan does not cover (`period_outside_plan`)", body = ErrorBody),
    )
)]
pub async fn consolidation(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Json<Consolidation>, AppError> {
    Ok(Json(consolidation_for(&state, &auth.user, &scope, Utc::now()).await?))
}
