//! Report sync over real HTTP and a real database: push (exactly once, gaps,
//! conflicts, rejections, authorization, transient failures, restarts), pull
//! (visibility, paging, epoch reset), the review cycle, attachments, revisions.

mod common;

use common::{add_user, applied, assert_error, complete_values, count_rows, rejected_code, Device, TestServer};
use danvan_core::api::FormResponse;
use danvan_core::sync::{
    Mutation, MutationOp, MutationResult, PullResponse, PushRequest, PushResponse, PULL_PAGE, SYNC_SCHEMA_VERSION,
};
use danvan_core::{Period, ReportKey, ReportStatus, Values};
use danvan_server::store::{DataScope, Store};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use common::PLAN;
const FORM: &str = "kh-413-ubnd-2024.bao-cao";
const DAKBLA: &str = "kontum.tpkontum.dakbla";
const TP_KONTUM: &str = "kontum.tpkontum";
const SONOIVU: &str = "kontum.sonoivu";
/// A sibling commune of Đăk Blà (same district).
const QUANGTRUNG: &str = "kontum.tpkontum.quangtrung";
/// A commune of another district.
const DAKMAN: &str = "kontum.dakglei.dakman";

/// A report of [`common::LONG_PLAN`] (any period from 2000 to 2099).
fn long_key(unit: &str, period: Period) -> ReportKey {
    ReportKey { plan_id: common::LONG_PLAN.into(), unit_id: unit.into(), period }
}

/// The last mutation the server took from a sync client.
async fn last_mutation_id(store: &Store, client_id: &str) -> u64 {
    store.client(client_id).await.unwrap().unwrap_or_else(|| panic!("client {client_id}")).last_mutation_id
}

/// Every stored report with its change number, in change order, and the change
/// counter: one pull of everything, as the server reads it for a province.
async fn all_reports(store: &Store) -> danvan_server::store::PullPage {
    let page = store.pull(0, &DataScope::All, 100_000, usize::MAX).await.unwrap();
    assert!(!page.has_more);
    page
}

fn key(unit: &str, period: Period) -> ReportKey {
    ReportKey { plan_id: PLAN.into(), unit_id: unit.into(), period }
}

fn march(unit: &str) -> ReportKey {
    key(unit, Period::month(2024, 3).unwrap())
}

fn save(pairs: &[(&str, &str)]) -> MutationOp {
    MutationOp::Save {
        form_id: FORM.into(),
        set: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        attach: vec![],
        detach: vec![],
    }
}

/// A save into a report of [`common::LONG_PLAN`] (its own form).
fn long_save(pairs: &[(&str, &str)]) -> MutationOp {
    MutationOp::Save {
        form_id: format!("{}.bao-cao", common::LONG_PLAN),
        set: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        attach: vec![],
        detach: vec![],
    }
}

fn save_values(values: Values) -> MutationOp {
    MutationOp::Save { form_id: String::new(), set: values, attach: vec![], detach: vec![] }
}

/// One installation of the app: a client id, its next mutation id, a session.
async fn epoch_of(s: &TestServer, d: &Device) -> String {
    d.pull(s, 0, None).await.epoch
}

