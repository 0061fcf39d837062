//! The server on the open internet: connection limits (src/serve.rs) over raw TCP,
//! and the security headers (src/security_headers.rs) on every kind of response.
//! Real server, real database (SQLite or PostgreSQL), real sockets; timeouts
//! shortened to seconds.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{assert_error, Device, TestServer, HASHED_JS, INDEX_HTML, INLINE_SCRIPTS, PLAN};
use danvan_core::sync::{Mutation, MutationOp, PushRequest, PushResponse, SYNC_SCHEMA_VERSION};
use danvan_core::{Period, ReportKey};
use danvan_server::Limits;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SEC: Duration = Duration::from_secs(1);

fn limits(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

fn addr(s: &TestServer) -> SocketAddr {
    s.base.trim_start_matches("http://").parse().unwrap()
}

// --- A minimal HTTP/1.1 client over a raw socket. --------------------------------

#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }
}

struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Raw {
    async fn connect(addr: SocketAddr) -> Raw {
        Raw { stream: TcpStream::connect(addr).await.unwrap(), buf: Vec::new() }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn get(&mut self, path: &str) -> RawResponse {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes()).await;
        self.response(5 * SEC).await.expect("a response")
    }

    /// More bytes into `buf`; false on end of stream or a reset.
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
        }
    }

    /// The next response, or None if nothing arrived within `wait`.
    async fn response(&mut self, wait: Duration) -> Option<RawResponse> {
        tokio::time::timeout(wait, self.read_response()).await.ok()
    }

    async fn read_response(&mut self) -> RawResponse {
        let head_end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            assert!(
                self.fill().await,
                "connection closed before a response head: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).unwrap();
        self.buf.drain(..head_end);
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let body = if let Some(len) = find("content-length") {
            let len: usize = len.parse().unwrap();
            while self.buf.len() < len {
                assert!(self.fill().await, "connection closed inside a body");
            }
            self.buf.drain(..len).collect()
        } else if find("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            let mut body = Vec::new();
            loop {
                let line_end = loop {
                    if let Some(p) = self.buf.windows(2).position(|w| w == b"\r\n") {
                        break p;
                    }
                    assert!(self.fill().await, "connection closed inside a chunked body");
                };
                let size_text = String::from_utf8(self.buf[..line_end].to_vec()).unwrap();
                let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
                while self.buf.len() < line_end + 2 + size + 2 {
                    assert!(self.fill().await, "connection closed inside a chunk");
                }
                body.extend_from_slice(&self.buf[line_end + 2..line_end + 2 + size]);
                self.buf.drain(..line_end + 2 + size + 2);
                if size == 0 {
                    break body;
                }
            }
        } else {
            Vec::new()
        };
        RawResponse { status, headers, body }
    }

    /// Waits for the server to close the connection (reading and discarding what
    /// it still sends); how long that took, or a panic after `max`.
    async fn closed_within(&mut self, max: Duration) -> Duration {
        let start = Instant::now();
        tokio::time::timeout(max, async {
            while self.fill().await {
                self.buf.clear();
            }
        })
        .await
        .unwrap_or_else(|_| panic!("connection still open after {max:?}"));
        start.elapsed()
    }
}

fn assert_between(took: Duration, min: Duration, max: Duration, what: &str) {
    assert!(took >= min && took <= max, "{what}: took {took:?}, expected between {min:?} and {max:?}");
}

// --- Connection limits. ----------------------------------------------------------

