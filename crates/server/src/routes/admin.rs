//! `/api/admin/*`: accounts, their devices, enrolment codes, bulk import and the
//! audit log. Only administrators, and each only over the accounts of its own
//! unit's subtree (`accounts::may_manage`); everything changed is audited.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{SecondsFormat, Utc};
use danvan_core::account::{
    audit_action_label, Account, AccountInput, AccountsResponse, AuditResponse, DevicesResponse,
    EnrolmentCodesResponse, ImportResponse, NewCodesRequest,
};
use danvan_core::api::{ErrorBody, Role};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{Binary, Ended, InvalidAccount};
use serde_json::{json, Value};

use crate::accounts::{self, may_manage};
use crate::auth::AuthUser;
use crate::error::{ApiJson, AppError};
use crate::net::ClientAddr;
use crate::state::AppState;
use crate::store::{Actor, DataScope, User};

const MSG_NOT_ADMIN: &str = "Chỉ quản trị viên mới dùng được chức năng này";
const MSG_NO_ACCOUNT: &str = "Không tìm thấy tài khoản";

/// The signed-in administrator of a request, with its address for the audit log.
pub struct Admin {
    pub user: User,
    pub device_id: i64,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Admin, AppError> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        if auth.user.role != Role::Admin {
            return Err(AppError::Forbidden(MSG_NOT_ADMIN.into()));
        }
        let Ok(addr) = ClientAddr::from_request_parts(parts, state).await;
        let actor = Actor { user_id: Some(auth.user.id), name: auth.user.username.clone(), address: addr.text() };
        Ok(Admin { user: auth.user, device_id: auth.device_id, actor })
    }
}

fn scope_of(state: &AppState, admin: &User) -> DataScope {
    let catalog = state.catalog();
    DataScope::Units(catalog.tree.scope(&admin.unit_id).iter().map(|u| u.id.clone()).collect())
}

fn with_unit_name(state: &AppState, mut a: Account) -> Account {
    let catalog = state.catalog();
    a.unit_name = catalog.tree.get(&a.unit_id).map_or_else(|| a.unit_id.clone(), |u| u.name.clone());
    a
}

/// The account `id`, if this administrator manages it: 404 when missing, 403 when
/// it belongs to a unit outside the administrator's subtree.
async fn managed_account(state: &AppState, admin: &Admin, id: i64) -> Result<Account, AppError> {
    let catalog = state.catalog();
    let account = state.store.account(id, Utc::now()).await?.ok_or(AppError::NotFound(MSG_NO_ACCOUNT.into()))?;
    if !may_manage(&catalog.tree, &admin.user, &account.unit_id) {
        return Err(AppError::Forbidden("Tài khoản này thuộc đơn vị bạn không quản lý".into()));
    }
    Ok(with_unit_name(state, account))
}

/// 403 for a unit that exists but lies outside the administrator's reach (a unit
/// that does not exist is a 400 from `accounts::check_fields`).
fn forbid_outside(state: &AppState, admin: &Admin, unit_id: &str) -> Result<(), AppError> {
    let catalog = state.catalog();
    if catalog.tree.get(unit_id).is_some() && !may_manage(&catalog.tree, &admin.user, unit_id) {
        return Err(AppError::Forbidden("Bạn không quản lý tài khoản của đơn vị này".into()));
    }
    Ok(())
}

fn user_of(a: &Account) -> User {
    User {
        id: a.id,
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        role: a.role,
        unit_id: a.unit_id.clone(),
    }
}

fn invalid(errors: Vec<String>) -> AppError {
    AppError::coded(StatusCode::BAD_REQUEST, "invalid_account", errors.join("; ")).with_field("errors", json!(errors))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A unit id: that unit's subtree (default: the administrator's whole reach).
    pub unit: Option<String>,
    /// Words to look for in usernames and names.
    pub q: Option<String>,
}

