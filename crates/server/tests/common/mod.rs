//! Test harness: a real server on an ephemeral port over a real database of its
//! own, driven with reqwest. Tests run in parallel; nothing is shared.
//!
//! The database is a SQLite file in the test's temp dir, or — when
//! `DANVAN_TEST_POSTGRES` names a PostgreSQL server (`scripts/with-postgres.sh`
//! starts a throwaway one; `make test` runs the suite both ways) — a database of
//! its own on that server, named after the temp dir.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use danvan_core::api::LoginResponse;
use danvan_server::store::{Backend, Store};
use danvan_server::{app, serve_with_limits, AppState, Config, Limits, PasswordCost, SHUTDOWN_GRACE};
use reqwest::{Response, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "danvan2024";
/// Shaped like the built `dist/index.html`: the repository's inline script and the
/// module script Trunk injects (`INLINE_SCRIPTS`, whose hashes the CSP must carry).
pub const INDEX_HTML: &str = concat!(
    "<!doctype html><html lang=\"vi\"><title>Dân vận</title><body>app shell",
    "<script>\n  if (\"serviceWorker\" in navigator) navigator.serviceWorker.register(\"/sw.js\");\n</script>",
    "<script type=\"module\">\nimport init from '/danvan-app-0123456789abcdef.js';\nawait init();\n</script>",
    "</body></html>"
);
/// The text of the inline scripts of `INDEX_HTML`, in order.
pub const INLINE_SCRIPTS: [&str; 2] = [
    "\n  if (\"serviceWorker\" in navigator) navigator.serviceWorker.register(\"/sw.js\");\n",
    "\nimport init from '/danvan-app-0123456789abcdef.js';\nawait init();\n",
];
pub const HASHED_JS: &str = "danvan-app-0123456789abcdef.js";
pub const HASHED_WASM: &str = "danvan-app-0123456789abcdef_bg.wasm";
/// Stand-in bytes for the brotli variant of the hashed JS (only served, never decoded).
pub const HASHED_JS_BR: &[u8] = b"\x1b\x03brotli-bytes";

pub struct TestServer {
    pub base: String,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    pub state: AppState,
}

/// A temp dir with a fake `dist` and room for the database file.
pub fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), INDEX_HTML).unwrap();
    std::fs::write(dist.join(HASHED_JS), "export function start() {}\n").unwrap();
    std::fs::write(dist.join(format!("{HASHED_JS}.br")), HASHED_JS_BR).unwrap();
    std::fs::write(dist.join(HASHED_WASM), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.join("sw.js"), "self.addEventListener('install', () => {});\n").unwrap();
    std::fs::write(dist.join("manifest.webmanifest"), "{\"name\":\"Dân vận\"}").unwrap();
    dir
}

/// Which backend this run of the suite uses.
pub fn backend() -> Backend {
    if postgres_server().is_some() {
        Backend::Postgres
    } else {
        Backend::Sqlite
    }
}

fn postgres_server() -> Option<String> {
    std::env::var("DANVAN_TEST_POSTGRES").ok().filter(|v| !v.trim().is_empty())
}

/// The database URL of the test workspace `dir`: its SQLite file, or its own
/// PostgreSQL database (created on first use, so a restarted server finds the
/// same data).
pub fn database_url(dir: &Path) -> String {
    let Some(server) = postgres_server() else {
        return format!("sqlite://{}", db_path(dir).display());
    };
    use sha2::Digest;
    let digest = sha2::Sha256::digest(dir.to_string_lossy().as_bytes());
    let name: String = format!("t_{}", digest.iter().take(12).map(|b| format!("{b:02x}")).collect::<String>());
    let (base, _) = server.rsplit_once('/').expect("DANVAN_TEST_POSTGRES ends with /database");
    let url = format!("{base}/{name}");
    // test_config is synchronous and called from inside tests' runtimes: create
    // the database on a thread with a runtime of its own.
    let create = url.clone();
    std::thread::spawn(move || {
        use sqlx::migrate::MigrateDatabase;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            if !sqlx::Postgres::database_exists(&create).await.unwrap() {
                // Two servers of one test may race to create it: one wins.
                if let Err(e) = sqlx::Postgres::create_database(&create).await {
                    assert!(sqlx::Postgres::database_exists(&create).await.unwrap(), "create {create}: {e}");
                }
            }
        })
    })
    .join()
    .expect("database created");
    url
}

pub fn db_path(dir: &Path) -> PathBuf {
    // A nested directory that does not exist yet: the server must create it.
    dir.join("db").join("danvan.db")
}

/// The tests' configuration on `dir`: demo accounts on (`DANVAN_DEMO=accounts`:
/// no demo history, every test starts from a clean slate), weak (fast) password
/// hashes.
pub fn test_config(dir: &Path) -> Config {
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url: database_url(dir),
        dist: dir.join("dist"),
        demo: true,
        demo_history: false,
        // Unoptimised test builds make standard argon2 slow; production keeps
        // the default cost (the parameters travel inside each hash).
        password_cost: PasswordCost::FastInsecureForTests,
        ..Config::default()
    }
}

