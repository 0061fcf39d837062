//! The deadline rush: every commune of a province files its monthly report in the
//! same minute, the evening before the deadline. 10,000 commune-level units (one
//! reporter, one phone each, its own client id) each push a filled report (every
//! count field, every narrative ~150 Vietnamese characters) and then submit it,
//! their arrivals spread uniformly at random over a 60-second window — an open
//! load: a unit arrives when its time comes, however busy the server is. Each
//! push is a real HTTP request to the real server binary, as the phone app sends
//! it.
//!
//! Two variants in one run, the same units, reports and arrival times:
//! - SQLite: ONE `target/server/danvan-server` process on a fresh database file
//!   (the server's own settings: WAL, `synchronous = FULL`,
//!   `crates/server/src/store/sqlite.rs`);
//! - PostgreSQL: TWO `danvan-server` processes on ONE database (the same
//!   `DANVAN_DATABASE_URL`, two ports). A unit's save goes to one process and its
//!   submit to the other, so every report crosses processes. The cluster is this
//!   program's own, in a temp dir, with PostgreSQL's default durability (fsync
//!   and synchronous_commit on) — not `scripts/with-postgres.sh`, whose cluster
//!   runs with fsync off for the tests — and is removed at the end.
//!
//! The servers run as child processes in both variants so that each one's peak
//! resident memory (VmHWM in /proc/<pid>/status) is measured the same way.
//!
//! Setup, outside the measured window, never through raw SQL: the synthetic
//! communes are a unit-tree file in the import format
//! (`crates/server/src/catalog/unit_files.rs`) applied with `danvan-server
//! import-units FILE --apply`; the plan of the current year is plan 413 copied to
//! it and published as `crates/server/src/catalog/plans.rs` and
//! `crates/server/src/demo.rs` do (`copy_to_year`, `check_plan`,
//! `Store::publish_plan`); accounts, passwords and signed-in devices are written
//! through `Store` (one argon2 hash shared by all accounts, bearer tokens hashed
//! with `auth::hash_token` as the server does), so setup takes seconds instead of
//! 10,000 argon2 sign-ins.
//!
//! Run: `cargo build --profile server -p danvan-server` first, then
//! `cargo run --profile server -p danvan-server --example deadline_rush`
//! (`make bench` does both). Options (environment): `BENCH_UNITS` (default
//! 10000), `BENCH_WINDOW_SECS` (default 60), `BENCH_VARIANTS` (`sqlite,postgres`),
//! `BENCH_SEED` (arrival times and values, default 1), `BENCH_SERVER_BIN` (default
//! `target/server/danvan-server`), `BENCH_PG_BIN` (PostgreSQL's bin directory,
//! default the newest `/usr/lib/postgresql/*/bin`), `BENCH_KEEP_LOGS=DIR` (copy
//! the servers' and PostgreSQL's logs there before the temp dirs go),
//! `BENCH_NO_WRITE=1` (print only, leave BENCHMARKS.md alone).
//!
//! Prints a markdown section and replaces the "## Sync: the deadline rush"
//! section of BENCHMARKS.md (and only that section).

#[path = "shared/proc_memory.rs"]
mod proc_memory;
use proc_memory::memory_kb;

#[path = "shared/benchmarks_md.rs"]
mod benchmarks_md;

#[path = "shared/pg_cluster.rs"]
mod pg_cluster;
use pg_cluster::{pg_bin, shell, tail, PgCluster};

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate, Utc};
use danvan_core::api::Role;
use danvan_core::form::{FieldKind, PeriodKind, Rule};
use danvan_core::sync::{Mutation, MutationOp, MutationResult, PushRequest, PushResponse, SYNC_SCHEMA_VERSION};
use danvan_core::time::{format_date, vn_date};
use danvan_core::{Period, ReportForm, ReportKey, ReportStatus, UnitKind, Values};
use danvan_server::auth::{hash_password, hash_token, new_token, random_hex, session_lifetime};
use danvan_server::catalog::plans::{check_plan, copy_to_year, id_for_year};
use danvan_server::catalog::Catalog;
use danvan_server::store::{AccountFields, Actor, NewAudit, NewDevice, Store, StoreOptions};
use danvan_server::PasswordCost;

const SECTION: &str = "## Sync: the deadline rush";
/// The shipped plan the plan of the current year is copied from.
const SOURCE_PLAN: &str = "kh-413-ubnd-2024";
/// What the phone app sends in `X-Danvan-Version` (`src/api.rs` of the app); the devices are
/// created with it, so no request rewrites the device row for a new version.
const APP_VERSION: &str = env!("CARGO_PKG_VERSION");
/// A phone waits this long for an answer (longer than the server's own request
/// timeout, `Limits` in `crates/server/src/serve.rs`, so a slow answer is the server's, not the client's).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(90);

const TARGET_P99_MS: f64 = 250.0;
const TARGET_RSS_MB: f64 = 150.0;

/// Narratives of ~150 characters, the kind a commune official types, rotated
/// through the text fields.
const NARRATIVES: &[&str] = &[
    "Tổ chức 3 buổi tuyên truyền về chính sách đất đai tại thôn Kon Rơ Bàng, có 120 lượt người tham dự; nhân dân đồng tình, không có ý kiến thắc mắc kéo dài.",
    "Phối hợp với Mặt trận Tổ quốc xã giám sát việc chi trả trợ cấp cho hộ nghèo và gia đình chính sách; kết quả chi đúng, chi đủ, không phát hiện sai phạm.",
    "Tiếp nhận 5 đơn kiến nghị về ranh giới đất giữa các hộ, đã hòa giải thành 4 đơn tại thôn, 1 đơn đang xác minh hồ sơ địa chính, dự kiến trả lời trong tháng.",
    "Mô hình \"Dân vận khéo\" trong xây dựng đường giao thông nông thôn được nhân dân hưởng ứng, đóng góp 350 ngày công và hiến 1.200 m² đất để mở rộng mặt đường.",
    "Duy trì tiếp công dân định kỳ vào thứ Năm hằng tuần tại trụ sở Ủy ban nhân dân xã; lãnh đạo xã trực tiếp đối thoại với người dân về thủ tục cấp giấy chứng nhận.",
    "Cán bộ, công chức xã thực hiện nghiêm quy tắc ứng xử, công khai thủ tục hành chính tại bộ phận một cửa; không có phản ánh về thái độ phục vụ trong kỳ báo cáo.",
];

