use axum::extract::{Path, State};
use axum::Json;
use danvan_core::api::FormResponse;

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

/// The report form of a plan. Like plans, forms are the same for every signed-in user.
pub async fn get(
    _user: AuthUser,
    State(state): State<AppState>,
    Path(plan): Path<String>,
) -> Result<Json<FormResponse>, AppError> {
    let catalog = state.catalog();
    let form = catalog
        .form_for_plan(&plan)
        .ok_or_else(|| AppError::NotFound("Không tìm thấy mẫu báo cáo của kế hoạch này".into()))?;
    Ok(Json(FormResponse { form: form.clone() }))
}
