//! Dashboard and consolidation, server side, over 10,000 units × 12 months of
//! generated reports: the exact functions the routes call
//! (`aggregate::dashboard_for`, `aggregate::consolidation_for`) on the real
//! `AppState`, plus the same answers once more over real HTTP (the real `app()` on
//! a real port) — on both storage backends in one run:
//! - SQLite: a file in a temp dir, the server's own settings;
//! - PostgreSQL: a cluster of this program's own, in a temp dir, with PostgreSQL's
//!   default durability (`shared/pg_cluster.rs`), removed at the end.
//!
//! The data is written through the store's public API only, never raw SQL: the
//! shipped catalog (plan 413 and its form, the Kon Tum tree) and the demo accounts
//! come from `AppState::open`; the synthetic districts and communes are a unit-tree
//! file in the import format (`crates/server/src/catalog/unit_files.rs`), checked by
//! `plan_tree_import` and saved with `Store::save_units` as `danvan-server
//! import-units --apply` does; the reports go through `Store::begin_write` →
//! `WriteTx::save_report` → `commit`, one transaction per month; the registers
//! through `Store::put_implementation_plan` and `Store::insert_model` /
//! `recognise_model` / `commend_model`. Every measured answer is first compared
//! with the same figures computed in Rust by `danvan_core::aggregate` from the
//! generated reports.
//!
//! Run: `cargo run --profile server -p danvan-server --example dashboard_bench`
//! (`make bench` does). Options (environment): `BENCH_RUNS` (timed runs per case,
//! default 20), `BENCH_VARIANTS` (`sqlite,postgres`, the default, or one of them),
//! `BENCH_PG_BIN` (PostgreSQL's bin directory, default the newest
//! `/usr/lib/postgresql/*/bin`), `BENCH_DB_DIR` (SQLite only: keep the generated
//! database in this directory and reuse it on the next run instead of a fresh temp
//! dir), `BENCH_NO_WRITE=1` (print only, leave BENCHMARKS.md alone).
//!
//! Prints a markdown section and replaces the "## Dashboard and consolidation
//! (10,000 units × 12 months)" section of BENCHMARKS.md (and only that section).

#[path = "shared/benchmarks_md.rs"]
mod benchmarks_md;

#[path = "shared/pg_cluster.rs"]
mod pg_cluster;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use danvan_core::aggregate::{
    classify_once, consolidate, consolidation_sources, count_models, dashboard, figures,
    implementation_plan_obligation, owes_implementation_plan, period_kind, AcceptedReport, Consolidation, ModelCounts,
    ModelField, MovementModel, ReportSummary, NO_VALUES,
};
use danvan_core::api::{DashboardResponse, LoginResponse, ObligationCounts, Role};
use danvan_core::form::FieldKind;
use danvan_core::sync::MutationOp;
use danvan_core::time::vn_date;
use danvan_core::tree_import::plan_tree_import;
use danvan_core::{OrgUnit, Period, Report, ReportForm, ReportKey, ReportStatus, UnitKind, UnitTree, Values};
use danvan_server::aggregate::{consolidation_for, dashboard_for, implementation_plans, Scope};
use danvan_server::catalog::unit_files::read_unit_file;
use danvan_server::state::Catalog;
use danvan_server::store::{Actor, NewAudit, NewRevision, Store, User};
use danvan_server::{app, serve_until, AppState, Config, PasswordCost, SHUTDOWN_GRACE};
use pg_cluster::{pg_bin, PgCluster};

const SECTION: &str = "## Dashboard and consolidation (10,000 units × 12 months)";
const PLAN: &str = "kh-413-ubnd-2024";
const ROOT: &str = "kontum";
/// The seed's city; its demo reviewer `tp.kontum` is the district case.
const DISTRICT: &str = "kontum.tpkontum";
const DISTRICTS: usize = 100;
const COMMUNES_PER_DISTRICT: usize = 99;
const YEAR: i32 = 2024;
/// The ordinary month measured.
const MONTH: u32 = 6;
/// The month in which no district report is accepted (every district's is a draft),
/// so the province's consolidation sums every commune.
const WORST_MONTH: u32 = 12;
const TARGET_MS: f64 = 100.0;
const PASSWORD: &str = "danvan2024";
/// The client id of the generated revisions.
const CLIENT_ID: &str = "dashboard-bench";
/// Concurrent writers of the registers (each call is its own transaction; the
/// store serialises them, their round trips and commits overlap).
const LANES: usize = 8;

/// Narratives of the kind a commune or district official types (about 60–90
/// characters), rotated through.
const NARRATIVES: &[&str] = &[
    "Tổ chức 3 buổi tuyên truyền chính sách đất đai tại thôn Kon Rơ Bàng, 120 lượt người dự.",
    "Phối hợp Mặt trận xã giám sát chi trả trợ cấp hộ nghèo, không phát hiện sai phạm.",
    "Tiếp nhận 5 đơn kiến nghị về ranh giới đất, đã giải quyết 4 đơn, 1 đơn đang xác minh.",
    "Mô hình \"Dân vận khéo\" làm đường giao thông nông thôn được nhân dân đồng tình ủng hộ.",
    "Cán bộ, công chức chấp hành tốt giờ giấc, văn hóa công sở; chưa có trường hợp vi phạm.",
    "Duy trì bộ phận một cửa, tiếp nhận hồ sơ trực tuyến; tỷ lệ giải quyết đúng hạn đạt 98%.",
    "Tuyên truyền bằng tiếng Xơ Đăng qua loa phát thanh thôn về phòng chống tảo hôn.",
    "Đối thoại với nhân dân về bồi thường giải phóng mặt bằng tuyến đường liên xã.",
    "Một số thôn ở xa, đường sá đi lại khó khăn vào mùa mưa nên tuyên truyền còn hạn chế.",
    "Đề nghị cấp trên hỗ trợ kinh phí in tài liệu tuyên truyền song ngữ cho các thôn.",
    "Tiếp tục triển khai chuyển đổi số, hướng dẫn người dân dùng dịch vụ công trực tuyến.",
    "Biểu dương 2 tập thể, 5 cá nhân tiêu biểu trong phong trào thi đua \"Dân vận khéo\".",
    "Công tác dân vận chính quyền có chuyển biến; còn hạn chế ở khâu nắm bắt dư luận.",
    "Tổ chức hội nghị tiếp xúc cử tri, ghi nhận 12 ý kiến, đã chuyển cơ quan chức năng.",
    "Kiểm tra công vụ đột xuất tại bộ phận một cửa, nhắc nhở 1 công chức chậm trả hồ sơ.",
    "Vận động đồng bào có đạo tham gia xây dựng nông thôn mới, hiến 1.200 m² đất làm đường.",
];

const SYLLABLES_A: &[&str] = &["Đăk", "Ia", "Kon", "Ngọc", "Măng", "Sa", "Pờ", "Rờ", "Hơ", "Mô"];
const SYLLABLES_B: &[&str] = &["Rơ", "Hring", "Bla", "Tô", "Long", "Xú", "Nhầy", "Ray", "Pxi", "Năng", "Kơi", "Lây"];
const REASONS: &[&str] = &[
    "Số hồ sơ giải quyết đúng hạn lớn hơn số tiếp nhận, đề nghị kiểm tra lại.",
    "Thiếu phần đánh giá hạn chế, đề nghị bổ sung.",
    "Số lượt người tham dự chưa khớp với biên bản các buổi tuyên truyền.",
];
const MODEL_FIELDS: [&str; 4] = ["economy", "culture_society", "defence_security", "political_system"];
const COMMENDATION: &str = "Giấy khen của Chủ tịch UBND tỉnh";

