//! Signing in and out, enrolment with a one-time code, and what an official does
//! with their own account: devices, password, "sign out everywhere".

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, SubsecRound, Utc};
use danvan_core::account::{
    check_password, normalize_enrolment_code, normalize_username, ChangePasswordRequest, DevicesResponse, EnrolRequest,
    EnrolmentInfo, EnrolmentLookup,
};
use danvan_core::api::{ErrorBody, LoginRequest, LoginResponse, UserInfo};

use super::Ended;
use serde_json::{json, Value};

use crate::auth::{
    hash_password, hash_token, new_token, password_work, session_lifetime, verify_password, AuthUser, MSG_BAD_LOGIN,
};
use crate::error::{ApiJson, AppError};
use crate::net::{device_name, ClientAddr};
use crate::state::AppState;
use crate::store::{Actor, CodeState, NewAudit, NewDevice, User};
use crate::throttle::Throttled;

pub const MSG_NO_ACCOUNTS: &str = "Máy chủ chưa có tài khoản nào. Người quản trị hệ thống chạy lệnh \
     `danvan-server create-admin` trên máy chủ để tạo tài khoản quản trị đầu tiên, rồi đăng nhập để tạo tài khoản cho các đơn vị.";
pub const MSG_DISABLED: &str = "Tài khoản này đã bị khoá. Vui lòng liên hệ quản trị viên của tỉnh.";

fn throttled(t: Throttled) -> AppError {
    AppError::TooManyAttempts { retry_after_secs: t.retry_after.as_secs().max(1) }
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("")
}

fn clean_version(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty() && v.len() <= 40)
}

/// Signs a device in: a new token for this browser, listed among the account's
/// devices.
async fn sign_in_device(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    app_version: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>), AppError> {
    let expires_at = now + session_lifetime();
    let (token, token_hash) = new_token();
    let name = device_name(user_agent(headers));
    let device = NewDevice {
        token_hash: &token_hash,
        name: &name,
        app_version: clean_version(app_version),
        expires_at,
        address: None,
    };
    state.store.create_device(user.id, &device, now).await?;
    Ok((token, expires_at))
}

/// Username trimmed and lower-cased. Every failure takes the same time.
#[utoipa::path(
    post, path = "/auth/login", tag = "auth",
    security(()),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in: a new token for this device", body = LoginResponse),
        (status = 401, description = "Wrong username or password, the same answer for both (`unauthorized`); `no_accounts` on a server with no account at all", body = ErrorBody),
        (status = 403, description = "Right password, disabled account (`account_disabled`)", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this username or from this address (`too_many_attempts`, with the minutes to wait)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the oldest failure leaves the 15-minute window"))),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let username = normalize_username(&req.username);
    // Before any password work: a refused attempt costs no argon2 run.
    state.throttle.check(Some(&username), addr.0).await?.map_err(throttled)?;
    let found = state.store.user_by_username(&username).await?;
    // Verify against a dummy hash when the user does not exist (or has no password
    // yet), so every failure takes the same time and carries the same message.
    let hash = found
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| state.dummy_hash.to_string());
    let password = req.password;
    // Bounded: a flood of (bogus) logins queues, then gets 503, instead of running
    // argon2 (19 MiB each) hundreds of times at once.
    let ok = password_work(move || verify_password(&hash, &password)).await?;
    let user = match found {
        Some(u) if ok && u.disabled => {
            return Err(AppError::coded(StatusCode::FORBIDDEN, "account_disabled", MSG_DISABLED));
        }
        Some(u) if ok => u.user,
        _ => {
            let address = addr.text().unwrap_or_default();
            if state.throttle.failure(Some(&username), addr.0).await? {
                tracing::warn!(%username, %address, "đăng nhập sai nhiều lần: tạm khoá tên đăng nhập này");
                let audit = NewAudit { action: "login.locked", target: Some(&username), unit_id: None, detail: None };
                let actor = Actor { user_id: None, name: username.clone(), address: addr.text() };
                if let Err(e) = state.store.audit(&actor, &audit, Utc::now()).await {
                    tracing::warn!(error = %e, "không ghi được nhật ký");
                }
            } else {
                tracing::warn!(%username, %address, "đăng nhập sai");
            }
            // A fresh server with no account at all: say what to do instead of
            // letting the IT officer guess at passwords.
            if !state.store.has_admin().await? && !state.store.has_any_user().await? {
                return Err(AppError::coded(StatusCode::UNAUTHORIZED, "no_accounts", MSG_NO_ACCOUNTS));
            }
            return Err(AppError::Unauthorized(MSG_BAD_LOGIN.into()));
        }
    };
    state.throttle.success(&username).await?;
    let now = Utc::now().trunc_subsecs(0);
    let (token, expires_at) = sign_in_device(&state, &user, &headers, req.app_version.as_deref(), now).await?;
    tracing::info!(username = %user.username, address = %addr.text().unwrap_or_default(), "đăng nhập");
    Ok(Json(LoginResponse { token, expires_at, user: user_info(&state, user) }))
}

