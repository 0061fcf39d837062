//! The HTTP client for the server's JSON API (same origin).

use danvan_core::account::{ChangePasswordRequest, DevicesResponse, EnrolRequest, EnrolmentInfo, EnrolmentLookup};
use danvan_core::api::{ErrorBody, LoginRequest, LoginResponse, PlansResponse, TasksResponse, UnitsResponse};
use danvan_core::report::{is_plain_id, AttachmentRef};
use danvan_core::sync::{PullRequest, PullResponse, PushRequest, PushResponse};
use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// How long a request may take before we call the network down. 2G round trips
/// can take seconds; a hung request must not leave the screen spinning forever.
pub(crate) const TIMEOUT_MS: u32 = 30_000;

/// This build of the app, as the server lists it with the device.
pub const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("Không kết nối được máy chủ. Dữ liệu trên máy vẫn dùng được; ứng dụng sẽ thử lại khi có mạng.")]
    Network,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{message}")]
    Server { status: u16, code: String, message: String },
    #[error("Máy chủ trả về dữ liệu không đọc được.")]
    Decode,
}

/// Sends a request and reads the whole body, all under one timeout: on 2G a
/// response can stall half way through its body as easily as before its headers.
/// Returns the status and body whatever the status.
async fn send_raw(builder: RequestBuilder, body: Option<String>) -> Result<(u16, String), ApiError> {
    send_body(builder, body.map(Body::Json), TIMEOUT_MS).await
}

/// A request body.
pub(crate) enum Body<'a> {
    Json(String),
    /// JSON, gzipped (`Content-Encoding: gzip`).
    GzipJson(Vec<u8>),
    /// A file as it is (an account import).
    Bytes {
        bytes: &'a [u8],
        mime: &'a str,
    },
}

/// Sends under one timeout (headers and body alike) and returns the status and the
/// body as text whatever the status.
pub(crate) async fn send_body(
    builder: RequestBuilder,
    body: Option<Body<'_>>,
    timeout_ms: u32,
) -> Result<(u16, String), ApiError> {
    // AbortController gives fetch the timeout it lacks; aborting also fails a body
    // read that is still in progress.
    let controller = web_sys::AbortController::new().map_err(|_| ApiError::Network)?;
    // The build travels with every call, so the administrator's device list shows
    // which phones still run an old version (crates/server/src/auth.rs).
    let builder = builder.abort_signal(Some(&controller.signal())).header("X-Danvan-Version", APP_VERSION);
    let request = match body {
        Some(Body::Json(json)) => builder.header("Content-Type", "application/json").body(json),
        Some(Body::GzipJson(bytes)) => builder
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .body(JsValue::from(js_sys::Uint8Array::from(bytes.as_slice()))),
        Some(Body::Bytes { bytes, mime }) => {
            builder.header("Content-Type", mime).body(JsValue::from(js_sys::Uint8Array::from(bytes)))
        }
        None => builder.build(),
    }
    .map_err(|_| ApiError::Network)?;
    let timeout = gloo_timers::callback::Timeout::new(timeout_ms, move || controller.abort());
    let result = async {
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        let text = response.text().await.map_err(|_| ApiError::Network)?;
        Ok::<_, ApiError>((response.status(), text))
    }
    .await;
    drop(timeout);
    result
}

/// Bodies larger than this are gzipped: Vietnamese narratives halve, and on 2G
/// every kilobyte is a second. Smaller ones are not worth the gzip header.
const GZIP_ABOVE: usize = 1024;

/// The error for a non-2xx answer.
pub(crate) fn error_for(status: u16, text: &str) -> ApiError {
    let detail = serde_json::from_str::<ErrorBody>(text).ok().map(|b| b.error);
    match (status, detail) {
        (401, Some(d)) => ApiError::Unauthorized(d.message),
        (401, None) => ApiError::Unauthorized("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.".into()),
        (_, Some(d)) => ApiError::Server { status, code: d.code, message: d.message },
        // A proxy or captive portal answered instead of our server.
        (_, None) => ApiError::Network,
    }
}