// --- Small tools ---------------------------------------------------------------------

/// splitmix64: deterministic, no dependency. The same seeds give both backends the
/// same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
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
    std::process::Command::new("sh")
        .args(["-c", cmd])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn kb(bytes: usize) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.1} KB", bytes as f64 / 1e3)
    }
}

/// Fields 4 (ppid) and 14–17 (utime, stime, cutime, cstime) of /proc/<pid>/stat.
fn stat(pid: u32) -> Option<(u32, [u64; 4])> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from the closing paren.
    let rest: Vec<&str> = text[text.rfind(')')? + 2..].split_whitespace().collect();
    let n = |i: usize| rest.get(i).and_then(|v| v.parse::<u64>().ok());
    Some((rest.get(1)?.parse().ok()?, [n(11)?, n(12)?, n(13)?, n(14)?]))
}

/// CPU ticks (user + system) of a process and of its children, ended ones included
/// (PostgreSQL's postmaster and its backends); of this process alone with
/// `children` false.
fn cpu_ticks(root: u32, children: bool) -> u64 {
    let Some((_, t)) = stat(root) else { return 0 };
    if !children {
        return t[0] + t[1];
    }
    let mut total: u64 = t.iter().sum();
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

/// Busy and total CPU ticks of the whole machine so far (the `cpu` line of
/// /proc/stat; idle and iowait are not busy).
fn machine_ticks() -> (u64, u64) {
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
    let at = |i: usize| fields.get(i).copied().unwrap_or(0);
    let total: u64 = fields.iter().sum();
    (total - at(3) - at(4), total)
}

/// How busy the machine was with other work while a variant was timed.
struct MachineWatch {
    load_start: String,
    machine: (u64, u64),
    own: u64,
    database: Option<(u32, u64)>,
}

impl MachineWatch {
    fn start(database_pid: Option<u32>) -> MachineWatch {
        MachineWatch {
            load_start: shell("cut -d' ' -f1-3 /proc/loadavg"),
            machine: machine_ticks(),
            own: cpu_ticks(std::process::id(), false),
            database: database_pid.map(|pid| (pid, cpu_ticks(pid, true))),
        }
    }

    /// (load average before, after, share of the machine's CPU time that went to
    /// other processes than this one and its database).
    fn stop(self) -> (String, String, f64) {
        let (busy, total) = machine_ticks();
        let own = cpu_ticks(std::process::id(), false).saturating_sub(self.own);
        let db = self.database.map_or(0, |(pid, start)| cpu_ticks(pid, true).saturating_sub(start));
        let busy = busy.saturating_sub(self.machine.0);
        let total = total.saturating_sub(self.machine.1).max(1);
        let others = busy.saturating_sub(own + db);
        (self.load_start, shell("cut -d' ' -f1-3 /proc/loadavg"), others as f64 / total as f64 * 100.0)
    }
}

// --- The data ------------------------------------------------------------------------

fn place_name(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(SYLLABLES_A), rng.pick(SYLLABLES_B))
}

/// The generated districts and communes as a unit-tree file (JSON, danvan's own
/// form: ids, parents by id): every district (the seed's 10 and 90 new ones) gets
/// exactly `COMMUNES_PER_DISTRICT` communes. They close with the Kon Tum tree they
/// belong to (30/06/2025). The seed's 20 departments stay as they are.
fn unit_file(seed: &[OrgUnit]) -> Vec<serde_json::Value> {
    let mut rng = Rng(7);
    let row = |id: &str, name: String, kind: &str, parent: &str| serde_json::json!({ "id": id, "code": id, "name": name, "kind": kind, "parent": parent, "valid_to": "2025-06-30" });
    let mut out = Vec::new();
    let mut districts: Vec<String> = seed
        .iter()
        .filter(|u| u.kind == UnitKind::District && u.parent.as_deref() == Some(ROOT))
        .map(|u| u.id.clone())
        .collect();
    for d in districts.len()..DISTRICTS {
        let id = format!("{ROOT}.huyen{d:03}");
        out.push(row(&id, format!("Huyện {} {}", place_name(&mut rng), d), "district", ROOT));
        districts.push(id);
    }
    for d in &districts {
        let have = seed.iter().filter(|u| u.parent.as_deref() == Some(d.as_str())).count();
        for c in have..COMMUNES_PER_DISTRICT {
            let name = format!("Xã {} {}", place_name(&mut rng), c + 1);
            out.push(row(&format!("{d}.xa{c:03}"), name, "commune", d));
        }
    }
    out
}

/// Imports the generated units as an administrator's file would be: read as a
/// unit file, checked against the tree by `plan_tree_import`, saved with
/// `Store::save_units` (what `danvan-server import-units FILE --apply` does).
/// Returns (units added, seconds).
async fn import_units(store: &Store) -> (usize, f64) {
    let t = Instant::now();
    let catalog = Catalog::load(store).await.expect("catalog");
    let file = serde_json::to_vec(&unit_file(catalog.tree.all())).unwrap();
    let rows = read_unit_file(&file).unwrap_or_else(|e| panic!("unit file: {:?}", &e[..e.len().min(5)]));
    let import = plan_tree_import(&catalog.tree, &rows, vn_date(Utc::now()))
        .unwrap_or_else(|e| panic!("unit import: {:?}", &e[..e.len().min(5)]));
    assert_eq!(import.changes.added.len(), rows.len(), "every generated unit is new");
    let audit = NewAudit {
        action: "units.import",
        target: Some("dashboard_bench"),
        unit_id: None,
        detail: Some(import.changes.summary_vi()),
    };
    store.save_units(&import.units, &Actor::cli(), &audit, Utc::now()).await.expect("save units");
    (rows.len(), t.elapsed().as_secs_f64())
}

/// Every count and narrative of the form, plausible for the unit's level and
/// consistent with the form's rules (parts ≤ wholes).
fn values(form: &ReportForm, kind: UnitKind, rng: &mut Rng, complete: bool) -> Values {
    let scale = match kind {
        UnitKind::Commune => 1,
        UnitKind::Department => 3,
        _ => 20,
    };
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    let sessions = rng.range(1, 8) * scale;
    let participants = sessions * rng.range(20, 60);
    let received = rng.range(20, 150) * scale;
    let petitions = rng.range(0, 6) * scale;
    counts.insert("ii1.sessions", sessions);
    counts.insert("ii1.participants", participants);
    counts.insert("ii2.sessions_remote", rng.range(0, sessions));
    counts.insert("ii2.sessions_ethnic", rng.range(0, sessions));
    counts.insert("ii2.sessions_religious", rng.range(0, sessions / 2));
    counts.insert("ii2.participants", rng.range(0, participants));
    counts.insert("ii4.dossiers_received", received);
    counts.insert("ii4.dossiers_on_time", received - rng.range(0, received / 20));
    counts.insert("ii6.petitions_received", petitions);
    counts.insert("ii6.petitions_resolved", petitions - rng.range(0, petitions / 3));
    let mut out = Values::new();
    for f in form.fields() {
        if !complete && rng.below(2) == 0 {
            continue;
        }
        let v = match f.kind {
            FieldKind::Count => {
                counts.get(f.id.as_str()).copied().unwrap_or_else(|| rng.range(0, 4) * scale).to_string()
            }
            FieldKind::Text { .. } => rng.pick(NARRATIVES).to_string(),
        };
        out.insert(f.id.clone(), v);
    }
    out
}

