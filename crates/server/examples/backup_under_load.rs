//! `danvan-server backup` on a large database while the server keeps taking
//! pushes: how long the backup takes, and how long pushes wait meanwhile.
//!
//! The real server binary (`target/server/danvan-server`) runs as a child process
//! on a copy of the database `BENCH_DB` (for instance the 575 MB one that
//! `BENCH_DB_DIR=/tmp/danvan-bigdb cargo run --profile server -p danvan-server
//! --example dashboard_bench` leaves in `/tmp/danvan-bigdb/danvan.db`; without
//! `BENCH_DB`, a fresh database with the seed only). `BENCH_PUSHERS` devices
//! (default 2) push one Save each, one push after the other, as phones do; the
//! latency of every push is recorded with its time. After 5 s of pushes the real
//! `danvan-server backup` command runs; pushes go on until 5 s after it ends.
//!
//! Run: `cargo build --profile server -p danvan-server` first, then
//! `BENCH_DB=/tmp/danvan-bigdb/danvan.db cargo run --profile server -p danvan-server
//! --example backup_under_load`. `BENCH_NO_WRITE=1`: print only, leave
//! BENCHMARKS.md alone. Not part of `make bench` (it needs the large database).
//!
//! Prints a markdown section and replaces the "## Backup while the server takes
//! pushes" section of BENCHMARKS.md (and only that section).

#[path = "shared/benchmarks_md.rs"]
mod benchmarks_md;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use danvan_core::api::LoginResponse;
use danvan_core::sync::{Mutation, MutationOp, MutationResult, PushRequest, PushResponse, SYNC_SCHEMA_VERSION};
use danvan_core::{Period, ReportKey};