/// `GET /api/admin/accounts?unit=&q=`: the accounts of a unit's subtree (default:
/// the administrator's whole reach).
#[utoipa::path(
    get, path = "/admin/accounts", tag = "admin", operation_id = "list_accounts",
    params(ListQuery),
    responses(
        (status = 200, description = "The accounts of the subtree", body = AccountsResponse),
        (status = 403, description = "Not an administrator, or a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn list(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<AccountsResponse>, AppError> {
    let catalog = state.catalog();
    let scope = match q.unit.as_deref().filter(|u| !u.is_empty()) {
        None => scope_of(&state, &admin.user),
        Some(unit) => {
            if !may_manage(&catalog.tree, &admin.user, unit) {
                return Err(AppError::Forbidden("Bạn không quản lý tài khoản của đơn vị này".into()));
            }
            DataScope::Units(catalog.tree.scope(unit).iter().map(|u| u.id.clone()).collect())
        }
    };
    let query = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let accounts = state.store.accounts(&scope, query, Utc::now()).await?;
    Ok(Json(AccountsResponse { accounts: accounts.into_iter().map(|a| with_unit_name(&state, a)).collect() }))
}

/// `POST /api/admin/accounts`: a new account and its one-time enrolment code.
#[utoipa::path(
    post, path = "/admin/accounts", tag = "admin", operation_id = "create_account",
    request_body = AccountInput,
    responses(
        (status = 201, description = "Created, with its one-time enrolment code", body = EnrolmentCodesResponse),
        (status = 400, description = "Every problem with the fields (`invalid_account`, with `errors`)", body = InvalidAccount),
        (status = 403, description = "Not an administrator, or the unit is a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 409, description = "The username is taken (`username_taken`)", body = ErrorBody),
    )
)]
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<AccountInput>,
) -> Result<(StatusCode, Json<EnrolmentCodesResponse>), AppError> {
    let catalog = state.catalog();
    forbid_outside(&state, &admin, &input.unit_id)?;
    let fields = accounts::check_fields(&catalog.tree, Some(&admin.user), &input).map_err(invalid)?;
    let codes = accounts::create(&state.store, &catalog.tree, vec![fields], &admin.actor, "account.create", Utc::now())
        .await?
        .map_err(|e| AppError::coded(StatusCode::CONFLICT, "username_taken", e))?;
    Ok((StatusCode::CREATED, Json(EnrolmentCodesResponse { codes })))
}

#[utoipa::path(
    get, path = "/admin/accounts/{id}", tag = "admin", operation_id = "get_account",
    params(("id" = i64, Path, description = "An account id")),
    responses(
        (status = 200, description = "The account", body = Account),
        (status = 403, description = "Not an administrator, or the account belongs to a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`)", body = ErrorBody),
    )
)]
pub async fn get(admin: Admin, State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<Account>, AppError> {
    Ok(Json(managed_account(&state, &admin, id).await?))
}

/// The body of `PUT /api/admin/accounts/{id}` as the API description gives it: an
/// [`AccountInput`] whose `username` is read and ignored. Describes only.
#[derive(ToSchema)]
#[allow(dead_code)]
struct AccountEdit {
    /// Read and ignored: the username stays.
    username: String,
    /// 1–100 characters once runs of spaces are collapsed.
    #[schema(pattern = r"\S")]
    display_name: String,
    /// An existing unit the administrator manages, where the role makes sense.
    unit_id: String,
    role: Role,
    /// 9–15 digits, with only `+ - . ( )` and spaces besides; empty: none.
    #[schema(pattern = r"^(?:[ +\-.()]*(?:[0-9][ +\-.()]*){9,15})?$")]
    phone: Option<String>,
    /// `local@domain.tld`, at most 120 characters; empty: none.
    #[schema(max_length = 120, pattern = r"^(?:[^@\s]+@[^.\s]\S*\.\S*)?$")]
    email: Option<String>,
}

/// `PUT /api/admin/accounts/{id}`: name, unit, role, contacts. The username stays.
#[utoipa::path(
    put, path = "/admin/accounts/{id}", tag = "admin", operation_id = "update_account",
    params(("id" = i64, Path, description = "An account id")),
    request_body = AccountEdit,
    responses(
        (status = 200, description = "Saved (the username stays)", body = Account),
        (status = 400, description = "Every problem with the fields (`invalid_account`, with `errors`), or the administrator's own role or unit (`own_account`)", body = InvalidAccount),
        (status = 403, description = "Not an administrator, or the account belongs to a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`)", body = ErrorBody),
    )
)]
pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
    ApiJson(mut input): ApiJson<AccountInput>,
) -> Result<Json<Account>, AppError> {
    let catalog = state.catalog();
    let current = managed_account(&state, &admin, id).await?;
    input.username = current.username.clone();
    forbid_outside(&state, &admin, &input.unit_id)?;
    if id == admin.user.id && (input.role != current.role || input.unit_id != current.unit_id) {
        return Err(AppError::coded(
            StatusCode::BAD_REQUEST,
            "own_account",
            "Không thể tự đổi vai trò hoặc đơn vị của chính mình; nhờ một quản trị viên khác",
        ));
    }
    let fields = accounts::check_fields(&catalog.tree, Some(&admin.user), &input).map_err(invalid)?;
    state.store.update_account(id, &fields, &admin.actor, Utc::now()).await?;
    get(admin, State(state), Path(id)).await
}

