//! Attachment bytes: `PUT /api/attachments/{id}?report={report_id}` and
//! `GET /api/attachments/{id}`. The report only carries an `AttachmentRef`; the
//! bytes travel here, up to `MAX_ATTACHMENT_BYTES`, under their own body limit.

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{SubsecRound, Utc};
use danvan_core::report::{ReportKey, MAX_ATTACHMENTS_PER_REPORT, MAX_ATTACHMENT_BYTES};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::Binary;
use danvan_core::api::ErrorBody;
use sha2::{Digest, Sha256};

use crate::access::{may_see_data_of, may_write_report_of};
use crate::auth::AuthUser;
use crate::error::{error_response, AppError};
use crate::state::AppState;
use crate::store::{NewAttachment, Stored, UploadLimits};
use crate::sync::{is_plain_id, report_form};

/// The body limit of the upload route (the rest of the API keeps 1 MiB).
pub const BODY_LIMIT: usize = MAX_ATTACHMENT_BYTES as usize;

/// What may be uploaded (`danvan_core::report::ATTACHMENT_TYPES`).
pub use danvan_core::report::ATTACHMENT_TYPES as ALLOWED_TYPES;

/// The SHA-256 (hex) of the body, sent by the client and checked here.
pub const SHA256_HEADER: &str = "x-content-sha256";

/// Uploads kept per report: its attachments, and as many again replaced or
/// removed (the sweep in `maintenance.rs` takes those after a while).
pub const MAX_UPLOADS_PER_REPORT: u64 = 2 * MAX_ATTACHMENTS_PER_REPORT as u64;

pub const MSG_TOO_LARGE: &str = "Tệp đính kèm quá lớn (tối đa 3 MiB)";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The report the file belongs to, `plan~unit~period` (400 `invalid_report`
    /// when missing or malformed).
    #[serde(default)]
    #[param(required = true, pattern = "^[^~]+~[^~]+~(19[0-9]{2}|[2-9][0-9]{3})(-(0[1-9]|1[0-2]))?$")]
    pub report: Option<String>,
}

/// The `X-Content-SHA256` header of an upload.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
struct UploadHeaders {
    /// SHA-256 of the body, 64 hex digits (400 `missing_hash` when missing or
    /// malformed, `hash_mismatch` when it is not the body's).
    #[param(rename = "X-Content-SHA256", pattern = "^[0-9A-Fa-f]{64}$")]
    x_content_sha256: String,
}