/// Minutes within the hour, so times are not all on the hour.
fn rng_minutes(h: u64) -> u64 {
    (h.wrapping_mul(37)) % 60
}

struct Ids {
    reporter: User,
    reviewer: User,
}

/// The generated data of the measured months, kept in memory: what the store's
/// answers are checked against.
#[derive(Default)]
struct Expected {
    /// By month: every report of the period as `Store::report_summaries` gives it
    /// back (`submitted_at` is the first sending: lateness counts from it).
    summaries: HashMap<u32, HashMap<String, ReportSummary>>,
    /// By month: the accepted reports' figures and values.
    accepted: HashMap<u32, HashMap<String, (BTreeMap<String, u64>, Values)>>,
    /// The register's models (only what the counts read).
    models: Vec<MovementModel>,
    /// III.1: when each unit issued its implementation plan.
    implementation_plans: HashMap<String, NaiveDate>,
}

#[derive(Default)]
struct Generated {
    units: usize,
    units_secs: f64,
    reports: u64,
    by_status: BTreeMap<&'static str, u64>,
    transactions: usize,
    reports_secs: f64,
    models: usize,
    implementation_plans: usize,
    registers_secs: f64,
}

struct NewModel {
    unit: String,
    name: String,
    field: ModelField,
    description: String,
    registered: NaiveDate,
    recognised: Option<NaiveDate>,
    commended: Option<NaiveDate>,
}

/// Generates the reports of 12 months and the two registers for `units` (the
/// province's, root excluded) and, with a store, writes them through its API.
/// Always returns what the measured months hold (the same seeds give the same data,
/// so a reused database is checked too).
async fn generate(
    store: Option<&Store>,
    units: &[&OrgUnit],
    form: &ReportForm,
    plan_version: u32,
    ids: &Ids,
    g: &mut Generated,
) -> Expected {
    let mut rng = Rng(2024);
    let mut expected = Expected::default();
    let mut mutation_id = 0u64;
    for month in 1..=12u32 {
        let period = Period::month(YEAR, month).unwrap();
        let deadline = period.deadline().with_timezone(&Utc);
        let checked = month == MONTH || month == WORST_MONTH;
        let mut batch: Vec<(Report, BTreeMap<String, u64>, MutationOp, i64)> = Vec::new();
        for u in units {
            let roll = rng.below(100);
            // ~4 % none, ~4 % draft, ~4 % returned, ~8 % submitted, ~80 % accepted.
            let mut status = match roll {
                0..4 => None,
                4..8 => Some(ReportStatus::Draft),
                8..12 => Some(ReportStatus::Returned),
                12..20 => Some(ReportStatus::Submitted),
                _ => Some(ReportStatus::Accepted),
            };
            if month == WORST_MONTH && u.kind == UnitKind::District {
                status = Some(ReportStatus::Draft);
            }
            let Some(status) = status else {
                *g.by_status.entry("none").or_default() += 1;
                continue;
            };
            *g.by_status.entry(status.as_str()).or_default() += 1;
            let hours = |h: u64| chrono::Duration::minutes((h * 60 + rng_minutes(h)) as i64);
            let sent = status != ReportStatus::Draft;
            // ~15 % of the sent ones first sent after the deadline.
            let first = if rng.below(100) < 15 {
                deadline + hours(rng.range(1, 8 * 24))
            } else {
                deadline - hours(rng.range(1, 10 * 24))
            };
            // Some accepted reports went through a return and came back.
            let resent = status == ReportStatus::Accepted && rng.below(100) < 10;
            let submitted = if resent { first + hours(rng.range(24, 72)) } else { first };
            let updated = match status {
                ReportStatus::Draft => deadline - hours(rng.range(24, 20 * 24)),
                ReportStatus::Submitted => submitted,
                ReportStatus::Returned | ReportStatus::Accepted => submitted + hours(rng.range(2, 5 * 24)),
            };
            let reviewed = matches!(status, ReportStatus::Returned | ReportStatus::Accepted);
            let by = if reviewed { &ids.reviewer } else { &ids.reporter };
            let return_reason = (status == ReportStatus::Returned).then(|| rng.pick(REASONS).to_string());
            let vals = values(form, u.kind, &mut rng, sent);
            let version = rng.range(2, 8) + sent as u64 + reviewed as u64 + 2 * resent as u64;
            let report = Report {
                key: ReportKey { plan_id: PLAN.into(), unit_id: u.id.clone(), period },
                form_id: form.id.clone(),
                status,
                values: vals,
                attachments: Vec::new(),
                version,
                updated_at: Some(updated),
                updated_by: Some(by.display_name.clone()),
                submitted_at: sent.then_some(submitted),
                first_submitted_at: sent.then_some(first),
                return_reason: return_reason.clone(),
                first_sent_on_device_at: None,
            };
            let figs = figures(form, &report.values);
            if checked {
                let summary = ReportSummary {
                    unit_id: u.id.clone(),
                    status,
                    first_submitted_at: report.first_submitted_at,
                    submitted_at: report.first_submitted_at,
                    return_reason: return_reason.clone(),
                };
                expected.summaries.entry(month).or_default().insert(u.id.clone(), summary);
                if status == ReportStatus::Accepted {
                    expected
                        .accepted
                        .entry(month)
                        .or_default()
                        .insert(u.id.clone(), (figs.clone(), report.values.clone()));
                }
            }
            g.reports += 1;
            if store.is_none() {
                continue;
            }
            // One revision per report: the change that left it in its status.
            let op = match status {
                ReportStatus::Draft => MutationOp::Save {
                    form_id: form.id.clone(),
                    set: report.values.clone(),
                    attach: vec![],
                    detach: vec![],
                },
                ReportStatus::Submitted => MutationOp::Submit,
                ReportStatus::Returned => MutationOp::Return { reason: return_reason.unwrap_or_default() },
                ReportStatus::Accepted => MutationOp::Accept,
            };
            batch.push((report, figs, op, by.id));
        }
        // The month's reports in one write transaction; `save_report` issues the
        // change numbers.
        if let Some(store) = store {
            let t = Instant::now();
            let mut tx = store.begin_write().await.expect("begin_write");
            for (report, figs, op, user_id) in &batch {
                mutation_id += 1;
                let rev = NewRevision {
                    client_id: CLIENT_ID,
                    mutation_id,
                    user_id: *user_id,
                    op,
                    at: report.updated_at.unwrap(),
                    plan_version: if op.is_reporters() { plan_version } else { 0 },
                };
                tx.save_report(report, figs, &rev).await.expect("save_report");
            }
            tx.commit().await.expect("commit");
            g.reports_secs += t.elapsed().as_secs_f64();
            g.transactions += 1;
        }
    }

    // III.1: departments and districts issue their implementation plan (~85 % on
    // time, ~10 % late, ~5 % not yet).
    let mut plans = Vec::new();
    for u in units.iter().filter(|u| matches!(u.kind, UnitKind::Department | UnitKind::District)) {
        let roll = rng.below(100);
        if roll < 5 {
            continue;
        }
        let issued = NaiveDate::from_ymd_opt(YEAR, if roll < 15 { 3 } else { 2 }, 1 + rng.below(27) as u32).unwrap();
        plans.push((u.id.clone(), format!("{}/KH-UBND", rng.range(10, 300)), issued));
        expected.implementation_plans.insert(u.id.clone(), issued);
    }

    // "Dân vận khéo": two models per district and department, one per five communes.
    let mut models = Vec::new();
    for u in units {
        let count = match u.kind {
            UnitKind::Commune => (rng.below(5) == 0) as u32,
            _ => 2,
        };
        for _ in 0..count {
            let registered = NaiveDate::from_ymd_opt(YEAR, 1 + rng.below(12) as u32, 1 + rng.below(28) as u32).unwrap();
            let recognised = (rng.below(2) == 0).then(|| registered + chrono::Days::new(rng.range(10, 60)));
            let commended = recognised.filter(|_| rng.below(3) == 0).map(|r| r + chrono::Days::new(rng.range(10, 60)));
            let name = format!("Mô hình \"{}\"", rng.pick(NARRATIVES).split(',').next().unwrap());
            let field = ModelField::parse(MODEL_FIELDS[rng.below(4) as usize]).expect("a model field");
            let description = rng.pick(NARRATIVES).to_string();
            expected.models.push(MovementModel {
                id: 0,
                plan_id: String::new(),
                unit_id: u.id.clone(),
                unit_name: String::new(),
                name: String::new(),
                field,
                description: String::new(),
                registered_on: registered,
                recognised_on: recognised,
                commended_on: commended,
                commendation: None,
            });
            models.push(NewModel { unit: u.id.clone(), name, field, description, registered, recognised, commended });
        }
    }
    g.models = models.len();
    g.implementation_plans = plans.len();

    if let Some(store) = store {
        let t = Instant::now();
        let at = |d: NaiveDate, h: u32| Utc.from_utc_datetime(&d.and_hms_opt(h, 0, 0).unwrap());
        let (reporter, reviewer) = (ids.reporter.id, ids.reviewer.id);
        let plans = std::sync::Arc::new(plans);
        let models = std::sync::Arc::new(models);
        let mut lanes = tokio::task::JoinSet::new();
        for lane in 0..LANES {
            let (store, plans, models) = (store.clone(), plans.clone(), models.clone());
            lanes.spawn(async move {
                let actor = |id: i64| Actor { user_id: Some(id), name: "bench".into(), address: None };
                for (unit, doc, issued) in plans.iter().skip(lane).step_by(LANES) {
                    store
                        .put_implementation_plan(PLAN, unit, doc, *issued, reviewer, &actor(reviewer), at(*issued, 3))
                        .await
                        .expect("implementation plan");
                }
                for m in models.iter().skip(lane).step_by(LANES) {
                    let created = at(m.registered, 2);
                    let id = store
                        .insert_model(
                            PLAN,
                            &m.unit,
                            &m.name,
                            m.field,
                            &m.description,
                            m.registered,
                            reporter,
                            &actor(reporter),
                            created,
                        )
                        .await
                        .expect("model");
                    if let Some(on) = m.recognised {
                        let row = store.model(id).await.expect("model").expect("stored");
                        store
                            .recognise_model(&row, on, reviewer, &actor(reviewer), at(on, 4))
                            .await
                            .expect("recognise");
                    }
                    if let Some(on) = m.commended {
                        let row = store.model(id).await.expect("model").expect("stored");
                        store
                            .commend_model(&row, on, COMMENDATION, reviewer, &actor(reviewer), at(on, 5))
                            .await
                            .expect("commend");
                    }
                }
            });
        }
        while let Some(done) = lanes.join_next().await {
            done.unwrap();
        }
        g.registers_secs = t.elapsed().as_secs_f64();
    }
    expected
}

