//! Security headers on every response of `app()`: a Content-Security-Policy that
//! lets the wasm app run and nothing else, and the usual browser hardening.
//!
//! The web app's policy allows scripts only from this origin, WebAssembly
//! compilation (`'wasm-unsafe-eval'`), and the inline `<script>`s of the built
//! `index.html` by their SHA-256: the service-worker registration written in the
//! repository's `index.html`, and the module script `scripts/build-app.sh` writes
//! to start the wasm, whose text names the hashed files and so changes with every
//! build. The
//! hashes are therefore read from the `index.html` actually served, when it is
//! first needed and again whenever it is served as a page, so a new build copied
//! into `DANVAN_DIST` without a restart still starts. No `'unsafe-inline'` for
//! scripts or styles: the app sets no inline `style` attributes (`src/` has none)
//! and its CSS comes as files (linked by Trunk, or added by the app).
//!
//! `/api` answers are data, never documents: they get `default-src 'none'`.
//!
//! HSTS is deliberately absent: it belongs to the TLS proxy in front (see
//! docs/deploy.md); sent over plain HTTP on a LAN it would be meaningless.

use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::state::AppState;

/// The policy of everything under `/api` (JSON, exports, attachments).
pub const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Features the app never uses. Taking photos goes through
/// `<input type=file accept=image/* capture>`, which needs no permission.
pub const PERMISSIONS_POLICY: &str =
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()";

/// Index.html larger than this is not read for hashes (it is about 3 KB).
const MAX_INDEX_BYTES: usize = 1024 * 1024;

/// The web app's Content-Security-Policy, allowing the inline scripts whose
/// hashes are given (`sha256-…`, without quotes).
pub fn app_csp(script_hashes: &[String]) -> String {
    let mut script_src = String::from("'self' 'wasm-unsafe-eval'");
    for h in script_hashes {
        script_src.push_str(" '");
        script_src.push_str(h);
        script_src.push('\'');
    }
    format!(
        "default-src 'self'; script-src {script_src}; style-src 'self'; img-src 'self' blob: data:; \
         connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; \
         base-uri 'none'; form-action 'self'; object-src 'none'"
    )
}

/// `sha256-<base64>` of the text of every inline `<script>` in `html` (scripts
/// with `src` are skipped: their content never runs), in document order, without
/// duplicates.
///
/// This follows what a browser hashes: the raw text between the start tag and
/// `</script`, with line breaks normalised to `\n` as the HTML parser does first.
/// Handles what Trunk emits, minified or not: `<script type="module">` and
/// `<script type=module>`, quoted attribute values containing `>`, upper-case
/// tags, and comments (a commented-out script is not a script).
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let bytes = html.as_bytes();
    let mut hashes: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(lt) = find(bytes, i, b"<") {
        i = lt + 1;
        if bytes[lt..].starts_with(b"<!--") {
            i = find(bytes, lt + 4, b"-->").map_or(bytes.len(), |end| end + 3);
            continue;
        }
        if !starts_with_tag(bytes, lt + 1, b"script") {
            continue;
        }
        let Some((tag_end, has_src)) = parse_start_tag(bytes, lt + 1 + b"script".len()) else { break };
        let text_start = tag_end + 1;
        let text_end = find_close_script(bytes, text_start).unwrap_or(bytes.len());
        i = text_end;
        if has_src {
            continue;
        }
        let text = html[text_start..text_end].replace("\r\n", "\n").replace('\r', "\n");
        let digest = Sha256::digest(text.as_bytes());
        let hash = format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(digest));
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
    }
    hashes
}

fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// Whether `bytes[at..]` is the tag name `name` (any case) followed by the end
/// of the name.
fn starts_with_tag(bytes: &[u8], at: usize, name: &[u8]) -> bool {
    bytes.get(at..at + name.len()).is_some_and(|n| n.eq_ignore_ascii_case(name))
        && matches!(bytes.get(at + name.len()), Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>'))
}

/// From just after `<script`: the index of the `>` closing the start tag and
/// whether a `src` attribute is present.
fn parse_start_tag(bytes: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut has_src = false;
    loop {
        while matches!(bytes.get(i)?, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/') {
            i += 1;
        }
        if bytes[i] == b'>' {
            return Some((i, has_src));
        }
        let name_start = i;
        while !matches!(bytes.get(i)?, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>' | b'=') {
            i += 1;
        }
        has_src |= bytes[name_start..i].eq_ignore_ascii_case(b"src");
        while matches!(bytes.get(i)?, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
            i += 1;
        }
        if bytes[i] != b'=' {
            continue;
        }
        i += 1;
        while matches!(bytes.get(i)?, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') {
            i += 1;
        }
        match bytes[i] {
            quote @ (b'"' | b'\'') => i = find(bytes, i + 1, &[quote])? + 1,
            _ => {
                while !matches!(bytes.get(i)?, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'>') {
                    i += 1;
                }
            }
        }
    }
}

/// The start of the `</script` ending a script's text.
fn find_close_script(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let at = find(bytes, i, b"</")?;
        if starts_with_tag(bytes, at + 2, b"script") {
            return Some(at);
        }
        i = at + 2;
    }
}

/// Sets the headers every response gets, whatever the policy.
fn insert_common(headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin"));
    headers.insert(HeaderName::from_static("cross-origin-resource-policy"), HeaderValue::from_static("same-origin"));
    headers.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS_POLICY));
}

