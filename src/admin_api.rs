//! The administrator's API (`/api/admin/*`): accounts, devices, enrolment codes,
//! bulk import and the audit log. Online only; nothing here is kept on the phone —
//! enrolment codes above all, which the server shows once and stores only hashed.

use danvan_core::account::{
    Account, AccountInput, AccountsResponse, AuditResponse, DevicesResponse, EnrolmentCodesResponse, ImportResponse,
    NewCodesRequest,
};
use gloo_net::http::{Request, RequestBuilder};
use serde::Deserialize;

use crate::api::{bearer, decode, error_for, get, post, send_body, ApiError, Body, Download, TIMEOUT_MS};

fn uri(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

fn ok_or_error(status: u16, text: String) -> Result<String, ApiError> {
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        Err(error_for(status, &text))
    }
}

/// Why creating or saving an account failed.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveError {
    /// 400 `invalid_account`: what is wrong, one Vietnamese sentence per problem.
    Invalid(Vec<String>),
    /// 409 `username_taken`: the message names the username.
    UsernameTaken(String),
    Api(ApiError),
}

#[derive(Deserialize)]
struct InvalidBody {
    #[serde(default)]
    errors: Vec<String>,
}

async fn save<T: serde::de::DeserializeOwned>(
    builder: RequestBuilder,
    token: &str,
    input: &AccountInput,
) -> Result<T, SaveError> {
    let json = serde_json::to_string(input).map_err(|_| SaveError::Api(ApiError::Decode))?;
    let (status, text) = send_body(builder.header("Authorization", &bearer(token)), Some(Body::Json(json)), TIMEOUT_MS)
        .await
        .map_err(SaveError::Api)?;
    if (200..300).contains(&status) {
        return decode(text).map_err(SaveError::Api);
    }
    match error_for(status, &text) {
        ApiError::Server { code, message, .. } if code == "invalid_account" => {
            let errors = serde_json::from_str::<InvalidBody>(&text).map(|b| b.errors).unwrap_or_default();
            Err(SaveError::Invalid(if errors.is_empty() { vec![message] } else { errors }))
        }
        ApiError::Server { code, message, .. } if code == "username_taken" => Err(SaveError::UsernameTaken(message)),
        e => Err(SaveError::Api(e)),
    }
}

/// `GET /api/admin/accounts?unit=&q=`: `unit` None is the administrator's whole reach.
pub async fn accounts(token: &str, unit: Option<&str>, q: &str) -> Result<AccountsResponse, ApiError> {
    let mut path = String::from("/api/admin/accounts");
    let mut sep = '?';
    if let Some(u) = unit.filter(|u| !u.is_empty()) {
        path.push_str(&format!("{sep}unit={}", uri(u)));
        sep = '&';
    }
    let q = q.trim();
    if !q.is_empty() {
        path.push_str(&format!("{sep}q={}", uri(q)));
    }
    get(&path, token).await
}

/// `POST /api/admin/accounts`: the new account's one enrolment code.
pub async fn create_account(token: &str, input: &AccountInput) -> Result<EnrolmentCodesResponse, SaveError> {
    save(Request::post("/api/admin/accounts"), token, input).await
}

pub async fn account(token: &str, id: i64) -> Result<Account, ApiError> {
    get(&format!("/api/admin/accounts/{id}"), token).await
}

/// `PUT /api/admin/accounts/{id}` (the username in `input` is ignored).
pub async fn update_account(token: &str, id: i64, input: &AccountInput) -> Result<Account, SaveError> {
    save(Request::put(&format!("/api/admin/accounts/{id}")), token, input).await
}

async fn post_empty<T: serde::de::DeserializeOwned>(path: &str, token: &str) -> Result<T, ApiError> {
    let (status, text) =
        send_body(Request::post(path).header("Authorization", &bearer(token)), None, TIMEOUT_MS).await?;
    decode(ok_or_error(status, text)?)
}

/// `POST /api/admin/accounts/{id}/disable` or `/enable`.
pub async fn set_disabled(token: &str, id: i64, disabled: bool) -> Result<Account, ApiError> {
    let step = if disabled { "disable" } else { "enable" };
    post_empty(&format!("/api/admin/accounts/{id}/{step}"), token).await
}

/// `POST /api/admin/accounts/{id}/reset`: the password stops working; a new code.
pub async fn reset(token: &str, id: i64) -> Result<EnrolmentCodesResponse, ApiError> {
    post_empty(&format!("/api/admin/accounts/{id}/reset"), token).await
}

#[derive(Deserialize)]
struct Ended {
    ended: u32,
}

/// `POST /api/admin/accounts/{id}/sign-out`: how many devices were signed out.
pub async fn sign_out_everywhere(token: &str, id: i64) -> Result<u32, ApiError> {
    post_empty::<Ended>(&format!("/api/admin/accounts/{id}/sign-out"), token).await.map(|e| e.ended)
}

pub async fn devices(token: &str, account_id: i64) -> Result<DevicesResponse, ApiError> {
    get(&format!("/api/admin/accounts/{account_id}/devices"), token).await
}

/// `DELETE /api/admin/devices/{id}`.
pub async fn end_device(token: &str, device_id: i64) -> Result<(), ApiError> {
    let builder = Request::delete(&format!("/api/admin/devices/{device_id}")).header("Authorization", &bearer(token));
    let (status, text) = send_body(builder, None, TIMEOUT_MS).await?;
    ok_or_error(status, text).map(|_| ())
}

/// `POST /api/admin/enrolment-codes`.
pub async fn new_codes(token: &str, request: &NewCodesRequest) -> Result<EnrolmentCodesResponse, ApiError> {
    post("/api/admin/enrolment-codes", Some(token), request).await
}

/// `POST /api/admin/accounts/import[?commit=1]` with the file's bytes.
pub async fn import(token: &str, bytes: &[u8], mime: &str, commit: bool) -> Result<ImportResponse, ApiError> {
    let path = if commit { "/api/admin/accounts/import?commit=1" } else { "/api/admin/accounts/import" };
    let mime = if mime.is_empty() { "application/octet-stream" } else { mime };
    let builder = Request::post(path).header("Authorization", &bearer(token));
    // A spreadsheet is bigger than JSON, and a commit creates every account in one
    // transaction: give it longer on 2G.
    let (status, text) = send_body(builder, Some(Body::Bytes { bytes, mime }), TIMEOUT_MS * 4).await?;
    decode(ok_or_error(status, text)?)
}

/// `GET /api/admin/audit?before=&limit=`: newest first.
pub async fn audit(token: &str, before: Option<i64>, limit: u32) -> Result<AuditResponse, ApiError> {
    let path = match before {
        Some(b) => format!("/api/admin/audit?before={b}&limit={limit}"),
        None => format!("/api/admin/audit?limit={limit}"),
    };
    get(&path, token).await
}

/// A file from `/api/admin/…` (`accounts/template.xlsx`, `accounts/template.csv`,
/// `audit.csv`), fetched with the bearer token (a plain link could not carry it).
pub async fn download(token: &str, path: &str) -> Result<Download, ApiError> {
    crate::api::download_file(token, &format!("/api/admin/{path}")).await
}
