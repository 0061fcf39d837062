//! `GET /api/reports/{id}/revisions`: who changed a report, when, from which
//! device, and which fields. For the review screens.

use axum::extract::{Path, State};
use axum::Json;
use danvan_core::api::{ErrorBody, Revision, RevisionsResponse};
use danvan_core::report::{apply_set, diff, ReportKey};
use danvan_core::sync::MutationOp;
use danvan_core::Values;

use crate::access::may_see_data_of;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    get, path = "/reports/{id}/revisions", tag = "reports",
    params(("id" = String, Path, description = "A report id, `plan~unit~period`")),
    responses(
        (status = 200, description = "Every change of the report, oldest first", body = RevisionsResponse),
        (status = 403, description = "The caller may not see the unit's reports (`forbidden`)", body = ErrorBody),
        (status = 404, description = "Not a report id, or no such report (`not_found`)", body = ErrorBody),
    )
)]
pub async fn revisions(
    auth: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RevisionsResponse>, AppError> {
    let not_found = || AppError::NotFound("Không tìm thấy báo cáo".into());
    let key = ReportKey::parse_id(&id).ok_or_else(not_found)?;
    if !may_see_data_of(&state.catalog().tree, &auth.user, &key.unit_id) {
        return Err(AppError::Forbidden("Bạn không có quyền xem báo cáo của đơn vị này".into()));
    }
    let rows = state.store.revisions(&id).await?;
    if rows.is_empty() {
        return Err(not_found());
    }
    // The values after each revision are the saves replayed in order, as the
    // report itself was built (`danvan_core::sync::apply_op`).
    let mut values = Values::new();
    let mut revisions = Vec::with_capacity(rows.len());
    for r in rows {
        let (reason, changes) = match &r.op {
            MutationOp::Return { reason } => (Some(reason.trim().to_string()), Values::new()),
            MutationOp::Save { set, .. } => {
                let before = values.clone();
                apply_set(&mut values, set);
                (None, diff(&before, &values))
            }
            MutationOp::Submit | MutationOp::Accept => (None, Values::new()),
        };
        revisions.push(Revision {
            version: r.version,
            op: r.op.name().to_string(),
            user: r.user,
            client_id: r.client_id,
            created_at: r.created_at,
            status: r.status,
            changes,
            reason,
        });
    }
    Ok(Json(RevisionsResponse { revisions }))
}