// --- Small tools ---------------------------------------------------------------------

/// splitmix64: arrival times and values from a seed, the same for both variants
/// (no `rand` among the crate's dependencies, and none is needed for this).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Fields 4 (ppid) and 14–17 (utime, stime, cutime, cstime) of /proc/<pid>/stat.
fn stat(pid: u32) -> Option<(u32, [u64; 4])> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from the closing paren.
    let rest: Vec<&str> = text[text.rfind(')')? + 2..].split_whitespace().collect();
    let n = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok());
    Some((rest.get(1)?.parse().ok()?, [n(11)?, n(12)?, n(13)?, n(14)?]))
}

/// CPU ticks (user + system) of one process.
fn cpu_ticks(pid: u32) -> u64 {
    stat(pid).map(|(_, t)| t[0] + t[1]).unwrap_or(0)
}

/// CPU ticks of a process and all its children, ended ones included (the
/// parent's cutime/cstime hold the children it has reaped): PostgreSQL's
/// postmaster and its backends.
fn tree_cpu_ticks(root: u32) -> u64 {
    let mut total = stat(root).map(|(_, t)| t.iter().sum()).unwrap_or(0);
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if let Some((ppid, t)) = stat(pid) {
            if ppid == root {
                total += t[0] + t[1];
            }
        }
    }
    total
}

/// Busy, stolen (by the hypervisor) and total CPU time of the whole machine so
/// far, in ticks (the `cpu` line of /proc/stat): how much else ran beside the
/// benchmark.
fn machine_ticks() -> (u64, u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    let total: u64 = fields.iter().sum();
    (total - at(3) - at(4) - at(7), at(7), total)
}