#[tokio::test]
async fn forms_are_served_per_plan() {
    let (s, _dir) = TestServer::start().await;
    let login = s.login("xa.dakbla").await;
    let form: FormResponse = s.get_json(&format!("/api/forms/{PLAN}"), &login.token).await;
    assert_eq!(form.form.id, FORM);
    assert!(form.form.fields().count() > 20);
    assert_error(s.get_auth("/api/forms/khong-co", &login.token).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_error(s.get(&format!("/api/forms/{PLAN}")).await, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

// (1)
#[tokio::test]
async fn a_replay_gets_the_stored_result_and_applies_nothing_twice() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let m1 = d.m(march(DAKBLA), 0, save(&[("ii1.sessions", "3")]));
    let first = d.push(&s, std::slice::from_ref(&m1)).await;
    assert_eq!(first.results[0].result, applied(1));
    assert_eq!(first.last_mutation_id, 1);
    assert_eq!(first.stopped, None);

    // The response was lost; the phone sends the same mutation again, twice.
    for _ in 0..2 {
        let again = d.push(&s, std::slice::from_ref(&m1)).await;
        assert_eq!(again.results, first.results);
        assert_eq!(again.last_mutation_id, 1);
    }
    // An id reused for other content is not taken for a replay, and not stored.
    let mut other = Mutation::new(1, march(DAKBLA), 0, save(&[("ii1.sessions", "9")]));
    other.content_hash = other.expected_hash();
    let res = d.push(&s, &[other]).await;
    assert_eq!(rejected_code(&res.results[0].result), "replay_mismatch");
    assert_eq!(d.push(&s, std::slice::from_ref(&m1)).await.results, first.results);

    let store = &s.state.store;
    assert_eq!(count_rows(store, "reports").await, 1);
    assert_eq!(count_rows(store, "report_revisions").await, 1);
    assert_eq!(count_rows(store, "mutation_results").await, 1);
    let report = store.report(&march(DAKBLA).id()).await.unwrap().expect("the report");
    assert_eq!(report.version, 1);
    assert_eq!(report.value("ii1.sessions"), "3", "{report:?}");
    s.stop().await;
}

// (2)
#[tokio::test]
async fn a_gap_stops_the_batch_until_the_missing_mutation_arrives() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let m1 = d.m(march(DAKBLA), 0, save(&[("ii1.sessions", "1")]));
    let m2 = d.m(key(DAKBLA, Period::month(2024, 4).unwrap()), 0, save(&[("ii1.sessions", "2")]));
    let m3 = d.m(key(DAKBLA, Period::month(2024, 5).unwrap()), 0, save(&[("ii1.sessions", "3")]));
    let m4 = d.m(march(DAKBLA), 1, save(&[("ii1.sessions", "4")]));

    // m2 is missing: m1 applies, then the batch stops at m3.
    let res = d.push(&s, &[m1.clone(), m3.clone(), m4.clone()]).await;
    assert_eq!(res.stopped.as_deref(), Some("gap"));
    assert_eq!(res.last_mutation_id, 1);
    assert_eq!(res.results.len(), 1);
    assert_eq!(res.results[0].result, applied(1));
    let store = &s.state.store;
    assert_eq!(count_rows(store, "reports").await, 1, "nothing after the gap applied");
    assert_eq!(count_rows(store, "mutation_results").await, 1);

    // Resent from last_mutation_id + 1.
    let res = d.push(&s, &[m2, m3, m4]).await;
    assert_eq!(res.stopped, None);
    assert_eq!(res.last_mutation_id, 4);
    let got: Vec<_> = res.results.iter().map(|o| (o.id, o.result.clone())).collect();
    assert_eq!(got, [(2, applied(1)), (3, applied(1)), (4, applied(2))]);
    assert_eq!(count_rows(store, "reports").await, 3);
    s.stop().await;
}

// (3)
#[tokio::test]
async fn a_stale_base_from_another_device_conflicts_but_a_devices_own_chain_applies() {
    let (s, _dir) = TestServer::start().await;
    let mut a = Device::new(&s, "xa.dakbla", "phone-a").await;
    let mut b = Device::new(&s, "xa.dakbla", "laptop-b").await;
    let k = march(DAKBLA);

    // Phone A: two edits on base 0 (it had no acknowledgement of the first yet).
    let a1 = a.m(k.clone(), 0, save(&[("ii1.sessions", "1")]));
    let a2 = a.m(k.clone(), 0, save(&[("ii1.participants", "40")]));
    assert_eq!(a.push(&s, &[a1]).await.results[0].result, applied(1));
    assert_eq!(a.push(&s, &[a2]).await.results[0].result, applied(2), "own chain applies");

    // Laptop B edited the report as it was before (base 0): a conflict, with the
    // server copy to merge with.
    let b1 = b.m(k.clone(), 0, save(&[("ii1.sessions", "7")]));
    let res = b.push(&s, &[b1]).await;
    assert_eq!(res.last_mutation_id, 1, "a conflict is recorded too");
    let MutationResult::Conflict { server } = &res.results[0].result else { panic!("{res:?}") };
    assert_eq!(server.version, 2);
    assert_eq!(server.value("ii1.sessions"), "1");
    assert_eq!(server.value("ii1.participants"), "40");
    assert_eq!(server.updated_by.as_deref(), Some("Nguyễn Thị Hoa"));

    // B merges and resends on the server's version: it applies...
    let b2 = b.m(k.clone(), 2, save(&[("ii1.sessions", "7")]));
    assert_eq!(b.push(&s, &[b2]).await.results[0].result, applied(3));
    // ... and now A's old base conflicts, because B changed the report since.
    let a3 = a.m(k.clone(), 2, save(&[("ii1.sessions", "2")]));
    let res = a.push(&s, &[a3]).await;
    assert!(matches!(&res.results[0].result, MutationResult::Conflict { server } if server.version == 3), "{res:?}");
    // A base from the future is a conflict as well.
    let a4 = a.m(k, 9, save(&[("ii1.sessions", "2")]));
    assert!(matches!(a.push(&s, &[a4]).await.results[0].result, MutationResult::Conflict { .. }));
}

// (4)
#[tokio::test]
async fn permanently_invalid_mutations_are_rejected_and_the_queue_moves_on() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let k = march(DAKBLA);
    let unknown_field = d.m(k.clone(), 0, save(&[("khong.co", "1")]));
    let incomplete_submit = d.m(k.clone(), 0, MutationOp::Submit);
    let ok = d.m(k.clone(), 0, save(&[("ii1.sessions", "abc")]));
    let unknown_plan = d.m(ReportKey { plan_id: "khong-co".into(), ..k.clone() }, 0, save(&[]));
    let wrong_form = d.m(
        k.clone(),
        1,
        MutationOp::Save { form_id: "mau-khac".into(), set: Values::new(), attach: vec![], detach: vec![] },
    );
    let mut bad_hash = d.m(k.clone(), 1, save(&[("ii1.sessions", "5")]));
    bad_hash.content_hash = "0000000000000000".into();
    let res = d.push(&s, &[unknown_field, incomplete_submit, ok, unknown_plan, wrong_form, bad_hash]).await;
    assert_eq!(res.stopped, None);
    assert_eq!(res.last_mutation_id, 6);
    let codes: Vec<String> = res
        .results
        .iter()
        .map(|o| match &o.result {
            MutationResult::Applied { .. } => "applied".to_string(),
            r => rejected_code(r).to_string(),
        })
        .collect();
    assert_eq!(codes, ["invalid", "invalid", "applied", "invalid", "invalid", "bad_hash"]);
    // A draft keeps what was typed, even if it is not a number yet.
    let page = d.pull(&s, 0, None).await;
    assert_eq!(page.changes[0].value("ii1.sessions"), "abc");

    // Saving a submitted report: not_editable, and the next mutation applies.
    let values = complete_values(&s, &d.token).await;
    let fill = d.m(k.clone(), 1, save_values(values));
    let submit = d.m(k.clone(), 2, MutationOp::Submit);
    let late_edit = d.m(k.clone(), 3, save(&[("ii1.sessions", "8")]));
    let other_report = d.m(key(DAKBLA, Period::year(2024).unwrap()), 0, save(&[("ii1.sessions", "8")]));
    let res = d.push(&s, &[fill, submit, late_edit, other_report]).await;
    assert_eq!(res.results[0].result, applied(2));
    assert_eq!(res.results[1].result, applied(3));
    assert_eq!(rejected_code(&res.results[2].result), "not_editable");
    assert_eq!(res.results[3].result, applied(1));
    assert_eq!(res.last_mutation_id, 10);
    let store = &s.state.store;
    assert_eq!(count_rows(store, "mutation_results").await, 10);
    let outcomes = store.mutation_outcomes().await.unwrap();
    assert_eq!(outcomes.into_iter().collect::<Vec<_>>(), [("applied".to_string(), 4), ("rejected".to_string(), 6)]);
    assert_eq!(last_mutation_id(store, "phone-1").await, 10);
    s.stop().await;
}

// (5)
#[tokio::test]
async fn a_locked_database_is_a_503_and_the_retry_applies_everything_once() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let m1 = d.m(march(DAKBLA), 0, save(&[("ii1.sessions", "1")]));
    let m2 = d.m(march(DAKBLA), 1, save(&[("ii1.sessions", "2")]));
    let m3 = d.m(key(DAKBLA, Period::month(2024, 4).unwrap()), 0, save(&[("ii1.sessions", "3")]));
    assert_eq!(d.push(&s, std::slice::from_ref(&m1)).await.results[0].result, applied(1));

    // Another process holds the write lock longer than the server waits for it
    // (SQLite's busy timeout, PostgreSQL's lock_timeout).
    let other = common::store(dir.path()).await;
    let lock = other.hold_write_lock().await.unwrap();
    let batch = [m1.clone(), m2.clone(), m3.clone()];
    let res = d.push_raw(&s, &batch, None).await;
    assert_eq!(res.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    assert_error(res, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    lock.release().await.unwrap();
    other.close().await;

    let res = d.push(&s, &batch).await;
    let got: Vec<_> = res.results.iter().map(|o| o.result.clone()).collect();
    assert_eq!(got, [applied(1), applied(2), applied(1)]);
    assert_eq!(res.last_mutation_id, 3);
    let store = &s.state.store;
    assert_eq!(count_rows(store, "report_revisions").await, 3, "nothing doubled");
    assert_eq!(count_rows(store, "mutation_results").await, 3);
    assert_eq!(last_mutation_id(store, "phone-1").await, 3);
    assert_eq!(all_reports(store).await.last_change_seq, 3);
    s.stop().await;
}

// (6)
#[tokio::test]
async fn another_units_report_is_a_recorded_403_and_the_queue_moves_on() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let foreign = d.m(march(QUANGTRUNG), 0, save(&[("ii1.sessions", "1")]));
    let next = d.m(march(DAKBLA), 0, save(&[("ii1.sessions", "2")]));
    let res = d.push_raw(&s, &[foreign.clone(), next.clone()], None).await;
    let body = assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    // Both an API error and a push answer.
    let answer: PushResponse = serde_json::from_value(body.clone()).unwrap();
    assert_eq!(answer.last_mutation_id, 1, "recorded: the queue does not wedge");
    assert_eq!(answer.results.len(), 1, "the batch stops after it");
    assert_eq!(answer.stopped.as_deref(), Some("forbidden"));
    assert_eq!(rejected_code(&answer.results[0].result), "forbidden");
    assert_eq!(body["error"]["message"], body["results"][0]["result"]["rejected"]["message"]);

    let res = d.push(&s, &[next]).await;
    assert_eq!(res.results[0].result, applied(1));
    let units: Vec<String> = all_reports(&s.state.store).await.rows.into_iter().map(|(_, r)| r.key.unit_id).collect();
    assert_eq!(units, [DAKBLA]);

    // Reviewers review only units below their own; the administrator files nothing.
    let mut reviewer = Device::new(&s, "tp.kontum", "tp-1").await;
    let own = reviewer.m(march(TP_KONTUM), 1, MutationOp::Accept);
    let (res, _) = reviewer.push_expect(&s, &[own], StatusCode::FORBIDDEN).await;
    assert_eq!(rejected_code(&res.results[0].result), "forbidden");
    let commune_edit = reviewer.m(march(DAKBLA), 1, save(&[("ii1.sessions", "5")]));
    let (res, _) = reviewer.push_expect(&s, &[commune_edit], StatusCode::FORBIDDEN).await;
    assert_eq!(res.last_mutation_id, 2);
    let mut admin = Device::new(&s, "admin", "admin-1").await;
    let m = admin.m(march("kontum"), 0, save(&[]));
    admin.push_expect(&s, &[m], StatusCode::FORBIDDEN).await;
    s.stop().await;
}

