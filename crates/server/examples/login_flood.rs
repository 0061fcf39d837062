//! Server memory under a flood of failed logins: the real server binary
//! (`target/server/danvan-server`) as a child process on a fresh SQLite file with
//! the production argon2 cost, its resident memory read from `/proc/<pid>/status`
//! before, during and after 1,000 failed logins sent 50 at a time.
//!
//! Every login must really run argon2, whatever throttling the server does: the
//! server trusts `X-Forwarded-For` from 127.0.0.1 (`DANVAN_TRUSTED_PROXIES`) and
//! each request comes from its own forwarded address with its own username that
//! does not exist (an unknown username is checked against a dummy hash, see
//! `routes/auth.rs`, so it costs the same as a wrong password).
//!
//! Run: `cargo build --profile server -p danvan-server` first, then
//! `cargo run --profile server -p danvan-server --example login_flood`
//! (`make bench` does both). Options (environment): `BENCH_LOGINS` (default 1000),
//! `BENCH_CONCURRENCY` (default 50), `BENCH_SETTLE_SECS` (default 5), `BENCH_RUNS`
//! (default 2), `BENCH_SERVER_BIN` and `BENCH_SERVER_LABEL` (the binary to
//! measure and its name in the table; default this checkout's build and commit), `BENCH_BASELINE_BIN`
//! and `BENCH_BASELINE_LABEL` (another build of the server, e.g. of an older
//! commit, measured in the same run, alternating with the first),
//! `BENCH_NO_WRITE=1` (print only, leave BENCHMARKS.md alone).
//!
//! Prints a markdown section and replaces the "## Login flood: server memory"
//! section of BENCHMARKS.md (and only that section).

#[path = "shared/proc_memory.rs"]
mod proc_memory;
use proc_memory::memory_kb;

#[path = "shared/benchmarks_md.rs"]
mod benchmarks_md;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECTION: &str = "## Login flood: server memory";
const TARGET_MB: f64 = 150.0;

/// One way of running the server: a binary and extra environment.
#[derive(Clone)]
struct Variant {
    label: String,
    bin: PathBuf,
    env: Vec<(String, String)>,
}