/// Answer to an upload (201 when stored now, 200 when it already was).
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadResponse {
    pub id: String,
    pub report_id: String,
    pub mime: String,
    pub size: u64,
    pub sha256: String,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn bad(code: &'static str, message: &'static str) -> AppError {
    AppError::coded(StatusCode::BAD_REQUEST, code, message)
}

/// The media type without parameters, lowercase, if it is one we take.
pub fn allowed_type(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next()?.trim().to_ascii_lowercase();
    ALLOWED_TYPES.iter().copied().find(|t| *t == essence)
}

pub fn claimed_sha256(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(SHA256_HEADER)?.to_str().ok()?.trim();
    (value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| value.to_ascii_lowercase())
}

/// Checks everything that can be checked from the head before reading the body.
#[utoipa::path(
    put, path = "/attachments/{id}", tag = "attachments",
    params(
        ("id" = String, Path, description = "Made on the device (the `AttachmentRef`'s id): 1–64 ASCII letters, digits, `_` or `-` (400 `invalid_id`)", pattern = "^[A-Za-z0-9_-]{1,64}$"),
        UploadQuery,
        UploadHeaders,
    ),
    request_body(
        description = "The bytes, 1 byte to 3 MiB, as the media type says",
        content(
            (Binary = "image/jpeg"),
            (Binary = "image/png"),
            (Binary = "image/webp"),
            (Binary = "application/pdf"),
        ),
    ),
    responses(
        (status = 200, description = "Already stored with the same bytes", body = UploadResponse),
        (status = 201, description = "Stored", body = UploadResponse),
        (status = 400, description = "`invalid_id`, `invalid_report` (not a report id, or a report the plan does not ask this unit for), `missing_hash`, `empty`, `hash_mismatch` (resend) or `bad_request`", body = ErrorBody),
        (status = 403, description = "Not a report of the caller's own unit (`forbidden`)", body = ErrorBody),
        (status = 409, description = "The id is taken by other bytes (`conflict`); the report already has 40 uploads (`report_quota`); the unit's attachment space is used up (`unit_quota`, `DANVAN_UNIT_ATTACHMENT_MB`)", body = ErrorBody),
        (status = 413, description = "Over 3 MiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not JPEG, PNG, WebP or PDF (`unsupported_media_type`)", body = ErrorBody),
    )
)]
pub async fn upload(
    auth: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<UploadQuery>,
    request: Request,
) -> Result<Response, AppError> {
    if !is_plain_id(&id) {
        return Err(bad("invalid_id", "Mã tệp đính kèm không hợp lệ (1–64 ký tự chữ, số, _ hoặc -)"));
    }
    let report_id = query.report.unwrap_or_default();
    let key = ReportKey::parse_id(&report_id)
        .ok_or_else(|| bad("invalid_report", "Thiếu hoặc sai mã báo cáo (?report=kế-hoạch~đơn-vị~kỳ)"))?;
    let headers = request.headers();
    let mime = allowed_type(headers).ok_or_else(|| {
        AppError::coded(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Chỉ nhận ảnh JPEG, PNG, WebP hoặc tệp PDF",
        )
    })?;
    let claimed = claimed_sha256(headers)
        .ok_or_else(|| bad("missing_hash", "Thiếu tiêu đề X-Content-SHA256 (SHA-256 của tệp, dạng hex)"))?;
    if !may_write_report_of(&auth.user, &key.unit_id) || state.catalog().tree.get(&key.unit_id).is_none() {
        return Err(AppError::Forbidden("Bạn chỉ được đính kèm tệp vào báo cáo của đơn vị mình".into()));
    }
    // Only for a report that can exist (the plan asks this unit for this period):
    // bytes filed under a report nobody will ever send would only fill the disk.
    if let Err(problem) = report_form(&state.catalog(), &key) {
        return Err(AppError::coded(StatusCode::BAD_REQUEST, "invalid_report", problem));
    }
    let data = Bytes::from_request(request, &state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::coded(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", MSG_TOO_LARGE)
        } else {
            bad("bad_request", "Không đọc được nội dung tệp gửi lên")
        }
    })?;
    if data.is_empty() {
        return Err(bad("empty", "Tệp đính kèm rỗng"));
    }
    let sha256 = hex(&Sha256::digest(&data));
    if sha256 != claimed {
        return Err(bad("hash_mismatch", "Tệp nhận được không khớp mã SHA-256 đã gửi; hãy gửi lại"));
    }
    let new = NewAttachment {
        id: &id,
        report_id: &report_id,
        unit_id: &key.unit_id,
        mime,
        sha256: &sha256,
        data: &data,
        uploaded_by: auth.user.id,
        at: Utc::now().trunc_subsecs(0),
    };
    let limits = UploadLimits { unit_bytes: state.unit_attachment_bytes, per_report: MAX_UPLOADS_PER_REPORT };
    let status = match state.store.put_attachment(&new, limits).await? {
        Stored::Created => StatusCode::CREATED,
        Stored::AlreadyThere => StatusCode::OK,
        Stored::Different => {
            return Err(AppError::coded(StatusCode::CONFLICT, "conflict", "Mã tệp này đã được dùng cho một tệp khác"))
        }
        Stored::UnitFull => {
            return Err(AppError::coded(
                StatusCode::CONFLICT,
                "unit_quota",
                format!(
                    "Đơn vị đã dùng hết dung lượng tệp đính kèm ({} MiB); hãy báo quản trị hệ thống",
                    state.unit_attachment_bytes / (1024 * 1024)
                ),
            ))
        }
        Stored::ReportFull => {
            return Err(AppError::coded(
                StatusCode::CONFLICT,
                "report_quota",
                format!("Báo cáo này đã có {MAX_UPLOADS_PER_REPORT} tệp tải lên; hãy gỡ bớt ảnh không dùng"),
            ))
        }
    };
    let body = UploadResponse { id, report_id, mime: mime.to_string(), size: data.len() as u64, sha256 };
    Ok((status, Json(body)).into_response())
}

/// The bytes with their media type, to whoever may see the unit's reports.
#[utoipa::path(
    get, path = "/attachments/{id}", tag = "attachments",
    params(("id" = String, Path, description = "The attachment's id")),
    responses(
        (status = 200, description = "The bytes with their media type; `X-Content-SHA256` and `ETag` carry their hash", content(
            (Binary = "image/jpeg"),
            (Binary = "image/png"),
            (Binary = "image/webp"),
            (Binary = "application/pdf"),
        )),
        (status = 403, description = "The caller may not see the unit's reports (`forbidden`)", body = ErrorBody),
        (status = 404, description = "No such attachment (`not_found`)", body = ErrorBody),
    )
)]
pub async fn download(
    auth: AuthUser,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let not_found = || AppError::NotFound("Không tìm thấy tệp đính kèm".into());
    let meta = state.store.attachment_meta(&id).await?.ok_or_else(not_found)?;
    if !may_see_data_of(&state.catalog().tree, &auth.user, &meta.unit_id) {
        return Err(AppError::Forbidden("Bạn không có quyền xem tệp đính kèm này".into()));
    }
    let data = state.store.attachment_data(&id).await?.ok_or_else(not_found)?;
    let value = |s: &str| HeaderValue::from_str(s).map_err(AppError::internal);
    let headers = [
        (header::CONTENT_TYPE, value(&meta.mime)?),
        (HeaderName::from_static(SHA256_HEADER), value(&meta.sha256)?),
        (header::ETAG, value(&format!("\"{}\"", meta.sha256))?),
        // Serve what was uploaded as what it was declared, never sniffed into
        // something a browser would run.
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    ];
    Ok((headers, data).into_response())
}

/// The upload route's 413s (from the body limit layer, before the handler runs)
/// name the attachment limit rather than the API's 1 MiB.
pub async fn too_large_json(res: Response) -> Response {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", MSG_TOO_LARGE);
    }
    res
}