pub(crate) async fn send(builder: RequestBuilder, body: Option<String>) -> Result<String, ApiError> {
    let (status, text) = send_raw(builder, body).await?;
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        Err(error_for(status, &text))
    }
}

pub(crate) fn decode<T: DeserializeOwned>(text: String) -> Result<T, ApiError> {
    serde_json::from_str(&text).map_err(|_| ApiError::Decode)
}

pub(crate) fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

pub(crate) async fn get<T: DeserializeOwned>(path: &str, token: &str) -> Result<T, ApiError> {
    decode(send(Request::get(path).header("Authorization", &bearer(token)), None).await?)
}

pub(crate) async fn post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    token: Option<&str>,
    body: &B,
) -> Result<T, ApiError> {
    let mut builder = Request::post(path);
    if let Some(t) = token {
        builder = builder.header("Authorization", &bearer(t));
    }
    let json = serde_json::to_string(body).map_err(|_| ApiError::Decode)?;
    decode(send(builder, Some(json)).await?)
}

pub async fn login(username: &str, password: &str) -> Result<LoginResponse, ApiError> {
    let body = LoginRequest {
        username: username.trim().to_string(),
        password: password.to_string(),
        app_version: Some(APP_VERSION.to_string()),
    };
    post("/api/auth/login", None, &body).await
}

/// `POST /api/auth/enrolment`: whose account an enrolment code opens.
pub async fn enrolment_info(code: &str) -> Result<EnrolmentInfo, ApiError> {
    post("/api/auth/enrolment", None, &EnrolmentLookup { code: code.to_string() }).await
}

/// `POST /api/auth/enrol`: uses the code, sets the password, signs this phone in.
pub async fn enrol(code: &str, password: &str) -> Result<LoginResponse, ApiError> {
    let body = EnrolRequest {
        code: code.to_string(),
        password: password.to_string(),
        app_version: Some(APP_VERSION.to_string()),
    };
    post("/api/auth/enrol", None, &body).await
}

pub async fn my_devices(token: &str) -> Result<DevicesResponse, ApiError> {
    get("/api/me/devices", token).await
}

pub async fn end_my_device(token: &str, id: i64) -> Result<(), ApiError> {
    let builder = Request::delete(&format!("/api/me/devices/{id}")).header("Authorization", &bearer(token));
    send(builder, None).await.map(|_| ())
}

/// `POST /api/me/sign-out-everywhere`: every other device; how many were signed out.
pub async fn sign_out_elsewhere(token: &str) -> Result<u64, ApiError> {
    let v: serde_json::Value = post("/api/me/sign-out-everywhere", Some(token), &serde_json::json!({})).await?;
    Ok(v["ended"].as_u64().unwrap_or(0))
}

pub async fn change_password(token: &str, current: &str, new: &str) -> Result<(), ApiError> {
    let body = ChangePasswordRequest { current_password: current.to_string(), new_password: new.to_string() };
    let _: serde_json::Value = post("/api/me/password", Some(token), &body).await?;
    Ok(())
}

pub async fn logout(token: &str) -> Result<(), ApiError> {
    send(Request::post("/api/auth/logout").header("Authorization", &bearer(token)), None).await.map(|_| ())
}

pub async fn plans(token: &str) -> Result<PlansResponse, ApiError> {
    get("/api/plans", token).await
}

pub async fn units(token: &str) -> Result<UnitsResponse, ApiError> {
    get("/api/units", token).await
}

pub async fn tasks(token: &str) -> Result<TasksResponse, ApiError> {
    get("/api/tasks", token).await
}

pub async fn form(token: &str, plan_id: &str) -> Result<danvan_core::api::FormResponse, ApiError> {
    get(&format!("/api/forms/{plan_id}"), token).await
}