// --- The cases -----------------------------------------------------------------------

fn config(work: &Path, database_url: String) -> Config {
    let dist = work.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>bench</title>").unwrap();
    Config {
        addr: "127.0.0.1:0".parse().unwrap(),
        database_url,
        dist,
        demo: true,
        password_cost: PasswordCost::Standard,
        ..Config::default()
    }
}

async fn user(state: &AppState, username: &str) -> User {
    state.store.user_by_username(username).await.unwrap().expect("demo user").user
}

#[derive(Clone, Copy, PartialEq)]
enum What {
    Dashboard,
    Consolidation,
}

struct Case {
    name: String,
    what: What,
    user: User,
    unit: String,
    month: u32,
}

impl Case {
    fn scope(&self) -> Scope {
        Scope {
            plan: Some(PLAN.into()),
            period: Some(Period::month(YEAR, self.month).unwrap().key()),
            unit: Some(self.unit.clone()),
        }
    }
}

async fn cases(state: &AppState) -> Vec<Case> {
    let sonoivu = user(state, "sonoivu").await;
    let reviewer = user(state, "tp.kontum").await;
    assert_eq!((reviewer.role, reviewer.unit_id.as_str()), (Role::Reviewer, DISTRICT));
    let communes = state.catalog().tree.children(DISTRICT).count();
    let case = |name: String, what, user: &User, unit: &str, month| Case {
        name,
        what,
        user: user.clone(),
        unit: unit.into(),
        month,
    };
    vec![
        case(
            format!("dashboard, province `{ROOT}`, {YEAR}-{MONTH:02}, as `sonoivu` (aggregator)"),
            What::Dashboard,
            &sonoivu,
            ROOT,
            MONTH,
        ),
        case(
            format!("dashboard, district `{DISTRICT}` ({communes} communes), {YEAR}-{MONTH:02}, as its reviewer `tp.kontum`"),
            What::Dashboard,
            &reviewer,
            DISTRICT,
            MONTH,
        ),
        case(
            format!("consolidation, province, {YEAR}-{MONTH:02} (accepted districts + communes of the others)"),
            What::Consolidation,
            &sonoivu,
            ROOT,
            MONTH,
        ),
        case(
            format!("consolidation, district `{DISTRICT}`, {YEAR}-{MONTH:02}, as `tp.kontum`"),
            What::Consolidation,
            &reviewer,
            DISTRICT,
            MONTH,
        ),
        case(
            format!("**worst case**: consolidation, province, {YEAR}-{WORST_MONTH:02} (no district accepted: every commune summed)"),
            What::Consolidation,
            &sonoivu,
            ROOT,
            WORST_MONTH,
        ),
    ]
}

/// The register's events within the period over `unit`'s subtree of `tree`: what
/// `aggregate::model_counts` (private) does with the model dates.
fn model_counts_in<'a>(
    tree: &UnitTree,
    models: impl IntoIterator<Item = &'a MovementModel>,
    unit: &str,
    period: &Period,
) -> ModelCounts {
    let w = period.window();
    let within: Vec<&MovementModel> = models.into_iter().filter(|m| tree.is_within(&m.unit_id, unit)).collect();
    count_models(within, w.first, w.last)
}