#[tokio::test]
async fn a_request_head_sent_slowly_is_cut_off_at_the_header_timeout() {
    let dir = common::workspace();
    let s = TestServer::start_with_limits(dir.path(), limits(|l| l.header_timeout = 2 * SEC)).await;

    // Slowloris: half a head, then one more header line every 300 ms. Bytes that
    // keep arriving do not extend the limit.
    let mut slow = Raw::connect(addr(&s)).await;
    slow.send(b"GET / HTTP/1.1\r\nHost: test\r\n").await;
    let (mut reader, mut writer) = slow.stream.into_split();
    let drip = tokio::spawn(async move {
        for i in 0.. {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(format!("X-Slow-{i}: a\r\n").as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let start = Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(6 * SEC, reader.read_to_end(&mut got)).await.expect("still open after 6 s");
    let took = start.elapsed();
    drip.abort();
    assert!(read.is_ok() || got.is_empty(), "{read:?}");
    assert!(got.is_empty(), "no answer to an incomplete head: {:?}", String::from_utf8_lossy(&got));
    assert_between(took, Duration::from_millis(1700), Duration::from_millis(3500), "slow head");

    // A connection that sends nothing at all has the same limit from the accept.
    let mut silent = Raw::connect(addr(&s)).await;
    let took = silent.closed_within(6 * SEC).await;
    assert_between(took, Duration::from_millis(1700), Duration::from_millis(3500), "silent connection");

    // Meanwhile the server answers everyone else.
    assert_eq!(s.get("/api/health").await.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn a_kept_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
    let dir = common::workspace();
    let s = TestServer::start_with_limits(
        dir.path(),
        limits(|l| {
            l.header_timeout = SEC;
            l.idle_timeout = 3 * SEC;
        }),
    )
    .await;
    let mut c = Raw::connect(addr(&s)).await;
    assert_eq!(c.get("/api/health").await.status, 200);
    // Idle for longer than the header timeout: still open, and still served.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(c.get("/api/health").await.status, 200);
    // Then idle until the idle timeout.
    let took = c.closed_within(8 * SEC).await;
    assert_between(took, Duration::from_millis(2700), Duration::from_millis(4500), "idle keep-alive");
    s.stop().await;
}

#[tokio::test]
async fn a_request_body_that_stalls_gets_a_408_and_the_connection_closes() {
    let dir = common::workspace();
    let s = TestServer::start_with_limits(dir.path(), limits(|l| l.body_timeout = SEC)).await;
    let token = s.login("xa.dakbla").await.token;
    let mut c = Raw::connect(addr(&s)).await;
    c.send(
        format!(
            "POST /api/sync/push HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"client_id\":\"phone-1\","
        )
        .as_bytes(),
    )
    .await;
    let start = Instant::now();
    let res = c.response(6 * SEC).await.expect("an answer once the body stalls");
    assert_between(start.elapsed(), Duration::from_millis(800), Duration::from_millis(3000), "stalled body");
    assert_eq!(res.status, 408, "{res:?}");
    assert!(res.header("content-type").unwrap().starts_with("application/json"));
    let body = res.json();
    assert_eq!(body["error"]["code"], "body_timeout", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("gián đoạn"), "{body}");
    assert_eq!(res.header("connection"), Some("close"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    c.closed_within(2 * SEC).await;

    // Nothing of it was recorded.
    assert_eq!(common::count_rows(&s.state.store, "mutation_results").await, 0);
    s.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let dir = common::workspace();
    let s = TestServer::start_with_limits(dir.path(), limits(|l| l.max_connections = 4)).await;
    let mut open = Vec::new();
    for _ in 0..4 {
        let mut c = Raw::connect(addr(&s)).await;
        assert_eq!(c.get("/api/health").await.status, 200);
        open.push(c);
    }
    // The fifth connects (the kernel's backlog) but is not served.
    let mut fifth = Raw::connect(addr(&s)).await;
    fifth.send(b"GET /api/health HTTP/1.1\r\nHost: test\r\n\r\n").await;
    assert!(fifth.response(Duration::from_millis(1500)).await.is_none(), "served beyond the cap");
    // The existing ones keep working.
    for c in &mut open {
        assert_eq!(c.get("/api/health").await.status, 200);
    }
    // One leaves: the fifth gets its answer.
    drop(open.remove(1));
    let res = fifth.response(3 * SEC).await.expect("served once a slot is free");
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["ok"], true);
    s.stop().await;
}

/// The device's first change: a value in Đăk Blà's March 2024 report.
fn first_save(d: &mut Device) -> Mutation {
    let key = ReportKey {
        plan_id: PLAN.into(),
        unit_id: "kontum.tpkontum.dakbla".into(),
        period: Period::month(2024, 3).unwrap(),
    };
    let set = [("ii1.sessions".to_string(), "1".to_string())].into_iter().collect();
    d.m(key, 0, MutationOp::Save { form_id: String::new(), set, attach: vec![], detach: vec![] })
}

#[tokio::test]
async fn a_request_over_the_time_limit_gets_a_json_timeout() {
    let dir = common::workspace();
    let s = TestServer::start_with_limits(dir.path(), limits(|l| l.request_timeout = SEC)).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let m = first_save(&mut d);

    // Another process holds the write lock: the push would wait for it (SQLite's
    // busy timeout, PostgreSQL's lock_timeout: 5 s) and then answer 503
    // "unavailable"; the time limit answers first.
    let other = common::store(dir.path()).await;
    let lock = other.hold_write_lock().await.unwrap();
    let start = Instant::now();
    let res = d.push_raw(&s, std::slice::from_ref(&m), None).await;
    assert_between(start.elapsed(), Duration::from_millis(900), Duration::from_millis(4000), "time limit");
    assert_eq!(res.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert_eq!(res.headers().get("content-security-policy").unwrap(), danvan_server::security_headers::API_CSP);
    let body = assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "timeout").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("quá lâu"), "{body}");
    lock.release().await.unwrap();
    other.close().await;

    // The abandoned push left nothing half done: the retry is applied once.
    let res = d.push(&s, std::slice::from_ref(&m)).await;
    assert_eq!(res.results[0].result, common::applied(1));
    s.stop().await;
}

#[tokio::test]
async fn a_slow_but_steady_upload_is_not_cut_by_the_time_limit() {
    // The limit is on the server's work: waiting for a body arriving over 2G at a
    // steady pace (each pause shorter than the body timeout) does not count.
    let dir = common::workspace();
    let s = TestServer::start_with_limits(
        dir.path(),
        limits(|l| {
            l.request_timeout = SEC;
            l.body_timeout = 2 * SEC;
        }),
    )
    .await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let request = PushRequest {
        client_id: d.client_id.clone(),
        epoch: None,
        schema_version: SYNC_SCHEMA_VERSION,
        mutations: vec![first_save(&mut d)],
    };
    let body = serde_json::to_vec(&request).unwrap();
    let mut c = Raw::connect(addr(&s)).await;
    c.send(
        format!(
            "POST /api/sync/push HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            d.token,
            body.len()
        )
        .as_bytes(),
    )
    .await;
    let start = Instant::now();
    for piece in body.chunks(body.len().div_ceil(6)) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.send(piece).await;
    }
    let res = c.response(5 * SEC).await.expect("an answer");
    assert!(start.elapsed() >= Duration::from_millis(2500), "the upload took {:?}", start.elapsed());
    assert_eq!(res.status, 200, "{res:?}");
    let push: PushResponse = serde_json::from_slice(&res.body).unwrap();
    assert_eq!(push.results[0].result, common::applied(1));
    s.stop().await;
}

/// Starts `router` under `limits` on a fresh port; the server task ends with the test.
async fn serve_router(router: axum::Router, limits: Limits) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(danvan_server::serve_with_limits(listener, router, std::future::pending(), SEC, limits));
    addr
}

#[tokio::test]
async fn the_time_limit_covers_every_route_pages_included() {
    // Any router: the limit belongs to the connection layer, not to `/api`.
    let router = axum::Router::new().route(
        "/bao-cao",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            "late"
        }),
    );
    let addr = serve_router(router, limits(|l| l.request_timeout = SEC)).await;
    let mut c = Raw::connect(addr).await;
    let start = Instant::now();
    let res = c.get("/bao-cao").await;
    assert_between(start.elapsed(), Duration::from_millis(900), Duration::from_millis(3000), "page time limit");
    assert_eq!(res.status, 503);
    let body = res.json();
    assert_eq!(body["error"]["code"], "timeout", "{body}");
    assert_eq!(res.header("connection"), Some("close"));
    c.closed_within(2 * SEC).await;
}

#[tokio::test]
async fn every_request_carries_the_tcp_peer() {
    use axum::extract::ConnectInfo;
    let router = axum::Router::new().route(
        "/peer",
        axum::routing::get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    );
    let addr = serve_router(router, Limits::default()).await;
    let mut c = Raw::connect(addr).await;
    let local = c.stream.local_addr().unwrap();
    let res = c.get("/peer").await;
    assert_eq!(res.status, 200);
    assert_eq!(String::from_utf8(res.body).unwrap(), local.to_string());
}

#[tokio::test]
async fn a_client_that_stops_reading_its_answer_is_dropped() {
    let dir = common::workspace();
    // Larger than what the kernel buffers on both ends of a loopback connection.
    let size = 32 * 1024 * 1024;
    std::fs::write(dir.path().join("dist").join("big-0123456789abcdef.bin"), vec![7u8; size]).unwrap();
    let s = TestServer::start_with_limits(dir.path(), limits(|l| l.body_timeout = SEC)).await;
    let mut c = Raw::connect(addr(&s)).await;
    c.send(b"GET /big-0123456789abcdef.bin HTTP/1.1\r\nHost: test\r\n\r\n").await;
    assert!(c.fill().await);
    // Stop reading well past the stall limit, then take what is left.
    tokio::time::sleep(3 * SEC).await;
    let mut received = c.buf.len();
    c.buf.clear();
    let start = Instant::now();
    while tokio::time::timeout(5 * SEC, c.fill()).await.expect("connection neither finished nor closed") {
        received += c.buf.len();
        c.buf.clear();
    }
    assert!(received < size, "the whole file arrived: the server waited for a client that did not read");
    assert!(start.elapsed() < 5 * SEC);
    assert_eq!(s.get("/api/health").await.status(), StatusCode::OK);
    s.stop().await;
}

#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let (s, _dir) = TestServer::start().await;
    let mut c = Raw::connect(addr(&s)).await;
    let filler = "a".repeat(40 * 1024);
    c.send(format!("GET / HTTP/1.1\r\nHost: test\r\nX-Filler: {filler}\r\n\r\n").as_bytes()).await;
    let res = c.response(5 * SEC).await.expect("an answer");
    assert_eq!(res.status, 431);
    s.stop().await;
}

