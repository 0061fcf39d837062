//! Every API error is JSON: `{"error": {"code": "...", "message": "..."}}` with a
//! stable English code for programs and a Vietnamese message for people.

use std::borrow::Cow;

use axum::extract::rejection::JsonRejection;
use axum::extract::FromRequest;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use danvan_core::api::{ErrorBody, ErrorDetail};
use serde_json::{Map, Value};

pub type Msg = Cow<'static, str>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("unauthorized: {0}")]
    Unauthorized(Msg),
    #[error("forbidden: {0}")]
    Forbidden(Msg),
    #[error("not found: {0}")]
    NotFound(Msg),
    #[error("bad request: {0}")]
    BadRequest(Msg),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Transient: the database is busy or out of connections. The client retries.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// Anything else. Logged in full; the client only gets a generic message.
    #[error("internal: {0}")]
    Internal(String),
    /// Too many failed sign-ins (or enrolment codes): 429 with `Retry-After`.
    #[error("too many attempts, retry after {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// An error with its own stable code (`epoch_mismatch`, `hash_mismatch`, ...)
    /// and optionally more top-level fields next to `error`, e.g. the server's
    /// `epoch` on `epoch_mismatch`.
    #[error("{code}: {message}")]
    Coded { status: StatusCode, code: &'static str, message: Msg, extra: Option<Box<Map<String, Value>>> },
}

pub const MSG_UNAVAILABLE: &str = "Máy chủ đang bận, vui lòng thử lại sau ít phút";
pub const MSG_INTERNAL: &str = "Máy chủ gặp lỗi, vui lòng thử lại sau";
pub const MSG_NOT_FOUND: &str = "Không tìm thấy địa chỉ yêu cầu";
pub const MSG_TOO_LARGE: &str = "Dữ liệu gửi lên quá lớn (tối đa 1 MiB)";
pub const MSG_METHOD: &str = "Phương thức không được hỗ trợ cho địa chỉ này";

impl AppError {
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }

    pub fn coded(status: StatusCode, code: &'static str, message: impl Into<Msg>) -> AppError {
        AppError::Coded { status, code, message: message.into(), extra: None }
    }

    /// Adds a top-level field to the error body (only to [`AppError::Coded`]).
    pub fn with_field(mut self, key: &str, value: Value) -> AppError {
        if let AppError::Coded { extra, .. } = &mut self {
            extra.get_or_insert_with(Default::default).insert(key.to_string(), value);
        }
        self
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Coded { status, .. } => *status,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::BadRequest(_) => "bad_request",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
            AppError::TooManyAttempts { .. } => "too_many_attempts",
            AppError::Coded { code, .. } => code,
        }
    }

    /// What the person sees (never internal details).
    pub fn message(&self) -> Msg {
        match self {
            AppError::Unauthorized(m) | AppError::Forbidden(m) | AppError::NotFound(m) | AppError::BadRequest(m) => {
                m.clone()
            }
            AppError::PayloadTooLarge => MSG_TOO_LARGE.into(),
            AppError::MethodNotAllowed => MSG_METHOD.into(),
            AppError::Unavailable(_) => MSG_UNAVAILABLE.into(),
            AppError::Internal(_) => MSG_INTERNAL.into(),
            AppError::TooManyAttempts { retry_after_secs } => format!(
                "Bạn đã nhập sai quá nhiều lần. Vui lòng thử lại sau {} phút.",
                retry_after_secs.div_ceil(60).max(1)
            )
            .into(),
            AppError::Coded { message, .. } => message.clone(),
        }
    }
}

