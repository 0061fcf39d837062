//! `GET /api/dashboard` and `GET /api/consolidation`: completeness and timeliness
//! of a unit's subtree for one period, and the consolidation of its accepted
//! reports. Both check that the caller may see the unit (`aggregate::Scope`).

use axum::extract::{Query, State};
use axum::Json;
use chrono::Utc;
use danvan_core::aggregate::Consolidation;
use danvan_core::api::DashboardResponse;

use crate::aggregate::{consolidation_for, dashboard_for, Scope};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

pub async fn dashboard(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Json<DashboardResponse>, AppError> {
    Ok(Json(dashboard_for(&state, &auth.user, &scope, Utc::now()).await?))
}

pub async fn consolidation(
    auth: AuthUser,
    State(state): State<AppState>,
    Query(scope): Query<Scope>,
) -> Result<Json<Consolidation>, AppError> {
    Ok(Json(consolidation_for(&state, &auth.user, &scope, Utc::now()).await?))
}