/// `POST /api/sync/push`. A 403 still carries the per-mutation results (a refused
/// mutation is recorded on the server and must be taken in, not retried forever).
pub async fn push(token: &str, body: &PushRequest) -> Result<PushResponse, ApiError> {
    let json = serde_json::to_string(body).map_err(|_| ApiError::Decode)?;
    let builder = Request::post("/api/sync/push").header("Authorization", &bearer(token));
    let body = if json.len() > GZIP_ABOVE {
        match crate::web::gzip(json.as_bytes()).await {
            Some(bytes) => Body::GzipJson(bytes),
            None => Body::Json(json),
        }
    } else {
        Body::Json(json)
    };
    let (status, text) = send_body(builder, Some(body), TIMEOUT_MS).await?;
    if (200..300).contains(&status) {
        return decode(text);
    }
    if status == 403 {
        if let Ok(response) = serde_json::from_str::<PushResponse>(&text) {
            return Ok(response);
        }
    }
    Err(error_for(status, &text))
}

pub async fn pull(token: &str, body: &PullRequest) -> Result<PullResponse, ApiError> {
    post("/api/sync/pull", Some(token), body).await
}

/// Uploads a photo's bytes (idempotent: the same id and hash again is accepted).
pub async fn upload_attachment(
    token: &str,
    attachment: &AttachmentRef,
    report_id: &str,
    blob: &web_sys::Blob,
) -> Result<(), ApiError> {
    // The id came from this phone's storage, which a restored backup file fills:
    // never put an id that is not a plain one into a URL.
    if !is_plain_id(&attachment.id) {
        return Err(invalid_attachment_id());
    }
    let path = format!("/api/attachments/{}?report={}", attachment.id, js_sys::encode_uri_component(report_id));
    let controller = web_sys::AbortController::new().map_err(|_| ApiError::Network)?;
    let request = Request::put(&path)
        .header("Authorization", &bearer(token))
        .header("Content-Type", &attachment.mime)
        .header("X-Content-SHA256", &attachment.sha256)
        .abort_signal(Some(&controller.signal()))
        .body(JsValue::from(blob.clone()))
        .map_err(|_| ApiError::Network)?;
    // Photos are bigger than JSON: give them longer on 2G.
    let timeout = gloo_timers::callback::Timeout::new(TIMEOUT_MS * 4, move || controller.abort());
    let response = request.send().await.map_err(|_| ApiError::Network);
    drop(timeout);
    let response = response?;
    let status = response.status();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let text = response.text().await.unwrap_or_default();
    Err(error_for(status, &text))
}

/// A refusal made on the phone, before any request: the id of a photo is not a
/// plain one (`danvan_core::report::is_plain_id`).
fn invalid_attachment_id() -> ApiError {
    ApiError::Server {
        status: 400, code: "invalid_id".into(), message: "Mã tệp đính kèm không hợp lệ".into()
    }
}

/// A photo's bytes. The id comes from a report the server sent (checked there
/// when it was saved), and is checked again here before it becomes a URL.
pub async fn download_attachment(token: &str, id: &str) -> Result<web_sys::Blob, ApiError> {
    if !is_plain_id(id) {
        return Err(invalid_attachment_id());
    }
    let response = Request::get(&format!("/api/attachments/{id}"))
        .header("Authorization", &bearer(token))
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    if !response.ok() {
        return Err(ApiError::Server { status: response.status(), code: "download".into(), message: String::new() });
    }
    let bytes = response.binary().await.map_err(|_| ApiError::Network)?;
    let mime = response.headers().get("content-type").unwrap_or_default();
    crate::web::bytes_to_blob(&bytes, &mime).map_err(|_| ApiError::Decode)
}

/// `plan=&period=&unit=` for the dashboard, consolidation and export endpoints.
fn scope_query(plan_id: &str, period: &str, unit_id: Option<&str>) -> String {
    let mut q =
        format!("plan={}&period={}", js_sys::encode_uri_component(plan_id), js_sys::encode_uri_component(period));
    if let Some(u) = unit_id {
        q.push_str("&unit=");
        q.push_str(&String::from(js_sys::encode_uri_component(u)));
    }
    q
}