impl TestServer {
    /// A fresh workspace and a server on it; keep the TempDir alive for the test.
    pub async fn start() -> (TestServer, tempfile::TempDir) {
        let dir = workspace();
        let server = TestServer::start_in(dir.path()).await;
        (server, dir)
    }

    pub async fn start_in(dir: &Path) -> TestServer {
        TestServer::start_with_limits(dir, Limits::default()).await
    }

    /// A server on `dir` with the whole demo (`DANVAN_DEMO=1`): the demo accounts,
    /// the demo plan and the history (tests/demo.rs).
    pub async fn start_with_demo_history(dir: &Path) -> TestServer {
        let config = Config { demo_history: true, ..test_config(dir) };
        TestServer::try_start_with_config(config).await.expect("server state with the demo history")
    }

    /// A server on `dir` with its own connection limits (tests/hardening.rs).
    pub async fn start_with_limits(dir: &Path, limits: Limits) -> TestServer {
        let config = Config { limits, ..test_config(dir) };
        TestServer::try_start_with_config(config).await.expect("server state")
    }

    /// A server with a configuration of the test's own (start from [`test_config`]);
    /// `Err` when the server refuses to start.
    pub async fn try_start_with_config(config: Config) -> Result<TestServer, danvan_server::StartupError> {
        // RUST_LOG=danvan_server=debug shows the server's log (a 500's cause) in
        // the test's output.
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        }
        let state = AppState::open(&config).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let router = app(state.clone());
        let limits = config.limits.clone();
        let task = tokio::spawn(async move {
            let signal = async {
                let _ = rx.await;
            };
            serve_with_limits(listener, router, signal, SHUTDOWN_GRACE, limits).await.unwrap();
        });
        let client = reqwest::Client::builder().build().unwrap();
        Ok(TestServer { base: format!("http://{addr}"), client, shutdown: Some(tx), task: Some(task), state })
    }

    /// Graceful stop, then the database pool is closed (as `main` does).
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
        self.state.close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_auth(&self, path: &str, token: &str) -> Response {
        self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn login_raw(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str) -> LoginResponse {
        let res = self.login_raw(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login {username}");
        res.json().await.unwrap()
    }

    /// GET with the user's token, expecting 200 and JSON.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        let res = self.get_auth(path, token).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }
}

/// Asserts the JSON error shape and returns the body.
pub async fn assert_error(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "status");
    let ct = res.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content-type {ct:?}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(!message.is_empty());
    body
}

// --- Sync devices and test data, shared by the sync and review tests. ---------------

use danvan_core::api::FormResponse;
use danvan_core::form::{FieldKind, PeriodKind};
use danvan_core::sync::{
    Mutation, MutationOp, MutationResult, PullResponse, PushRequest, PushResponse, SYNC_SCHEMA_VERSION,
};
use danvan_core::{ReportKey, Values};
use serde_json::json;

pub const PLAN: &str = "kh-413-ubnd-2024";

/// A copy of plan 413 that applies from 2000 to 2099, for tests that need more
/// report periods of one unit than one year has.
pub const LONG_PLAN: &str = "kh-dai-han";

/// Publishes [`LONG_PLAN`] into the database of `dir` through the store, before a
/// server is started on it (the server loads its catalog at start).
pub async fn publish_long_plan(dir: &Path) {
    use danvan_server::catalog::packages::{apply_shipped, shipped_plans};
    use danvan_server::store::{Actor, NewAudit};
    let store = store(dir).await;
    store.ensure_epoch("long-plan").await.unwrap();
    apply_shipped(&store, chrono::Utc::now()).await.unwrap();
    let mut doc = shipped_plans().remove(0);
    doc.plan.id = LONG_PLAN.into();
    doc.plan.valid_from = chrono::NaiveDate::from_ymd_opt(2000, 1, 1);
    doc.plan.valid_to = chrono::NaiveDate::from_ymd_opt(2099, 12, 31);
    let mut form = doc.form.unwrap();
    form.id = format!("{LONG_PLAN}.bao-cao");
    form.plan_id = LONG_PLAN.into();
    let audit = NewAudit { action: "plan.publish", target: Some(LONG_PLAN), unit_id: None, detail: None };
    store.publish_plan(&doc.plan, Some(&form), &Actor::cli(), &audit, chrono::Utc::now()).await.unwrap();
    store.close().await;
}

pub struct Device {
    pub token: String,
    pub client_id: String,
    pub next: u64,
}

impl Device {
    pub async fn new(s: &TestServer, username: &str, client_id: &str) -> Device {
        Device { token: s.login(username).await.token, client_id: client_id.into(), next: 1 }
    }

    /// The next mutation of this device.
    pub fn m(&mut self, key: ReportKey, base_version: u64, op: MutationOp) -> Mutation {
        let m = Mutation::new(self.next, key, base_version, op);
        self.next += 1;
        m
    }

