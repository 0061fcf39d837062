//! The HTTP client for the server's JSON API (same origin).

use danvan_core::api::{ErrorBody, LoginRequest, LoginResponse, PlansResponse, TasksResponse, UnitsResponse};
use gloo_net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::Serialize;

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
async fn send(builder: RequestBuilder, body: Option<String>) -> Result<String, ApiError> {
    // AbortController gives fetch the timeout it lacks; aborting also fails a body
    // read that is still in progress.
    let controller = web_sys::AbortController::new().map_err(|_| ApiError::Network)?;
    let builder = builder.abort_signal(Some(&controller.signal()));
    let request = match body {
        Some(json) => builder.header("Content-Type", "application/json").body(json),
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
    let (status, text) = result?;
    if (200..300).contains(&status) {
        return Ok(text);
    }
    let detail = serde_json::from_str::<ErrorBody>(&text).ok().map(|b| b.error);
    Err(match (status, detail) {
        (401, Some(d)) => ApiError::Unauthorized(d.message),
        (401, None) => ApiError::Unauthorized("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.".into()),
        (_, Some(d)) => ApiError::Server { status, code: d.code, message: d.message },
        // A proxy or captive portal answered instead of our server.
        (_, None) => ApiError::Network,
    })
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