/// What `dashboard_for` must answer, computed by `danvan_core::aggregate` from the
/// generated data alone.
fn expected_dashboard(catalog: &Catalog, case: &Case, expected: &Expected, now: DateTime<Utc>) -> DashboardResponse {
    let scope = case.scope();
    let r = scope.resolve(catalog, &case.user).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let period = r.period.expect("a period");
    let dash = dashboard(r.plan, &r.tree, &r.unit_id, &period, &expected.summaries[&case.month], now).expect("unit");
    let models = model_counts_in(&r.tree, &expected.models, &r.unit_id, &period);
    let mut plans = ObligationCounts::default();
    if let Some((_, due)) = implementation_plan_obligation(r.plan) {
        for u in r.tree.subtree(&r.unit_id).into_iter().filter(|u| owes_implementation_plan(r.plan, u)) {
            plans.add(classify_once(expected.implementation_plans.get(&u.id).copied(), due, vn_date(now)));
        }
    }
    DashboardResponse { dashboard: dash, models, implementation_plans: plans }
}

/// What `consolidation_for` must answer, from the generated data alone: every
/// accepted report of the period offered with its values (`consolidate` reads the
/// narratives of the direct children only).
fn expected_consolidation(catalog: &Catalog, case: &Case, expected: &Expected, now: DateTime<Utc>) -> Consolidation {
    let scope = case.scope();
    let r = scope.resolve(catalog, &case.user).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let period = r.period.expect("a period");
    let form = catalog.form_for_plan(PLAN).expect("form");
    let accepted: HashMap<String, AcceptedReport> = expected.accepted[&case.month]
        .iter()
        .map(|(unit, (figures, values))| (unit.clone(), AcceptedReport { figures, values }))
        .collect();
    let models = model_counts_in(&r.tree, &expected.models, &r.unit_id, &period);
    consolidate(r.plan, form, &r.tree, &r.unit_id, &period, &accepted, &models, now).expect("unit")
}

/// Fails the run when the store's answer differs from the generated data, leaving
/// both as JSON files to compare.
fn check_same<T: PartialEq + serde::Serialize>(variant: &str, case: &Case, got: &T, want: &T) {
    if got == want {
        return;
    }
    let dir = std::env::temp_dir();
    let slug: String = case.name.chars().filter(char::is_ascii_alphanumeric).take(40).collect();
    let path = |which: &str| dir.join(format!("dashboard_bench-{variant}-{slug}-{which}.json"));
    std::fs::write(path("store"), serde_json::to_vec_pretty(got).unwrap()).unwrap();
    std::fs::write(path("generated"), serde_json::to_vec_pretty(want).unwrap()).unwrap();
    panic!(
        "[{variant}] {}: the store's answer differs from the generated data ({} and {})",
        case.name,
        path("store").display(),
        path("generated").display()
    );
}

async fn check(variant: &str, state: &AppState, case: &Case, expected: &Expected, now: DateTime<Utc>) {
    let catalog = state.catalog();
    match case.what {
        What::Dashboard => {
            let got = dashboard_for(state, &case.user, &case.scope(), now).await.unwrap();
            check_same(variant, case, &got, &expected_dashboard(&catalog, case, expected, now));
        }
        What::Consolidation => {
            let got = consolidation_for(state, &case.user, &case.scope(), now).await.unwrap();
            check_same(variant, case, &got, &expected_consolidation(&catalog, case, expected, now));
        }
    }
}

/// One request's server-side work: the function the route calls, then the JSON
/// the route would send. Returns (compute, serialise, bytes, rows or sources).
async fn once(state: &AppState, case: &Case, now: DateTime<Utc>) -> (Duration, Duration, usize, usize) {
    let scope = case.scope();
    let t0 = Instant::now();
    match case.what {
        What::Dashboard => {
            let d = dashboard_for(state, &case.user, &scope, now).await.unwrap();
            let t1 = Instant::now();
            let bytes = serde_json::to_vec(&d).unwrap();
            (t1 - t0, t1.elapsed(), bytes.len(), d.dashboard.rows.len())
        }
        What::Consolidation => {
            let c = consolidation_for(state, &case.user, &scope, now).await.unwrap();
            let t1 = Instant::now();
            let bytes = serde_json::to_vec(&c).unwrap();
            (t1 - t0, t1.elapsed(), bytes.len(), c.sources.len())
        }
    }
}

struct Measured {
    compute: Vec<Duration>,
    total: Vec<Duration>,
    serialise: Vec<Duration>,
    bytes: usize,
    count: usize,
}

impl Measured {
    fn p(&self, p: f64) -> f64 {
        ms(percentile(&self.total, p))
    }
}

async fn measure(state: &AppState, case: &Case, now: DateTime<Utc>, runs: usize) -> Measured {
    for _ in 0..2 {
        once(state, case, now).await;
    }
    let mut m = Measured { compute: vec![], total: vec![], serialise: vec![], bytes: 0, count: 0 };
    for _ in 0..runs {
        let (c, s, bytes, count) = once(state, case, now).await;
        m.compute.push(c);
        m.serialise.push(s);
        m.total.push(c + s);
        m.bytes = bytes;
        m.count = count;
    }
    m.compute.sort();
    m.total.sort();
    m.serialise.sort();
    m
}

/// Median of `runs` runs of an async step, in ms.
macro_rules! phase {
    ($runs:expr, $body:expr) => {{
        let mut v = Vec::new();
        let mut out = None;
        for _ in 0..$runs {
            let t = Instant::now();
            out = Some($body);
            v.push(t.elapsed());
        }
        v.sort();
        (ms(percentile(&v, 50.0)), out.unwrap())
    }};
}

