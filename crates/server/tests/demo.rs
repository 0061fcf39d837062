//! The demo (`DANVAN_DEMO=1`, `src/demo.rs`) over real HTTP on a real database:
//! a fresh database shows a story on every dashboard, on both sides of the 2025
//! reform; a restart writes nothing more; `DANVAN_DEMO=accounts` (what the other
//! tests run with) files nothing at all.

mod common;

use std::time::Instant;

use chrono::{Datelike, Utc};
use common::{Device, TestServer, PASSWORD, PLAN};
use danvan_core::account::AccountsResponse;
use danvan_core::aggregate::{Consolidation, ObligationState};
use danvan_core::api::{DashboardResponse, ImplementationPlansResponse, ModelsResponse, PlansResponse};
use danvan_core::form::PeriodKind;
use danvan_core::sync::MutationOp;
use danvan_core::time::vn_date;
use danvan_core::{Period, Plan, ReportKey};
use danvan_server::demo::{demo_plan_id, PACKAGE};
use reqwest::StatusCode;

/// The demo accounts on the Quảng Ngãi side, with their units.
const QUANG_NGAI_ACCOUNTS: [(&str, &str); 3] =
    [("sonoivu.qn", "quangngai.sonoivu"), ("xa.dakrowa", "quangngai.23332"), ("phuong.kontum", "quangngai.23293")];

/// Rows of the tables the demo writes.
async fn table_counts(dir: &std::path::Path) -> Vec<(&'static str, i64)> {
    let store = common::store(dir).await;
    let counts = store.row_counts().await.unwrap();
    store.close().await;
    [
        "reports",
        "report_revisions",
        "users",
        "movement_models",
        "implementation_plans",
        "plan_versions",
        "mutation_results",
    ]
    .into_iter()
    .map(|table| (table, counts[table]))
    .collect()
}

async fn demo_plan(s: &TestServer, token: &str) -> Plan {
    let plans: PlansResponse = s.get_json("/api/plans", token).await;
    let id = demo_plan_id(vn_date(Utc::now()).year());
    plans.plans.into_iter().find(|p| p.id == id).unwrap_or_else(|| panic!("the demo plan {id}"))
}

