//! `GET /api/reports/{id}/revisions`: who changed a report, when, from which
//! device, and which fields. For the review screens, newest page first.

use axum::extract::{Path, Query, State};
use axum::Json;
use danvan_core::api::{ErrorBody, Revision, RevisionsQuery, RevisionsResponse, MAX_REVISIONS_PAGE, REVISIONS_PAGE};
use danvan_core::report::{apply_set, diff, ReportKey};
use danvan_core::sync::MutationOp;
use danvan_core::Values;

use crate::access::may_see_data_of;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

#[utoipa::path(
    get, path = "/reports/{id}/revisions", tag = "reports",
    params(
        ("id" = String, Path, description = "A report id, `plan~unit~period`"),
        ("before" = Option<u64>, Query, minimum = 1, description = "Only revisions with a lower version (the `earlier` of the page after); absent: the newest"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Revisions in the page (default 30)"),
    ),
    responses(
        (status = 200, description = "One page of the report's changes, oldest first; `earlier` when older ones exist", body = RevisionsResponse),
        (status = 400, description = "`limit` outside 1–100 or `before` 0 (`bad_request`)", body = ErrorBody),
        (status = 403, description = "The caller may not see the unit's reports (`forbidden`)", body = ErrorBody),
        (status = 404, description = "Not a report id, or no such report (`not_found`)", body = ErrorBody),
    )
)]
pub async fn revisions(
    auth: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(page): Query<RevisionsQuery>,
) -> Result<Json<RevisionsResponse>, AppError> {
    let limit = page.limit.unwrap_or(REVISIONS_PAGE);
    if !(1..=MAX_REVISIONS_PAGE).contains(&limit) || page.before == Some(0) {
        return Err(AppError::BadRequest(
            format!("«limit» phải từ 1 đến {MAX_REVISIONS_PAGE} và «before» lớn hơn 0").into(),
        ));
    }
    let not_found = || AppError::NotFound("Không tìm thấy báo cáo".into());
    let key = ReportKey::parse_id(&id).ok_or_else(not_found)?;
    if !may_see_data_of(&state.catalog().tree, &auth.user, &key.unit_id) {
        return Err(AppError::Forbidden("Bạn không có quyền xem báo cáo của đơn vị này".into()));
    }
    // Every revision below the page's end: the changes are computed by replaying
    // the saves from the first one (revisions keep operations, not copies).
    let rows = state.store.revisions(&id, page.before).await?;
    if rows.is_empty() && page.before.is_none() {
        return Err(not_found());
    }
    let first_shown = rows.len().saturating_sub(limit as usize);
    // The values after each revision are the saves replayed in order, as the
    // report itself was built (`danvan_core::sync::apply_op`).
    let mut values = Values::new();
    let mut revisions = Vec::with_capacity(rows.len());
    for (i, r) in rows.into_iter().enumerate() {
        let (reason, changes) = match &r.op {
            MutationOp::Return { reason } => (Some(reason.trim().to_string()), Values::new()),
            MutationOp::Save { set, .. } => {
                let before = values.clone();
                apply_set(&mut values, set);
                (None, diff(&before, &values))
            }
            MutationOp::Submit | MutationOp::Accept => (None, Values::new()),
        };
        if i < first_shown {
            continue;
        }
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
    let earlier = if first_shown > 0 { revisions.first().map(|r| r.version) } else { None };
    Ok(Json(RevisionsResponse { revisions, earlier }))
}