// --- Security headers. -----------------------------------------------------------

fn csp_hash(script: &str) -> String {
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes())))
}

/// The directives of a policy, by name.
fn directives(csp: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    csp.split(';')
        .filter_map(|d| {
            let mut words = d.split_whitespace().map(str::to_string);
            Some((words.next()?, words.collect()))
        })
        .collect()
}

fn assert_common_headers(res: &reqwest::Response, what: &str) {
    let h = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(h("x-content-type-options").as_deref(), Some("nosniff"), "{what}");
    assert_eq!(h("referrer-policy").as_deref(), Some("no-referrer"), "{what}");
    assert_eq!(h("x-frame-options").as_deref(), Some("DENY"), "{what}");
    assert_eq!(h("cross-origin-opener-policy").as_deref(), Some("same-origin"), "{what}");
    let permissions = h("permissions-policy").unwrap_or_else(|| panic!("{what}: no Permissions-Policy"));
    for feature in ["camera=()", "microphone=()", "geolocation=()"] {
        assert!(permissions.contains(feature), "{what}: {permissions}");
    }
    // The TLS proxy sets HSTS, not the app.
    assert_eq!(h("strict-transport-security"), None, "{what}");
}

#[tokio::test]
async fn every_kind_of_response_has_the_security_headers() {
    let (s, dir) = TestServer::start().await;
    let expected_hashes: Vec<String> = INLINE_SCRIPTS.iter().map(|t| csp_hash(t)).collect();
    assert!(INLINE_SCRIPTS.iter().all(|t| INDEX_HTML.contains(t)));

    let app_paths = ["/", "/nhiem-vu", &format!("/{HASHED_JS}"), "/sw.js", "/manifest.webmanifest"];
    for path in app_paths {
        let res = s.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_common_headers(&res, path);
        let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
        let d = directives(&csp);
        let mut script_src = vec!["'self'".to_string(), "'wasm-unsafe-eval'".to_string()];
        script_src.extend(expected_hashes.iter().cloned());
        assert_eq!(d["script-src"], script_src, "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{path}: {csp}");
        for (name, value) in [
            ("default-src", "'self'"),
            ("style-src", "'self'"),
            ("connect-src", "'self'"),
            ("worker-src", "'self'"),
            ("manifest-src", "'self'"),
            ("frame-ancestors", "'none'"),
            ("base-uri", "'none'"),
            ("form-action", "'self'"),
            ("object-src", "'none'"),
        ] {
            assert_eq!(d[name], [value], "{path}: {name} in {csp}");
        }
        assert_eq!(d["img-src"], ["'self'", "blob:", "data:"], "{path}: {csp}");
    }

    // The API: data, never a document.
    let token = s.login("xa.dakbla").await.token;
    let api = [
        ("/api/health", None, StatusCode::OK),
        ("/api/me", None, StatusCode::UNAUTHORIZED),
        ("/api/me", Some(token.as_str()), StatusCode::OK),
        ("/api/khong-co", None, StatusCode::NOT_FOUND),
        ("/api", None, StatusCode::NOT_FOUND),
    ];
    for (path, token, status) in api {
        let res = match token {
            Some(t) => s.get_auth(path, t).await,
            None => s.get(path).await,
        };
        assert_eq!(res.status(), status, "{path}");
        assert_common_headers(&res, path);
        assert_eq!(
            res.headers()["content-security-policy"],
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            "{path}"
        );
    }

    // A missing file outside the API is a 404 with the app's headers.
    let res = s.get("/danvan-app-fedcba9876543210.js").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_common_headers(&res, "404");
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("'wasm-unsafe-eval'"));

    // A new build copied over the running server's dist: the next page carries
    // the hash of its new start-up script.
    let new_script = "import init from '/danvan-app-fedcba9876543210.js';await init();";
    let new_index = INDEX_HTML.replace(INLINE_SCRIPTS[1], new_script);
    std::fs::write(dir.path().join("dist").join("index.html"), &new_index).unwrap();
    let res = s.get("/").await;
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert_eq!(res.text().await.unwrap(), new_index);
    assert!(csp.contains(&csp_hash(new_script)), "{csp}");
    assert!(!csp.contains(&expected_hashes[1]), "old build's hash still allowed: {csp}");
    assert!(csp.contains(&expected_hashes[0]), "{csp}");
    s.stop().await;
}