fn clock_ticks() -> f64 {
    shell("getconf CLK_TCK").parse().unwrap_or(100.0)
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// --- Server processes ----------------------------------------------------------------

/// One `danvan-server` child process. Stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    async fn start(bin: &Path, url: &str, work: &Path, n: usize) -> Server {
        let port = free_port();
        let dist = work.join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.html"), "<!doctype html><title>bench</title>").unwrap();
        let log = work.join(format!("server-{n}.log"));
        let file = std::fs::File::create(&log).unwrap();
        // The production configuration: only the address, the database and the
        // app's directory are set (no DANVAN_DEMO, default pool and limits, the
        // default log level).
        let child = Command::new(bin)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DANVAN_ADDR", format!("127.0.0.1:{port}"))
            .env("DANVAN_DATABASE_URL", url)
            .env("DANVAN_DIST", &dist)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let mut server = Server { child, base: format!("http://127.0.0.1:{port}"), log };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("the server exited ({status}) before answering:\n{}", tail(&server.log, 20));
            }
            if http.get(format!("{}/api/health", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return server;
            }
            assert!(Instant::now() < deadline, "the server did not answer within 120 s:\n{}", tail(&server.log, 20));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A graceful stop first (the server closes its pool), by our own child's pid.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- Setup ---------------------------------------------------------------------------

/// One unit's phone: its session token, client id and report.
struct Phone {
    token: String,
    client_id: String,
    key: ReportKey,
    values: Values,
}

struct Prepared {
    form_id: String,
    period: Period,
    epoch: String,
    phones: Vec<Arc<Phone>>,
    /// Count and text fields of the form, and the JSON size of one save's push.
    shape: (usize, usize, usize),
    /// (what, how long)
    steps: Vec<(&'static str, Duration)>,
}

/// The values of one filled report: every count field (random, then lowered where
/// a rule of the form says "not more than") and every narrative.
fn filled_values(form: &ReportForm, rng: &mut Rng) -> Values {
    let mut values = Values::new();
    let mut text = 0usize;
    for field in form.fields_for(PeriodKind::Month) {
        let value = match field.kind {
            FieldKind::Count => rng.below(200).to_string(),
            FieldKind::Text { max_chars } => {
                text += 1;
                NARRATIVES[(rng.below(NARRATIVES.len() as u64) as usize + text) % NARRATIVES.len()]
                    .chars()
                    .take(max_chars as usize)
                    .collect()
            }
        };
        values.insert(field.id.clone(), value);
    }
    loop {
        let mut changed = false;
        for Rule::NotMoreThan { field, limit } in &form.rules {
            let (Some(v), Some(l)) = (values.get(field), values.get(limit)) else { continue };
            let (v, l): (u64, u64) = (v.parse().unwrap_or(0), l.parse().unwrap_or(0));
            if v > l {
                values.insert(field.clone(), l.to_string());
                changed = true;
            }
        }
        if !changed {
            return values;
        }
    }
}

/// A fresh database holding the shipped catalog plus `units` synthetic communes,
/// a published plan of this year covering the current monthly period, and one
/// reporter with a signed-in device per commune.
async fn prepare(bin: &Path, url: &str, work: &Path, units: usize, seed: u64) -> Prepared {
    let mut steps = Vec::new();
    let now = Utc::now();
    let today = vn_date(now);
    // The monthly report being filed now (Decree 09 window; `crates/core/src/period.rs`).
    let period = Period::month_containing(today);

    // 1. The database as the server makes it (migrations, shipped catalog).
    let t = Instant::now();
    let store = Store::open_with(url, StoreOptions { max_connections: 8, ..StoreOptions::default() })
        .await
        .expect("open the database");
    store.ensure_epoch(&random_hex(16)).await.unwrap();
    danvan_server::catalog::packages::apply_shipped(&store, now).await.expect("shipped catalog");
    let catalog = Catalog::load(&store).await.expect("catalog");
    steps.push(("database and shipped catalog", t.elapsed()));

    // 2. The communes: a unit file in the import format, applied by the real CLI.
    let t = Instant::now();
    let root = catalog.root_on(today).expect("a province valid today").clone();
    let from = root.valid_from.map(format_date).unwrap_or_default();
    let code = |i: usize| format!("9{i:06}");
    let mut csv = String::from("mã,tên,loại,mã cấp trên,hiệu lực từ\n");
    for i in 0..units {
        csv.push_str(&format!("{},Xã Thử Tải {},xã,{},{from}\n", code(i), i + 1, root.code));
    }
    let file = work.join("xa-thu-tai.csv");
    std::fs::write(&file, csv).unwrap();
    let out = Command::new(bin)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DANVAN_DATABASE_URL", url)
        .arg("import-units")
        .arg(&file)
        .arg("--apply")
        .stdin(Stdio::null())
        .output()
        .expect("danvan-server import-units");
    assert!(
        out.status.success(),
        "import-units failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        tail_text(&String::from_utf8_lossy(&out.stdout), 10)
    );
    let catalog = Catalog::load(&store).await.expect("catalog");
    let by_code: HashMap<&str, &str> = catalog
        .tree
        .all()
        .iter()
        .filter(|u| u.kind == UnitKind::Commune && u.parent.as_deref() == Some(root.id.as_str()) && u.valid_on(today))
        .map(|u| (u.code.as_str(), u.id.as_str()))
        .collect();
    let unit_ids: Vec<String> = (0..units)
        .map(|i| {
            by_code.get(code(i).as_str()).unwrap_or_else(|| panic!("commune {} not imported", code(i))).to_string()
        })
        .collect();
    steps.push(("communes (`danvan-server import-units --apply`)", t.elapsed()));

    // 3. The plan of the year the period is due in: 413 copied to it, as an
    //    administrator's "copy to a new year" would (`crates/server/src/catalog/plans.rs`).
    let t = Instant::now();
    let year = period.due_date().year();
    let source = catalog.plan(SOURCE_PLAN).expect("shipped plan 413");
    let plan_id = id_for_year(SOURCE_PLAN, source.issued_on.year(), year);
    if catalog.plan(&plan_id).is_none() {
        let (mut doc, _notes) = copy_to_year(&catalog.tree, source, catalog.form_for_plan(SOURCE_PLAN), year);
        // 413 applies from 1 February: its copy would not cover January's report
        // (due 14/01), and the benchmark must run whatever the month.
        doc.plan.valid_from = NaiveDate::from_ymd_opt(year, 1, 1);
        doc.plan.valid_to = NaiveDate::from_ymd_opt(year, 12, 31);
        let checked = check_plan(&catalog, doc).unwrap_or_else(|e| panic!("plan: {}", e.join("; ")));
        let audit = NewAudit {
            action: "plan.publish",
            target: Some(&plan_id),
            unit_id: None,
            detail: Some("deadline_rush benchmark".into()),
        };
        store
            .publish_plan(&checked.doc.plan, checked.doc.form.as_ref(), &Actor::cli(), &audit, now)
            .await
            .expect("publish the plan");
    }
    let catalog = Catalog::load(&store).await.expect("catalog");
    let form = catalog.form_for_plan(&plan_id).expect("the plan's form").clone();
    steps.push(("plan of the year (copy of 413, published)", t.elapsed()));

    // 4. Accounts (one transaction, with their enrolment codes), their passwords
    //    (the codes used, as `create-admin` in `crates/server/src/cli.rs` does; one
    //    argon2 hash for all) and one signed-in device each.
    let t = Instant::now();
    let tag = random_hex(4);
    let accounts: Vec<(AccountFields, String)> = unit_ids
        .iter()
        .enumerate()
        .map(|(i, unit)| {
            let fields = AccountFields {
                username: format!("thutai{i:06}"),
                display_name: format!("Cán bộ xã thử tải {}", i + 1),
                role: Role::Reporter,
                unit_id: unit.clone(),
                phone: None,
                email: None,
            };
            (fields, hash_token(&format!("code-{tag}-{i}")))
        })
        .collect();
    let ids = store
        .create_accounts(&accounts, now + chrono::Duration::hours(72), &Actor::cli(), "account.import", now)
        .await
        .expect("create accounts")
        .unwrap_or_else(|taken| panic!("username {taken} exists"));
    let password_hash = hash_password(PasswordCost::Standard, "mật khẩu thử tải 2024").expect("argon2");
    let tokens: Vec<(String, String)> = (0..units).map(|_| new_token()).collect();
    let expires_at = now + session_lifetime();
    // A few writers at once: the store serialises them on its write lock, but
    // their round trips overlap.
    let mut tasks = tokio::task::JoinSet::new();
    let lanes = 8;
    for lane in 0..lanes {
        let store = store.clone();
        let work: Vec<(i64, String, String)> =
            (lane..units).step_by(lanes).map(|i| (ids[i], accounts[i].1.clone(), tokens[i].1.clone())).collect();
        let password_hash = password_hash.clone();
        tasks.spawn(async move {
            for (user_id, code_hash, token_hash) in work {
                assert!(store.set_password_with_code(&code_hash, &password_hash, now).await.expect("password"));
                let device = NewDevice {
                    token_hash: &token_hash,
                    name: "Chrome trên Android",
                    app_version: Some(APP_VERSION),
                    expires_at,
                    address: None,
                };
                store.create_device(user_id, &device, now).await.expect("device");
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    steps.push(("accounts, passwords, signed-in devices (`Store`)", t.elapsed()));

    let epoch = store.epoch().await.unwrap();
    store.close().await;

    let mut rng = Rng(seed ^ 0x5eed);
    let phones: Vec<Arc<Phone>> = unit_ids
        .into_iter()
        .zip(tokens)
        .enumerate()
        .map(|(i, (unit_id, (token, _)))| {
            Arc::new(Phone {
                token,
                client_id: format!("rush-{tag}-{i:06}"),
                key: ReportKey { plan_id: plan_id.clone(), unit_id, period },
                values: filled_values(&form, &mut rng),
            })
        })
        .collect();
    let fields = |count: bool| {
        form.fields_for(PeriodKind::Month).filter(|f| matches!(f.kind, FieldKind::Count) == count).count()
    };
    let save = PushRequest {
        client_id: phones[0].client_id.clone(),
        epoch: Some(epoch.clone()),
        schema_version: SYNC_SCHEMA_VERSION,
        mutations: vec![Mutation::new(
            1,
            phones[0].key.clone(),
            0,
            MutationOp::Save {
                form_id: form.id.clone(),
                set: phones[0].values.clone(),
                attach: vec![],
                detach: vec![],
            },
        )],
    };
    let shape = (fields(true), fields(false), serde_json::to_vec(&save).unwrap().len());
    Prepared { form_id: form.id.clone(), period, epoch, phones, shape, steps }
}

fn tail_text(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// --- The rush ------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Save,
    Submit,
}

struct Push {
    op: Op,
    latency: Duration,
    /// Since the window opened: when the answer came.
    done_at: Duration,
    /// None: applied; else the kind of failure.
    error: Option<String>,
    /// Whether the phone sends this mutation again after this answer (a 503 or a
    /// failure below HTTP, as the app does).
    retried: bool,
}

struct Shared {
    bases: Vec<String>,
    epoch: String,
    form_id: String,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// One push of one mutation, as the app sends it; the new version if applied.
async fn push(
    http: &reqwest::Client,
    shared: &Shared,
    base: &str,
    phone: &Phone,
    m: Mutation,
    t0: Instant,
) -> (Push, Option<u64>) {
    let op = if matches!(m.op, MutationOp::Submit) { Op::Submit } else { Op::Save };
    let req = PushRequest {
        client_id: phone.client_id.clone(),
        epoch: Some(shared.epoch.clone()),
        schema_version: SYNC_SCHEMA_VERSION,
        mutations: vec![m],
    };
    let now = shared.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::Relaxed);
    let t = Instant::now();
    let res = http
        .post(format!("{base}/api/sync/push"))
        .bearer_auth(&phone.token)
        .header("X-Danvan-Version", APP_VERSION)
        .json(&req)
        .send()
        .await;
    let answer = match res {
        Ok(r) => {
            let status = r.status();
            r.bytes().await.map(|body| (status, body))
        }
        Err(e) => Err(e),
    };
    let latency = t.elapsed();
    shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    let (error, version) = match answer {
        Err(e) => (Some(transport_error(&e, latency)), None),
        Ok((status, body)) if status.is_success() => match serde_json::from_slice::<PushResponse>(&body) {
            Ok(res) => match res.results.first().map(|o| &o.result) {
                Some(MutationResult::Applied { version }) => (None, Some(*version)),
                Some(MutationResult::Conflict { .. }) => (Some("conflict".to_string()), None),
                Some(MutationResult::Rejected { code, .. }) => (Some(format!("rejected `{code}`")), None),
                None => (Some(format!("stopped `{}`", res.stopped.unwrap_or_default())), None),
            },
            Err(_) => (Some(format!("HTTP {} unreadable body", status.as_u16())), None),
        },
        Ok((status, body)) => {
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(String::from))
                .unwrap_or_else(|| "?".into());
            (Some(format!("HTTP {} `{code}`", status.as_u16())), None)
        }
    };
    (Push { op, latency, done_at: t0.elapsed(), error, retried: false }, version)
}

/// What went wrong below HTTP, named by the deepest I/O error in the chain (a
/// reset, a refusal, the kernel's own timeout) or by the client's deadline.
fn transport_error(e: &reqwest::Error, latency: Duration) -> String {
    let mut io = None;
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if let Some(x) = err.downcast_ref::<std::io::Error>() {
            io = Some(x.kind());
        }
        source = err.source();
    }
    let stage = if e.is_connect() { "connecting" } else { "after connecting" };
    if std::env::var("BENCH_DEBUG_ERRORS").is_ok() {
        eprintln!("transport error after {latency:?}: {e:?}");
    }
    match io {
        _ if latency >= CLIENT_TIMEOUT => format!("no answer within the client's {} s", CLIENT_TIMEOUT.as_secs()),
        Some(kind) => format!("{kind:?} {stage}"),
        None if e.is_timeout() => format!("timeout {stage}"),
        None => format!("connection closed {stage}"),
    }
}

/// How long the app waits before its next sync after a failed one
/// (`src/sync.rs`, `start_scheduler`: 15 s × 2^failures): 30 s, then 60 s. The
/// mutation is sent again with the same id; the bench gives up after these.
const APP_RETRY_WAITS: [Duration; 2] = [Duration::from_secs(30), Duration::from_secs(60)];

/// Whether the app sends a push again after this failure: the server was busy
/// (503) or the request never got an HTTP answer. A 4xx or a rejection is final.
fn app_retries(error: &str) -> bool {
    let below_http = ["HTTP ", "rejected", "conflict", "stopped"].iter().all(|p| !error.starts_with(p));
    error.starts_with("HTTP 503") || below_http
}

/// One mutation pushed as the app pushes it: again after [`APP_RETRY_WAITS`] while
/// the answer is a 503 or no answer. Every attempt is returned.
async fn push_like_app(
    http: &reqwest::Client,
    shared: &Shared,
    base: &str,
    phone: &Phone,
    m: Mutation,
    t0: Instant,
) -> (Vec<Push>, Option<u64>) {
    let mut attempts = Vec::new();
    for wait in APP_RETRY_WAITS.iter().map(Some).chain([None]) {
        let (mut attempt, version) = push(http, shared, base, phone, m.clone(), t0).await;
        let again = wait.is_some() && attempt.error.as_deref().is_some_and(app_retries);
        attempt.retried = again;
        attempts.push(attempt);
        match wait {
            Some(wait) if again => tokio::time::sleep(*wait).await,
            _ => return (attempts, version),
        }
    }
    (attempts, None)
}

/// One unit: its phone wakes at `at`, pushes the filled report to one server and,
/// once it is applied, submits it through the next one.
async fn file_report(shared: Arc<Shared>, phone: Arc<Phone>, index: usize, t0: Instant, at: Duration) -> Vec<Push> {
    tokio::time::sleep_until((t0 + at).into()).await;
    // Its own HTTP client: a phone has its own connection.
    let http = reqwest::Client::builder().timeout(CLIENT_TIMEOUT).build().unwrap();
    let k = shared.bases.len();
    let save = Mutation::new(
        1,
        phone.key.clone(),
        0,
        MutationOp::Save { form_id: shared.form_id.clone(), set: phone.values.clone(), attach: vec![], detach: vec![] },
    );
    let (mut pushes, version) = push_like_app(&http, &shared, &shared.bases[index % k], &phone, save, t0).await;
    if let Some(version) = version {
        let mut submit = Mutation::new(2, phone.key.clone(), version, MutationOp::Submit);
        // The phone's clock at "Gửi" (`crates/core/src/client.rs`).
        submit.device_time = Some(Utc::now());
        let (second, _) = push_like_app(&http, &shared, &shared.bases[(index + 1) % k], &phone, submit, t0).await;
        pushes.extend(second);
    }
    pushes
}

struct ServerFigures {
    rss_start_kb: u64,
    rss_end_kb: u64,
    hwm_kb: u64,
    cpu_secs: f64,
}

struct VariantResult {
    name: &'static str,
    detail: String,
    steps: Vec<(&'static str, Duration)>,
    shape: (usize, usize, usize),
    pushes: Vec<Push>,
    /// Units whose save was not applied (so no submit was sent).
    no_submit: usize,
    /// Reports found submitted in the database afterwards.
    submitted_in_db: usize,
    units: usize,
    window: Duration,
    /// First arrival to last answer.
    span: Duration,
    max_in_flight: usize,
    servers: Vec<ServerFigures>,
    database_cpu_secs: Option<f64>,
    load_cpu_secs: f64,
    /// CPU seconds the whole machine spent during the rush, the seconds stolen by
    /// the hypervisor, and the seconds available (cores × span).
    machine_cpu_secs: (f64, f64, f64),
}

impl VariantResult {
    fn latencies(&self, op: Option<Op>) -> Vec<Duration> {
        let mut v: Vec<Duration> =
            self.pushes.iter().filter(|p| op.is_none_or(|o| p.op == o)).map(|p| p.latency).collect();
        v.sort();
        v
    }

    fn errors(&self) -> BTreeMap<String, usize> {
        let mut by_kind = BTreeMap::new();
        for p in &self.pushes {
            if let Some(e) = &p.error {
                let op = if p.op == Op::Save { "save" } else { "submit" };
                *by_kind.entry(format!("{op}: {e}")).or_insert(0) += 1;
            }
        }
        by_kind
    }

    /// Mutations that failed for good (their last attempt failed).
    fn error_count(&self) -> usize {
        self.pushes.iter().filter(|p| p.error.is_some() && !p.retried).count()
    }

    /// Attempts answered 503 (the phone waited and sent them again).
    fn shed_count(&self) -> usize {
        self.pushes.iter().filter(|p| p.error.as_deref().is_some_and(|e| e.starts_with("HTTP 503"))).count()
    }

    fn throughput(&self) -> f64 {
        self.pushes.len() as f64 / self.span.as_secs_f64().max(1e-9)
    }

    fn p99(&self) -> Duration {
        percentile(&self.latencies(None), 99.0)
    }

    fn max_hwm_mb(&self) -> f64 {
        self.servers.iter().map(|s| mb(s.hwm_kb)).fold(0.0, f64::max)
    }
}

/// Runs the rush against `servers` (already started on a prepared database).
async fn rush(
    servers: &[Server],
    prepared: &Prepared,
    offsets: &[Duration],
) -> (Vec<Push>, usize, Duration, usize, Vec<ServerFigures>, f64, (f64, f64, f64)) {
    let shared = Arc::new(Shared {
        bases: servers.iter().map(|s| s.base.clone()).collect(),
        epoch: prepared.epoch.clone(),
        form_id: prepared.form_id.clone(),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });
    let rss_start: Vec<u64> = servers.iter().map(|s| memory_kb(s.pid()).map_or(0, |m| m.0)).collect();
    let cpu_start: Vec<u64> = servers.iter().map(|s| cpu_ticks(s.pid())).collect();
    let self_start = cpu_ticks(std::process::id());
    let machine_start = machine_ticks();
    // The window opens a moment after every task is spawned.
    let t0 = Instant::now() + Duration::from_millis(500);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, phone) in prepared.phones.iter().enumerate() {
        tasks.spawn(file_report(shared.clone(), phone.clone(), i, t0, offsets[i]));
    }
    let mut pushes = Vec::with_capacity(prepared.phones.len() * 2);
    let mut no_submit = 0;
    while let Some(done) = tasks.join_next().await {
        let unit = done.expect("unit task");
        if !unit.iter().any(|p| p.op == Op::Submit) {
            no_submit += 1;
        }
        pushes.extend(unit);
    }
    let first = offsets.iter().min().copied().unwrap_or_default();
    let last = pushes.iter().map(|p| p.done_at).max().unwrap_or_default();
    let span = last.saturating_sub(first);
    let hz = clock_ticks();
    let figures = servers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let (rss, hwm) = memory_kb(s.pid()).unwrap_or((0, 0));
            ServerFigures {
                rss_start_kb: rss_start[i],
                rss_end_kb: rss,
                hwm_kb: hwm,
                cpu_secs: cpu_ticks(s.pid()).saturating_sub(cpu_start[i]) as f64 / hz,
            }
        })
        .collect();
    let load_cpu = cpu_ticks(std::process::id()).saturating_sub(self_start) as f64 / hz;
    let machine_end = machine_ticks();
    let machine = (
        machine_end.0.saturating_sub(machine_start.0) as f64 / hz,
        machine_end.1.saturating_sub(machine_start.1) as f64 / hz,
        machine_end.2.saturating_sub(machine_start.2) as f64 / hz,
    );
    (pushes, no_submit, span, shared.max_in_flight.load(Ordering::Relaxed), figures, load_cpu, machine)
}

/// How many of the reports are submitted in the database, read through `Store`.
async fn count_submitted(url: &str, prepared: &Prepared) -> usize {
    let store = Store::open_with(url, StoreOptions { max_connections: 4, ..StoreOptions::default() })
        .await
        .expect("reopen the database");
    let mut n = 0;
    for phone in &prepared.phones {
        if let Ok(Some(r)) = store.report(&phone.key.id()).await {
            if r.status == ReportStatus::Submitted {
                n += 1;
            }
        }
    }
    store.close().await;
    n
}

async fn run_variant(
    name: &'static str,
    bin: &Path,
    units: usize,
    window: Duration,
    seed: u64,
    offsets: &[Duration],
) -> VariantResult {
    let work = tempfile::Builder::new().prefix("danvan-rush.").tempdir().expect("temp dir");
    let (cluster, url, processes) = match name {
        "sqlite" => (None, format!("sqlite://{}", work.path().join("danvan.db").display()), 1),
        _ => {
            let cluster = PgCluster::start(pg_bin(), "danvan-rush-pg.");
            let url = cluster.url.clone();
            (Some(cluster), url, 2)
        }
    };
    eprintln!("[{name}] setting up {units} communes, accounts and devices…");
    let prepared = prepare(bin, &url, work.path(), units, seed).await;
    for (what, took) in &prepared.steps {
        eprintln!("[{name}]   {what}: {:.1} s", took.as_secs_f64());
    }
    let mut servers = Vec::new();
    for n in 0..processes {
        servers.push(Server::start(bin, &url, work.path(), n).await);
    }
    eprintln!(
        "[{name}] {processes} server process(es) up; {units} units file their {} report over {} s…",
        prepared.period,
        window.as_secs()
    );
    let db_pid = cluster.as_ref().and_then(PgCluster::postmaster_pid);
    let db_start = db_pid.map(tree_cpu_ticks);
    let (pushes, no_submit, span, max_in_flight, figures, load_cpu_secs, machine_cpu_secs) =
        rush(&servers, &prepared, offsets).await;
    let database_cpu_secs =
        db_pid.zip(db_start).map(|(pid, start)| tree_cpu_ticks(pid).saturating_sub(start) as f64 / clock_ticks());
    drop(servers);
    let submitted_in_db = count_submitted(&url, &prepared).await;
    if let Ok(keep) = std::env::var("BENCH_KEEP_LOGS") {
        // The temp dirs go at the end: copy the logs out first.
        let dir = PathBuf::from(keep).join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for n in 0..processes {
            let _ = std::fs::copy(work.path().join(format!("server-{n}.log")), dir.join(format!("server-{n}.log")));
        }
        if let Some(c) = &cluster {
            let _ = std::fs::copy(c.log(), dir.join("postgresql.log"));
        }
        eprintln!("[{name}] logs kept in {}", dir.display());
    }
    let detail = match &cluster {
        None => "one `danvan-server` process, SQLite file in a temp dir".to_string(),
        Some(c) => format!("two `danvan-server` processes, one database; {}: {}", c.version(), c.durability()),
    };
    drop(cluster);
    VariantResult {
        name,
        detail,
        steps: prepared.steps,
        shape: prepared.shape,
        pushes,
        no_submit,
        submitted_in_db,
        units,
        window,
        span,
        max_in_flight,
        servers: figures,
        database_cpu_secs,
        load_cpu_secs,
        machine_cpu_secs,
    }
}

// --- Report --------------------------------------------------------------------------

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**MISSED**"
    }
}