/// Where the time goes: each step of `dashboard_for` / `consolidation_for` on its
/// own (the same store calls and core functions, in the same order), medians of
/// `runs`.
async fn phases(state: &AppState, user: &User, month: u32, now: DateTime<Utc>, runs: usize) -> Vec<(String, f64)> {
    let snapshot = state.catalog();
    let catalog = &*snapshot;
    let scope = Scope {
        plan: Some(PLAN.into()),
        period: Some(Period::month(YEAR, month).unwrap().key()),
        unit: Some(ROOT.into()),
    };
    let mut out = Vec::new();
    let (t, r) = phase!(runs, scope.resolve(catalog, user).unwrap_or_else(|e| panic!("{e}")));
    out.push(("both: `Scope::resolve` (rights, the tree as of the period's deadline)".to_string(), t));
    let (plan, tree, unit) = (r.plan, &r.tree, r.unit_id.as_str());
    let form = catalog.form_for_plan(PLAN).unwrap();
    let period = r.period.unwrap();
    let key = period.key();
    let store = &state.store;

    // Dashboard.
    let (t, summaries) = phase!(runs, store.report_summaries(PLAN, &key).await.unwrap());
    out.push((format!("dashboard: `report_summaries` (SQL + parse, {} rows)", summaries.len()), t));
    let (t, map) =
        phase!(runs, summaries.iter().cloned().map(|s| (s.unit_id.clone(), s)).collect::<HashMap<String, _>>());
    out.push(("dashboard: summaries into a HashMap".into(), t));
    let (t, _) = phase!(runs, dashboard(plan, tree, unit, &period, &map, now).unwrap());
    out.push((format!("dashboard: `core::aggregate::dashboard` (tree walk, {} units)", tree.subtree(unit).len()), t));
    let (t, dates) = phase!(runs, store.model_dates(PLAN).await.unwrap());
    out.push((format!("models: `model_dates` ({} rows)", dates.len()), t));
    let (t, mc) = phase!(runs, {
        let models: Vec<MovementModel> = dates
            .iter()
            .map(|(u, field, registered_on, recognised_on, commended_on)| MovementModel {
                id: 0,
                plan_id: String::new(),
                unit_id: u.clone(),
                unit_name: String::new(),
                name: String::new(),
                field: *field,
                description: String::new(),
                registered_on: *registered_on,
                recognised_on: *recognised_on,
                commended_on: *commended_on,
                commendation: None,
            })
            .collect();
        model_counts_in(tree, &models, unit, &period)
    });
    out.push(("models: subtree filter + `count_models`".into(), t));
    let (t, _) = phase!(runs, implementation_plans(store, tree, plan, unit, now).await.unwrap());
    out.push(("dashboard: `implementation_plans` (SQL + subtree)".into(), t));

    // Consolidation.
    let (t, accepted) = phase!(runs, store.accepted_units(PLAN, &key).await.unwrap());
    out.push((format!("consolidation: `accepted_units` ({} rows)", accepted.len()), t));
    let (t, accepted) = phase!(runs, accepted.iter().cloned().collect::<HashSet<String>>());
    out.push(("consolidation: accepted ids into a HashSet".into(), t));
    let (t, (sources, _)) =
        phase!(runs, consolidation_sources(plan, tree, unit, period_kind(&period), |id| accepted.contains(id)));
    out.push((format!("consolidation: `consolidation_sources` ({} sources)", sources.len()), t));
    let own: Vec<&str> = sources.iter().filter(|(_, via)| via.is_none()).map(|(u, _)| u.id.as_str()).collect();
    let deep: Vec<&str> = sources.iter().filter(|(_, via)| via.is_some()).map(|(u, _)| u.id.as_str()).collect();
    let (t, with_values) = phase!(runs, store.accepted_reports(PLAN, &key, &own).await.unwrap());
    out.push((
        format!("consolidation: `accepted_reports` of the direct children (SQL + JSON parse, {} reports)", own.len()),
        t,
    ));
    let (t, figures_only) = phase!(runs, store.accepted_figures(PLAN, &key, &deep).await.unwrap());
    out.push((format!("consolidation: `accepted_figures` of the units summed below them ({} reports)", deep.len()), t));
    let map: HashMap<String, AcceptedReport> = with_values
        .iter()
        .map(|(u, figures, values)| (u.clone(), AcceptedReport { figures, values }))
        .chain(figures_only.iter().map(|(u, figures)| (u.clone(), AcceptedReport { figures, values: &NO_VALUES })))
        .collect();
    let (t, c) = phase!(runs, consolidate(plan, form, tree, unit, &period, &map, &mc, now).unwrap());
    out.push(("consolidation: `core::aggregate::consolidate` (sums, narratives)".into(), t));
    let (t, _) = phase!(runs, serde_json::to_vec(&c).unwrap());
    out.push(("consolidation: `serde_json::to_vec` of the answer".into(), t));
    out
}

// --- Over HTTP -----------------------------------------------------------------------

struct Server {
    base: String,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn start_server(state: AppState) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = app(state);
    let task = tokio::spawn(async move {
        serve_until(
            listener,
            router,
            async {
                let _ = rx.await;
            },
            SHUTDOWN_GRACE,
        )
        .await
        .unwrap();
    });
    Server { base: format!("http://{addr}"), shutdown: tx, task }
}

/// (median ms, p95 ms, body bytes) of `runs` GETs after 2 warm-ups.
async fn http_case(http: &reqwest::Client, url: &str, token: &str, encoding: &str, runs: usize) -> (f64, f64, usize) {
    let get = || async {
        let res = http
            .get(url)
            .bearer_auth(token)
            .header("accept-encoding", encoding)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .expect("GET");
        res.bytes().await.unwrap().len()
    };
    for _ in 0..2 {
        get().await;
    }
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..runs {
        let t = Instant::now();
        size = get().await;
        times.push(t.elapsed());
    }
    times.sort();
    (ms(percentile(&times, 50.0)), ms(percentile(&times, 95.0)), size)
}

struct HttpRow {
    label: String,
    encoding: &'static str,
    median: f64,
    p95: f64,
    bytes: usize,
}

async fn over_http(state: &AppState, runs: usize) -> Vec<HttpRow> {
    let server = start_server(state.clone()).await;
    let http = reqwest::Client::new();
    let login: LoginResponse = http
        .post(format!("{}/api/auth/login", server.base))
        .json(&serde_json::json!({ "username": "sonoivu", "password": PASSWORD }))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .expect("login")
        .json()
        .await
        .unwrap();
    let q =
        |path: &str, month: u32| format!("{}/api/{path}?plan={PLAN}&period={YEAR}-{month:02}&unit={ROOT}", server.base);
    let mut rows = Vec::new();
    for (label, path, month) in [
        ("dashboard, province", "dashboard", MONTH),
        ("consolidation, province", "consolidation", MONTH),
        ("consolidation, province, worst case", "consolidation", WORST_MONTH),
    ] {
        for encoding in ["identity", "gzip"] {
            let (median, p95, bytes) = http_case(&http, &q(path, month), &login.token, encoding, runs).await;
            rows.push(HttpRow { label: format!("{label}, {YEAR}-{month:02}"), encoding, median, p95, bytes });
        }
    }
    let _ = server.shutdown.send(());
    let _ = server.task.await;
    rows
}

// --- One backend ---------------------------------------------------------------------

struct VariantResult {
    name: &'static str,
    label: &'static str,
    form_id: String,
    /// The engine and its settings.
    detail: String,
    generated: Option<Generated>,
    db_bytes: u64,
    /// Units of the catalog (every tree), and of the province measured.
    n_units: usize,
    province_units: usize,
    open_secs: f64,
    cases: Vec<(String, What, Measured)>,
    phases: Vec<(String, f64)>,
    http: Vec<HttpRow>,
    /// Load average before and after the timed runs, and the share of the
    /// machine's CPU time other processes took meanwhile.
    machine: (String, String, f64),
}

impl VariantResult {
    fn misses(&self) -> usize {
        self.cases.iter().filter(|(_, _, m)| m.p(95.0) > TARGET_MS).count()
    }

    fn http_misses(&self) -> usize {
        self.http.iter().filter(|r| r.p95 > TARGET_MS).count()
    }
}