/// `POST /api/admin/accounts/{id}/disable`: every device signed out at once, unused
/// codes void; reports and history stay.
#[utoipa::path(
    post, path = "/admin/accounts/{id}/disable", tag = "admin",
    params(("id" = i64, Path, description = "An account id")),
    responses(
        (status = 200, description = "Disabled: every device signed out, unused codes void", body = Account),
        (status = 400, description = "The administrator's own account (`own_account`)", body = ErrorBody),
        (status = 403, description = "Not an administrator, or the account belongs to a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`)", body = ErrorBody),
    )
)]
pub async fn disable(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Account>, AppError> {
    managed_account(&state, &admin, id).await?;
    if id == admin.user.id {
        return Err(AppError::coded(
            StatusCode::BAD_REQUEST,
            "own_account",
            "Không thể tự khoá tài khoản của chính mình",
        ));
    }
    state.store.set_disabled(id, true, &admin.actor, Utc::now()).await?;
    get(admin, State(state), Path(id)).await
}

#[utoipa::path(
    post, path = "/admin/accounts/{id}/enable", tag = "admin",
    params(("id" = i64, Path, description = "An account id")),
    responses(
        (status = 200, description = "Enabled", body = Account),
        (status = 403, description = "Not an administrator, or the account belongs to a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`)", body = ErrorBody),
    )
)]
pub async fn enable(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Account>, AppError> {
    managed_account(&state, &admin, id).await?;
    state.store.set_disabled(id, false, &admin.actor, Utc::now()).await?;
    get(admin, State(state), Path(id)).await
}

/// `POST /api/admin/accounts/{id}/reset`: the old password stops working; a new
/// enrolment code to hand over.
#[utoipa::path(
    post, path = "/admin/accounts/{id}/reset", tag = "admin",
    params(("id" = i64, Path, description = "An account id")),
    responses(
        (status = 200, description = "The old password no longer works; a new enrolment code", body = EnrolmentCodesResponse),
        (status = 403, description = "Not an administrator, or the account belongs to a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`)", body = ErrorBody),
        (status = 409, description = "The account is disabled (`account_disabled`)", body = ErrorBody),
    )
)]
pub async fn reset(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<EnrolmentCodesResponse>, AppError> {
    let catalog = state.catalog();
    let account = managed_account(&state, &admin, id).await?;
    if account.disabled_at.is_some() {
        return Err(AppError::coded(
            StatusCode::CONFLICT,
            "account_disabled",
            "Tài khoản đang bị khoá: mở khoá trước khi cấp mã kích hoạt",
        ));
    }
    let codes =
        accounts::issue_codes(&state.store, &catalog.tree, &[user_of(&account)], true, &admin.actor, Utc::now())
            .await?;
    Ok(Json(EnrolmentCodesResponse { codes }))
}

/// `POST /api/admin/accounts/{id}/sign-out`: every device of the account.
#[utoipa::path(
    post, path = "/admin/accounts/{id}/sign-out", tag = "admin",
    params(("id" = i64, Path, description = "An account id")),
    responses(
        (status = 200, description = "How many devices were signed out", body = Ended),
        (status = 403, description = "Not an administrator, or the account belongs to a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`)", body = ErrorBody),
    )
)]
pub async fn sign_out_everywhere(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    managed_account(&state, &admin, id).await?;
    let ended = state.store.end_all_devices(id, None, "admin", &admin.actor, Utc::now()).await?.unwrap_or(0);
    Ok(Json(json!({ "ended": ended })))
}