fn label(name: &str) -> &'static str {
    if name == "sqlite" {
        "SQLite, 1 process"
    } else {
        "PostgreSQL, 2 processes"
    }
}

fn section(results: &[VariantResult], units: usize, window: Duration, seed: u64, period: &str) -> String {
    let mut rows = String::new();
    for r in results {
        let all = r.latencies(None);
        let rss: Vec<String> = r.servers.iter().map(|s| format!("{:.0}", mb(s.hwm_kb))).collect();
        rows.push_str(&format!(
            "| {} | {} | **{:.0}** | **{:.0}** | **{:.0}** | {:.0} | **{}** | {} | {:.0} | {} / {} | **{}** |\n",
            label(r.name),
            all.len(),
            ms(percentile(&all, 50.0)),
            ms(percentile(&all, 95.0)),
            ms(r.p99()),
            ms(all.last().copied().unwrap_or_default()),
            r.error_count(),
            r.shed_count(),
            r.throughput(),
            r.submitted_in_db,
            r.units,
            rss.join(" + "),
        ));
    }
    let mut by_op = String::new();
    for r in results {
        for (op, name) in [(Op::Save, "save (new report, all fields)"), (Op::Submit, "submit")] {
            let l = r.latencies(Some(op));
            by_op.push_str(&format!(
                "| {} | {name} | {} | {:.0} | {:.0} | {:.0} | {:.0} |\n",
                label(r.name),
                l.len(),
                ms(percentile(&l, 50.0)),
                ms(percentile(&l, 95.0)),
                ms(percentile(&l, 99.0)),
                ms(l.last().copied().unwrap_or_default()),
            ));
        }
    }
    let mut verdicts = String::new();
    for r in results {
        let p99 = ms(r.p99());
        let errors = r.error_count();
        let rss = r.max_hwm_mb();
        let mut misses = Vec::new();
        if p99 >= TARGET_P99_MS {
            misses.push(format!("p99 is {p99:.0} ms, {:.1}× the target", p99 / TARGET_P99_MS));
        }
        if errors > 0 {
            misses.push(format!("{errors} push(es) failed"));
        }
        if rss >= TARGET_RSS_MB {
            misses.push(format!("a server process peaked at {rss:.0} MB"));
        }
        verdicts.push_str(&format!(
            "- {}: p99 {p99:.0} ms — {}; errors {errors} — {}; peak RSS {rss:.0} MB — {}.{}\n",
            label(r.name),
            verdict(p99 < TARGET_P99_MS),
            verdict(errors == 0),
            verdict(rss < TARGET_RSS_MB),
            if misses.is_empty() { String::new() } else { format!(" **Target missed**: {}.", misses.join("; ")) },
        ));
    }
    let mut errors = String::new();
    for r in results {
        for (kind, n) in r.errors() {
            errors.push_str(&format!("| {} | {kind} | {n} |\n", label(r.name)));
        }
        if r.no_submit > 0 {
            errors.push_str(&format!("| {} | submit not sent (save not applied) | {} |\n", label(r.name), r.no_submit));
        }
    }
    let transport = results
        .iter()
        .flat_map(|r| r.errors().into_keys())
        .any(|k| k.contains("connecting") || k.contains("no answer within"));
    if transport {
        errors.push_str(
            "\nErrors without an HTTP status are TCP-level: a server process serves at most 1,024 connections at \
             once (`Limits::max_connections`, `crates/server/src/serve.rs`) and leaves the rest in the kernel's \
             listen backlog (1,024 as tokio binds it); once that is full too, the kernel drops new connections \
             and the phone sees a reset or a TCP timeout (`TimedOut`). They appear when the server falls behind \
             the arrivals and the pushes in flight pile up into the thousands.\n",
        );
    }
    let errors = if errors.is_empty() {
        "No push failed in either variant.\n".to_string()
    } else {
        format!("Failed attempts by kind (HTTP status and error code, or the mutation's rejection code), sent again or not:\n\n| variant | kind | attempts |\n|---|---|---:|\n{errors}")
    };
    let mut load = String::new();
    for r in results {
        let servers: Vec<String> = r
            .servers
            .iter()
            .map(|s| {
                format!(
                    "{:.1} s CPU, RSS {:.0} MB before → {:.0} MB after, VmHWM {:.0} MB",
                    s.cpu_secs,
                    mb(s.rss_start_kb),
                    mb(s.rss_end_kb),
                    mb(s.hwm_kb)
                )
            })
            .collect();
        let db =
            r.database_cpu_secs.map(|c| format!("; PostgreSQL (all its processes) {c:.1} s CPU")).unwrap_or_default();
        let ours =
            r.servers.iter().map(|s| s.cpu_secs).sum::<f64>() + r.database_cpu_secs.unwrap_or(0.0) + r.load_cpu_secs;
        let (busy, stolen, available) = r.machine_cpu_secs;
        let others = (busy - ours).max(0.0);
        let per_push = |secs: f64| secs * 1000.0 / r.pushes.len().max(1) as f64;
        let server_cpu: f64 = r.servers.iter().map(|s| s.cpu_secs).sum();
        let db_per_push =
            r.database_cpu_secs.map(|c| format!(" + PostgreSQL {:.1} ms", per_push(c))).unwrap_or_default();
        let steps: Vec<String> = r.steps.iter().map(|(w, d)| format!("{w} {:.1} s", d.as_secs_f64())).collect();
        load.push_str(&format!(
            "- {}: {}. First arrival to last answer {:.1} s (window {} s); at most {} pushes in flight at once. \
             Server process(es): {}{db}; CPU per push: server {:.1} ms{db_per_push}. The load generator (this \
             program, same machine) {:.1} s CPU; other processes on the machine {others:.1} s CPU ({:.0} % of the \
             machine's {available:.0} CPU-seconds then went to them), {stolen:.1} s stolen by the hypervisor. Setup \
             (not measured): {}.\n",
            label(r.name),
            r.detail,
            r.span.as_secs_f64(),
            r.window.as_secs(),
            r.max_in_flight,
            servers.join("; "),
            per_push(server_cpu),
            r.load_cpu_secs,
            others / available.max(1e-9) * 100.0,
            steps.join(", "),
        ));
    }

    let cpu = shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim().to_string();
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let tmp = std::env::temp_dir();
    let fs = shell(&format!("findmnt -n -o FSTYPE,SOURCE -T {}", tmp.display()))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let commit = shell("git rev-parse --short HEAD");
    let dirty =
        if shell("git status --porcelain --untracked-files=no").is_empty() { "" } else { " + uncommitted changes" };
    let date = shell("date -u +%Y-%m-%d");
    let size = if units == 10_000 && window.as_secs() == 60 {
        String::new()
    } else {
        format!(" with `BENCH_UNITS={units} BENCH_WINDOW_SECS={}`", window.as_secs())
    };
    let offered = units as f64 * 2.0 / window.as_secs_f64();
    let (counts, texts, save_bytes) = results.first().map(|r| r.shape).unwrap_or_default();
    format!(
        r#"{SECTION}

The evening before the deadline: {units} commune-level units each file their monthly
report ({period}) within {window} seconds, their arrivals spread uniformly at random over
the window (an open load: a unit arrives when its time comes, however far behind the
server is; about {offered:.0} pushes/s offered). Each unit is one phone with its own
signed-in reporter account, its own client id and its own HTTP connection, doing what
the app does: `POST /api/sync/push` of a Save holding the whole report (all {counts} count
fields, all {texts} narratives of ~150 Vietnamese characters: {save_bytes} bytes of JSON), then —
once it is applied — a second push with the Submit. The servers are the real binary
(`target/server/danvan-server`) run as child processes with the production
configuration; the plan is plan 413 copied to this year and published; the
{units} synthetic communes are imported with `danvan-server import-units --apply`
under the province valid today. In the PostgreSQL variant the two processes share one
database: each unit's save goes to one and its submit to the other. Latency is one
push's round trip (request sent to answer read, failures included). A push answered
503 (the server sheds load beyond `DANVAN_MAX_WAITING_PUSHES` waiting pushes, or after
10 s of waiting: `crates/server/src/push_queue.rs`) or not answered at all is sent
again as the app does, 30 s and then 60 s later (`src/sync.rs`); every attempt counts
as a push in the latencies, "503, sent again" counts those answers, and "errors" counts
mutations whose last attempt failed. Throughput is
pushes answered per second from the first arrival to the last answer; peak RSS is each
server process's VmHWM (/proc/PID/status) at the end, start-up included.

Command: `cargo run --profile server -p danvan-server --example deadline_rush`{size}
(part of `make bench`; `BENCH_UNITS`, `BENCH_WINDOW_SECS`, `BENCH_SEED` (= {seed}) to change it).
Measured {date}, commit `{commit}`{dirty}, {nproc} × {cpu} (shared machine; the load generator runs on
the same cores), files on {fs}.

| variant | pushes | p50 ms | p95 ms | p99 ms | max ms | errors | 503, sent again | pushes/s | reports submitted (in the database) | peak RSS per process, MB |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|
{rows}
Targets: p99 < {TARGET_P99_MS:.0} ms, 0 errors, RSS < {TARGET_RSS_MB:.0} MB per process.

{verdicts}
| variant | push | count | p50 ms | p95 ms | p99 ms | max ms |
|---|---|---:|---:|---:|---:|---:|
{by_op}
{errors}
{load}"#,
        window = window.as_secs(),
    )
}