/// Sends a push on a task of its own (it runs while the test goes on).
fn spawn_push(s: &TestServer, d: &Device, mutations: Vec<Mutation>) -> tokio::task::JoinHandle<reqwest::Response> {
    let req =
        PushRequest { client_id: d.client_id.clone(), epoch: None, schema_version: SYNC_SCHEMA_VERSION, mutations };
    let request = s.client.post(s.url("/api/sync/push")).bearer_auth(&d.token).json(&req);
    tokio::spawn(async move { request.send().await.unwrap() })
}

/// Waits until the server's push writer has been handed `n` pushes in all.
async fn until_queued(s: &TestServer, n: u64) {
    let start = std::time::Instant::now();
    while s.state.pushes.queued() < n {
        assert!(start.elapsed() < std::time::Duration::from_secs(30), "{} pushes queued", s.state.pushes.queued());
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

// Group commit (crates/server/src/push_queue.rs)
#[tokio::test]
async fn pushes_that_wait_together_commit_together_and_a_refused_one_is_undone_alone() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut phones = Vec::new();
    for i in 0..8 {
        phones.push(Device::new(&s, "xa.dakbla", &format!("phone-{i}")).await);
    }
    // Another account on a phone whose id phone-0 registers first, in the same
    // wait: refused inside the write lock, after phone-0's push was applied.
    let mut thief = Device::new(&s, "tp.kontum", "phone-0").await;
    let commits_before = s.state.pushes.commits();

    // While another process holds the write lock, every push waits.
    let other = common::store(dir.path()).await;
    let lock = other.hold_write_lock().await.unwrap();
    let mut pending = Vec::new();
    let mut queued = s.state.pushes.queued();
    for (i, phone) in phones.iter_mut().enumerate() {
        let month = Period::month(2024, i as u32 + 2).unwrap();
        let ms = vec![
            phone.m(key(DAKBLA, month.clone()), 0, save(&[("ii1.sessions", &(i + 1).to_string())])),
            phone.m(key(DAKBLA, month), 1, save(&[("ii6.petitions_received", "2")])),
        ];
        pending.push(spawn_push(&s, phone, ms));
        queued += 1;
        until_queued(&s, queued).await;
        if i == 0 {
            let m = thief.m(key(TP_KONTUM, Period::month(2024, 2).unwrap()), 0, save(&[("ii1.sessions", "9")]));
            pending.push(spawn_push(&s, &thief, vec![m]));
            queued += 1;
            until_queued(&s, queued).await;
        }
    }
    lock.release().await.unwrap();
    other.close().await;

    let mut answers = Vec::new();
    for p in pending {
        answers.push(p.await.unwrap());
    }
    let thief_answer = answers.remove(1);
    assert_error(thief_answer, StatusCode::FORBIDDEN, "client_forbidden").await;
    for (i, answer) in answers.into_iter().enumerate() {
        assert_eq!(answer.status(), StatusCode::OK, "phone-{i}");
        let res: PushResponse = answer.json().await.unwrap();
        let got: Vec<_> = res.results.into_iter().map(|o| o.result).collect();
        assert_eq!(got, [applied(1), applied(2)], "phone-{i}");
    }
    // Nine pushes, at most a first one alone and the rest together.
    let commits = s.state.pushes.commits() - commits_before;
    assert!((1..=2).contains(&commits), "{commits} commits for 9 pushes");

    let store = &s.state.store;
    assert_eq!(count_rows(store, "report_revisions").await, 16, "the refused push left nothing");
    assert_eq!(count_rows(store, "mutation_results").await, 16);
    let page = all_reports(store).await;
    assert_eq!(page.last_change_seq, 16, "change numbers of undone work are not used");
    assert_eq!(page.rows.len(), 8);
    assert!(page.rows.iter().all(|(_, r)| r.key.unit_id == DAKBLA));
    assert_eq!(store.client("phone-0").await.unwrap().unwrap().user_id, user_id_of(store, "xa.dakbla").await);
    // Each phone's sync time was written with its push.
    let user = user_id_of(store, "xa.dakbla").await;
    let devices = store.devices(user, chrono::Utc::now()).await.unwrap();
    assert_eq!(devices.len(), 8);
    assert!(devices.iter().all(|d| d.last_sync_at.is_some()), "{devices:?}");
    s.stop().await;
}

#[tokio::test]
async fn a_pull_records_when_the_device_last_synced() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let d = Device::new(&s, "tp.kontum", "tp-1").await;
    let user = user_id_of(&s.state.store, "tp.kontum").await;
    let synced = || async { s.state.store.devices(user, chrono::Utc::now()).await.unwrap()[0].last_sync_at };
    assert_eq!(synced().await, None);
    let before = chrono::Utc::now() - chrono::Duration::seconds(1);
    d.pull(&s, 0, None).await;
    let first = synced().await.expect("written by the pull");
    assert!(first >= before, "{first}");
    // Within the minute the next pages do not write it again (times are kept to
    // the second: a second later a write would show).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    d.pull(&s, 0, None).await;
    assert_eq!(synced().await, Some(first));
    s.stop().await;
}

async fn user_id_of(store: &Store, username: &str) -> i64 {
    store.user_by_username(username).await.unwrap().unwrap().user.id
}

// (7)
#[tokio::test]
async fn a_client_id_of_another_user_is_refused_before_anything_is_processed() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut mine = Device::new(&s, "xa.dakbla", "shared-phone").await;
    let m = mine.m(march(DAKBLA), 0, save(&[("ii1.sessions", "2")]));
    mine.push(&s, &[m]).await;

    let mut thief = Device::new(&s, "tp.kontum", "shared-phone").await;
    thief.next = 2;
    let m = thief.m(march(TP_KONTUM), 0, save(&[("ii1.sessions", "1")]));
    assert_error(thief.push_raw(&s, &[m], None).await, StatusCode::FORBIDDEN, "client_forbidden").await;
    assert_error(thief.pull_raw(&s, 0, None).await, StatusCode::FORBIDDEN, "client_forbidden").await;
    let store = &s.state.store;
    assert_eq!(count_rows(store, "reports").await, 1);
    assert_eq!(last_mutation_id(store, "shared-phone").await, 1);
    assert_eq!(count_rows(store, "clients").await, 1, "the refused one was not registered");

    // A revoked client (a lost phone an administrator cut off) is refused to its
    // own user as well.
    let cli = danvan_server::store::Actor::cli();
    assert!(store.revoke_client("shared-phone", &cli, chrono::Utc::now()).await.unwrap());
    assert!(!store.revoke_client("shared-phone", &cli, chrono::Utc::now()).await.unwrap(), "once");
    let audit = store.audit_entries(&DataScope::All, None, 1).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].target.as_deref(), audit[0].detail.as_deref()),
        ("client.revoke", Some("xa.dakbla"), Some("shared-phone"))
    );
    let m = mine.m(march(DAKBLA), 1, save(&[]));
    assert_error(mine.push_raw(&s, &[m], None).await, StatusCode::FORBIDDEN, "client_forbidden").await;
    s.stop().await;
}

