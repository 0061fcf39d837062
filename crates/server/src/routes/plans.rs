use axum::extract::State;
use axum::Json;
use danvan_core::api::PlansResponse;

use crate::auth::AuthUser;
use crate::state::AppState;

/// Every plan: plans are public documents, the same for every signed-in user.
#[utoipa::path(
    get, path = "/plans", tag = "catalog", operation_id = "list_plans",
    responses((status = 200, description = "Every published plan, the same for every user", body = PlansResponse))
)]
pub async fn list(_user: AuthUser, State(state): State<AppState>) -> Json<PlansResponse> {
    let catalog = state.catalog();
    Json(PlansResponse { plans: catalog.plans.clone(), catalog_version: catalog.version })
}
