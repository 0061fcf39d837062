//! `GET /api/reports/{id}/revisions`: who changed a report, when, from which
//! device, and which fields. For the review screens.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use danvan_core::report::{diff, ReportKey};
use danvan_core::{ReportStatus, Values};
use serde::Serialize;

use crate::access::may_see_data_of;
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct RevisionsResponse {
    pub revisions: Vec<RevisionEntry>,
}

#[derive(Debug, Serialize)]
pub struct RevisionEntry {
    pub version: u64,
    /// `save`, `submit`, `return` or `accept`.
    pub op: &'static str,
    /// Display name of the author.
    pub user: String,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    /// The status after this change.
    pub status: ReportStatus,
    /// Fields whose value differs from the previous revision ("" = cleared).
    pub changes: Values,
    /// The return reason, on a `return`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

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
    let empty = Values::new();
    let mut previous = &empty;
    let mut revisions = Vec::with_capacity(rows.len());
    for r in &rows {
        let reason = match &r.op {
            danvan_core::sync::MutationOp::Return { reason } => Some(reason.trim().to_string()),
            _ => None,
        };
        revisions.push(RevisionEntry {
            version: r.version,
            op: r.op.name(),
            user: r.user.clone(),
            client_id: r.client_id.clone(),
            created_at: r.created_at,
            status: r.report.status,
            changes: diff(previous, &r.report.values),
            reason,
        });
        previous = &r.report.values;
    }
    Ok(Json(RevisionsResponse { revisions }))
}