// (8) and the other whole-request checks.
#[tokio::test]
async fn bad_requests_are_refused_whole() {
    let (s, _dir) = TestServer::start().await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let m = d.m(march(DAKBLA), 0, save(&[("ii1.sessions", "2")]));
    let epoch = epoch_of(&s, &d).await;

    let res = d.push_raw(&s, std::slice::from_ref(&m), Some("not-this-server")).await;
    let body = assert_error(res, StatusCode::CONFLICT, "epoch_mismatch").await;
    assert_eq!(body["epoch"], epoch);

    let post = |body: Value| s.client.post(s.url("/api/sync/push")).bearer_auth(&d.token).json(&body).send();
    let mutations = serde_json::to_value([&m]).unwrap();
    let cases = [
        (json!({"client_id": "phone-1", "schema_version": 99, "mutations": []}), "unsupported_schema"),
        (json!({"client_id": "", "schema_version": 1, "mutations": []}), "invalid_client_id"),
        (json!({"client_id": "a b", "schema_version": 1, "mutations": []}), "invalid_client_id"),
        (json!({"client_id": "x".repeat(65), "schema_version": 1, "mutations": []}), "invalid_client_id"),
        (
            json!({"client_id": "phone-1", "schema_version": 1, "mutations": vec![mutations[0].clone(); 101]}),
            "too_many_mutations",
        ),
        (json!({"client_id": "phone-1", "schema_version": 1, "mutations": [{"id": 1}]}), "bad_request"),
    ];
    for (body, code) in cases {
        assert_error(post(body).await.unwrap(), StatusCode::BAD_REQUEST, code).await;
    }
    let m0 = Mutation::new(0, march(DAKBLA), 0, save(&[]));
    assert_error(d.push_raw(&s, &[m0], None).await, StatusCode::BAD_REQUEST, "invalid_mutation").await;
    // Nothing of the above was processed.
    let res = d.push(&s, &[m]).await;
    assert_eq!(res.results[0].result, applied(1));
    assert_eq!(res.epoch, epoch);
    let res = s.client.post(s.url("/api/sync/push")).json(&json!({})).send().await.unwrap();
    assert_error(res, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

// (9)
#[tokio::test]
async fn pulls_return_what_the_caller_may_see_page_by_page() {
    let dir = common::workspace();
    common::publish_long_plan(dir.path()).await;
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "xa.quangtrung", "reporter", QUANGTRUNG).await;
    add_user(dir.path(), "xa.dakman", "reporter", DAKMAN).await;

    let mut dakbla = Device::new(&s, "xa.dakbla", "dakbla-1").await;
    // An empty pull is tiny (phones on 2G pull often).
    let res = dakbla.pull_raw(&s, 0, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    assert!(text.len() < 300, "{} bytes: {text}", text.len());
    let empty: PullResponse = serde_json::from_str(&text).unwrap();
    assert!(empty.changes.is_empty() && !empty.has_more && !empty.reset);
    let epoch = empty.epoch.clone();

    // More reports than one page in Đăk Blà, one each elsewhere.
    let total = PULL_PAGE + 5;
    let periods: Vec<Period> =
        (0..total).map(|i| Period::month(2000 + (i / 12) as i32, (i % 12) as u32 + 1).unwrap()).collect();
    let mutations: Vec<Mutation> =
        periods.iter().map(|p| dakbla.m(long_key(DAKBLA, *p), 0, long_save(&[("ii1.sessions", "1")]))).collect();
    for chunk in mutations.chunks(100) {
        let res = dakbla.push(&s, chunk).await;
        assert!(res.results.iter().all(|o| o.result == applied(1)));
    }
    for (user, unit) in
        [("xa.quangtrung", QUANGTRUNG), ("xa.dakman", DAKMAN), ("tp.kontum", TP_KONTUM), ("sonoivu", SONOIVU)]
    {
        let mut d = Device::new(&s, user, &format!("{}-1", user.replace('.', "-"))).await;
        let m = d.m(march(unit), 0, save(&[("ii1.sessions", "1")]));
        assert_eq!(d.push(&s, &[m]).await.results[0].result, applied(1), "{user}");
    }

    // Paging for the commune: its own reports only.
    let first = dakbla.pull(&s, 0, Some(&epoch)).await;
    assert_eq!(first.changes.len(), PULL_PAGE);
    assert!(first.has_more);
    assert_eq!(first.cursor, PULL_PAGE as u64, "the change number of the last row");
    let second = dakbla.pull(&s, first.cursor, Some(&epoch)).await;
    assert_eq!(second.changes.len(), 5);
    assert!(!second.has_more);
    // The others' later changes are skipped: the cursor jumps to the end.
    assert_eq!(second.cursor, total as u64 + 4);
    let mut seen: Vec<String> = first.changes.iter().chain(&second.changes).map(|r| r.id()).collect();
    assert!(first.changes.iter().chain(&second.changes).all(|r| r.key.unit_id == DAKBLA));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total);
    let nothing = dakbla.pull(&s, second.cursor, Some(&epoch)).await;
    assert!(nothing.changes.is_empty());
    assert_eq!(nothing.cursor, second.cursor);

    let units_seen = |reports: Vec<danvan_core::Report>| {
        let mut units: Vec<String> = reports.into_iter().map(|r| r.key.unit_id).collect();
        units.sort();
        units.dedup();
        units
    };
    let sibling = Device::new(&s, "xa.quangtrung", "xa-quangtrung-1").await;
    assert_eq!(units_seen(sibling.pull_all(&s, &epoch).await), [QUANGTRUNG]);
    let district = Device::new(&s, "tp.kontum", "tp-kontum-1").await;
    assert_eq!(units_seen(district.pull_all(&s, &epoch).await), [TP_KONTUM, DAKBLA, QUANGTRUNG]);
    let province = Device::new(&s, "sonoivu", "sonoivu-1").await;
    let all = province.pull_all(&s, &epoch).await;
    assert_eq!(all.len(), total + 4);
    assert_eq!(units_seen(all), [DAKMAN, SONOIVU, TP_KONTUM, DAKBLA, QUANGTRUNG]);

    // The database was restored elsewhere (another epoch): everything again, reset.
    let reset = dakbla.pull(&s, second.cursor, Some("old-epoch")).await;
    assert!(reset.reset);
    assert_eq!(reset.epoch, epoch);
    assert_eq!(reset.changes.len(), PULL_PAGE);
    assert_eq!(reset.changes[0].key.period, periods[0]);
    // No epoch but a cursor, or a cursor beyond this database: the same.
    assert!(dakbla.pull(&s, 7, None).await.reset);
    let beyond = dakbla.pull(&s, 1_000_000, Some(&epoch)).await;
    assert!(beyond.reset);
    assert_eq!(beyond.changes.len(), PULL_PAGE);
    assert!(!dakbla.pull(&s, 0, Some(&epoch)).await.reset);
    s.stop().await;
}

// (10)
#[tokio::test]
async fn the_review_cycle_submit_return_resubmit_accept() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "xa.dakman", "reporter", DAKMAN).await;
    let mut commune = Device::new(&s, "xa.dakbla", "phone-1").await;
    let mut district = Device::new(&s, "tp.kontum", "tp-pc").await;
    let k = march(DAKBLA);
    let values = complete_values(&s, &commune.token).await;
    let fill = commune.m(k.clone(), 0, save_values(values));
    let submit = commune.m(k.clone(), 1, MutationOp::Submit);
    let res = commune.push(&s, &[fill, submit]).await;
    assert_eq!(res.results[1].result, applied(2));

    // The district reviewer sees it submitted and returns it with a reason.
    let seen = district.pull(&s, 0, None).await;
    let report = seen.changes.iter().find(|r| r.key == k).unwrap();
    assert_eq!(report.status, ReportStatus::Submitted);
    assert!(report.submitted_at.is_some());
    let empty_reason = district.m(k.clone(), 2, MutationOp::Return { reason: "  ".into() });
    let ret = district.m(k.clone(), 2, MutationOp::Return { reason: "Thiếu số liệu mục II.6".into() });
    let res = district.push(&s, &[empty_reason, ret]).await;
    assert_eq!(rejected_code(&res.results[0].result), "invalid");
    assert_eq!(res.results[1].result, applied(3));

    // The commune sees the reason, corrects and submits again.
    let back = commune.pull(&s, 0, None).await;
    let report = &back.changes[0];
    assert_eq!(report.status, ReportStatus::Returned);
    assert_eq!(report.return_reason.as_deref(), Some("Thiếu số liệu mục II.6"));
    assert_eq!(report.updated_by.as_deref(), Some("Trần Văn Minh"));
    let fix = commune.m(k.clone(), 3, save(&[("ii6.petitions_received", "4"), ("ii6.petitions_resolved", "3")]));
    let resubmit = commune.m(k.clone(), 4, MutationOp::Submit);
    let res = commune.push(&s, &[fix, resubmit]).await;
    assert_eq!(res.results.iter().map(|o| o.result.clone()).collect::<Vec<_>>(), [applied(4), applied(5)]);

    let accept = district.m(k.clone(), 5, MutationOp::Accept);
    assert_eq!(district.push(&s, &[accept]).await.results[0].result, applied(6));
    let late = commune.m(k.clone(), 6, save(&[("ii1.sessions", "9")]));
    assert_eq!(rejected_code(&commune.push(&s, &[late]).await.results[0].result), "not_editable");
    let again = district.m(k.clone(), 6, MutationOp::Return { reason: "Xem lại".into() });
    assert_eq!(rejected_code(&district.push(&s, &[again]).await.results[0].result), "wrong_status");

    // The history, for the review screens.
    let path = format!("/api/reports/{}/revisions", k.id());
    let history: Value = s.get_json(&path, &district.token).await;
    let revisions = history["revisions"].as_array().unwrap();
    let ops: Vec<&str> = revisions.iter().map(|r| r["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["save", "submit", "return", "save", "submit", "accept"]);
    assert_eq!(revisions[3]["changes"], json!({"ii6.petitions_received": "4", "ii6.petitions_resolved": "3"}));
    assert_eq!(revisions[1]["changes"], json!({}));
    assert_eq!(revisions[2]["user"], "Trần Văn Minh");
    assert_eq!(revisions[2]["reason"], "Thiếu số liệu mục II.6");
    assert_eq!(revisions[2]["status"], "returned");
    assert_eq!(revisions[5]["version"], 6);
    assert_eq!(revisions[0]["client_id"], "phone-1");
    assert!(revisions[0]["created_at"].as_str().unwrap().ends_with('Z'));
    // Visible to whoever sees the unit, and to nobody else.
    let sonoivu = s.login("sonoivu").await;
    assert_eq!(s.get_auth(&path, &sonoivu.token).await.status(), StatusCode::OK);
    let stranger = s.login("xa.dakman").await;
    assert_error(s.get_auth(&path, &stranger.token).await, StatusCode::FORBIDDEN, "forbidden").await;
    let missing = format!("/api/reports/{}/revisions", key(DAKBLA, Period::year(2020).unwrap()).id());
    assert_error(s.get_auth(&missing, &district.token).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_error(s.get_auth("/api/reports/rac/revisions", &district.token).await, StatusCode::NOT_FOUND, "not_found")
        .await;
    s.stop().await;
}

#[tokio::test]
async fn a_save_that_changes_nothing_makes_no_revision_and_the_history_comes_in_pages() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut phone = Device::new(&s, "xa.dakbla", "phone-1").await;
    let k = march(DAKBLA);
    let first = phone.m(k.clone(), 0, save(&[("ii1.sessions", "3")]));
    assert_eq!(phone.push(&s, &[first]).await.results[0].result, applied(1));
    // The same value again, an empty save, and a clear of a field already empty:
    // acknowledged at the current version, nothing recorded.
    let same = phone.m(k.clone(), 1, save(&[("ii1.sessions", "3")]));
    let empty = phone.m(k.clone(), 1, save(&[]));
    let clear = phone.m(k.clone(), 1, save(&[("assessment", "")]));
    let res = phone.push(&s, &[same, empty, clear]).await;
    assert_eq!(res.results.iter().map(|o| o.result.clone()).collect::<Vec<_>>(), [applied(1), applied(1), applied(1)]);
    // A retry of a no-op gets the same answer, still nothing recorded.
    let retry = Mutation::new(2, k.clone(), 1, save(&[("ii1.sessions", "3")]));
    let res = phone.push(&s, &[retry]).await;
    assert_eq!(res.results[0].result, applied(1));
    assert_eq!(count_rows(&s.state.store, "report_revisions").await, 1);
    let history: Value = s.get_json(&format!("/api/reports/{}/revisions", k.id()), &phone.token).await;
    assert_eq!(history["revisions"].as_array().unwrap().len(), 1);
    assert!(history.get("earlier").is_none(), "one page only: {history}");
    // An empty save of a report the server does not have creates nothing.
    let april = key(DAKBLA, Period::month(2024, 4).unwrap());
    let nothing = phone.m(april.clone(), 0, save(&[]));
    assert_eq!(phone.push(&s, &[nothing]).await.results[0].result, applied(0));
    let missing = format!("/api/reports/{}/revisions", april.id());
    assert_error(s.get_auth(&missing, &phone.token).await, StatusCode::NOT_FOUND, "not_found").await;

    // 44 more changes: the history comes newest page first, then older pages
    // with the changes still computed from the very first save.
    let mut version = 1;
    for i in 0..44u64 {
        let m = phone.m(k.clone(), version, save(&[("ii1.participants", &(100 + i).to_string())]));
        assert_eq!(phone.push(&s, &[m]).await.results[0].result, applied(version + 1));
        version += 1;
    }
    assert_eq!(version, 45);
    let path = format!("/api/reports/{}/revisions", k.id());
    let newest: Value = s.get_json(&path, &phone.token).await;
    let page = newest["revisions"].as_array().unwrap();
    assert_eq!(page.len(), 30);
    assert_eq!(page.first().unwrap()["version"], 16);
    assert_eq!(page.last().unwrap()["version"], 45);
    assert_eq!(page.last().unwrap()["changes"], json!({"ii1.participants": "143"}));
    assert_eq!(newest["earlier"], 16);
    let older: Value = s.get_json(&format!("{path}?before=16&limit=10"), &phone.token).await;
    let page = older["revisions"].as_array().unwrap();
    assert_eq!(page.iter().map(|r| r["version"].as_u64().unwrap()).collect::<Vec<_>>(), (6..=15).collect::<Vec<_>>());
    assert_eq!(page[0]["changes"], json!({"ii1.participants": "104"}));
    assert_eq!(older["earlier"], 6);
    let oldest: Value = s.get_json(&format!("{path}?before=6"), &phone.token).await;
    let page = oldest["revisions"].as_array().unwrap();
    assert_eq!(page.len(), 5);
    assert_eq!(page[0]["changes"], json!({"ii1.sessions": "3"}));
    assert!(oldest.get("earlier").is_none());
    for bad in ["?limit=0", "?limit=101", "?before=0", "?limit=x", "?page=2"] {
        assert_error(s.get_auth(&format!("{path}{bad}"), &phone.token).await, StatusCode::BAD_REQUEST, "bad_request")
            .await;
    }
    s.stop().await;
}

#[tokio::test]
async fn pull_pages_are_bounded_by_bytes_as_well_as_rows() {
    // Eleven months of reports with every narrative at its 4,000-character limit: a
    // reviewer's first pull comes in pages of at most PULL_PAGE_BYTES of reports.
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut commune = Device::new(&s, "xa.dakbla", "phone-1").await;
    let long = "Tuyên truyền ở thôn Kon Rơ Wang, đồng bào dân tộc thiểu số tham dự đông đủ. ".repeat(60);
    let long: String = long.chars().take(4000).collect();
    let fields: Vec<String> = (1..=7).map(|i| format!("ii{i}.result")).collect();
    let pairs: Vec<(&str, &str)> = fields.iter().map(|f| (f.as_str(), long.as_str())).collect();
    let mutations: Vec<Mutation> =
        (2..=12).map(|m| commune.m(key(DAKBLA, Period::month(2024, m).unwrap()), 0, save(&pairs))).collect();
    let res = commune.push(&s, &mutations).await;
    assert!(res.results.iter().all(|o| o.result == applied(1)), "{:?}", res.results);

    let reviewer = Device::new(&s, "tp.kontum", "pc-1").await;
    let epoch = reviewer.pull(&s, 0, None).await.epoch;
    let (mut cursor, mut pages, mut seen, mut total) = (0, 0, Vec::new(), 0);
    loop {
        let page = reviewer.pull(&s, cursor, Some(&epoch)).await;
        pages += 1;
        let bytes: usize = page.changes.iter().map(|r| serde_json::to_string(r).unwrap().len()).sum();
        assert!(!page.changes.is_empty());
        assert!(
            bytes <= danvan_core::sync::PULL_PAGE_BYTES || page.changes.len() == 1,
            "page {pages}: {bytes} bytes in {} reports",
            page.changes.len()
        );
        seen.extend(page.changes.iter().map(|r| r.id()));
        total += bytes;
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    assert!(total > 300_000, "{total} bytes");
    assert!(pages >= total.div_ceil(danvan_core::sync::PULL_PAGE_BYTES), "{pages} pages for {total} bytes");
    let count = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!((count, seen.len()), (11, 11), "every report once");
    s.stop().await;
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// A JPEG-looking byte string of `len` bytes (the server does not decode images).
fn photo(len: usize, seed: u8) -> Vec<u8> {
    let mut data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
    data[..3].copy_from_slice(&[0xff, 0xd8, 0xff]);
    data
}

async fn upload(
    s: &TestServer,
    token: &str,
    id: &str,
    report: &str,
    mime: &str,
    sha: &str,
    data: Vec<u8>,
) -> reqwest::Response {
    s.client
        .put(s.url(&format!("/api/attachments/{id}?report={report}")))
        .bearer_auth(token)
        .header("content-type", mime)
        .header("x-content-sha256", sha)
        .body(data)
        .send()
        .await
        .unwrap()
}

// (11)
#[tokio::test]
async fn attachments_upload_once_and_come_back_identical() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    add_user(dir.path(), "xa.dakman", "reporter", DAKMAN).await;
    let commune = s.login("xa.dakbla").await.token;
    let report = march(DAKBLA).id();
    let data = photo(1536 * 1024, 7); // 1.5 MiB: over the API's 1 MiB, under 3 MiB
    let sha = sha256_hex(&data);

    let res = upload(&s, &commune, "a1b2c3", &report, "image/jpeg", &sha, data.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": "a1b2c3", "report_id": report, "mime": "image/jpeg", "size": data.len(), "sha256": sha})
    );
    // A retry after a lost response: the same answer, 200.
    let res = upload(&s, &commune, "a1b2c3", &report, "image/jpeg", &sha.to_uppercase(), data.clone()).await;
    assert_eq!(res.status(), StatusCode::OK);
    // The same id for other bytes.
    let other = photo(1000, 9);
    let res = upload(&s, &commune, "a1b2c3", &report, "image/jpeg", &sha256_hex(&other), other.clone()).await;
    assert_error(res, StatusCode::CONFLICT, "conflict").await;
    // The same bytes under the same id for another report: not a retry.
    let april = key(DAKBLA, Period::month(2024, 4).unwrap()).id();
    let res = upload(&s, &commune, "a1b2c3", &april, "image/jpeg", &sha, data.clone()).await;
    assert_error(res, StatusCode::CONFLICT, "conflict").await;
    // Bytes damaged on the way.
    let res = upload(&s, &commune, "d4e5", &report, "image/jpeg", &sha256_hex(&other), photo(1000, 10)).await;
    assert_error(res, StatusCode::BAD_REQUEST, "hash_mismatch").await;
    // Missing hash, wrong type, bad ids.
    let res = upload(&s, &commune, "d4e5", &report, "image/jpeg", "", other.clone()).await;
    assert_error(res, StatusCode::BAD_REQUEST, "missing_hash").await;
    let html = b"<script>alert(1)</script>".to_vec();
    let res = upload(&s, &commune, "d4e5", &report, "text/html", &sha256_hex(&html), html).await;
    assert_error(res, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type").await;
    let res = upload(&s, &commune, "d4e5", "not-a-report", "image/png", &sha256_hex(&other), other.clone()).await;
    assert_error(res, StatusCode::BAD_REQUEST, "invalid_report").await;
    // Someone else's report: the district reviewer does not file the commune's.
    let reviewer = s.login("tp.kontum").await.token;
    let res = upload(&s, &reviewer, "d4e5", &report, "image/png", &sha256_hex(&other), other.clone()).await;
    assert_error(res, StatusCode::FORBIDDEN, "forbidden").await;
    // A PDF with parameters in its type is fine.
    let pdf = b"%PDF-1.4 bien ban".to_vec();
    let res = upload(&s, &commune, "pdf-1", &report, "Application/PDF; charset=binary", &sha256_hex(&pdf), pdf).await;
    assert_eq!(res.status(), StatusCode::CREATED);

    // Too large: 413 JSON naming the attachment limit.
    let huge = photo(4 * 1024 * 1024, 1);
    let res = upload(&s, &commune, "huge", &report, "image/jpeg", &sha256_hex(&huge), huge).await;
    let body = assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("3 MiB"), "{body}");
    // The rest of the API keeps its 1 MiB limit.
    let big = vec![b'x'; 1536 * 1024];
    let res = s
        .client
        .post(s.url("/api/sync/push"))
        .bearer_auth(&commune)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    // Reading back: the uploader, the district, the province; not another district.
    for token in [commune.clone(), reviewer.clone(), s.login("sonoivu").await.token] {
        let res = s.get_auth("/api/attachments/a1b2c3", &token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        assert_eq!(res.headers()["x-content-sha256"], sha.as_str());
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.bytes().await.unwrap().as_ref(), data.as_slice());
    }
    let stranger = s.login("xa.dakman").await.token;
    assert_error(s.get_auth("/api/attachments/a1b2c3", &stranger).await, StatusCode::FORBIDDEN, "forbidden").await;
    assert_error(s.get_auth("/api/attachments/khong-co", &commune).await, StatusCode::NOT_FOUND, "not_found").await;
    assert_error(s.get("/api/attachments/a1b2c3").await, StatusCode::UNAUTHORIZED, "unauthorized").await;

    assert_eq!(count_rows(&s.state.store, "attachments").await, 2);
    s.stop().await;
}

#[tokio::test]
async fn uploads_are_for_reports_that_can_exist_limited_per_unit_and_report_and_orphans_are_swept() {
    let dir = common::workspace();
    let limits = danvan_server::Limits { unit_attachment_bytes: 1024 * 1024, ..Default::default() };
    let s = TestServer::start_with_limits(dir.path(), limits).await;
    let token = s.login("xa.dakbla").await.token;
    let put = |id: &'static str, report: String, data: Vec<u8>| {
        let sha = sha256_hex(&data);
        let (s, token) = (&s, token.clone());
        async move { upload(s, &token, id, &report, "image/jpeg", &sha, data).await }
    };
    // A report the plan does not ask for, or outside its validity, or of a unit
    // that does not exist: nothing is stored.
    for report in
        [format!("{PLAN}~{DAKBLA}~1999-01"), format!("{PLAN}~{DAKBLA}~2030-05"), format!("khong-co~{DAKBLA}~2024-03")]
    {
        let res = put("p1", report.clone(), photo(1000, 1)).await;
        let body = assert_error(res, StatusCode::BAD_REQUEST, "invalid_report").await;
        assert!(!body["error"]["message"].as_str().unwrap().is_empty(), "{report}: {body}");
    }
    assert_eq!(count_rows(&s.state.store, "attachments").await, 0);

    // The unit's quota (1 MiB here): the upload that would pass it is refused,
    // whole, and a retry of one already stored still answers 200.
    let march_id = march(DAKBLA).id();
    assert_eq!(put("q1", march_id.clone(), photo(600 * 1024, 1)).await.status(), StatusCode::CREATED);
    let res = put("q2", march_id.clone(), photo(600 * 1024, 2)).await;
    let body = assert_error(res, StatusCode::CONFLICT, "unit_quota").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("1 MiB"), "{body}");
    assert_eq!(put("q1", march_id.clone(), photo(600 * 1024, 1)).await.status(), StatusCode::OK);

    // Per report: twice the attachments a report may have, then refused.
    let april_id = key(DAKBLA, Period::month(2024, 4).unwrap()).id();
    let ids: Vec<&'static str> = (0..41).map(|i| &*Box::leak(format!("r{i}").into_boxed_str())).collect();
    for (i, id) in ids.iter().enumerate().take(40) {
        assert_eq!(put(id, april_id.clone(), photo(100, i as u8)).await.status(), StatusCode::CREATED, "{id}");
    }
    let res = put(ids[40], april_id.clone(), photo(100, 200)).await;
    assert_error(res, StatusCode::CONFLICT, "report_quota").await;

    // The sweep: uploads no report names, once older than the grace period. The
    // one the March report names stays, at any age.
    let mut phone = Device::new(&s, "xa.dakbla", "phone-1").await;
    let named = photo(600 * 1024, 1);
    let attach = MutationOp::Save {
        form_id: String::new(),
        set: Values::new(),
        attach: vec![danvan_core::report::AttachmentRef {
            id: "q1".into(),
            section: "II.1".into(),
            name: "buổi tiếp dân.jpg".into(),
            mime: "image/jpeg".into(),
            size: named.len() as u64,
            sha256: sha256_hex(&named),
        }],
        detach: vec![],
    };
    let m = phone.m(march(DAKBLA), 0, attach);
    assert_eq!(phone.push(&s, &[m]).await.results[0].result, applied(1));
    let store = &s.state.store;
    let now = chrono::Utc::now();
    assert_eq!(store.purge_orphan_attachments(now - chrono::Duration::days(30)).await.unwrap(), 0, "too young");
    assert_eq!(store.purge_orphan_attachments(now + chrono::Duration::seconds(5)).await.unwrap(), 40);
    assert_eq!(count_rows(store, "attachments").await, 1);
    assert_eq!(s.get_auth("/api/attachments/q1", &token).await.status(), StatusCode::OK);
    // Room again: the April photos count no more.
    assert_eq!(put("r40", april_id.clone(), photo(100, 200)).await.status(), StatusCode::CREATED);
    s.stop().await;
}