struct RunResult {
    label: String,
    before_kb: u64,
    /// Highest VmRSS sampled every 10 ms during the flood.
    peak_sampled_kb: u64,
    /// The kernel's high-water mark of the process at the end of the flood
    /// (includes start-up).
    hwm_kb: u64,
    settled_kb: u64,
    /// CPU time of the server process during the flood (user, system), in ticks.
    cpu_ticks: (u64, u64),
    statuses: BTreeMap<u16, usize>,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

/// utime and stime of a process, in clock ticks (`/proc/<pid>/stat` fields 14, 15).
fn cpu_ticks(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from the closing paren.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some((fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(variant: &Variant, http: &reqwest::Client) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>bench</title>").unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut cmd = Command::new(&variant.bin);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DANVAN_ADDR", format!("127.0.0.1:{port}"))
        .env("DANVAN_DATABASE_URL", format!("sqlite://{}", dir.path().join("danvan.db").display()))
        .env("DANVAN_DIST", &dist)
        .env("DANVAN_TRUSTED_PROXIES", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    for (k, v) in &variant.env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap_or_else(|e| panic!("start {}: {e}", variant.bin.display()));
    let server = Server { child, base: format!("http://127.0.0.1:{port}"), _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(res) = http.get(format!("{}/api/openapi.json", server.base)).send().await {
            if res.status().is_success() {
                return server;
            }
        }
        assert!(Instant::now() < deadline, "the server did not answer within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn flood(variant: &Variant, run: usize, logins: usize, concurrency: usize, settle: Duration) -> RunResult {
    let http = reqwest::Client::builder().timeout(Duration::from_secs(120)).build().unwrap();
    let server = start(variant, &http).await;
    let pid = server.child.id();
    // Let start-up work (seeding, the dummy hash) finish and settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (before_kb, _) = memory_kb(pid).expect("server status");
    let cpu_before = cpu_ticks(pid).expect("server stat");

    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(before_kb));
    let sampler = {
        let (sampling, peak) = (sampling.clone(), peak.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Some((rss, _)) = memory_kb(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };

    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..logins {
        let permit = slots.clone().acquire_owned().await.unwrap();
        let (http, base) = (http.clone(), server.base.clone());
        tasks.spawn(async move {
            // A distinct client address and a distinct unknown user per request.
            let forwarded = format!("10.{}.{}.{}", run % 250, i / 250, i % 250 + 1);
            let t = Instant::now();
            let res = http
                .post(format!("{base}/api/auth/login"))
                .header("X-Forwarded-For", forwarded)
                .json(&serde_json::json!({
                    "username": format!("khong-co-{run}-{i}"),
                    "password": "mật khẩu sai",
                }))
                .send()
                .await;
            let status = match res {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    s
                }
                Err(_) => 0,
            };
            drop(permit);
            (status, t.elapsed())
        });
    }
    let mut statuses = BTreeMap::new();
    let mut latencies = Vec::with_capacity(logins);
    while let Some(done) = tasks.join_next().await {
        let (status, latency) = done.unwrap();
        *statuses.entry(status).or_insert(0) += 1;
        latencies.push(latency);
    }
    let elapsed = started.elapsed();
    let cpu_after = cpu_ticks(pid).expect("server stat");
    sampling.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    let (_, hwm_kb) = memory_kb(pid).expect("server status");
    tokio::time::sleep(settle).await;
    let (settled_kb, _) = memory_kb(pid).expect("server status");
    drop(server);
    latencies.sort();
    RunResult {
        label: variant.label.clone(),
        before_kb,
        peak_sampled_kb: peak.load(Ordering::Relaxed),
        hwm_kb,
        settled_kb,
        cpu_ticks: (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1),
        statuses,
        elapsed,
        latencies,
    }
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn shell(cmd: &str) -> String {
    Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let logins = env_usize("BENCH_LOGINS", 1000);
    let concurrency = env_usize("BENCH_CONCURRENCY", 50).max(1);
    let settle = Duration::from_secs(env_usize("BENCH_SETTLE_SECS", 5) as u64);
    let runs = env_usize("BENCH_RUNS", 2).max(1);
    let bin = std::env::var("BENCH_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/server/danvan-server"));
    assert!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build --profile server -p danvan-server`",
        bin.display()
    );
    let label = std::env::var("BENCH_SERVER_LABEL").unwrap_or_else(|_| {
        let commit = shell("git rev-parse --short HEAD");
        let dirty = if shell("git status --porcelain --untracked-files=no").is_empty() { "" } else { " + changes" };
        format!("`{commit}`{dirty}")
    });
    let mut variants = vec![Variant { label, bin, env: vec![] }];
    if let Ok(baseline) = std::env::var("BENCH_BASELINE_BIN") {
        let label = std::env::var("BENCH_BASELINE_LABEL").unwrap_or_else(|_| "baseline".into());
        let bin = PathBuf::from(baseline);
        variants.push(Variant { label: label.clone(), bin: bin.clone(), env: vec![] });
        // The configuration-only alternative: a fixed mmap threshold makes glibc
        // hand every 19 MiB argon2 buffer back to the kernel when it is freed.
        variants.push(Variant {
            label: format!("{label} with `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072`"),
            bin,
            env: vec![("GLIBC_TUNABLES".into(), "glibc.malloc.mmap_threshold=131072".into())],
        });
    }

    let load_start = shell("cut -d' ' -f1-3 /proc/loadavg");
    let mut results = Vec::new();
    // Alternating, so a busy moment on the shared machine does not fall on one
    // variant only.
    for run in 0..runs {
        for v in &variants {
            let r = flood(v, run, logins, concurrency, settle).await;
            eprintln!(
                "{} run {}: before {:.1} MB, peak {:.1} MB (VmHWM {:.1} MB), settled {:.1} MB, {:?} in {:.1} s",
                r.label,
                run + 1,
                mb(r.before_kb),
                mb(r.peak_sampled_kb),
                mb(r.hwm_kb),
                mb(r.settled_kb),
                r.statuses,
                r.elapsed.as_secs_f64()
            );
            results.push(r);
        }
    }
    let load_end = shell("cut -d' ' -f1-3 /proc/loadavg");

    let tick_ms = 1000.0 / shell("getconf CLK_TCK").parse::<f64>().unwrap_or(100.0);
    let mut rows = String::new();
    for r in &results {
        let count = |s: u16| r.statuses.get(&s).copied().unwrap_or(0);
        let other: usize = r.statuses.iter().filter(|(s, _)| **s != 401 && **s != 503).map(|(_, n)| n).sum();
        rows.push_str(&format!(
            "| {} | {:.1} | **{:.1}** | {:.1} | **{:.1}** | {} | {} | {} | {:.0} | {:.0} / {:.0} | {:.1} + {:.1} |\n",
            r.label,
            mb(r.before_kb),
            mb(r.peak_sampled_kb),
            mb(r.hwm_kb),
            mb(r.settled_kb),
            count(401),
            count(503),
            other,
            logins as f64 / r.elapsed.as_secs_f64(),
            percentile(&r.latencies, 50.0).as_secs_f64() * 1000.0,
            percentile(&r.latencies, 95.0).as_secs_f64() * 1000.0,
            r.cpu_ticks.0 as f64 * tick_ms / logins as f64,
            r.cpu_ticks.1 as f64 * tick_ms / logins as f64,
        ));
    }
    let ours: Vec<&RunResult> = results.iter().filter(|r| r.label == variants[0].label).collect();
    let worst_peak = ours.iter().map(|r| mb(r.peak_sampled_kb.max(r.hwm_kb))).fold(0f64, f64::max);
    let verdict = if worst_peak < TARGET_MB { "**met**" } else { "**MISSED**" };
    let cpu = shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim().to_string();
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let glibc = shell("ldd --version | head -1");
    let date = shell("date -u +%Y-%m-%d");
    let baseline_note = if variants.len() > 1 {
        format!(
            "\nThe other rows run another build of the server ({}) in the same run, alternating \
             with this one: as it is, and with a fixed mmap threshold (`GLIBC_TUNABLES`, the \
             configuration-only alternative: every 19 MiB buffer is mapped for one run and unmapped \
             after it). That returns the memory once the flood is over, but each login then pays for \
             faulting in and zeroing 19 MiB of fresh pages: compare the system CPU time per login.\n",
            variants[1].label
        )
    } else {
        String::new()
    };
    let section = format!(
        r#"{SECTION}

Resident memory of the real server binary (`target/server/danvan-server`, profile
`server`) started as a child process on a fresh SQLite file with the production
password cost (argon2id, m = 19 MiB, t = 2, p = 1), read from `/proc/<pid>/status`:
VmRSS 2 s after it answered (before), the highest VmRSS sampled every 10 ms during
the flood (peak), the kernel's high-water mark VmHWM at the end of the flood
(includes start-up), and VmRSS {settle_s} s after the last answer (settled). The
flood: {logins} failed logins, {concurrency} at a time, over HTTP/1.1 on loopback. Each
has its own unknown username and its own `X-Forwarded-For` address, and the server
trusts that header from 127.0.0.1 (`DANVAN_TRUSTED_PROXIES`), so no per-user or
per-address throttling can spare a login its argon2 run (an unknown username is
checked against a dummy hash). Expected answer 401; 503 is what a login gets when
no password thread frees up within 5 s (`PASSWORD_QUEUE_WAIT`). Alternating runs.

Command: `cargo build --profile server -p danvan-server && cargo run --profile server
-p danvan-server --example login_flood` (part of `make bench`; `BENCH_LOGINS`,
`BENCH_CONCURRENCY`, `BENCH_SETTLE_SECS`, `BENCH_RUNS`; `BENCH_BASELINE_BIN` and
`BENCH_BASELINE_LABEL` measure another build in the same run).
Measured {date}, {nproc} × {cpu} (shared machine; load average {load_start} before,
{load_end} after), {glibc}.

| server | before MB | peak MB | VmHWM MB | settled MB | 401 | 503 | other | logins/s | p50 / p95 ms | CPU ms per login (user + sys) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
{rows}
Target: peak < {TARGET_MB:.0} MB — {verdict} (highest peak of this build {worst_peak:.1} MB).

How the server bounds it (`crates/server/src/auth.rs`): password hashing and
verification run on a fixed set of threads ({nproc} here: `available_parallelism`,
at least 2) fed by a queue, and each thread runs argon2 in one buffer of its own,
reused for every login (grown only for a hash made with a higher cost). Argon2's
memory is at most threads × 19 MiB and is never handed back: "settled" stays at the
peak, about one buffer per thread above the baseline ("before" already holds the
buffer that hashed the dummy password at start-up). It used to allocate and free
19 MiB per check on whichever short-lived blocking thread tokio picked; glibc kept
those blocks in its per-thread malloc arenas (and freeing a large mapped block
raises glibc's mmap threshold, so the next ones came from the arenas too).
{baseline_note}"#,
        settle_s = settle.as_secs(),
    );
    print!("{section}");
    if std::env::var("BENCH_NO_WRITE").is_err() {
        benchmarks_md::write_section(&root.join("BENCHMARKS.md"), SECTION, &section);
    }
}
