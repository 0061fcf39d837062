use axum::extract::State;
use axum::Json;
use chrono::Utc;
use danvan_core::api::TasksResponse;
use danvan_core::task::{sort_tasks, tasks_for};
use danvan_core::time::vn_date;

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

/// The caller's unit's obligations under every plan, with next deadlines computed
/// for today's date in Vietnam (never the server's own time zone).
pub async fn list(auth: AuthUser, State(state): State<AppState>) -> Result<Json<TasksResponse>, AppError> {
    let unit = state
        .catalog
        .tree
        .get(&auth.user.unit_id)
        .ok_or_else(|| AppError::NotFound("Không tìm thấy đơn vị của tài khoản này".into()))?;
    let now = Utc::now();
    let today = vn_date(now);
    let mut tasks: Vec<_> = state.catalog.plans.iter().flat_map(|p| tasks_for(p, unit, today)).collect();
    sort_tasks(&mut tasks);
    Ok(Json(TasksResponse { unit: unit.clone(), today, generated_at: now, tasks }))
}