/// `GET /api/dashboard`: completeness and timeliness of a unit's subtree for one
/// period (`unit` None: the caller's default unit).
pub async fn dashboard(
    token: &str,
    plan_id: &str,
    period: &str,
    unit_id: Option<&str>,
) -> Result<danvan_core::api::DashboardResponse, ApiError> {
    get(&format!("/api/dashboard?{}", scope_query(plan_id, period, unit_id)), token).await
}

/// `GET /api/consolidation`: the accepted reports below a unit, summed.
pub async fn consolidation(
    token: &str,
    plan_id: &str,
    period: &str,
    unit_id: &str,
) -> Result<danvan_core::api::ConsolidationResponse, ApiError> {
    get(&format!("/api/consolidation?{}", scope_query(plan_id, period, Some(unit_id))), token).await
}

/// A file from the server, for "Tải về".
pub struct Download {
    pub blob: web_sys::Blob,
    /// From `Content-Disposition`, when the server names the file.
    pub file_name: Option<String>,
}

/// `GET /api/exports/consolidation.{docx|xlsx|csv}`: the consolidation as a file.
/// Fetched with the bearer token (a plain link could not carry it).
pub async fn export_consolidation(
    token: &str,
    extension: &str,
    plan_id: &str,
    period: &str,
    unit_id: &str,
) -> Result<Download, ApiError> {
    let path = format!("/api/exports/consolidation.{extension}?{}", scope_query(plan_id, period, Some(unit_id)));
    download_file(token, &path).await
}

/// A file from the API (an export, a template), fetched with the bearer token (a
/// plain link could not carry it).
pub async fn download_file(token: &str, path: &str) -> Result<Download, ApiError> {
    let controller = web_sys::AbortController::new().map_err(|_| ApiError::Network)?;
    let request = Request::get(path)
        .header("Authorization", &bearer(token))
        .abort_signal(Some(&controller.signal()))
        .build()
        .map_err(|_| ApiError::Network)?;
    // A document is bigger than JSON: give it longer on 2G.
    let timeout = gloo_timers::callback::Timeout::new(TIMEOUT_MS * 4, move || controller.abort());
    let result = async {
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        let status = response.status();
        if !(200..300).contains(&status) {
            let text = response.text().await.map_err(|_| ApiError::Network)?;
            return Err(error_for(status, &text));
        }
        let mime = response.headers().get("content-type").unwrap_or_default();
        let file_name = response.headers().get("content-disposition").as_deref().and_then(disposition_file_name);
        let bytes = response.binary().await.map_err(|_| ApiError::Network)?;
        let blob = crate::web::bytes_to_blob(&bytes, &mime).map_err(|_| ApiError::Decode)?;
        Ok(Download { blob, file_name })
    }
    .await;
    drop(timeout);
    result
}

/// The file name of `Content-Disposition: attachment; filename="…"; filename*=UTF-8''…`,
/// preferring the UTF-8 one (Vietnamese names).
fn disposition_file_name(header: &str) -> Option<String> {
    let mut plain = None;
    for part in header.split(';').map(str::trim) {
        if let Some(v) = part.strip_prefix("filename*=") {
            let encoded = v.split_once("''").map(|(_, e)| e).unwrap_or(v);
            if let Ok(decoded) = js_sys::decode_uri_component(encoded) {
                let name = String::from(decoded);
                if !name.is_empty() {
                    return Some(name);
                }
            }
        } else if let Some(v) = part.strip_prefix("filename=") {
            let v = v.trim_matches('"');
            if !v.is_empty() {
                plain = Some(v.to_string());
            }
        }
    }
    plain
}

// ---------------------------------------------------------------------------
// Review history, III.1 implementation plans and "Dân vận khéo" models.

pub use danvan_core::api::{Revision, RevisionsResponse};

