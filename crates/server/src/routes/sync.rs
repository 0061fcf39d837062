//! `POST /api/sync/push` and `POST /api/sync/pull` (the protocol: crates/core/src/sync.rs).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use danvan_core::api::{ErrorBody, ErrorDetail};

use super::{EpochMismatch, PushForbidden};
use danvan_core::sync::{
    MutationResult, PullRequest, PullResponse, PushRequest, PushResponse, PULL_PAGE, PULL_PAGE_BYTES,
};

use crate::access::data_scope;
use crate::auth::AuthUser;
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::sync::{check_client_id, check_client_owner, is_forbidden};

/// 200 with the `PushResponse`; 403 when a mutation was refused for lack of rights,
/// with the same fields plus `error`, so the response is both an API error (for
/// logs, proxies, generic error handling) and a push answer the client can act on
/// (the refused mutation is recorded and acknowledged like any other).
#[utoipa::path(
    post, path = "/sync/push", tag = "sync",
    request_body = PushRequest,
    responses(
        (status = 200, description = "Every mutation processed, in order, each with its result", body = PushResponse),
        (status = 400, description = "The request as a whole: `unsupported_schema`, `invalid_client_id`, `too_many_mutations`, `invalid_mutation`, `bad_request`; nothing was processed", body = ErrorBody),
        (status = 403, description = "A mutation was refused for lack of rights: the push answer (recorded, acknowledged; the batch stopped after it) with `error` (`forbidden`); or the client id is another account's or revoked (`client_forbidden`, an error only)", body = PushForbidden),
        (status = 409, description = "The client synced with another database (`epoch_mismatch`); `epoch` is this server's: pull from 0", body = EpochMismatch),
    )
)]
pub async fn push(
    auth: AuthUser,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Response, AppError> {
    // The device's sync time is written in the same transaction as its push.
    let res = state.pushes.push(&state, &auth.user, Some(auth.device_id), req).await?;
    let forbidden = res.results.iter().find_map(|o| match &o.result {
        MutationResult::Rejected { code, message } if is_forbidden(&o.result) => {
            Some((o.id, ErrorDetail { code: code.clone(), message: message.clone() }))
        }
        _ => None,
    });
    let Some((mutation_id, detail)) = forbidden else { return Ok(Json(res).into_response()) };
    tracing::warn!(user = %auth.user.username, mutation_id, "thao tác đồng bộ bị từ chối vì không có quyền");
    let mut body = serde_json::to_value(&res).map_err(AppError::internal)?;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("error".into(), serde_json::to_value(detail).map_err(AppError::internal)?);
    }
    Ok((StatusCode::FORBIDDEN, Json(body)).into_response())
}

/// The reports changed after the client's cursor that the caller may see, oldest
/// change first, one page, read in one snapshot.
///
/// The cursor moves past invisible changes too: when nothing visible is left, it
/// becomes the global counter as read in the same snapshot, so the next pull does
/// not scan them again.
///
/// No tombstones: reports are never deleted and never leave a user's sight today.
/// Once they can (deletion, a commune moved to another district), a pull must also
/// return "gone" markers for them, or the phones keep stale copies.
#[utoipa::path(
    post, path = "/sync/pull", tag = "sync",
    request_body = PullRequest,
    responses(
        (status = 200, description = "One page of changes after the cursor", body = PullResponse),
        (status = 400, description = "`invalid_client_id`, `invalid_cursor` or `bad_request`", body = ErrorBody),
        (status = 403, description = "The client id is another account's or revoked (`client_forbidden`)", body = ErrorBody),
    )
)]
pub async fn pull(
    auth: AuthUser,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<PullRequest>,
) -> Result<Json<PullResponse>, AppError> {
    check_client_id(&req.client_id)?;
    // Change sequence numbers are INTEGER (i64) in the database, like mutation ids
    // (`sync::check_request`).
    if req.cursor > i64::MAX as u64 {
        return Err(AppError::coded(StatusCode::BAD_REQUEST, "invalid_cursor", "Vị trí đồng bộ không hợp lệ"));
    }
    let client = state.store.client(&req.client_id).await?;
    check_client_owner(client.as_ref(), &auth.user)?;
    touch_sync(&state, &auth).await;

    let epoch = state.epoch.to_string();
    // Another epoch: the client's data came from another database (this one was
    // restored or replaced). No epoch but a cursor: the client lost its metadata.
    // Either way its cursor means nothing here: start over.
    let mut reset = match &req.epoch {
        Some(e) => *e != epoch,
        None => req.cursor > 0,
    };
    let cursor = if reset { 0 } else { req.cursor };
    let catalog = state.catalog();
    let scope = data_scope(&catalog.tree, &auth.user);
    let page = state.store.pull(cursor, &scope, PULL_PAGE, PULL_PAGE_BYTES).await?;
    // A cursor beyond this database's counter cannot be from it either.
    reset |= page.from != cursor;
    let last_returned = page.rows.last().map(|(seq, _)| *seq);
    let cursor = match last_returned {
        Some(seq) if page.has_more => seq,
        // Nothing visible remains up to the counter read in the same snapshot.
        _ => page.last_change_seq.max(last_returned.unwrap_or(0)),
    };
    let changes = page.rows.into_iter().map(|(_, r)| r).collect();
    Ok(Json(PullResponse { epoch, reset, changes, cursor, has_more: page.has_more, catalog_version: catalog.version }))
}

/// The device list shows when each phone last synced, to the minute: a pull writes
/// it at most once a minute (a reviewer pulls page after page, and on SQLite every
/// write waits for the push writer). Best effort: a busy database must not fail a
/// sync over it. Pushes write it in their own transaction (`push_queue.rs`).
async fn touch_sync(state: &AppState, auth: &AuthUser) {
    let now = chrono::Utc::now();
    if auth.last_sync_at.is_some_and(|at| now - at < chrono::Duration::minutes(1)) {
        return;
    }
    if let Err(e) = state.store.touch_device_sync(auth.device_id, now).await {
        tracing::warn!(error = %e, device_id = auth.device_id, "không ghi được thời điểm đồng bộ của thiết bị");
    }
}