/// The headers of an API answer (also used by `serve` for the errors it writes
/// itself, outside `app()`).
pub fn insert_api_headers(headers: &mut HeaderMap) {
    insert_common(headers);
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(API_CSP));
}

/// The middleware's state: the app's policy as last computed from the served
/// `index.html`.
#[derive(Clone)]
pub struct SecurityHeaders {
    state: AppState,
    app_csp: Arc<RwLock<Option<HeaderValue>>>,
}

impl SecurityHeaders {
    pub fn new(state: AppState) -> SecurityHeaders {
        SecurityHeaders { state, app_csp: Arc::new(RwLock::new(None)) }
    }

    /// The app's policy; read again from `index.html` when `refresh` or never read.
    async fn app_csp(&self, refresh: bool) -> HeaderValue {
        if !refresh {
            if let Some(v) = self.app_csp.read().unwrap_or_else(|e| e.into_inner()).clone() {
                return v;
            }
        }
        let hashes = match self.served_index().await {
            Some(html) => inline_script_hashes(&html),
            None => Vec::new(),
        };
        let value = HeaderValue::from_str(&app_csp(&hashes)).expect("the policy is ASCII");
        *self.app_csp.write().unwrap_or_else(|e| e.into_inner()) = Some(value.clone());
        value
    }

    /// `index.html` as `static_files` serves it (uncompressed), so the hashes are
    /// of exactly what browsers get.
    async fn served_index(&self) -> Option<String> {
        let req = Request::builder()
            .method(Method::GET)
            .uri("/index.html")
            .header(header::ACCEPT_ENCODING, "identity")
            .body(Body::empty())
            .expect("a valid request");
        let res = crate::static_files::serve(State(self.state.clone()), req).await;
        if res.status() != StatusCode::OK {
            tracing::warn!(status = %res.status(), "không đọc được index.html để tính mã băm CSP");
            return None;
        }
        let bytes = axum::body::to_bytes(res.into_body(), MAX_INDEX_BYTES).await.ok()?;
        String::from_utf8(bytes.to_vec()).ok()
    }
}

/// The middleware, outermost in `app()`: covers pages, assets, the API, its
/// errors and 404s.
pub async fn add(State(sh): State<SecurityHeaders>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let api = path == "/api" || path.starts_with("/api/");
    let mut res = next.run(req).await;
    if api {
        insert_api_headers(res.headers_mut());
        return res;
    }
    // A page (the app shell) may come from a new build: hash what is served now.
    // 304 too: the browser keeps its copy but takes the new headers.
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let csp = sh.app_csp(is_html || res.status() == StatusCode::NOT_MODIFIED).await;
    let headers = res.headers_mut();
    insert_common(headers);
    headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(text: &str) -> String {
        format!("sha256-{}", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes())))
    }

    #[test]
    fn known_hash() {
        // The value browsers print for `<script>alert(1)</script>`.
        assert_eq!(
            inline_script_hashes("<script>alert(1)</script>"),
            ["sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI="]
        );
    }

    #[test]
    fn what_trunk_emits() {
        // Trunk 0.22's injected initialiser (src/pipelines/rust/output.rs), after
        // the repository's own inline script, and its preload links.
        let module = "\nimport init, * as bindings from '/danvan-app-0123456789abcdef.js';\n\
                      const wasm = await init({ module_or_path: '/danvan-app-0123456789abcdef_bg.wasm' });\n";
        let html = format!(
            "<!DOCTYPE html><html><head>\
             <link rel=\"modulepreload\" href=\"/danvan-app-0123456789abcdef.js\" crossorigin=\"anonymous\" integrity=\"sha384-x\">\
             </head><body><script>\n  if (\"serviceWorker\" in navigator) {{}}\n</script>\
             <script type=\"module\">{module}</script></body></html>"
        );
        assert_eq!(inline_script_hashes(&html), [sha("\n  if (\"serviceWorker\" in navigator) {}\n"), sha(module)]);
        // Minified (`minify = "on_release"`): unquoted attributes, no spaces.
        let min = "<body><script>navigator.serviceWorker</script><script type=module>import init from\"/a.js\";await init()</script>";
        assert_eq!(
            inline_script_hashes(min),
            [sha("navigator.serviceWorker"), sha("import init from\"/a.js\";await init()")]
        );
    }

    #[test]
    fn attributes_comments_case_and_line_breaks() {
        let html = "<!-- <script>commented()</script> -->\
                    <SCRIPT nonce=\"a>b\" data-x='</script>'>one()</SCRIPT >\
                    <script src=\"/ext.js\"></script>\
                    <script defer src=/ext2.js>ignored()</script>\
                    <scripts>not a script</scripts>\
                    <script>a()\r\nb()\rc()</script>\
                    <script>one()</script>";
        assert_eq!(inline_script_hashes(html), [sha("one()"), sha("a()\nb()\nc()")]);
        assert_eq!(inline_script_hashes("<script>unterminated("), [sha("unterminated(")]);
        assert!(inline_script_hashes("<p>no scripts</p><script").is_empty());
    }

    #[test]
    fn policy_text() {
        let csp = app_csp(&["sha256-abc=".to_string()]);
        assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-abc='; "), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        for directive in ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "connect-src 'self'"] {
            assert!(csp.contains(directive), "{directive}: {csp}");
        }
    }
}
