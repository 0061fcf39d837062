use axum::extract::State;
use axum::Json;
use danvan_core::api::UnitsResponse;

use crate::access::visible_units;
use crate::auth::AuthUser;
use crate::state::AppState;

/// The units the caller may see (see `access::visible_units`).
pub async fn list(auth: AuthUser, State(state): State<AppState>) -> Json<UnitsResponse> {
    let catalog = state.catalog();
    let units = visible_units(&catalog.tree, &auth.user).into_iter().cloned().collect();
    Json(UnitsResponse { units })
}