/// Ends this device's sign-in (the account's other devices stay signed in).
#[utoipa::path(
    post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out: the token no longer works"))
)]
pub async fn logout(auth: AuthUser, State(state): State<AppState>) -> Result<StatusCode, AppError> {
    state.store.end_device(auth.device_id, "logout", None, Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get, path = "/me", tag = "account",
    responses((status = 200, description = "The signed-in official", body = UserInfo))
)]
pub async fn me(auth: AuthUser, State(state): State<AppState>) -> Json<UserInfo> {
    Json(user_info(&state, auth.user))
}

pub fn user_info(state: &AppState, user: User) -> UserInfo {
    let unit_name = state.catalog().tree.get(&user.unit_id).map_or_else(|| user.unit_id.clone(), |u| u.name.clone());
    UserInfo {
        id: user.id,
        username: user.username,
        display_name: user.display_name,
        role: user.role,
        unit_id: user.unit_id,
        unit_name,
    }
}

// --- enrolment ------------------------------------------------------------------

fn code_error(s: CodeState) -> AppError {
    let (code, message) = match s {
        CodeState::Unknown => {
            ("enrolment_code_unknown", "Mã kích hoạt không đúng. Hãy kiểm tra lại từng ký tự trên phiếu.")
        }
        CodeState::Used => (
            "enrolment_code_used",
            "Mã kích hoạt này đã được dùng. Nếu không phải bạn dùng, hãy báo ngay cho quản trị viên.",
        ),
        CodeState::Expired => ("enrolment_code_expired", "Mã kích hoạt đã hết hạn. Đề nghị quản trị viên cấp mã mới."),
        CodeState::Revoked => (
            "enrolment_code_revoked",
            "Mã kích hoạt này không còn hiệu lực (đã có mã mới hoặc tài khoản bị khoá). Liên hệ quản trị viên.",
        ),
    };
    AppError::coded(StatusCode::NOT_FOUND, code, message)
}

/// A code as typed or scanned, or the error for one that cannot be a code (counted
/// as a failure for the address: guessing codes is throttled like passwords).
async fn parse_code(state: &AppState, addr: &ClientAddr, typed: &str) -> Result<String, AppError> {
    state.throttle.check(None, addr.0).await?.map_err(throttled)?;
    match normalize_enrolment_code(typed) {
        Some(code) => Ok(code),
        None => {
            state.throttle.failure(None, addr.0).await?;
            Err(code_error(CodeState::Unknown))
        }
    }
}

/// `POST /api/auth/enrolment`: whose account a code opens, before the password is chosen.
#[utoipa::path(
    post, path = "/auth/enrolment", tag = "auth",
    security(()),
    request_body = EnrolmentLookup,
    responses(
        (status = 200, description = "The account the code opens", body = EnrolmentInfo),
        (status = 404, description = "Not a live code: `enrolment_code_unknown`, `enrolment_code_used`, `enrolment_code_expired`, `enrolment_code_revoked`", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this username or from this address (`too_many_attempts`, with the minutes to wait)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the oldest failure leaves the 15-minute window"))),
    )
)]
pub async fn enrolment(
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(req): ApiJson<EnrolmentLookup>,
) -> Result<Json<EnrolmentInfo>, AppError> {
    let code = parse_code(&state, &addr, &req.code).await?;
    match state.store.code_lookup(&hash_token(&code), Utc::now()).await? {
        Ok((user, expires_at)) => {
            let unit_name =
                state.catalog().tree.get(&user.unit_id).map_or_else(|| user.unit_id.clone(), |u| u.name.clone());
            Ok(Json(EnrolmentInfo { username: user.username, display_name: user.display_name, unit_name, expires_at }))
        }
        Err(s) => {
            state.throttle.failure(None, addr.0).await?;
            tracing::warn!(address = %addr.text().unwrap_or_default(), state = ?s, "mã kích hoạt không dùng được");
            Err(code_error(s))
        }
    }
}

/// `POST /api/auth/enrol`: uses the code, sets the password, signs this device in.
#[utoipa::path(
    post, path = "/auth/enrol", tag = "auth",
    security(()),
    request_body = EnrolRequest,
    responses(
        (status = 200, description = "Password set, this device signed in", body = LoginResponse),
        (status = 400, description = "The password breaks the policy (`password_too_short`, `password_too_long`, `password_contains_username`, `password_common`)", body = ErrorBody),
        (status = 404, description = "Not a live code (as for `/auth/enrolment`)", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this username or from this address (`too_many_attempts`, with the minutes to wait)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the oldest failure leaves the 15-minute window"))),
    )
)]
pub async fn enrol(
    State(state): State<AppState>,
    addr: ClientAddr,
    headers: HeaderMap,
    ApiJson(req): ApiJson<EnrolRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    let code = parse_code(&state, &addr, &req.code).await?;
    let code_hash = hash_token(&code);
    let now = Utc::now().trunc_subsecs(0);
    let user = match state.store.code_lookup(&code_hash, now).await? {
        Ok((user, _)) => user,
        Err(s) => {
            state.throttle.failure(None, addr.0).await?;
            return Err(code_error(s));
        }
    };
    check_password(&user.username, &req.password)
        .map_err(|p| AppError::coded(StatusCode::BAD_REQUEST, p.code(), p.to_string()))?;
    let cost = state.password_cost;
    let password = req.password;
    let hash = password_work(move || hash_password(cost, &password)).await??;
    let expires_at = now + session_lifetime();
    let (token, token_hash) = new_token();
    let name = device_name(user_agent(&headers));
    let device = NewDevice {
        token_hash: &token_hash,
        name: &name,
        app_version: clean_version(req.app_version.as_deref()),
        expires_at,
        address: addr.text(),
    };
    let user = state.store.enrol(&code_hash, &hash, &device, now).await?.map_err(code_error)?;
    state.throttle.success(&user.username).await?;
    tracing::info!(username = %user.username, address = %addr.text().unwrap_or_default(), "kích hoạt tài khoản");
    Ok(Json(LoginResponse { token, expires_at, user: user_info(&state, user) }))
}