async fn run_variant(name: &'static str, runs: usize) -> VariantResult {
    let work = tempfile::Builder::new().prefix("danvan-dashboard.").tempdir().expect("temp dir");
    let (cluster, url, db_dir) = match name {
        "sqlite" => {
            let dir = match std::env::var("BENCH_DB_DIR") {
                Ok(d) => {
                    std::fs::create_dir_all(&d).unwrap();
                    PathBuf::from(d)
                }
                Err(_) => work.path().to_path_buf(),
            };
            (None, format!("sqlite://{}", dir.join("danvan.db").display()), dir)
        }
        _ => {
            let cluster = PgCluster::start(pg_bin(), "danvan-dashboard-pg.");
            let url = cluster.url.clone();
            (Some(cluster), url, work.path().to_path_buf())
        }
    };
    let (label, detail) = match &cluster {
        None => {
            ("SQLite", "SQLite file in a temp dir, the server's own settings (WAL, `synchronous = FULL`)".to_string())
        }
        Some(c) => (
            "PostgreSQL",
            format!(
                "{}, a cluster of its own in a temp dir: {}; after loading, `vacuumdb --analyze` (planner \
                 statistics and the visibility map, as autovacuum would have left a database filled over months)",
                c.version(),
                c.durability()
            ),
        ),
    };
    let config = config(work.path(), url);

    // 1. Seed, demo accounts; 2. the generated units, reports and registers.
    let state = AppState::open(&config).await.expect("server state");
    let existing: i64 = state.store.report_status_counts().await.unwrap().values().sum();
    let write = existing == 0;
    let mut g = Generated::default();
    if write {
        (g.units, g.units_secs) = import_units(&state.store).await;
        eprintln!("[{name}] {} units imported in {:.1} s", g.units, g.units_secs);
    } else {
        eprintln!("[{name}] reusing {existing} reports in {}", db_dir.display());
    }
    let catalog = Catalog::load(&state.store).await.expect("catalog");
    let province: Vec<&OrgUnit> = catalog.tree.subtree(ROOT).into_iter().filter(|u| u.parent.is_some()).collect();
    let form = catalog.form_for_plan(PLAN).expect("form of the plan").clone();
    let plan_version = catalog.plan(PLAN).expect("plan").version;
    let ids = Ids { reporter: user(&state, "xa.dakbla").await, reviewer: user(&state, "sonoivu").await };
    let expected = generate(write.then_some(&state.store), &province, &form, plan_version, &ids, &mut g).await;
    if write {
        eprintln!(
            "[{name}] {} reports ({:?}) in {} transactions in {:.1} s; {} models, {} implementation plans in {:.1} s",
            g.reports, g.by_status, g.transactions, g.reports_secs, g.models, g.implementation_plans, g.registers_secs
        );
    }
    state.close().await;
    if let (Some(c), true) = (&cluster, write) {
        let t = Instant::now();
        c.vacuum_analyze();
        eprintln!("[{name}] vacuumdb --analyze: {:.1} s", t.elapsed().as_secs_f64());
    }
    let db_bytes = match &cluster {
        None => file_size(&db_dir.join("danvan.db")) + file_size(&db_dir.join("danvan.db-wal")),
        Some(c) => c.database_bytes(),
    };

    // 3. The real state on that database.
    let t = Instant::now();
    let state = AppState::open(&config).await.expect("server state");
    let open_secs = t.elapsed().as_secs_f64();
    let n_units = state.catalog().tree.all().len();
    let province_units = state.catalog().tree.subtree(ROOT).len();
    eprintln!("[{name}] AppState::open: {n_units} units in {open_secs:.2} s; database {:.0} MB", db_bytes as f64 / 1e6);
    assert!(province_units >= 10_000, "only {province_units} units in the province");

    let now = Utc.with_ymd_and_hms(2025, 1, 10, 3, 0, 0).unwrap();
    let cases = cases(&state).await;
    for case in &cases {
        check(name, &state, case, &expected, now).await;
    }
    eprintln!("[{name}] every answer equals the one computed from the generated reports");

    let watch = MachineWatch::start(cluster.as_ref().and_then(PgCluster::postmaster_pid));
    // On a runtime worker, as a request's handler runs: on the main thread (the one
    // that generated the data) the same calls took up to half as long again as the
    // same requests over HTTP; on a worker the two agree.
    let timed = state.clone();
    let (measured, phases) = tokio::spawn(async move {
        let state = timed;
        let mut measured = Vec::new();
        for case in cases {
            let m = measure(&state, &case, now, runs).await;
            eprintln!(
                "[{name}] {}: median {:.1} ms, p95 {:.1} ms (compute {:.1} + JSON {:.1}), {} bytes, {} rows/sources",
                case.name,
                m.p(50.0),
                m.p(95.0),
                ms(percentile(&m.compute, 50.0)),
                ms(percentile(&m.serialise, 50.0)),
                m.bytes,
                m.count
            );
            measured.push((case.name, case.what, m));
        }
        let sonoivu = user(&state, "sonoivu").await;
        let phases = phases(&state, &sonoivu, WORST_MONTH, now, runs.min(10)).await;
        for (step, t) in &phases {
            eprintln!("[{name}]   {t:8.1} ms  {step}");
        }
        (measured, phases)
    })
    .await
    .expect("timed runs");
    let http = over_http(&state, runs).await;
    for r in &http {
        eprintln!(
            "[{name}] HTTP {} ({}): median {:.1} ms, p95 {:.1} ms, {} bytes",
            r.label, r.encoding, r.median, r.p95, r.bytes
        );
    }
    let machine = watch.stop();
    state.close().await;
    drop(cluster);
    VariantResult {
        name,
        label,
        form_id: form.id.clone(),
        detail,
        generated: write.then_some(g),
        db_bytes,
        n_units,
        province_units,
        open_secs,
        cases: measured,
        phases,
        http,
        machine,
    }
}

// --- The section ---------------------------------------------------------------------

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "**MISSED**"
    }
}