    pub async fn push_raw(&self, s: &TestServer, mutations: &[Mutation], epoch: Option<&str>) -> reqwest::Response {
        let req = PushRequest {
            client_id: self.client_id.clone(),
            epoch: epoch.map(Into::into),
            schema_version: SYNC_SCHEMA_VERSION,
            mutations: mutations.to_vec(),
        };
        s.client.post(s.url("/api/sync/push")).bearer_auth(&self.token).json(&req).send().await.unwrap()
    }

    /// Pushes, expecting `status`; returns the parsed answer and the raw body.
    pub async fn push_expect(
        &self,
        s: &TestServer,
        mutations: &[Mutation],
        status: StatusCode,
    ) -> (PushResponse, Value) {
        let res = self.push_raw(s, mutations, None).await;
        assert_eq!(res.status(), status);
        let body: Value = res.json().await.unwrap();
        (serde_json::from_value(body.clone()).unwrap(), body)
    }

    pub async fn push(&self, s: &TestServer, mutations: &[Mutation]) -> PushResponse {
        self.push_expect(s, mutations, StatusCode::OK).await.0
    }

    pub async fn pull_raw(&self, s: &TestServer, cursor: u64, epoch: Option<&str>) -> reqwest::Response {
        let body = json!({ "client_id": self.client_id, "cursor": cursor, "epoch": epoch });
        s.client.post(s.url("/api/sync/pull")).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    pub async fn pull(&self, s: &TestServer, cursor: u64, epoch: Option<&str>) -> PullResponse {
        let res = self.pull_raw(s, cursor, epoch).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    /// Every visible report, following pages from cursor 0.
    pub async fn pull_all(&self, s: &TestServer, epoch: &str) -> Vec<danvan_core::Report> {
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            let page = self.pull(s, cursor, Some(epoch)).await;
            out.extend(page.changes);
            cursor = page.cursor;
            if !page.has_more {
                return out;
            }
        }
    }
}

pub fn applied(version: u64) -> MutationResult {
    MutationResult::Applied { version }
}

pub fn rejected_code(r: &MutationResult) -> &str {
    match r {
        MutationResult::Rejected { code, message } => {
            assert!(!message.is_empty());
            code
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// The store of the test workspace `dir`, opened beside its running server (or
/// after it stopped) as an operator's command would: the tests check what requests
/// wrote through the store's own reads, never with SQL, so they run unchanged on
/// both backends.
pub async fn store(dir: &Path) -> Store {
    Store::open(&database_url(dir)).await.unwrap()
}

/// Rows of `table` now (`Store::row_counts`).
pub async fn count_rows(store: &Store, table: &str) -> i64 {
    let counts = store.row_counts().await.unwrap();
    *counts.get(table).unwrap_or_else(|| panic!("no table {table}: {counts:?}"))
}

/// Adds a user through the store (the demo accounts cover a few units only), with
/// the test password, as a `danvan-server` command would. A demo account of that
/// name (`xa.dakrowa`) is made what the test asks for.
pub async fn add_user(dir: &Path, username: &str, role: &str, unit: &str) {
    use danvan_server::store::{AccountFields, Actor, NewUser};
    let role: danvan_core::api::Role = serde_json::from_value(json!(role)).expect("a role");
    let store = store(dir).await;
    match store.user_by_username(username).await.unwrap() {
        None => {
            let hash = danvan_server::auth::hash_password(PasswordCost::FastInsecureForTests, PASSWORD).unwrap();
            let display_name = format!("Cán bộ {username}");
            let new = NewUser { username, display_name: &display_name, password_hash: &hash, role, unit_id: unit };
            let created_at = "2024-01-01T00:00:00Z".parse().unwrap();
            assert!(store.create_user_if_absent(&new, created_at).await.unwrap(), "{username} created");
        }
        Some(existing) => {
            // The demo accounts' password is the test password.
            assert!(danvan_server::auth::verify_password(&existing.password_hash, PASSWORD), "{username}");
            if (existing.user.role, existing.user.unit_id.as_str()) != (role, unit) {
                let fields = AccountFields {
                    username: username.into(),
                    display_name: existing.user.display_name.clone(),
                    role,
                    unit_id: unit.into(),
                    phone: None,
                    email: None,
                };
                let changed = store.update_account(existing.user.id, &fields, &Actor::cli(), chrono::Utc::now()).await;
                assert!(changed.unwrap(), "{username} updated");
            }
        }
    }
    store.close().await;
}

/// Values that pass the form's checks for submitting a monthly report.
pub async fn complete_values(s: &TestServer, token: &str) -> Values {
    complete_values_of(s, token, PLAN).await
}

/// [`complete_values`] for the form of another plan.
pub async fn complete_values_of(s: &TestServer, token: &str, plan: &str) -> Values {
    let form: FormResponse = s.get_json(&format!("/api/forms/{plan}"), token).await;
    form.form
        .fields_for(PeriodKind::Month)
        .filter(|f| f.required)
        .map(|f| {
            let v = match f.kind {
                FieldKind::Count => "0",
                FieldKind::Text { .. } => "Đã triển khai đầy đủ",
            };
            (f.id.clone(), v.to_string())
        })
        .collect()
}