#[tokio::test]
async fn the_full_demo_tells_a_story_once() {
    let dir = common::workspace();
    let started = Instant::now();
    let s = TestServer::start_with_demo_history(dir.path()).await;
    eprintln!("first start with the demo history: {:.1} s", started.elapsed().as_secs_f64());

    // 2024, Kon Tum: the province's dashboard for March has every kind of unit.
    let snv = s.login("sonoivu").await.token;
    let d: DashboardResponse = s.get_json(&format!("/api/dashboard?plan={PLAN}&period=2024-03"), &snv).await;
    assert_eq!(d.dashboard.unit_id, "kontum");
    let t = d.dashboard.totals;
    eprintln!("2024-03 over Kon Tum: {t:?}");
    assert!(t.on_time > 0 && t.late > 0 && t.missing > 0 && t.returned > 0, "{t:?}");
    assert_eq!(t.not_due, 0);
    assert!(t.accepted > 0 && t.accepted <= t.on_time + t.late, "{t:?}");
    assert!(t.on_time > t.late && t.late > t.returned, "mostly on time: {t:?}");
    assert!((75..=95).contains(&t.completeness_percent()), "{t:?}");
    let ip = d.implementation_plans;
    assert!(ip.done > 0 && ip.late + ip.missing > 0, "{ip:?}");

    let c: Consolidation = s.get_json(&format!("/api/consolidation?plan={PLAN}&period=2024-03"), &snv).await;
    assert!(c.totals.get("ii1.sessions").is_some_and(|n| *n > 0), "{:?}", c.totals);
    assert!(c.totals.get("ii4.dossiers_received").is_some_and(|n| *n > 1000), "{:?}", c.totals);
    assert!(!c.sources.is_empty() && !c.narratives.is_empty());

    let models: ModelsResponse = s.get_json(&format!("/api/models?plan={PLAN}"), &snv).await;
    assert!(models.models.len() >= 10, "{}", models.models.len());
    assert!(models.models.iter().any(|m| m.recognised_on.is_some() && m.commended_on.is_none()));
    assert!(models.models.iter().any(|m| m.commended_on.is_some() && m.commendation.is_some()));
    assert!(models.models.iter().any(|m| m.recognised_on.is_none()));
    let plans: ImplementationPlansResponse = s.get_json(&format!("/api/implementation-plans?plan={PLAN}"), &snv).await;
    let done = plans.records.iter().filter(|r| r.state == ObligationState::Done).count();
    assert!(done * 2 > plans.records.len(), "most on time: {done} of {}", plans.records.len());
    assert!(plans.records.iter().all(|r| r.state == ObligationState::Missing || r.doc_number.is_some()));

    // This year, Quảng Ngãi: the demo plan, said to be one.
    let qn = s.login("sonoivu.qn").await.token;
    let plan = demo_plan(&s, &qn).await;
    assert!(plan.demo);
    assert!(plan.title.starts_with("[Bản mẫu chạy thử]"), "{}", plan.title);
    assert!(plan.title.contains("Quảng Ngãi") && plan.issued_by.contains("Quảng Ngãi"), "{plan:?}");
    assert_eq!(plan.number, "Bản mẫu/KH-UBND");
    let now = Utc::now();
    let months = plan.periods(PeriodKind::Month);
    let period: Period =
        months.iter().rev().find(|p| p.deadline() < now).or(months.first()).copied().expect("a month of the plan");
    let d: DashboardResponse =
        s.get_json(&format!("/api/dashboard?plan={}&period={}", plan.id, period.key()), &qn).await;
    assert_eq!(d.dashboard.unit_id, "quangngai");
    let t = d.dashboard.totals;
    eprintln!("{} over Quảng Ngãi: {t:?}", period.key());
    assert!(t.expected > 100, "{t:?}");
    // A month already due is mostly filed (before 15/02 none is: the first month
    // has early reports at most).
    if period.deadline() < now {
        assert!(t.on_time + t.late > t.expected / 2, "{t:?}");
    }
    let models: ModelsResponse = s.get_json(&format!("/api/models?plan={}", plan.id), &qn).await;
    assert!(!models.models.is_empty());
    let plans: ImplementationPlansResponse =
        s.get_json(&format!("/api/implementation-plans?plan={}", plan.id), &qn).await;
    assert!(plans.records.iter().any(|r| r.state == ObligationState::Done), "{plans:?}");

    // Every demo account signs in; Xã Đăk Rơ Wa's phone gets its own reports and
    // those of Xã Đăk Blà, which merged into it.
    for (username, unit) in QUANG_NGAI_ACCOUNTS {
        assert_eq!(s.login(username).await.user.unit_id, unit);
    }
    let phone = Device::new(&s, "xa.dakrowa", "test-phone-dakrowa").await;
    let epoch = phone.pull(&s, 0, None).await.epoch;
    let reports = phone.pull_all(&s, &epoch).await;
    assert!(reports.iter().any(|r| r.key.unit_id == "kontum.tpkontum.dakbla" && r.key.plan_id == PLAN));
    assert!(reports.iter().any(|r| r.key.unit_id == "quangngai.23332" && r.key.plan_id == plan.id));

    // The units' own accounts filed: hidden, with a password nobody knows.
    let admin = s.login("admin").await.token;
    let accounts: AccountsResponse = s.get_json("/api/admin/accounts?unit=kontum.tpkontum", &admin).await;
    let hidden = accounts.accounts.iter().find(|a| a.username.starts_with("demo.")).expect("a hidden filer");
    assert_eq!(s.login_raw(&hidden.username, PASSWORD).await.status(), StatusCode::UNAUTHORIZED);

    let before = table_counts(dir.path()).await;
    eprintln!("written: {before:?}");
    let store = &s.state.store;
    // Through the real push, every step applied.
    let outcomes = store.mutation_outcomes().await.unwrap();
    let refused: i64 = outcomes.iter().filter(|(outcome, _)| *outcome != "applied").map(|(_, n)| n).sum();
    assert_eq!(refused, 0, "{outcomes:?}");
    let statuses = store.report_status_counts().await.unwrap();
    for status in ["draft", "submitted", "returned", "accepted"] {
        let n = statuses.get(status).copied().unwrap_or(0);
        eprintln!("reports {status}: {n}");
        assert!(n > 0, "{status}");
    }
    s.stop().await;

    // A restart adds nothing.
    let s = TestServer::start_with_demo_history(dir.path()).await;
    s.stop().await;
    assert_eq!(table_counts(dir.path()).await, before);
    let store = common::store(dir.path()).await;
    assert!(store.package_applied(PACKAGE).await.unwrap(), "the demo's package is recorded once (its name is the key)");
    store.close().await;
}