#[tokio::main]
async fn main() {
    let units = env_usize("BENCH_UNITS", 10_000).max(1);
    assert!(units <= 999_999, "BENCH_UNITS: at most 999999 (the synthetic codes have 6 digits)");
    let window = Duration::from_secs(env_usize("BENCH_WINDOW_SECS", 60).max(1) as u64);
    let seed = env_usize("BENCH_SEED", 1) as u64;
    let variants: Vec<&'static str> = std::env::var("BENCH_VARIANTS")
        .unwrap_or_else(|_| "sqlite,postgres".into())
        .split(',')
        .map(|v| match v.trim() {
            "sqlite" => "sqlite",
            "postgres" | "postgresql" => "postgres",
            other => panic!("BENCH_VARIANTS: unknown variant {other:?} (sqlite, postgres)"),
        })
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = std::env::var("BENCH_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("target/server/danvan-server"));
    assert!(
        bin.is_file(),
        "{} is missing: build it first with `cargo build --profile server -p danvan-server`",
        bin.display()
    );

    // The same arrival times in both variants.
    let mut rng = Rng(seed);
    let offsets: Vec<Duration> = (0..units).map(|_| window.mul_f64(rng.unit())).collect();
    let period = Period::month_containing(vn_date(Utc::now())).to_string();

    // Ctrl-C drops the run: its guards stop the servers and the PostgreSQL cluster
    // and delete the temp dirs.
    let run = async {
        let mut results = Vec::new();
        for name in &variants {
            let r = run_variant(name, &bin, units, window, seed, &offsets).await;
            eprintln!(
                "[{name}] {} pushes, p50 {:.0} ms, p99 {:.0} ms, {} errors, {:.0} pushes/s, peak RSS {:.0} MB",
                r.pushes.len(),
                ms(percentile(&r.latencies(None), 50.0)),
                ms(r.p99()),
                r.error_count(),
                r.throughput(),
                r.max_hwm_mb()
            );
            results.push(r);
        }
        results
    };
    let results = tokio::select! {
        r = run => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    // Only here, once select! has dropped the run (and with it the guards).
    let Some(results) = results else {
        eprintln!("interrupted: servers and the PostgreSQL cluster stopped, temp dirs removed");
        std::process::exit(130);
    };
    let text = section(&results, units, window, seed, &period);
    print!("{text}");
    if std::env::var("BENCH_NO_WRITE").is_err() {
        benchmarks_md::write_section(&root.join("BENCHMARKS.md"), SECTION, &text);
    }
}