// (12)
#[tokio::test]
async fn a_replay_after_a_restart_gets_the_same_answer() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-1").await;
    let m1 = d.m(march(DAKBLA), 0, save(&[("ii1.sessions", "1")]));
    let m2 = d.m(march(DAKBLA), 0, save(&[("ii1.sessions", "2")]));
    let first = d.push(&s, &[m1.clone(), m2.clone()]).await;
    s.stop().await;

    let s = TestServer::start_in(dir.path()).await;
    let again = d.push(&s, &[m1, m2]).await;
    assert_eq!(again, first, "same epoch, same results");
    let m3 = d.m(march(DAKBLA), 2, save(&[("ii1.sessions", "3")]));
    assert_eq!(d.push(&s, &[m3]).await.results[0].result, applied(3));
    s.stop().await;
    let store = common::store(dir.path()).await;
    assert_eq!(count_rows(&store, "report_revisions").await, 3);
    assert_eq!(count_rows(&store, "mutation_results").await, 3);
    store.close().await;
}

#[tokio::test]
async fn concurrent_pushes_serialise_with_unique_dense_change_numbers() {
    let dir = common::workspace();
    common::publish_long_plan(dir.path()).await;
    let s = TestServer::start_in(dir.path()).await;
    let token = s.login("xa.dakbla").await.token;
    let jobs: Vec<_> = (0..4)
        .map(|c| {
            let (client, url, token) = (s.client.clone(), s.url("/api/sync/push"), token.clone());
            tokio::spawn(async move {
                let client_id = format!("device-{c}");
                let mutations: Vec<Mutation> = (0..50u64)
                    .map(|j| {
                        let period = Period::month(2000 + c * 5 + (j / 12) as i32, (j % 12) as u32 + 1).unwrap();
                        Mutation::new(j + 1, long_key(DAKBLA, period), 0, long_save(&[("ii1.sessions", "1")]))
                    })
                    .collect();
                let mut applied_count = 0;
                for chunk in mutations.chunks(10) {
                    let req = PushRequest {
                        client_id: client_id.clone(),
                        epoch: None,
                        schema_version: SYNC_SCHEMA_VERSION,
                        mutations: chunk.to_vec(),
                    };
                    let res = client.post(&url).bearer_auth(&token).json(&req).send().await.unwrap();
                    assert_eq!(res.status(), StatusCode::OK);
                    let res: PushResponse = res.json().await.unwrap();
                    applied_count += res.results.iter().filter(|o| o.result == applied(1)).count();
                }
                applied_count
            })
        })
        .collect();
    for job in jobs {
        assert_eq!(job.await.unwrap(), 50);
    }
    let store = &s.state.store;
    let all = all_reports(store).await;
    let seqs: Vec<u64> = all.rows.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=200).collect::<Vec<u64>>());
    assert_eq!(all.last_change_seq, 200);
    for c in 0..4 {
        assert_eq!(last_mutation_id(store, &format!("device-{c}")).await, 50, "device-{c}");
    }
    s.stop().await;
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn a_gzipped_push_is_accepted_and_a_gzip_bomb_is_refused() {
    let (s, _dir) = TestServer::start().await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-gz").await;
    let note = "Tổ chức hội nghị tuyên truyền Luật Thực hiện dân chủ ở cơ sở cho bà con thôn Kon Klor. ".repeat(8);
    let m = d.m(march(DAKBLA), 0, save(&[("ii1.result", note.as_str()), ("ii1.sessions", "4")]));
    let req = PushRequest {
        client_id: d.client_id.clone(),
        epoch: None,
        schema_version: SYNC_SCHEMA_VERSION,
        mutations: vec![m],
    };
    let json = serde_json::to_vec(&req).unwrap();
    let body = gzip(&json);
    assert!(body.len() * 2 < json.len(), "Vietnamese text compresses: {} → {}", json.len(), body.len());
    let res = s
        .client
        .post(s.url("/api/sync/push"))
        .bearer_auth(&d.token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let answer: PushResponse = res.json().await.unwrap();
    assert_eq!(answer.results[0].result, applied(1));

    // 2 MiB of spaces gzip to a few KB: under the wire limit, over the JSON limit.
    let bomb = gzip(&vec![b' '; 2 * 1024 * 1024]);
    assert!(bomb.len() < 16 * 1024);
    let res = s
        .client
        .post(s.url("/api/sync/push"))
        .bearer_auth(&d.token)
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .body(bomb)
        .send()
        .await
        .unwrap();
    common::assert_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    s.stop().await;
}

#[tokio::test]
async fn a_new_epoch_after_a_restore_makes_devices_start_over() {
    let dir = common::workspace();
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "phone-epoch").await;
    let old_epoch = epoch_of(&s, &d).await;
    let m = d.m(march(DAKBLA), 0, save(&[("ii1.sessions", "3")]));
    d.push(&s, &[m]).await;
    let cursor = d.pull(&s, 0, Some(&old_epoch)).await.cursor;
    s.stop().await;

    // What `danvan-server new-epoch` does after the database file was restored.
    let store = common::store(dir.path()).await;
    store.renew_epoch("restored-2026").await.unwrap();
    store.close().await;

    let s = TestServer::start_in(dir.path()).await;
    let page = d.pull(&s, cursor, Some(&old_epoch)).await;
    assert!(page.reset, "the device must start over");
    assert_eq!(page.epoch, "restored-2026");
    assert_eq!(page.changes.len(), 1, "a full snapshot from 0");
    let m = d.m(march(DAKBLA), 1, save(&[("ii1.sessions", "4")]));
    let res = d.push_raw(&s, &[m], Some(&old_epoch)).await;
    common::assert_error(res, StatusCode::CONFLICT, "epoch_mismatch").await;
    s.stop().await;
}