#[tokio::test]
async fn the_demo_leaves_alone_what_a_used_database_already_has() {
    // A database used with the accounts only: Xã Đăk Blà filed March 2024 by hand,
    // TP Kon Tum recorded its implementation plan.
    let (s, dir) = TestServer::start().await;
    let mut phone = Device::new(&s, "xa.dakbla", "phone-dakbla").await;
    let key = ReportKey {
        plan_id: PLAN.into(),
        unit_id: "kontum.tpkontum.dakbla".into(),
        period: Period::month(2024, 3).unwrap(),
    };
    let values = common::complete_values(&s, &phone.token).await;
    let save = MutationOp::Save { form_id: String::new(), set: values.clone(), attach: vec![], detach: vec![] };
    let m = [phone.m(key.clone(), 0, save), phone.m(key.clone(), 1, MutationOp::Submit)];
    assert_eq!(phone.push(&s, &m).await.results.len(), 2);
    let tp = s.login("tp.kontum").await.token;
    let res = s
        .client
        .put(s.url(&format!("/api/implementation-plans/{PLAN}/kontum.tpkontum")))
        .bearer_auth(&tp)
        .json(&serde_json::json!({"doc_number": "07/KH-UBND", "issued_on": "2024-02-20"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    s.stop().await;

    // The full demo on it starts, and keeps both as they were.
    let s = TestServer::start_with_demo_history(dir.path()).await;
    let epoch = phone.pull(&s, 0, None).await.epoch;
    let mine = phone.pull_all(&s, &epoch).await.into_iter().find(|r| r.key == key).expect("the report filed by hand");
    assert_eq!((mine.version, mine.values), (2, values));
    let plans: ImplementationPlansResponse = s.get_json(&format!("/api/implementation-plans?plan={PLAN}"), &tp).await;
    let record = plans.records.iter().find(|r| r.unit_id == "kontum.tpkontum").unwrap();
    assert_eq!(record.doc_number.as_deref(), Some("07/KH-UBND"));
    // The rest of the story is there.
    let snv = s.login("sonoivu").await.token;
    let d: DashboardResponse = s.get_json(&format!("/api/dashboard?plan={PLAN}&period=2024-03"), &snv).await;
    assert!(d.dashboard.totals.accepted > 50, "{:?}", d.dashboard.totals);
    s.stop().await;
}

#[tokio::test]
async fn demo_accounts_alone_file_nothing() {
    let (s, dir) = TestServer::start().await;
    for (username, unit) in QUANG_NGAI_ACCOUNTS {
        assert_eq!(s.login(username).await.user.unit_id, unit);
    }
    let admin = s.login("admin").await.token;
    let plans: PlansResponse = s.get_json("/api/plans", &admin).await;
    assert!(plans.plans.iter().all(|p| !p.demo), "no demo plan");
    s.stop().await;
    let store = common::store(dir.path()).await;
    let counts = store.row_counts().await.unwrap();
    for table in ["reports", "movement_models", "implementation_plans", "clients"] {
        assert_eq!(counts[table], 0, "{table}");
    }
    let accounts = store.accounts(&danvan_server::store::DataScope::All, Some("demo."), Utc::now()).await.unwrap();
    assert_eq!(accounts.iter().filter(|a| a.username.starts_with("demo.")).count(), 0);
    assert!(!store.package_applied(PACKAGE).await.unwrap());
    store.close().await;
}
