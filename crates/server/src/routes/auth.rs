use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{SubsecRound, Utc};
use danvan_core::api::{LoginRequest, LoginResponse, UserInfo};

use crate::auth::{new_token, password_work, session_lifetime, verify_password, AuthUser, MSG_BAD_LOGIN};
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store::User;

pub async fn login(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    // Phones capitalise the first letter and add stray spaces; usernames are lowercase.
    let username = req.username.trim().to_lowercase();
    let found = state.store.user_by_username(&username).await?;
    // Verify against a dummy hash when the user does not exist, so both failures
    // take the same time and carry the same message.
    let hash = found.as_ref().map_or_else(|| state.dummy_hash.to_string(), |u| u.password_hash.clone());
    let password = req.password;
    // Bounded: a flood of (bogus) logins queues, then gets 503, instead of running
    // argon2 (19 MiB each) hundreds of times at once.
    let ok = password_work(move || verify_password(&hash, &password)).await?;
    let user = match found {
        Some(u) if ok => u.user,
        _ => return Err(AppError::Unauthorized(MSG_BAD_LOGIN.into())),
    };

    let now = Utc::now().trunc_subsecs(0);
    let expires_at = now + session_lifetime();
    let (token, token_hash) = new_token();
    state.store.create_session(&token_hash, user.id, now, expires_at).await?;
    // Cheap housekeeping so expired sessions do not pile up between restarts. Not
    // worth failing a login over.
    match state.store.purge_expired_sessions(now).await {
        Ok(0) => {}
        Ok(purged) => tracing::info!(purged, "đã xoá phiên đăng nhập hết hạn"),
        Err(e) => tracing::warn!(error = %e, "không xoá được phiên đăng nhập hết hạn"),
    }
    tracing::info!(username = %user.username, "đăng nhập");
    Ok(Json(LoginResponse { token, expires_at, user: user_info(&state, user) }))
}

/// Ends this session (other devices of the same user stay signed in).
pub async fn logout(auth: AuthUser, State(state): State<AppState>) -> Result<StatusCode, AppError> {
    state.store.delete_session(&auth.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(auth: AuthUser, State(state): State<AppState>) -> Json<UserInfo> {
    Json(user_info(&state, auth.user))
}

pub fn user_info(state: &AppState, user: User) -> UserInfo {
    let unit_name = state.catalog.tree.get(&user.unit_id).map_or_else(|| user.unit_id.clone(), |u| u.name.clone());
    UserInfo {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        unit_id: user.unit_id,
        unit_name,
    }
}
