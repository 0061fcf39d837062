//! The built web app (`DANVAN_DIST`) at `/`: precompressed `.br`/`.gz` variants,
//! SPA fallback to `index.html`, and cache headers that let hashed assets live
//! forever while the shell (`index.html`, `sw.js`, the manifest) is always revalidated.

use std::path::Path;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
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

    // Client-side routes get the app shell: any extensionless path (`/nhiem-vu`,
    // `/bao-cao/2024-03`), and any path at all when the browser is navigating
    // (`Accept: text/html`), since deep links such as `/ke-hoach/III.1` end in
    // what looks like an extension. A missing *file* fetched by a script or a
    // stale service worker (an old hashed `.js`/`.wasm`, `Accept: */*`) stays a
    // 404 rather than HTML posing as JS.
    let missing = res.status() == StatusCode::NOT_FOUND && (method == Method::GET || method == Method::HEAD);
    let spa = missing && (!has_extension(&path) || accepts_html(&parts.headers));
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
    if missing && has_extension(&path) {
        // Shell or 404 depended on `Accept`.
        headers.append(header::VARY, HeaderValue::from_static("accept"));
    }
    res
}

/// Whether the request is a browser navigation: its `Accept` asks for HTML
/// (`text/html,application/xhtml+xml,...`). Scripts, `fetch` and service-worker
/// asset requests send `*/*` or a specific non-HTML type.
fn accepts_html(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|item| {
            let mut params = item.split(';');
            let media = params.next().unwrap_or("").trim();
            // `text/html;q=0` means "not HTML".
            let refused = params.any(|p| {
                p.trim().split_once('=').is_some_and(|(k, q)| {
                    k.trim().eq_ignore_ascii_case("q") && q.trim().parse::<f32>().is_ok_and(|q| q <= 0.0)
                })
            });
            media.eq_ignore_ascii_case("text/html") && !refused
        })
    })
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
    fn browser_navigations_accept_html() {
        let accept = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
            accepts_html(&h)
        };
        assert!(accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"));
        assert!(accept("TEXT/HTML"));
        assert!(accept("application/xml, text/html ;q=0.5"));
        assert!(!accept("*/*"));
        assert!(!accept("application/javascript, */*;q=0.8"));
        assert!(!accept("text/html;q=0, */*"));
        assert!(!accept("text/htmlx"));
        assert!(!accepts_html(&HeaderMap::new()));
    }

    #[test]
    fn spa_routes_have_no_extension() {
        assert!(!has_extension("/nhiem-vu"));
        assert!(!has_extension("/"));
        assert!(!has_extension("/bao-cao/2024.03/x"));
        assert!(has_extension("/danvan-app-0123456789abcdef.js"));
    }
}