// --- my account -------------------------------------------------------------------

/// `GET /api/me/devices`.
#[utoipa::path(
    get, path = "/me/devices", tag = "account",
    responses((status = 200, description = "The account's devices, this one marked `current`", body = DevicesResponse))
)]
pub async fn my_devices(auth: AuthUser, State(state): State<AppState>) -> Result<Json<DevicesResponse>, AppError> {
    let mut devices = state.store.devices(auth.user.id, Utc::now()).await?;
    for d in &mut devices {
        d.current = d.id == auth.device_id;
    }
    Ok(Json(DevicesResponse { devices }))
}

/// `DELETE /api/me/devices/{id}`: the official ends one of their own devices.
#[utoipa::path(
    delete, path = "/me/devices/{id}", tag = "account",
    params(("id" = i64, Path, description = "A device id")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 404, description = "No such device of this account (`not_found`)", body = ErrorBody),
    )
)]
pub async fn end_my_device(
    auth: AuthUser,
    State(state): State<AppState>,
    addr: ClientAddr,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let owner = state.store.device_owner(id).await?;
    // Someone else's device id answers like a missing one: ids reveal nothing.
    if owner.as_ref().is_none_or(|o| o.user_id != auth.user.id) {
        return Err(AppError::NotFound("Không tìm thấy thiết bị".into()));
    }
    let actor = Actor { user_id: Some(auth.user.id), name: auth.user.username.clone(), address: addr.text() };
    state.store.end_device(id, "user", Some((&actor, "device.end")), Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/me/sign-out-everywhere`: every other device of the account.
#[utoipa::path(
    post, path = "/me/sign-out-everywhere", tag = "account",
    responses((status = 200, description = "How many devices were signed out", body = Ended))
)]
pub async fn sign_out_elsewhere(
    auth: AuthUser,
    State(state): State<AppState>,
    addr: ClientAddr,
) -> Result<Json<Value>, AppError> {
    let actor = Actor { user_id: Some(auth.user.id), name: auth.user.username.clone(), address: addr.text() };
    let ended =
        state.store.end_all_devices(auth.user.id, Some(auth.device_id), "user", &actor, Utc::now()).await?.unwrap_or(0);
    Ok(Json(json!({ "ended": ended })))
}

/// `POST /api/me/password`: the current password, then a new one under the policy.
/// Other devices are signed out (a changed password usually means a worry).
#[utoipa::path(
    post, path = "/me/password", tag = "account",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed; the other devices were signed out", body = Ended),
        (status = 400, description = "Wrong current password (`wrong_password`) or a new one against the policy (`password_too_short`, `password_too_long`, `password_contains_username`, `password_common`)", body = ErrorBody),
        (status = 429, description = "Too many failed attempts for this username or from this address (`too_many_attempts`, with the minutes to wait)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the oldest failure leaves the 15-minute window"))),
    )
)]
pub async fn change_password(
    auth: AuthUser,
    State(state): State<AppState>,
    addr: ClientAddr,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> Result<Json<Value>, AppError> {
    let username = auth.user.username.clone();
    state.throttle.check(Some(&username), addr.0).await?.map_err(throttled)?;
    let found = state.store.user_by_username(&username).await?.ok_or(AppError::Unauthorized(MSG_BAD_LOGIN.into()))?;
    let hash = Some(found.password_hash).filter(|h| !h.is_empty()).unwrap_or_else(|| state.dummy_hash.to_string());
    let current = req.current_password;
    if !password_work(move || verify_password(&hash, &current)).await? {
        state.throttle.failure(Some(&username), addr.0).await?;
        return Err(AppError::coded(StatusCode::BAD_REQUEST, "wrong_password", "Mật khẩu hiện tại không đúng"));
    }
    check_password(&username, &req.new_password)
        .map_err(|p| AppError::coded(StatusCode::BAD_REQUEST, p.code(), p.to_string()))?;
    let cost = state.password_cost;
    let new_password = req.new_password;
    let new_hash = password_work(move || hash_password(cost, &new_password)).await??;
    let actor = Actor { user_id: Some(auth.user.id), name: username, address: addr.text() };
    let ended = state.store.set_password(&auth.user, &new_hash, Some(auth.device_id), &actor, Utc::now()).await?;
    Ok(Json(json!({ "ended": ended })))
}
