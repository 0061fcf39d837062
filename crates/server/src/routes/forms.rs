use axum::extract::{Path, State};
use axum::Json;
use danvan_core::api::{ErrorBody, FormResponse};

use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

/// The report form of a plan. Like plans, forms are the same for every signed-in user.
#[utoipa::path(
    get, path = "/forms/{plan}", tag = "catalog", operation_id = "get_form",
    params(("plan" = String, Path, description = "A plan id")),
    responses(
        (status = 200, description = "The plan's report form", body = FormResponse),
        (status = 404, description = "No such plan, or it has no form (`not_found`)", body = ErrorBody),
    )
)]
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