#[tokio::test]
async fn a_report_outside_the_plan_or_the_unit_life_is_refused_with_the_reason() {
    let dir = common::workspace();
    common::publish_long_plan(dir.path()).await;
    let s = TestServer::start_in(dir.path()).await;
    let mut d = Device::new(&s, "xa.dakbla", "outside").await;
    let january_2025 = d.m(key(DAKBLA, Period::month(2025, 1).unwrap()), 0, save(&[("ii1.sessions", "1")]));
    // Xã Đăk Blà closed on 30/06/2025: a plan that still applies gets nothing from it.
    let after_the_reform =
        d.m(long_key(DAKBLA, Period::month(2025, 8).unwrap()), 0, long_save(&[("ii1.sessions", "1")]));
    let last_month = d.m(long_key(DAKBLA, Period::month(2025, 6).unwrap()), 0, long_save(&[("ii1.sessions", "1")]));
    let res = d.push(&s, &[january_2025, after_the_reform, last_month]).await;
    let message = |r: &MutationResult| match r {
        MutationResult::Rejected { message, .. } => message.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(rejected_code(&res.results[0].result), "invalid");
    assert_eq!(
        message(&res.results[0].result),
        "Tháng 01/2025 nằm ngoài thời gian áp dụng của kế hoạch 413/KH-UBND (01/02/2024 – 31/12/2024)"
    );
    assert_eq!(rejected_code(&res.results[1].result), "invalid");
    assert!(message(&res.results[1].result).starts_with("Xã Đăk Blà không hoạt động vào hạn nộp tháng 08/2025"));
    assert_eq!(res.results[2].result, applied(1), "its last month before the reform is its own");
}

#[tokio::test]
async fn a_report_sent_offline_before_the_deadline_keeps_the_phone_time_beside_the_late_receipt() {
    let (s, _dir) = TestServer::start().await;
    let mut d = Device::new(&s, "xa.dakbla", "offline-phone").await;
    let march = Period::month(2024, 3).unwrap();
    let values = complete_values(&s, &d.token).await;
    let save = d.m(key(DAKBLA, march), 0, save_values(values));
    // Pressed "Gửi" on 14/03/2024 in a commune without signal; it reaches the server today.
    let pressed =
        chrono::DateTime::parse_from_rfc3339("2024-03-14T09:30:00+07:00").unwrap().with_timezone(&chrono::Utc);
    let mut submit = d.m(key(DAKBLA, march), 1, MutationOp::Submit);
    submit.device_time = Some(pressed);
    let res = d.push(&s, &[save, submit.clone()]).await;
    assert_eq!(res.results[1].result, applied(2));
    let epoch = epoch_of(&s, &d).await;
    let reports = d.pull_all(&s, &epoch).await;
    let r = reports.iter().find(|r| r.key.period == march).unwrap();
    assert_eq!(r.first_sent_on_device_at, Some(pressed));
    assert!(r.first_submitted_at.unwrap() > march.deadline(), "the server's receipt is the official time: late");
    assert_eq!(r.sent_offline_before(march.deadline()), Some(pressed), "the reviewer is told");
    // The dashboard still counts it as late: a phone's clock is never trusted alone.
    let snv = s.login("sonoivu").await.token;
    let dash: Value = s.get_json(&format!("/api/dashboard?plan={PLAN}&period=2024-03&unit={TP_KONTUM}"), &snv).await;
    assert_eq!(dash["dashboard"]["totals"]["late"], 1);
    // The device time is not part of the content: a retry without it is the same mutation.
    submit.device_time = None;
    assert_eq!(d.push(&s, &[submit]).await.results[0].result, applied(2));
}
