use axum::extract::State;
use axum::Json;
use danvan_core::api::UnitsResponse;

use crate::access::visible_units;
use crate::auth::AuthUser;
use crate::state::AppState;

/// The units the caller may see (see `access::visible_units`).
#[utoipa::path(
    get, path = "/units", tag = "catalog", operation_id = "list_units",
    responses((status = 200, description = "The units the caller may see", body = UnitsResponse))
)]
pub async fn list(auth: AuthUser, State(state): State<AppState>) -> Json<UnitsResponse> {
    let catalog = state.catalog();
    let units = visible_units(&catalog.tree, &auth.user).into_iter().cloned().collect();
    Json(UnitsResponse { units })
}