const SECTION: &str = "## Backup while the server takes pushes";
const PLAN: &str = "kh-413-ubnd-2024";
const FORM: &str = "kh-413-ubnd-2024.bao-cao";
const UNIT: &str = "kontum.tpkontum.dakbla";
const CALM: Duration = Duration::from_secs(5);

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env(cmd: &mut Command, dir: &Path, port: u16) {
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DANVAN_ADDR", format!("127.0.0.1:{port}"))
        .env("DANVAN_DATABASE_URL", format!("sqlite://{}", dir.join("danvan.db").display()))
        .env("DANVAN_DIST", dir.join("dist"))
        .env("DANVAN_DEMO", "accounts")
        .env("RUST_LOG", "warn");
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn shell(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// One phone pushing Saves of its own report, one push at a time, until `stop`;
/// (start, latency) of each.
async fn pusher(
    base: String,
    n: usize,
    t0: Instant,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<(Duration, Duration)>>>,
) {
    let http = reqwest::Client::new();
    let login: LoginResponse = http
        .post(format!("{base}/api/auth/login"))
        .json(&serde_json::json!({ "username": "xa.dakbla", "password": "danvan2024" }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .expect("login")
        .json()
        .await
        .unwrap();
    // A year no generated report uses, so every Save starts from version 0.
    let key =
        ReportKey { plan_id: PLAN.into(), unit_id: UNIT.into(), period: Period::month(2031, n as u32 + 1).unwrap() };
    let client_id = format!("backup-bench-{n}-{}", std::process::id());
    let (mut id, mut version) = (1u64, 0u64);
    while !stop.load(Ordering::Relaxed) {
        let op = MutationOp::Save {
            form_id: FORM.into(),
            set: [("ii1.sessions".to_string(), id.to_string())].into_iter().collect(),
            attach: vec![],
            detach: vec![],
        };
        let req = PushRequest {
            client_id: client_id.clone(),
            epoch: None,
            schema_version: SYNC_SCHEMA_VERSION,
            mutations: vec![Mutation::new(id, key.clone(), version, op)],
        };
        let start = Instant::now();
        let res: PushResponse = http
            .post(format!("{base}/api/sync/push"))
            .bearer_auth(&login.token)
            .json(&req)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .expect("push")
            .json()
            .await
            .unwrap();
        let latency = start.elapsed();
        let MutationResult::Applied { version: v } = res.results[0].result else { panic!("{res:?}") };
        version = v;
        id += 1;
        log.lock().unwrap().push((start - t0, latency));
    }
}

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = root.join("target/server/danvan-server");
    assert!(bin.is_file(), "{} is missing: `cargo build --profile server -p danvan-server` first", bin.display());
    let pushers: usize = std::env::var("BENCH_PUSHERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let dir = tempfile::tempdir_in(std::env::var("BENCH_TMP").unwrap_or_else(|_| "/tmp".into())).unwrap();
    std::fs::create_dir_all(dir.path().join("dist")).unwrap();
    std::fs::write(dir.path().join("dist/index.html"), "<!doctype html><title>bench</title>").unwrap();
    let source = std::env::var("BENCH_DB").ok().map(PathBuf::from);
    if let Some(src) = &source {
        std::fs::copy(src, dir.path().join("danvan.db")).expect("copy BENCH_DB");
    }

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new(&bin);
    env(&mut cmd, dir.path(), port);
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().unwrap();
    let server = Server { child, base: format!("http://127.0.0.1:{port}") };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while !http.get(format!("{}/api/openapi.json", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let db = dir.path().join("danvan.db");
    let db_bytes = file_size(&db);

    let t0 = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> =
        (0..pushers).map(|n| tokio::spawn(pusher(server.base.clone(), n, t0, stop.clone(), log.clone()))).collect();
    tokio::time::sleep(CALM).await;

    let file = dir.path().join("sao-luu.db");
    let mut cmd = Command::new(&bin);
    env(&mut cmd, dir.path(), port);
    cmd.args(["backup", file.to_str().unwrap()]);
    let wal_before = file_size(&dir.path().join("danvan.db-wal"));
    let backup_start = t0.elapsed();
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    let backup_end = t0.elapsed();
    let wal_after = file_size(&dir.path().join("danvan.db-wal"));
    let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(out.status.success(), "backup failed: {printed}{}", String::from_utf8_lossy(&out.stderr));
    tokio::time::sleep(CALM).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    drop(server);

    let log = log.lock().unwrap().clone();
    // A push belongs to the backup's window if it overlapped it at all.
    let overlaps = |(start, latency): &(Duration, Duration)| *start < backup_end && *start + *latency > backup_start;
    let mut before: Vec<Duration> = log.iter().filter(|p| p.0 + p.1 <= backup_start).map(|p| p.1).collect();
    let mut during: Vec<Duration> = log.iter().filter(|p| overlaps(p)).map(|p| p.1).collect();
    let mut after: Vec<Duration> = log.iter().filter(|p| p.0 >= backup_end).map(|p| p.1).collect();
    for v in [&mut before, &mut during, &mut after] {
        v.sort();
    }
    let window = backup_end - backup_start;
    let row = |name: &str, v: &[Duration], secs: f64| {
        format!(
            "| {name} | {} | {:.0} | {:.1} | {:.1} | {:.1} |\n",
            v.len(),
            v.len() as f64 / secs,
            ms(percentile(v, 50.0)),
            ms(percentile(v, 95.0)),
            ms(v.last().copied().unwrap_or_default()),
        )
    };
    let rows = [
        row("before (5 s)", &before, backup_start.as_secs_f64()),
        row(&format!("during the backup ({:.1} s)", window.as_secs_f64()), &during, window.as_secs_f64()),
        row("after (5 s)", &after, CALM.as_secs_f64()),
    ]
    .concat();
    let backup_bytes = file_size(&file);
    let what = match &source {
        Some(_) => format!(
            "a copy of the database that `dashboard_bench` generates (10,021 units × 12 months, ~115,000 reports; \
             {:.0} MB)",
            db_bytes as f64 / 1e6
        ),
        None => format!("a fresh database with the seed only ({:.1} MB)", db_bytes as f64 / 1e6),
    };
    let cpu = shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim().to_string();
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let date = shell("date -u +%Y-%m-%d");
    let load = shell("cut -d' ' -f1-3 /proc/loadavg");
    let fs = shell(&format!("findmnt -n -o FSTYPE,SOURCE -T {}", dir.path().display()));
    let printed_md = printed.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n");
    let section = format!(
        r#"{SECTION}

`danvan-server backup FILE` (`crates/server/src/backup.rs`: `VACUUM INTO` a temp file
on a connection of its own, `PRAGMA integrity_check` of the copy, fsync, rename) run
as its own process against the real server binary while it serves {what}. {pushers}
devices push one Save each, one push after another (each push is one `BEGIN
IMMEDIATE` transaction committed with `synchronous = FULL`). Latency of each push
from the client; a push counts for the backup's window if it overlapped it.

Command: `BENCH_DB=/tmp/danvan-bigdb/danvan.db cargo run --profile server -p
danvan-server --example backup_under_load` (after `BENCH_DB_DIR=/tmp/danvan-bigdb
cargo run --profile server -p danvan-server --example dashboard_bench` has left the
database there; not part of `make bench`). Measured {date}, {nproc} × {cpu} (shared
machine, load average {load} at the end), files on {fs}.

Backup: **{total:.1} s** in all for a {backup_mb:.0} MB file; the command printed:

{printed_md}

The server's WAL was {wal_before_kb} KB when the backup started and {wal_after_kb} KB
when it ended: while the backup's snapshot is open, checkpoints cannot move past it,
so the WAL grows by what is written meanwhile (checkpoints catch up once it closes).

| pushes | n | per second | p50 ms | p95 ms | max ms |
|---|---:|---:|---:|---:|---:|
{rows}"#,
        total = window.as_secs_f64(),
        backup_mb = backup_bytes as f64 / 1e6,
        wal_before_kb = wal_before / 1024,
        wal_after_kb = wal_after / 1024,
    );
    print!("{section}");
    if std::env::var("BENCH_NO_WRITE").is_err() {
        benchmarks_md::write_section(&root.join("BENCHMARKS.md"), SECTION, &section);
    }
}