fn uri(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

/// Sends a JSON body with `method` and ignores the answer's body (the screens
/// fetch the list again, which is the one shape they read).
async fn send_json_ignoring_body<B: Serialize>(builder: RequestBuilder, token: &str, body: &B) -> Result<(), ApiError> {
    let json = serde_json::to_string(body).map_err(|_| ApiError::Decode)?;
    send(builder.header("Authorization", &bearer(token)), Some(json)).await.map(|_| ())
}

/// `GET /api/reports/{id}/revisions`.
/// The newest page of a report's history; `before` a version: the page before it.
pub async fn report_revisions(
    token: &str,
    report_id: &str,
    before: Option<u64>,
) -> Result<RevisionsResponse, ApiError> {
    let page = before.map(|b| format!("?before={b}")).unwrap_or_default();
    get(&format!("/api/reports/{}/revisions{page}", uri(report_id)), token).await
}

/// `GET /api/implementation-plans?plan=&unit=`: the subtree's III.1 plans.
pub async fn implementation_plans(
    token: &str,
    plan_id: &str,
    unit_id: &str,
) -> Result<danvan_core::api::ImplementationPlansResponse, ApiError> {
    get(&format!("/api/implementation-plans?plan={}&unit={}", uri(plan_id), uri(unit_id)), token).await
}

/// `PUT /api/implementation-plans/{plan}/{unit}`: the unit records its document.
pub async fn save_implementation_plan(
    token: &str,
    plan_id: &str,
    unit_id: &str,
    input: &danvan_core::api::ImplementationPlanInput,
) -> Result<(), ApiError> {
    let path = format!("/api/implementation-plans/{}/{}", uri(plan_id), uri(unit_id));
    send_json_ignoring_body(Request::put(&path), token, input).await
}

/// `PUT /api/implementation-plans/{plan}/{unit}/file?name=`: the document itself.
pub async fn upload_implementation_plan_file(
    token: &str,
    plan_id: &str,
    unit_id: &str,
    name: &str,
    mime: &str,
    blob: &web_sys::Blob,
) -> Result<(), ApiError> {
    let path = format!("/api/implementation-plans/{}/{}/file?name={}", uri(plan_id), uri(unit_id), uri(name));
    let controller = web_sys::AbortController::new().map_err(|_| ApiError::Network)?;
    let request = Request::put(&path)
        .header("Authorization", &bearer(token))
        .header("Content-Type", mime)
        .abort_signal(Some(&controller.signal()))
        .body(JsValue::from(blob.clone()))
        .map_err(|_| ApiError::Network)?;
    // A scanned document is bigger than JSON: give it longer on 2G.
    let timeout = gloo_timers::callback::Timeout::new(TIMEOUT_MS * 4, move || controller.abort());
    let result = async {
        let response = request.send().await.map_err(|_| ApiError::Network)?;
        let status = response.status();
        let text = response.text().await.map_err(|_| ApiError::Network)?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(error_for(status, &text))
        }
    }
    .await;
    drop(timeout);
    result
}

/// `GET /api/models?plan=&unit=`: the "Dân vận khéo" register over the subtree.
pub async fn movement_models(
    token: &str,
    plan_id: &str,
    unit_id: &str,
) -> Result<danvan_core::api::ModelsResponse, ApiError> {
    get(&format!("/api/models?plan={}&unit={}", uri(plan_id), uri(unit_id)), token).await
}

/// `POST /api/models`: the caller's unit registers a model.
pub async fn register_model(token: &str, model: &danvan_core::api::NewModel) -> Result<(), ApiError> {
    send_json_ignoring_body(Request::post("/api/models"), token, model).await
}

/// `POST /api/models/{id}/recognise` (`step` = "recognise") or `/commend`.
pub async fn model_step(
    token: &str,
    model_id: i64,
    step: &str,
    body: &danvan_core::api::ModelStep,
) -> Result<(), ApiError> {
    send_json_ignoring_body(Request::post(&format!("/api/models/{model_id}/{step}")), token, body).await
}