#[tokio::test]
async fn writers_waiting_for_the_lock_leave_the_connections_to_readers() {
    // At a deadline writers queue behind the one write lock. They wait at this
    // process's write gate without a pooled connection (store/mod.rs,
    // `Store::begin_immediate`, `Store::write_turn`): more waiting writers than
    // the pool has connections do not make a read wait, and each writer gets its
    // turn once the lock is free.
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let token = d.token.clone();
    let report = ReportKey {
        plan_id: PLAN.into(),
        unit_id: "kontum.tpkontum.dakbla".into(),
        period: Period::month(2024, 3).unwrap(),
    }
    .id();
    let lock = s.state.store.hold_write_lock().await.unwrap();
    let uploads: Vec<_> = (0..12u8)
        .map(|i| {
            let data = vec![0xff, 0xd8, 0xff, i];
            let sha: String = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
            let request = s
                .client
                .put(s.url(&format!("/api/attachments/gate-{i}?report={report}")))
                .bearer_auth(&token)
                .header("content-type", "image/jpeg")
                .header("x-content-sha256", sha)
                .body(data);
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // On SQLite every write waits for the one lock; PostgreSQL locks rows, so
    // there the uploads need not wait for a push's lock at all.
    let sqlite = s.state.store.backend() == danvan_server::store::Backend::Sqlite;
    if sqlite {
        assert!(uploads.iter().all(|u| !u.is_finished()), "the writers wait for the lock");
    }
    // Twelve writers wait, the pool has eight connections: a pull still reads.
    let res = d.pull_raw(&s, 0, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    if sqlite {
        assert!(uploads.iter().all(|u| !u.is_finished()), "still waiting while the read was served");
    }
    lock.release().await.unwrap();
    for u in uploads {
        assert_eq!(u.await.unwrap(), StatusCode::CREATED);
    }
    s.stop().await;
}