/// The JSON error response for a status, code and message.
pub fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody { error: ErrorDetail { code: code.to_string(), message: message.to_string() } };
    (status, axum::Json(body)).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Internal(detail) => tracing::error!(%detail, "internal error"),
            AppError::Unavailable(detail) => tracing::warn!(%detail, "temporarily unavailable"),
            _ => {}
        }
        let mut res = match &self {
            AppError::Coded { extra: Some(extra), .. } => {
                let detail = ErrorDetail { code: self.code().to_string(), message: self.message().into_owned() };
                let mut body = (**extra).clone();
                body.insert("error".into(), serde_json::to_value(detail).unwrap_or(Value::Null));
                (self.status(), axum::Json(Value::Object(body))).into_response()
            }
            _ => error_response(self.status(), self.code(), &self.message()),
        };
        match self {
            AppError::Unavailable(_) => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            AppError::TooManyAttempts { retry_after_secs } => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            _ => {}
        }
        res
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> AppError {
        if crate::store::is_transient(&e) {
            AppError::Unavailable(e.to_string())
        } else {
            AppError::Internal(e.to_string())
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> AppError {
        // Behind request decompression axum cannot see the limit error's type any
        // more and calls it a 400; its text still says what happened.
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE || r.body_text().contains("length limit exceeded") {
            return AppError::PayloadTooLarge;
        }
        match r {
            JsonRejection::JsonSyntaxError(_) => AppError::BadRequest("Nội dung gửi lên không phải JSON hợp lệ".into()),
            JsonRejection::JsonDataError(e) => {
                AppError::BadRequest(format!("Dữ liệu gửi lên không đúng cấu trúc: {}", e.body_text()).into())
            }
            JsonRejection::MissingJsonContentType(_) => {
                AppError::BadRequest("Yêu cầu phải có Content-Type: application/json".into())
            }
            other => AppError::BadRequest(format!("Không đọc được nội dung yêu cầu: {}", other.body_text()).into()),
        }
    }
}

/// `axum::Json` whose rejections are JSON errors too, and which reads a whole
/// number written with a fraction (`2.0`) as the integer it is: JSON has one number
/// type, and the API description's `"type": "integer"` admits `2.0` (JSON Schema
/// 2020-12), while serde refuses it for an integer field. Only a body that serde
/// refused is read a second time, so the usual path costs nothing more.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        if !json_content_type(req.headers()) {
            return Err(AppError::BadRequest("Yêu cầu phải có Content-Type: application/json".into()));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE || r.body_text().contains("length limit exceeded") {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest(format!("Không đọc được nội dung yêu cầu: {}", r.body_text()).into())
            }
        })?;
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => {
                let whole = serde_json::from_slice::<Value>(&bytes).ok().and_then(|mut v| {
                    integral_floats_to_integers(&mut v).then(|| serde_json::from_value::<T>(v).ok()).flatten()
                });
                whole.map(ApiJson).ok_or_else(|| AppError::from(rejection))
            }
        }
    }
}

/// `application/json` or `application/…+json`, as `axum::Json` requires.
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let Some(subtype) = essence.strip_prefix("application/") else { return false };
    subtype == "json" || subtype.ends_with("+json")
}

/// Replaces every float with no fractional part that an integer type can hold
/// exactly by that integer; whether anything changed.
fn integral_floats_to_integers(v: &mut Value) -> bool {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // 2^53: beyond it a float no longer spells one integer.
            if f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 {
                *v = Value::from(f as i64);
                true
            } else {
                false
            }
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, x| integral_floats_to_integers(x) | changed),
        Value::Object(map) => map.values_mut().fold(false, |changed, x| integral_floats_to_integers(x) | changed),
        _ => false,
    }
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Safety net for `/api`: any error response that is not already JSON (axum's own
/// 405, tower-http's 413, ...) is rewritten into the JSON error shape.
pub async fn json_errors(res: Response) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (code, message): (&str, &str) = match status {
        StatusCode::UNAUTHORIZED => ("unauthorized", "Bạn cần đăng nhập"),
        StatusCode::FORBIDDEN => ("forbidden", "Bạn không có quyền thực hiện thao tác này"),
        StatusCode::NOT_FOUND => ("not_found", MSG_NOT_FOUND),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", MSG_METHOD),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", MSG_TOO_LARGE),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", MSG_UNAVAILABLE),
        s if s.is_server_error() => ("internal", MSG_INTERNAL),
        _ => ("bad_request", "Yêu cầu không hợp lệ"),
    };
    let mut out = error_response(status, code, message);
    // Keep headers such as `Allow` on a 405.
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_stable() {
        let cases = [
            (AppError::Unauthorized("x".into()), 401, "unauthorized"),
            (AppError::Forbidden("x".into()), 403, "forbidden"),
            (AppError::NotFound("x".into()), 404, "not_found"),
            (AppError::BadRequest("x".into()), 400, "bad_request"),
            (AppError::PayloadTooLarge, 413, "payload_too_large"),
            (AppError::Unavailable("busy".into()), 503, "unavailable"),
            (AppError::Internal("secret detail".into()), 500, "internal"),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status().as_u16(), status);
            assert_eq!(e.code(), code);
        }
        assert!(!AppError::Internal("secret detail".into()).message().contains("secret"));
        let e = AppError::coded(StatusCode::CONFLICT, "epoch_mismatch", "x");
        assert_eq!((e.status().as_u16(), e.code()), (409, "epoch_mismatch"));
    }

    #[tokio::test]
    async fn coded_errors_carry_extra_fields_next_to_the_error() {
        let e = AppError::coded(StatusCode::CONFLICT, "epoch_mismatch", "Khác").with_field("epoch", "abc".into());
        let res = e.into_response();
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let bytes = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body, serde_json::json!({"epoch": "abc", "error": {"code": "epoch_mismatch", "message": "Khác"}}));
    }

    #[test]
    fn pool_timeout_is_transient() {
        assert!(matches!(AppError::from(sqlx::Error::PoolTimedOut), AppError::Unavailable(_)));
        assert!(matches!(AppError::from(sqlx::Error::RowNotFound), AppError::Internal(_)));
    }
}
