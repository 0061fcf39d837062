//! The web app at `/`: cache headers, SPA fallback, precompressed files.

mod common;

use common::{assert_error, TestServer, HASHED_JS, HASHED_JS_BR, HASHED_WASM, INDEX_HTML};
use reqwest::StatusCode;

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_shell_is_revalidated() {
    let (s, _dir) = TestServer::start().await;
    for path in [format!("/{HASHED_JS}"), format!("/{HASHED_WASM}")] {
        let res = s.get(&path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "cache-control").as_deref(), Some("public, max-age=31536000, immutable"), "{path}");
    }
    let wasm = s.get(&format!("/{HASHED_WASM}")).await;
    assert_eq!(header(&wasm, "content-type").as_deref(), Some("application/wasm"));

    for path in ["/", "/index.html", "/sw.js", "/manifest.webmanifest"] {
        let res = s.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "cache-control").as_deref(), Some("no-cache"), "{path}");
    }
    let root = s.get("/").await.text().await.unwrap();
    assert_eq!(root, INDEX_HTML);
}

#[tokio::test]
async fn client_routes_fall_back_to_the_app_shell() {
    let (s, _dir) = TestServer::start().await;
    for path in ["/nhiem-vu", "/bao-cao/2024-03", "/dang-nhap?next=%2Fnhiem-vu"] {
        let res = s.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "cache-control").as_deref(), Some("no-cache"), "{path}");
        assert!(header(&res, "content-type").unwrap().starts_with("text/html"), "{path}");
        assert_eq!(res.text().await.unwrap(), INDEX_HTML, "{path}");
    }
    // A missing file is a 404, never HTML posing as a script.
    let res = s.get("/danvan-app-fedcba9876543210.js").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&res, "cache-control").as_deref(), Some("no-cache"));
    // ... and the API never falls back to the shell.
    assert_error(s.get("/api/nope").await, StatusCode::NOT_FOUND, "not_found").await;
}

#[tokio::test]
async fn brotli_variant_is_served_when_accepted() {
    let (s, _dir) = TestServer::start().await;
    let path = format!("/{HASHED_JS}");
    let res = s.client.get(s.url(&path)).header("accept-encoding", "gzip, br").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-encoding").as_deref(), Some("br"));
    assert!(header(&res, "content-type").unwrap().contains("javascript"));
    assert_eq!(header(&res, "cache-control").as_deref(), Some("public, max-age=31536000, immutable"));
    assert!(header(&res, "vary").unwrap().to_ascii_lowercase().contains("accept-encoding"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), HASHED_JS_BR);

    // Without br in Accept-Encoding: the plain file.
    let res = s.client.get(s.url(&path)).header("accept-encoding", "identity").send().await.unwrap();
    assert_eq!(header(&res, "content-encoding"), None);
    assert_eq!(res.text().await.unwrap(), "export function start() {}\n");
}

/// What a browser sends when following a link or opening a bookmark.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";

#[tokio::test]
async fn deep_links_with_a_dot_serve_the_shell_to_browser_navigations() {
    let (s, _dir) = TestServer::start().await;
    for path in ["/ke-hoach/III.1", "/ke-hoach/II.3", "/ke-hoach/413.KH-UBND/III.1?tab=bao-cao"] {
        let res = s.client.get(s.url(path)).header("accept", BROWSER_ACCEPT).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&res, "cache-control").as_deref(), Some("no-cache"), "{path}");
        assert!(header(&res, "content-type").unwrap().starts_with("text/html"), "{path}");
        assert!(header(&res, "vary").unwrap().to_ascii_lowercase().contains("accept"), "{path}");
        assert_eq!(res.text().await.unwrap(), INDEX_HTML, "{path}");
    }
    let head = s.client.head(s.url("/ke-hoach/III.1")).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_eq!(head.status(), StatusCode::OK);

    // A stale hashed asset fetched by a script is still a 404, not HTML posing as JS.
    for path in ["/danvan-app-ffffffffffffffff.js", "/danvan-app-ffffffffffffffff_bg.wasm"] {
        let res = s.client.get(s.url(path)).header("accept", "*/*").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(header(&res, "cache-control").as_deref(), Some("no-cache"), "{path}");
    }
    // Existing files are served as themselves even to a navigation.
    let res = s.client.get(s.url(&format!("/{HASHED_JS}"))).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "content-type").unwrap().contains("javascript"));
    // The API never falls back to the shell, whatever the Accept header.
    let res = s.client.get(s.url("/api/ke-hoach/III.1")).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_error(res, StatusCode::NOT_FOUND, "not_found").await;
}
