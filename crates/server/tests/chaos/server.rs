//! The real `danvan-server` binary (`CARGO_BIN_EXE_danvan-server`), started,
//! killed with SIGKILL and started again on the same database, the way a power cut
//! or the OOM killer ends it in a commune office: no shutdown hook runs, whatever
//! transaction was open is simply gone.
//!
//! The database is the run's own: a SQLite file in the run's temp dir, or a fresh
//! PostgreSQL database on the server named by `DANVAN_TEST_POSTGRES`
//! (`common::database_url`, as every other test of crates/server/tests), dropped at
//! the end of the run so a thousand runs do not fill the cluster.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use danvan_server::store::{Backend, NewUser, Store};
use danvan_server::PasswordCost;

use crate::common;

/// Where the proxy should send requests now (None: the server is down).
pub type Upstream = Arc<RwLock<Option<SocketAddr>>>;

pub struct ServerProcess {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pub upstream: Upstream,
    child: Option<Child>,
    http: reqwest::Client,
    pub kills: u32,
    pub starts: u32,
    /// Time spent starting the server (each start waits until `/api/health` answers).
    pub startup: Duration,
}

impl ServerProcess {
    /// A workspace and its database with the demo accounts already in it, hashed
    /// with the tests' fast cost: the server (`DANVAN_DEMO=accounts`) finds them
    /// and does not spend seconds of an unoptimised argon2 on each at first start.
    pub async fn prepare() -> ServerProcess {
        let dir = common::workspace();
        let database_url = common::database_url(dir.path());
        let store = Store::open(&database_url).await.expect("the run's database");
        store.ensure_epoch("chaos").await.unwrap();
        danvan_server::catalog::packages::apply_shipped(&store, chrono::Utc::now()).await.unwrap();
        let hash = danvan_server::auth::hash_password(PasswordCost::FastInsecureForTests, common::PASSWORD).unwrap();
        for a in danvan_server::seed::DEMO_ACCOUNTS {
            let new = NewUser {
                username: a.username,
                display_name: a.display_name,
                password_hash: &hash,
                role: a.role,
                unit_id: a.unit_id,
            };
            store.create_user_if_absent(&new, chrono::Utc::now()).await.unwrap();
        }
        store.close().await;
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        ServerProcess {
            dir,
            database_url,
            upstream: Arc::new(RwLock::new(None)),
            child: None,
            http,
            kills: 0,
            starts: 0,
            startup: Duration::ZERO,
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts the binary on a free port and waits until it answers `/api/health`;
    /// only then does the proxy send it requests.
    pub async fn start(&mut self) {
        assert!(self.child.is_none(), "already running");
        let began = Instant::now();
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("server log");
        let child = Command::new(env!("CARGO_BIN_EXE_danvan-server"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DANVAN_ADDR", format!("127.0.0.1:{port}"))
            .env("DANVAN_DATABASE_URL", &self.database_url)
            .env("DANVAN_DIST", self.dir.path().join("dist"))
            .env("DANVAN_DEMO", "accounts")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("danvan-server starts");
        self.child = Some(child);
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        // About 0.6 s on an idle machine; a minute covers two cores busy with builds.
        for _ in 0..3000 {
            if let Ok(res) = self.http.get(format!("http://{addr}/api/health")).send().await {
                if res.status().is_success() {
                    *self.upstream.write().unwrap() = Some(addr);
                    self.starts += 1;
                    self.startup += began.elapsed();
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("the server ended at start ({status}): {}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the server did not answer within 60 s: {}", self.log_tail());
    }

    /// SIGKILL (`Child::kill` on Unix), then reaps the process. Connections in
    /// flight are cut; the proxy sees them end without an answer.
    pub fn kill(&mut self) {
        *self.upstream.write().unwrap() = None;
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            self.kills += 1;
        }
    }

    /// The last lines the server wrote (warnings and errors), for a failure report.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Kills the server if it runs and removes the run's PostgreSQL database (the
    /// SQLite file goes with the temp dir).
    pub async fn dispose(mut self) {
        self.kill();
        if common::backend() == Backend::Postgres {
            use sqlx::migrate::MigrateDatabase;
            // The killed server's connections are gone, the harness closed its own;
            // FORCE covers a backend PostgreSQL has not reaped yet.
            let _ = sqlx::Postgres::force_drop_database(&self.database_url).await;
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
