//! The HTTP client for the server's JSON API (same origin).

use danvan_core::api::{ErrorBody, LoginRequest, LoginResponse, PlansResponse, TasksResponse, UnitsResponse};
use danvan_core::report::AttachmentRef;
use danvan_core::sync::{PullRequest, PullResponse, PushRequest, PushResponse};
use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// How long a request may take before we call the network down. 2G round trips
/// can take seconds; a hung request must not leave the screen spinning forever.
const TIMEOUT_MS: u32 = 30_000;

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
    send_body(builder, body.map(Body::Json)).await
}

enum Body {
    Json(String),
    /// JSON, gzipped (`Content-Encoding: gzip`).
    GzipJson(Vec<u8>),
}

async fn send_body(builder: RequestBuilder, body: Option<Body>) -> Result<(u16, String), ApiError> {
    // AbortController gives fetch the timeout it lacks; aborting also fails a body
    // read that is still in progress.
    let controller = web_sys::AbortController::new().map_err(|_| ApiError::Network)?;
    let builder = builder.abort_signal(Some(&controller.signal()));
    let request = match body {
        Some(Body::Json(json)) => builder.header("Content-Type", "application/json").body(json),
        Some(Body::GzipJson(bytes)) => builder
            .header("Content-Type", "application/json")
            .header("Content-Encoding", "gzip")
            .body(JsValue::from(js_sys::Uint8Array::from(bytes.as_slice()))),
        None => builder.build(),
    }
    .map_err(|_| ApiError::Network)?;
    let timeout = gloo_timers::callback::Timeout::new(TIMEOUT_MS, move || controller.abort());
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
fn error_for(status: u16, text: &str) -> ApiError {
    let detail = serde_json::from_str::<ErrorBody>(text).ok().map(|b| b.error);
    match (status, detail) {
        (401, Some(d)) => ApiError::Unauthorized(d.message),
        (401, None) => ApiError::Unauthorized("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.".into()),
        (_, Some(d)) => ApiError::Server { status, code: d.code, message: d.message },
        // A proxy or captive portal answered instead of our server.
        (_, None) => ApiError::Network,
    }
}

async fn send(builder: RequestBuilder, body: Option<String>) -> Result<String, ApiError> {
    let (status, text) = send_raw(builder, body).await?;
    if (200..300).contains(&status) {
        Ok(text)
    } else {
        Err(error_for(status, &text))
    }
}

fn decode<T: DeserializeOwned>(text: String) -> Result<T, ApiError> {
    serde_json::from_str(&text).map_err(|_| ApiError::Decode)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn get<T: DeserializeOwned>(path: &str, token: &str) -> Result<T, ApiError> {
    decode(send(Request::get(path).header("Authorization", &bearer(token)), None).await?)
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, token: Option<&str>, body: &B) -> Result<T, ApiError> {
    let mut builder = Request::post(path);
    if let Some(t) = token {
        builder = builder.header("Authorization", &bearer(t));
    }
    let json = serde_json::to_string(body).map_err(|_| ApiError::Decode)?;
    decode(send(builder, Some(json)).await?)
}

pub async fn login(username: &str, password: &str) -> Result<LoginResponse, ApiError> {
    let body = LoginRequest { username: username.trim().to_string(), password: password.to_string() };
    post("/api/auth/login", None, &body).await
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
    let (status, text) = send_body(builder, Some(body)).await?;
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

pub async fn download_attachment(token: &str, id: &str) -> Result<web_sys::Blob, ApiError> {
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