fn section(results: &[VariantResult], runs: usize) -> String {
    let first = &results[0];
    let (n_units, province_units) = (first.n_units, first.province_units);
    let mut data = String::new();
    for r in results {
        let size = format!("database {:.0} MB", r.db_bytes as f64 / 1e6);
        let line = match &r.generated {
            Some(g) => format!(
                "- {}: {} units imported in {:.1} s; {} reports ({}) written in {} transactions in {:.1} s \
                 ({:.0} reports/s); {} \"Dân vận khéo\" models and {} III.1 implementation plans in {:.1} s \
                 ({LANES} writers at once); {size}{}; `AppState::open` on it (tree of {} units): {:.2} s.\n",
                r.label,
                g.units,
                g.units_secs,
                g.reports,
                g.by_status.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join(", "),
                g.transactions,
                g.reports_secs,
                g.reports as f64 / g.reports_secs.max(1e-9),
                g.models,
                g.implementation_plans,
                g.registers_secs,
                if r.name == "postgres" {
                    " (tables, indexes and TOAST after `vacuumdb --analyze`, without the WAL)"
                } else {
                    " (the file, checkpointed at close)"
                },
                r.n_units,
                r.open_secs,
            ),
            None => format!(
                "- {}: reports reused from `BENCH_DB_DIR`; {size}; `AppState::open` (tree of {} units): {:.2} s.\n",
                r.label, r.n_units, r.open_secs
            ),
        };
        data.push_str(&line);
    }

    let mut tables = String::new();
    for r in results {
        let mut rows = String::new();
        for (name, what, m) in &r.cases {
            let p95 = m.p(95.0);
            let count = match what {
                What::Dashboard => format!("{} rows", m.count),
                What::Consolidation => format!("{} sources", m.count),
            };
            rows.push_str(&format!(
                "| {name} | {:.1} | {:.1} | **{:.1}** | **{p95:.1}** | {} ({count}) | {} |\n",
                ms(percentile(&m.compute, 50.0)),
                ms(percentile(&m.serialise, 50.0)),
                m.p(50.0),
                kb(m.bytes),
                verdict(p95 <= TARGET_MS),
            ));
        }
        let (load_start, load_end, others) = &r.machine;
        tables.push_str(&format!(
            "### {}\n\n{}. Load average {load_start} before the timed runs, {load_end} after; other processes \
             took {others:.0} % of the machine's CPU time meanwhile.\n\n\
             | case | compute ms (median) | JSON ms (median) | total median ms | total p95 ms | response | \
             ≤ {TARGET_MS:.0} ms (p95) |\n|---|---:|---:|---:|---:|---|---|\n{rows}\n",
            r.label, r.detail
        ));
    }

    let mut verdicts = String::new();
    for r in results {
        let n = r.cases.len();
        let misses = r.misses();
        let worst = r.cases.iter().map(|(_, _, m)| m.p(95.0)).fold(0.0, f64::max);
        let http_worst = r.http.iter().map(|h| h.p95).fold(0.0, f64::max);
        let server = if misses == 0 {
            format!("**met** in all {n} cases (highest p95 {worst:.1} ms)")
        } else {
            format!("**not met**: {misses} of {n} cases over {TARGET_MS:.0} ms (highest p95 {worst:.1} ms)")
        };
        let http = match r.http_misses() {
            0 => format!("met for every request (highest p95 {http_worst:.1} ms)"),
            k => {
                format!("over {TARGET_MS:.0} ms for {k} of {} requests (highest p95 {http_worst:.1} ms)", r.http.len())
            }
        };
        verdicts.push_str(&format!("- {}: server side {server}; over HTTP {http}.\n", r.label));
    }

    let mut phase_head = String::from("| step |");
    let mut phase_rule = String::from("|---|");
    for r in results {
        phase_head.push_str(&format!(" {} ms |", r.label));
        phase_rule.push_str("---:|");
    }
    let mut phase_rows = String::new();
    for (i, (step, _)) in first.phases.iter().enumerate() {
        phase_rows.push_str(&format!("| {step} |"));
        for r in results {
            match r.phases.get(i) {
                Some((_, t)) => phase_rows.push_str(&format!(" {t:.1} |")),
                None => phase_rows.push_str(" |"),
            }
        }
        phase_rows.push('\n');
    }

    let mut http_rows = String::new();
    for r in results {
        for h in &r.http {
            http_rows.push_str(&format!(
                "| {} | {} | `{}` | {:.1} | {:.1} | {} |\n",
                r.label,
                h.label,
                h.encoding,
                h.median,
                h.p95,
                kb(h.bytes)
            ));
        }
    }

    let form_id = &first.form_id;
    let cpu = shell("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").trim().to_string();
    let nproc = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let commit = shell("git rev-parse --short HEAD");
    let dirty =
        if shell("git status --porcelain --untracked-files=no").is_empty() { "" } else { " + uncommitted changes" };
    let date = shell("date -u +%Y-%m-%d");
    let mut options = Vec::new();
    if results.len() != 2 {
        options.push(format!("BENCH_VARIANTS={}", results.iter().map(|r| r.name).collect::<Vec<_>>().join(",")));
    }
    if runs != 20 {
        options.push(format!("BENCH_RUNS={runs}"));
    }
    let options: String = options.iter().map(|o| format!("{o} ")).collect();
    format!(
        r#"{SECTION}

Server-side time of the two read endpoints on a province of {province_units} units: Kon Tum as
shipped plus generated units, so that it has {DISTRICTS} districts × {COMMUNES_PER_DISTRICT} communes beside its
20 departments (the catalog holds {n_units} units with the other shipped trees).
Every unit of the province but its root owes a monthly report; 12 months of {YEAR} were
generated (~80 % accepted, some of them first sent after the 15th, ~8 % submitted,
~4 % returned, ~4 % drafts, ~4 % nothing), each with every field of form `{form_id}`
filled (20 counts, 11 narratives of 60–90 Vietnamese characters). In {YEAR}-{WORST_MONTH:02} every
district's report is a draft, so the province's consolidation has to sum all communes.

The same data (same seeds) on each backend, written through the store's API only, no
SQL of the benchmark's own: the shipped catalog (plan 413 and its form) and the demo
accounts come from `AppState::open`; the generated districts and communes are a unit-tree
file (JSON, the import format) read by `unit_files::read_unit_file`, checked by
`plan_tree_import` and saved with `Store::save_units`, as `danvan-server import-units
--apply` does; the reports go through `Store::begin_write` → `WriteTx::save_report` (its
`figures` from `danvan_core::aggregate::figures`; one revision per report, the change that
left it in its status) → `commit`, one transaction per month; the registers through
`Store::put_implementation_plan` and `Store::insert_model` / `recognise_model` /
`commend_model`.

{data}
Checked before timing: each case's answer from `dashboard_for` / `consolidation_for` equals
the one `danvan_core::aggregate` computes in Rust from the generated reports and registers
(`dashboard`, `count_models`, `classify_once`, `consolidate`), on both backends.

Timed: the exact functions the routes call, `aggregate::dashboard_for` and
`aggregate::consolidation_for`, on the real `AppState` (the server's pool), then
`serde_json::to_vec` of the answer as the route sends it, in a task on a runtime worker as a
handler runs (on the main thread, which generated the data, the same calls took up to half
as long again as the requests over HTTP); 2 warm-up runs, then {runs} runs per case; median
and p95 of the sum. District cases as the real demo reviewer of `{DISTRICT}`.

Command: `{options}cargo run --profile server -p danvan-server --example dashboard_bench`
(part of `make bench`; `BENCH_RUNS`, `BENCH_VARIANTS=sqlite,postgres`, `BENCH_DB_DIR` to keep
and reuse the SQLite database). Measured {date}, commit `{commit}`{dirty}, {nproc} × {cpu}
(2 shared cores; the benchmark, its server and PostgreSQL share them).

{tables}Target: p95 ≤ {TARGET_MS:.0} ms for the dashboard and the consolidation.

{verdicts}
Where the time goes, province root, {YEAR}-{WORST_MONTH:02} (the worst case; each step of the two
functions alone, same calls in the same order, median of {phase_runs}):

{phase_head}
{phase_rule}
{phase_rows}
The same answers over real HTTP/1.1 on loopback (the real `app()`: router, auth, JSON,
compression layer), as `sonoivu`, {runs} runs after 2 warm-ups:

| backend | request | Accept-Encoding | median ms | p95 ms | body |
|---|---|---|---:|---:|---:|
{http_rows}
Earlier versions of this section, SQLite only, are in the git history of this file: the
figures before the dashboard and consolidation were made faster (the per-row
`json_extract` query and the other loaders they replaced, run side by side on the same
data) and what was changed.
"#,
        phase_runs = runs.min(10),
    )
}

#[tokio::main]
async fn main() {
    let runs = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(20usize).max(1);
    let variants: Vec<&'static str> = std::env::var("BENCH_VARIANTS")
        .unwrap_or_else(|_| "sqlite,postgres".into())
        .split(',')
        .map(|v| match v.trim() {
            "sqlite" => "sqlite",
            "postgres" | "postgresql" => "postgres",
            other => panic!("BENCH_VARIANTS: unknown variant {other:?} (sqlite, postgres)"),
        })
        .collect();
    // Ctrl-C drops the run: its guards stop the PostgreSQL cluster and delete the
    // temp dirs.
    let run = async {
        let mut results = Vec::new();
        for name in &variants {
            results.push(run_variant(name, runs).await);
        }
        results
    };
    let results = tokio::select! {
        r = run => Some(r),
        _ = tokio::signal::ctrl_c() => None,
    };
    let Some(results) = results else {
        eprintln!("interrupted: the PostgreSQL cluster stopped, temp dirs removed");
        std::process::exit(130);
    };
    let text = section(&results, runs);
    print!("{text}");
    if std::env::var("BENCH_NO_WRITE").is_err() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        benchmarks_md::write_section(&root.join("BENCHMARKS.md"), SECTION, &text);
    }
}
