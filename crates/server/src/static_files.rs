//! The built web app (`DANVAN_DIST`) at `/`: precompressed `.br`/`.gz` variants,
//! SPA fallback to `index.html`, and cache headers that let hashed assets live
//! forever while the shell (`index.html`, `sw.js`, the manifest) is always revalidated.

use std::path::Path;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

use crate::error::{AppError, MSG_NOT_FOUND};
use crate::state::AppState;

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const NO_CACHE: &str = "no-cache";

#[derive(Clone, Debug)]
pub struct StaticFiles {
    dir: ServeDir,
    index: ServeFile,
}

impl StaticFiles {
    pub fn new(dist: &Path) -> StaticFiles {
        StaticFiles {
            dir: ServeDir::new(dist).precompressed_br().precompressed_gzip(),
            index: ServeFile::new(dist.join("index.html")).precompressed_br().precompressed_gzip(),
        }
    }
}

/// The router's fallback for everything outside `/api`.
pub async fn serve(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    // `/api` and `/api/` are not matched by the nested API router: still the API.
    if path == "/api" || path.starts_with("/api/") {
        return AppError::NotFound(MSG_NOT_FOUND.into()).into_response();
    }
    let method = req.method().clone();
    let (parts, body) = req.into_parts();
    let Ok(res) = state.static_files.dir.clone().oneshot(Request::from_parts(parts.clone(), body)).await;
    let mut res = res.map(Body::new);

    // Client-side routes (`/nhiem-vu`, `/bao-cao/2024-03`) get the app shell. A
    // missing *file* (anything with an extension, e.g. an old hashed script asked
    // for by a stale service worker) stays a 404 rather than HTML posing as JS.
    let spa = res.status() == StatusCode::NOT_FOUND
        && (method == Method::GET || method == Method::HEAD)
        && !has_extension(&path);
    if spa {
        let Ok(index) = state.static_files.index.clone().oneshot(Request::from_parts(parts, Body::empty())).await;
        res = index.map(Body::new);
    }

    let ok = res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED;
    let cache = if ok && !spa && is_hashed_asset(file_name(&path)) { IMMUTABLE } else { NO_CACHE };
    let headers = res.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // The same URL may be answered with a `.br`, a `.gz` or the plain file.
    headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or("")
}

fn has_extension(path: &str) -> bool {
    file_name(path).contains('.')
}

/// Whether a file name carries a content hash the way Trunk writes them: a `-`
/// followed by at least 16 hex digits, then the extension or a `_suffix`
/// (`danvan-app-3f2a9c1b2d4e5f60.js`, `danvan-app-3f2a9c1b2d4e5f60_bg.wasm`,
/// `style-0123456789abcdef.css`).
pub fn is_hashed_asset(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.iter().enumerate().filter(|(_, &b)| b == b'-').any(|(i, _)| {
        let hex = bytes[i + 1..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        hex >= 16 && matches!(bytes.get(i + 1 + hex), Some(b'.') | Some(b'_'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        for name in [
            "danvan-app-3f2a9c1b2d4e5f60.js",
            "danvan-app-3f2a9c1b2d4e5f60_bg.wasm",
            "style-0123456789abcdef0123.css",
            "danvan-app-0123456789abcdef.js",
        ] {
            assert!(is_hashed_asset(name), "{name}");
        }
        for name in [
            "index.html",
            "sw.js",
            "manifest.webmanifest",
            "danvan-app.js",
            "icon-192.png",
            "danvan-app-3f2a9c1b.js",
            "danvan-app-3f2a9c1b2d4e5f60",
            "x-0123456789abcdefg.js",
        ] {
            assert!(!is_hashed_asset(name), "{name}");
        }
    }

    #[test]
    fn spa_routes_have_no_extension() {
        assert!(!has_extension("/nhiem-vu"));
        assert!(!has_extension("/"));
        assert!(!has_extension("/bao-cao/2024.03/x"));
        assert!(has_extension("/danvan-app-0123456789abcdef.js"));
    }
}