#[utoipa::path(
    get, path = "/admin/accounts/{id}/devices", tag = "admin",
    params(("id" = i64, Path, description = "An account id")),
    responses(
        (status = 200, description = "The account's devices", body = DevicesResponse),
        (status = 403, description = "Not an administrator, or the account belongs to a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`)", body = ErrorBody),
    )
)]
pub async fn devices(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<DevicesResponse>, AppError> {
    managed_account(&state, &admin, id).await?;
    let mut devices = state.store.devices(id, Utc::now()).await?;
    for d in &mut devices {
        d.current = d.id == admin.device_id;
    }
    Ok(Json(DevicesResponse { devices }))
}

/// `DELETE /api/admin/devices/{id}`: its next request gets 401 `device_ended`.
#[utoipa::path(
    delete, path = "/admin/devices/{id}", tag = "admin",
    params(("id" = i64, Path, description = "A device id")),
    responses(
        (status = 204, description = "Signed out: its next request gets 401 `device_ended`"),
        (status = 403, description = "Not an administrator, or a device of a unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such device (`not_found`)", body = ErrorBody),
    )
)]
pub async fn end_device(
    admin: Admin,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let catalog = state.catalog();
    let owner = state.store.device_owner(id).await?.ok_or(AppError::NotFound("Không tìm thấy thiết bị".into()))?;
    if !may_manage(&catalog.tree, &admin.user, &owner.unit_id) {
        return Err(AppError::Forbidden("Thiết bị này thuộc đơn vị bạn không quản lý".into()));
    }
    state.store.end_device(id, "admin", Some((&admin.actor, "device.end")), Utc::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/admin/enrolment-codes`: fresh codes to print — for the listed accounts,
/// or every account of a unit that has not set its password yet. Earlier unused
/// codes of those accounts stop working; passwords already set stay.
#[utoipa::path(
    post, path = "/admin/enrolment-codes", tag = "admin",
    request_body = NewCodesRequest,
    responses(
        (status = 200, description = "Fresh codes; earlier unused codes of those accounts stop working", body = EnrolmentCodesResponse),
        (status = 409, description = "No account needs a code: none named, or every one has set its password or is disabled (`nothing_to_issue`)", body = ErrorBody),
        (status = 403, description = "Not an administrator, or an account or unit outside the administrator's subtree (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`)", body = ErrorBody),
    )
)]
pub async fn new_codes(
    admin: Admin,
    State(state): State<AppState>,
    ApiJson(req): ApiJson<NewCodesRequest>,
) -> Result<Json<EnrolmentCodesResponse>, AppError> {
    let catalog = state.catalog();
    let mut targets: Vec<Account> = Vec::new();
    for id in &req.account_ids {
        targets.push(managed_account(&state, &admin, *id).await?);
    }
    if let Some(unit) = req.unit_id.as_deref() {
        if !may_manage(&catalog.tree, &admin.user, unit) {
            return Err(AppError::Forbidden("Bạn không quản lý tài khoản của đơn vị này".into()));
        }
        let scope = DataScope::Units(vec![unit.to_string()]);
        let pending = state.store.accounts(&scope, None, Utc::now()).await?;
        targets.extend(pending.into_iter().filter(|a| !a.has_password).map(|a| with_unit_name(&state, a)));
    }
    targets.retain(|a| a.disabled_at.is_none());
    targets.dedup_by_key(|a| a.id);
    if targets.is_empty() {
        // The request may be well formed and the accounts simply all set up
        // already: a conflict with their state, not a malformed request.
        return Err(AppError::coded(
            StatusCode::CONFLICT,
            "nothing_to_issue",
            "Không có tài khoản nào cần mã kích hoạt (mọi tài khoản đã đặt mật khẩu hoặc đang bị khoá)",
        ));
    }
    let users: Vec<User> = targets.iter().map(user_of).collect();
    let codes = accounts::issue_codes(&state.store, &catalog.tree, &users, false, &admin.actor, Utc::now()).await?;
    Ok(Json(EnrolmentCodesResponse { codes }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `1`, `true` or `yes`: apply when valid; anything else or absent: preview only.
    #[serde(default)]
    pub commit: Option<String>,
}

/// `POST /api/admin/accounts/import[?commit=1]` with the file (CSV or XLSX) as the
/// body: without `commit` a preview; with it, every account created in one
/// transaction — or, if any row is wrong, nothing, and the rows with their errors.
#[utoipa::path(
    post, path = "/admin/accounts/import", tag = "admin",
    params(ImportQuery),
    request_body(
        description = "The filled-in template (`template.csv` or `template.xlsx`); any bytes are read, and a file that is neither is a preview with `file_errors`",
        content(
            (Binary = "text/csv"),
            (Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (Binary = "application/octet-stream"),
        ),
    ),
    responses(
        (status = 200, description = "The preview, every row with its problems; after a valid commit, the enrolment codes", body = ImportResponse),
        (status = 400, description = "No file: an empty body (`empty_file`)", body = ErrorBody),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn import(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Json<ImportResponse>, AppError> {
    let catalog = state.catalog();
    if body.is_empty() {
        return Err(super::empty_file());
    }
    let commit = q.commit.as_deref().is_some_and(|c| matches!(c, "1" | "true" | "yes"));
    let tree = &catalog.tree;
    let (mut preview, fields) = accounts::check_import(&state.store, tree, Some(&admin.user), &body).await?;
    if !commit || !preview.valid {
        return Ok(Json(preview));
    }
    let count = fields.len();
    match accounts::create(&state.store, tree, fields, &admin.actor, "account.import", Utc::now()).await? {
        Ok(codes) => {
            tracing::info!(admin = %admin.user.username, count, "đã nhập danh sách tài khoản");
            preview.committed = true;
            preview.codes = codes;
        }
        // A username taken between the preview and the commit: nothing was written.
        Err(e) => {
            preview.valid = false;
            preview.file_errors.push(e);
        }
    }
    Ok(Json(preview))
}

fn download(bytes: Vec<u8>, mime: &'static str, file_name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /api/admin/accounts/template.xlsx`.
#[utoipa::path(
    get, path = "/admin/accounts/template.xlsx", tag = "admin",
    responses(
        (status = 200, description = "The import template with the administrator's units, as an attachment", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Binary),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn template_xlsx(_admin: Admin, State(state): State<AppState>) -> Result<Response, AppError> {
    let catalog = state.catalog();
    let bytes = accounts::template_xlsx(&catalog.tree).map_err(AppError::internal)?;
    Ok(download(bytes, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "mau-tai-khoan.xlsx"))
}

/// `GET /api/admin/accounts/template.csv`.
#[utoipa::path(
    get, path = "/admin/accounts/template.csv", tag = "admin",
    responses(
        (status = 200, description = "The import template as CSV (UTF-8), as an attachment", content_type = "text/csv", body = String),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn template_csv(_admin: Admin, State(state): State<AppState>) -> Response {
    let catalog = state.catalog();
    download(accounts::template_csv(&catalog.tree).into_bytes(), "text/csv; charset=utf-8", "mau-tai-khoan.csv")
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this entry id.
    pub before: Option<i64>,
    /// How many (default 100; 0 is read as 1, anything over 500 as 500).
    #[param(minimum = 0, maximum = 4294967295_i64)]
    pub limit: Option<u32>,
}

fn audit_scope(state: &AppState, admin: &User) -> DataScope {
    let catalog = state.catalog();
    // The province's administrator also sees server-wide lines (no unit).
    if catalog.tree.get(&admin.unit_id).is_some_and(|u| u.parent.is_none()) {
        DataScope::All
    } else {
        scope_of(state, admin)
    }
}

/// `GET /api/admin/audit?before=&limit=`: newest first, 100 by default, 500 at most.
#[utoipa::path(
    get, path = "/admin/audit", tag = "admin",
    params(AuditQuery),
    responses(
        (status = 200, description = "Newest first: the lines of the administrator's subtree (the province's administrator: every line)", body = AuditResponse),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn audit(
    admin: Admin,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditResponse>, AppError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let entries = state.store.audit_entries(&audit_scope(&state, &admin.user), q.before, limit).await?;
    Ok(Json(AuditResponse { entries }))
}

/// `GET /api/admin/audit.csv`: the whole log in reach, for the records.
#[utoipa::path(
    get, path = "/admin/audit.csv", tag = "admin",
    responses(
        (status = 200, description = "The whole audit log the administrator may see, as CSV (UTF-8), as an attachment", content_type = "text/csv", body = String),
        (status = 403, description = "Not an administrator (`forbidden`)", body = ErrorBody),
    )
)]
pub async fn audit_csv(admin: Admin, State(state): State<AppState>) -> Result<Response, AppError> {
    let scope = audit_scope(&state, &admin.user);
    let mut out =
        String::from("\u{feff}Thời điểm (UTC),Người thực hiện,Thao tác,Mã thao tác,Đối tượng,Chi tiết,Địa chỉ\r\n");
    let mut before = None;
    loop {
        let page = state.store.audit_entries(&scope, before, 500).await?;
        for e in &page {
            let fields = [
                e.at.to_rfc3339_opts(SecondsFormat::Secs, true),
                e.actor.clone(),
                audit_action_label(&e.action).to_string(),
                e.action.clone(),
                e.target.clone().unwrap_or_default(),
                e.detail.clone().unwrap_or_default(),
                e.address.clone().unwrap_or_default(),
            ];
            out.push_str(&fields.iter().map(|f| crate::tables::csv_cell(f)).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        match page.last() {
            Some(last) if page.len() == 500 => before = Some(last.id),
            _ => break,
        }
    }
    Ok(download(out.into_bytes(), "text/csv; charset=utf-8", "nhat-ky-quan-tri.csv"))
}
