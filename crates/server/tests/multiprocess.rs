//! Several server processes on one database: real `danvan-server` processes
//! (`CARGO_BIN_EXE_danvan-server`), devices talking to whichever one at random.
//!
//! On PostgreSQL two processes must behave as one: a session made on one works on
//! the other, every mutation is applied exactly once whichever process took it or
//! its retry, and every device's pulls — interleaved with commits on both processes —
//! end with every change, none twice (change numbers follow commit order:
//! `store/postgres.rs`). On SQLite the database belongs to one process: a second
//! one is refused.

mod common;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::PLAN;
use danvan_core::api::LoginResponse;
use danvan_core::sync::{
    Mutation, MutationOp, MutationResult, PullResponse, PushRequest, PushResponse, SYNC_SCHEMA_VERSION,
};
use danvan_core::{Period, ReportKey};
use danvan_server::store::Backend;
use reqwest::StatusCode;

const FORM: &str = "kh-413-ubnd-2024.bao-cao";
const DAKBLA: &str = "kontum.tpkontum.dakbla";

/// A server process; killed when dropped.
struct Process {
    child: Child,
    base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn command(dir: &std::path::Path, port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_danvan-server"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DANVAN_ADDR", format!("127.0.0.1:{port}"))
        .env("DANVAN_DATABASE_URL", common::database_url(dir))
        .env("DANVAN_DIST", dir.join("dist"))
        .env("DANVAN_DEMO", "accounts")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Starts a process and waits until it answers `/health`.
async fn start(dir: &std::path::Path, http: &reqwest::Client) -> Process {
    let port = free_port();
    let child = command(dir, port).spawn().expect("danvan-server starts");
    let mut p = Process { child, base: format!("http://127.0.0.1:{port}") };
    for _ in 0..600 {
        if let Ok(res) = http.get(format!("{}/api/health", p.base)).send().await {
            if res.status() == StatusCode::OK {
                return p;
            }
        }
        if let Some(status) = p.child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            p.child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            panic!("the server ended at start ({status}): {err}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not answer within 60 s");
}

/// A deterministic pseudo-random sequence (xorshift64*): the run is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

async fn login(http: &reqwest::Client, base: &str, username: &str) -> String {
    let res = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": common::PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{username}");
    res.json::<LoginResponse>().await.unwrap().token
}

/// Pushes until answered: a 503 (the write lock not had in time) is retried with
/// the same mutations, as the app does.
async fn push(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    client_id: &str,
    mutations: &[Mutation],
) -> PushResponse {
    let req = PushRequest {
        client_id: client_id.into(),
        epoch: None,
        schema_version: SYNC_SCHEMA_VERSION,
        mutations: mutations.to_vec(),
    };
    for _ in 0..50 {
        let res = http.post(format!("{base}/api/sync/push")).bearer_auth(token).json(&req).send().await.unwrap();
        match res.status() {
            StatusCode::OK => return res.json().await.unwrap(),
            StatusCode::SERVICE_UNAVAILABLE => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("push: {other} {}", res.text().await.unwrap()),
        }
    }
    panic!("push still refused after 50 tries");
}

async fn pull(http: &reqwest::Client, base: &str, token: &str, client_id: &str, replica: &Replica) -> PullResponse {
    let body = serde_json::json!({ "client_id": client_id, "cursor": replica.cursor, "epoch": replica.epoch });
    let res = http.post(format!("{base}/api/sync/pull")).bearer_auth(token).json(&body).send().await.unwrap();
    let status = res.status();
    assert_eq!(status, StatusCode::OK, "pull: {}", res.text().await.unwrap());
    res.json().await.unwrap()
}

/// What a device has pulled: report id → version, and every (id, version) seen.
#[derive(Default)]
struct Replica {
    epoch: Option<String>,
    cursor: u64,
    reports: BTreeMap<String, u64>,
    seen: std::collections::BTreeSet<(String, u64)>,
}

impl Replica {
    /// One page; panics if a change arrives twice or a version goes back.
    fn apply(&mut self, page: PullResponse, who: &str) -> bool {
        assert!(!page.reset, "{who}: one epoch all along");
        self.epoch = Some(page.epoch.clone());
        assert!(page.cursor >= self.cursor, "{who}: the cursor never goes back");
        for r in page.changes {
            let id = r.id();
            assert!(self.seen.insert((id.clone(), r.version)), "{who}: {id} v{} arrived twice", r.version);
            let known = self.reports.insert(id.clone(), r.version).unwrap_or(0);
            assert!(r.version > known, "{who}: {id} went from v{known} to v{}", r.version);
        }
        self.cursor = page.cursor;
        page.has_more
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_database_act_as_one() {
    let dir = common::workspace();
    let http = reqwest::Client::new();
    let a = start(dir.path(), &http).await;

    if common::backend() == Backend::Sqlite {
        // The embedded database is one process's: a second server is refused at
        // once, naming the holder, instead of writing beside it.
        let out = command(dir.path(), free_port()).stdout(Stdio::piped()).output().unwrap();
        let err = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!out.status.success(), "a second process on the same SQLite file must not start");
        assert!(err.contains("đang được một tiến trình danvan-server khác sử dụng"), "{err}");
        drop(a);
        return;
    }
    let b = start(dir.path(), &http).await;
    let bases = [a.base.clone(), b.base.clone()];

    // A session made on one process is good on the other.
    let writer_token = login(&http, &a.base, "xa.dakbla").await;
    let res = http.get(format!("{}/api/me", b.base)).bearer_auth(&writer_token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the session lives in the database");

    // Wrong passwords through both processes count together: the sixth attempt
    // is refused by either (src/throttle.rs, counted in the database).
    for i in 0..5 {
        let res = http
            .post(format!("{}/api/auth/login", bases[i % 2]))
            .json(&serde_json::json!({ "username": "phuong.kontum", "password": "sai-mat-khau" }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {}", i + 1);
    }
    for base in &bases {
        let res = http
            .post(format!("{base}/api/auth/login"))
            .json(&serde_json::json!({ "username": "phuong.kontum", "password": common::PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "locked out on {base} too");
        assert!(res.headers().contains_key("retry-after"));
    }

    const WRITERS: usize = 6;
    const ROUNDS: usize = 12;
    // Writers: six devices of the commune, each owning two months; half of the
    // rounds also touch a month every device shares (December), to have writes of
    // one report race across processes (conflicts are answered, never applied).
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let (http, bases, token) = (http.clone(), bases.clone(), writer_token.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (w as u64 + 1));
            let client_id = format!("thiet-bi-{w}");
            let mut next = 1u64;
            let mut versions: BTreeMap<u32, u64> = BTreeMap::new();
            let mut applied = 0u64;
            let mut replica = Replica::default();
            for round in 0..ROUNDS {
                let mut batch = Vec::new();
                for _ in 0..1 + rng.below(3) {
                    let month = if round % 2 == 1 && rng.below(2) == 0 {
                        12
                    } else {
                        2 + (2 * w as u32 + rng.below(2) as u32) % 10
                    };
                    let key = ReportKey {
                        plan_id: PLAN.into(),
                        unit_id: DAKBLA.into(),
                        period: Period::month(2024, month).unwrap(),
                    };
                    let base = versions.get(&month).copied().unwrap_or(0);
                    let op = MutationOp::Save {
                        form_id: FORM.into(),
                        // A value of its own per mutation: a save that changes
                        // nothing makes no version (`sync::decide`).
                        set: [("ii1.sessions".to_string(), format!("{}", w as u64 * 1000 + next))]
                            .into_iter()
                            .collect(),
                        attach: vec![],
                        detach: vec![],
                    };
                    batch.push((month, Mutation::new(next, key, base, op)));
                    next += 1;
                }
                let base_url = &bases[rng.below(2) as usize];
                let mutations: Vec<Mutation> = batch.iter().map(|(_, m)| m.clone()).collect();
                let answer = push(&http, base_url, &token, &client_id, &mutations).await;
                // A lost answer: the same push again through the other process must
                // give the same results and apply nothing twice.
                if rng.below(4) == 0 {
                    let other = &bases[1 - bases.iter().position(|b| b == base_url).unwrap()];
                    let again = push(&http, other, &token, &client_id, &mutations).await;
                    assert_eq!(again.results, answer.results, "a replay through the other process");
                }
                assert!(answer.stopped.is_none(), "{:?}", answer.stopped);
                for ((month, _), outcome) in batch.iter().zip(&answer.results) {
                    match &outcome.result {
                        MutationResult::Applied { version } => {
                            versions.insert(*month, *version);
                            applied += 1;
                        }
                        // Another device changed the shared month since: the app
                        // rebases; here the device just takes the newer version.
                        MutationResult::Conflict { server } => {
                            versions.insert(*month, server.version);
                        }
                        other => panic!("unexpected result {other:?}"),
                    }
                }
                // Pull through a random process between pushes.
                let base_url = &bases[rng.below(2) as usize];
                while replica.apply(pull(&http, base_url, &token, &client_id, &replica).await, &client_id) {}
            }
            (client_id, applied, replica)
        }));
    }
    // Readers: the city's reviewer and the department pull all along, through
    // either process.
    let mut readers = Vec::new();
    for (i, username) in ["tp.kontum", "sonoivu"].into_iter().enumerate() {
        let token = login(&http, &bases[i], username).await;
        let (http, bases) = (http.clone(), bases.clone());
        readers.push(tokio::spawn(async move {
            let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (i as u64 + 7));
            let client_id = format!("nguoi-doc-{i}");
            let mut replica = Replica::default();
            for _ in 0..40 {
                let base_url = &bases[rng.below(2) as usize];
                while replica.apply(pull(&http, base_url, &token, &client_id, &replica).await, username) {}
                tokio::time::sleep(Duration::from_millis(rng.below(40))).await;
            }
            (client_id, token, replica)
        }));
    }

    let mut total_applied = 0;
    let mut writer_replicas = Vec::new();
    for t in tasks {
        let (client_id, applied, replica) = t.await.unwrap();
        total_applied += applied;
        writer_replicas.push((client_id, replica));
    }
    let mut reader_replicas = Vec::new();
    for t in readers {
        reader_replicas.push(t.await.unwrap());
    }

    // The truth: everything from cursor 0, through process B.
    let mut truth = Replica::default();
    while truth.apply(pull(&http, &b.base, &writer_token, "kiem-tra", &truth).await, "kiem-tra") {}
    let versions: u64 = truth.reports.values().sum();
    assert_eq!(versions, total_applied, "every applied mutation is exactly one version, none lost, none twice");

    // Every device catches up from where it stopped and ends with the truth.
    for (client_id, mut replica) in writer_replicas {
        while replica.apply(pull(&http, &a.base, &writer_token, &client_id, &replica).await, &client_id) {}
        assert_eq!(replica.reports, truth.reports, "{client_id}");
    }
    for (client_id, token, mut replica) in reader_replicas {
        while replica.apply(pull(&http, &a.base, &token, &client_id, &replica).await, &client_id) {}
        assert_eq!(replica.reports, truth.reports, "{client_id}");
    }

    // A new epoch (after a restore) is refused while a server is connected: it
    // would keep answering with the epoch it read at start.
    let new_epoch = || command(dir.path(), free_port()).arg("new-epoch").stdout(Stdio::piped()).output().unwrap();
    let out = new_epoch();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && text.contains("vẫn đang kết nối"), "{text}");
    drop((a, b));
    let mut done = false;
    for _ in 0..50 {
        if new_epoch().status.success() {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(done, "with every server stopped, new-epoch runs");
}

/// A plan published by another process (here: through the store, as
/// `danvan-server import-plan --apply` or a second server does) is known to a
/// push at once: the push's write transaction reads the catalog version under its
/// lock and reloads a stale catalog (src/sync.rs), instead of refusing the report
/// until the periodic reload (`catalog::watch`, 15 s) comes round.
#[tokio::test]
async fn a_push_checks_against_a_catalog_another_process_just_changed() {
    let dir = common::workspace();
    let s = common::TestServer::start_in(dir.path()).await;
    let mut d = common::Device::new(&s, "xa.dakbla", "thiet-bi-ke-hoach-moi").await;
    let before = s.state.catalog().version;
    common::publish_long_plan(dir.path()).await;
    assert_eq!(s.state.catalog().version, before, "nothing told this server yet");

    let key = ReportKey {
        plan_id: common::LONG_PLAN.into(),
        unit_id: DAKBLA.into(),
        period: Period::month(2024, 3).unwrap(),
    };
    let op = MutationOp::Save {
        form_id: format!("{}.bao-cao", common::LONG_PLAN),
        set: [("ii1.sessions".to_string(), "2".to_string())].into_iter().collect(),
        attach: vec![],
        detach: vec![],
    };
    let m = d.m(key, 0, op);
    let answer = d.push(&s, &[m]).await;
    assert_eq!(answer.results[0].result, common::applied(1), "the new plan is known to the push");
    assert!(s.state.catalog().version > before, "and the server's catalog moved with it");
    s.stop().await;
}
