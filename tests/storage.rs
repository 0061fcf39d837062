//! The IndexedDB layer against the real IndexedDB of a headless Chromium (no mocks).
//!
//! Run with `scripts/wasm.sh cargo test --target wasm32-unknown-unknown -p danvan-app --test storage`.
//! Every test works on its own, uniquely named database and deletes it at the end.

#![cfg(target_arch = "wasm32")]

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use wasm_bindgen_test::*;

use danvan_app::storage::{LocalDb, Session, Snapshot};
use danvan_core::api::{Role, TasksResponse, UserInfo};
use danvan_core::task::tasks_for;
use danvan_core::{OrgUnit, Plan};

wasm_bindgen_test_configure!(run_in_browser);

const PLAN_JSON: &str = include_str!("../data/seed/plans/kh-413-ubnd-2024.json");
const UNITS_JSON: &str = include_str!("../data/seed/units/kon-tum-2024.json");
const DAKBLA: &str = "kontum.tpkontum.dakbla";

/// A database name no other test (or earlier run in the same browser) uses.
fn unique_db_name(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let rand = (js_sys::Math::random() * 1e9) as u64;
    format!("danvan-test-{test}-{n}-{}-{rand}", js_sys::Date::now() as u64)
}

async fn open(name: &str) -> LocalDb {
    LocalDb::open(name).await.unwrap_or_else(|e| panic!("opening {name}: {e}"))
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("valid RFC 3339").with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn session() -> Session {
    Session {
        token: "tok_Zm9vYmFyLWJhei0xMjM0NTY3ODkw".to_string(),
        // Sub-second precision down to nanoseconds must survive the trip.
        expires_at: utc("2024-06-27T01:02:03.123456789Z"),
        user: UserInfo {
            // Above i32::MAX, still a safe JS integer.
            id: 4_294_967_301,
            username: "dakbla.vanphong".to_string(),
            display_name: "Nguyễn Thị Ngọc Ánh – Văn phòng HĐND & UBND xã".to_string(),
            role: Role::Reporter,
            unit_id: DAKBLA.to_string(),
            unit_name: "Xã Đăk Blà".to_string(),
        },
    }
}

fn seed_plan() -> Plan {
    serde_json::from_str(PLAN_JSON).expect("seed plan parses")
}

fn seed_units() -> Vec<OrgUnit> {
    serde_json::from_str(UNITS_JSON).expect("seed units parse")
}

/// The snapshot the app would hold for Xã Đăk Blà: the real plan 413, the real unit
/// list (in the server's order, which is not id order), and that commune's tasks.
fn realistic_snapshot() -> Snapshot {
    let plan = seed_plan();
    let units = seed_units();
    let unit = units.iter().find(|u| u.id == DAKBLA).expect("Đăk Blà is in the seed").clone();
    let today = date(2024, 6, 20);
    let tasks = tasks_for(&plan, &unit, today);
    assert!(!tasks.is_empty(), "plan 413 gives Đăk Blà some tasks");
    Snapshot {
        plans: vec![plan],
        units,
        tasks: TasksResponse { unit, today, generated_at: utc("2024-06-20T02:15:30.250Z"), tasks },
        fetched_at: utc("2024-06-20T02:15:31.987654321Z"),
        catalog_version: 7,
    }
}

/// Field by field first, so that a failure names what differs before the full diff.
fn assert_same_snapshot(got: &Snapshot, want: &Snapshot) {
    let ids = |units: &[OrgUnit]| units.iter().map(|u| u.id.clone()).collect::<Vec<_>>();
    let plan_ids = |plans: &[Plan]| plans.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    assert_eq!(plan_ids(&got.plans), plan_ids(&want.plans), "plan ids and order");
    assert_eq!(ids(&got.units), ids(&want.units), "unit ids and order");
    assert_eq!(got.fetched_at, want.fetched_at, "fetched_at");
    assert_eq!(got.catalog_version, want.catalog_version, "catalog_version");
    assert_eq!(got.tasks, want.tasks, "tasks");
    assert_eq!(got.units, want.units, "units");
    assert_eq!(got.plans, want.plans, "plans");
    assert_eq!(got, want);
}

#[wasm_bindgen_test]
async fn fresh_database_has_no_session_and_no_snapshot() {
    let name = unique_db_name("fresh");
    let db = open(&name).await;

    assert_eq!(db.load_session().await.expect("load_session"), None);
    assert_eq!(db.load_snapshot().await.expect("load_snapshot"), None);

    db.delete().await.expect("delete");
}

#[wasm_bindgen_test]
async fn session_round_trips_and_survives_reopening() {
    let name = unique_db_name("session");
    let want = session();

    let db = open(&name).await;
    db.save_session(&want).await.expect("save_session");
    let got = db.load_session().await.expect("load_session").expect("a session was saved");
    assert_eq!(got, want);
    // Saving a session alone does not make up a snapshot.
    assert_eq!(db.load_snapshot().await.expect("load_snapshot"), None);
    // A reload: the page's connection goes away and a new page opens the database by name.
    db.close();

    let db = open(&name).await;
    let got = db.load_session().await.expect("load_session after reopen").expect("session survives reopen");
    assert_eq!(got, want);
    assert_eq!(got.user.display_name, "Nguyễn Thị Ngọc Ánh – Văn phòng HĐND & UBND xã");
    assert_eq!(got.user.unit_name, "Xã Đăk Blà");
    assert_eq!(got.expires_at, utc("2024-06-27T01:02:03.123456789Z"));
    assert_eq!(got.user.id, 4_294_967_301);

    // Saving again overwrites rather than adding a second session.
    let mut other = want.clone();
    other.token = "tok_second".to_string();
    other.user.display_name = "Y Blăk Êban".to_string();
    db.save_session(&other).await.expect("save_session again");
    assert_eq!(db.load_session().await.expect("load_session"), Some(other));

    db.delete().await.expect("delete");
}

#[wasm_bindgen_test]
async fn clear_session_keeps_the_snapshot() {
    let name = unique_db_name("clear");
    let snapshot = realistic_snapshot();

    let db = open(&name).await;
    db.save_session(&session()).await.expect("save_session");
    db.save_snapshot(&snapshot).await.expect("save_snapshot");

    db.clear_session().await.expect("clear_session");
    assert_eq!(db.load_session().await.expect("load_session"), None);
    let kept = db.load_snapshot().await.expect("load_snapshot").expect("snapshot kept after sign-out");
    assert_same_snapshot(&kept, &snapshot);

    // Clearing when nobody is signed in is not an error.
    db.clear_session().await.expect("clear_session twice");

    // And it stays that way after a reload.
    db.close();
    let db = open(&name).await;
    assert_eq!(db.load_session().await.expect("load_session after reopen"), None);
    let kept = db.load_snapshot().await.expect("load_snapshot after reopen").expect("snapshot survives");
    assert_same_snapshot(&kept, &snapshot);

    db.delete().await.expect("delete");
}

#[wasm_bindgen_test]
async fn realistic_snapshot_round_trips_exactly() {
    let name = unique_db_name("snapshot");
    let want = realistic_snapshot();

    let db = open(&name).await;
    db.save_snapshot(&want).await.expect("save_snapshot");
    let got = db.load_snapshot().await.expect("load_snapshot").expect("a snapshot was saved");
    assert_same_snapshot(&got, &want);

    // Spot checks of Vietnamese text and dates, so a broken PartialEq could not hide them.
    let plan = &got.plans[0];
    assert_eq!(plan.number, "413/KH-UBND");
    assert_eq!(plan.issued_by, "Ủy ban nhân dân tỉnh Kon Tum");
    assert_eq!(plan.issued_on, date(2024, 2, 1));
    assert!(plan.title.starts_with("Tăng cường công tác dân vận"), "{}", plan.title);
    assert_eq!(plan.signer.as_ref().map(|s| s.name.as_str()), Some("Y Ngọc"));
    let dakbla = got.units.iter().find(|u| u.id == DAKBLA).expect("Đăk Blà stored");
    assert_eq!(dakbla.name, "Xã Đăk Blà");
    assert_eq!(dakbla.parent.as_deref(), Some("kontum.tpkontum"));
    assert_eq!(got.units.iter().filter(|u| u.parent.is_none()).count(), 1, "one root, parent None kept");
    assert_eq!(got.tasks.unit.name, "Xã Đăk Blà");
    assert_eq!(got.tasks.today, date(2024, 6, 20));
    assert_eq!(got.tasks.generated_at, utc("2024-06-20T02:15:30.250Z"));
    assert_eq!(got.fetched_at, utc("2024-06-20T02:15:31.987654321Z"));
    let due: Vec<_> = got.tasks.tasks.iter().map(|t| t.next.as_ref().map(|n| n.due_date)).collect();
    let want_due: Vec<_> = want.tasks.tasks.iter().map(|t| t.next.as_ref().map(|n| n.due_date)).collect();
    assert_eq!(due, want_due);
    assert!(due.iter().any(Option::is_some), "some tasks have a dated deadline");

    // Still identical after a reload.
    db.close();
    let db = open(&name).await;
    let got = db.load_snapshot().await.expect("load_snapshot after reopen").expect("snapshot survives");
    assert_same_snapshot(&got, &want);

    db.delete().await.expect("delete");
}

#[wasm_bindgen_test]
async fn second_snapshot_replaces_the_first_completely() {
    let name = unique_db_name("replace");
    let first = {
        let mut s = realistic_snapshot();
        let mut extra = s.plans[0].clone();
        extra.id = "kh-999-ubnd-2023".to_string();
        extra.number = "999/KH-UBND".to_string();
        extra.title = "Kế hoạch cũ đã thay thế".to_string();
        s.plans.push(extra);
        s
    };
    assert_eq!(first.plans.len(), 2);

    let second = {
        let mut s = realistic_snapshot();
        // Only the old plan remains, under its new title, so a leftover of the first
        // snapshot's plan "kh-413-ubnd-2024" would show.
        s.plans = vec![first.plans[1].clone()];
        s.plans[0].title = "Kế hoạch đã sửa đổi, bổ sung".to_string();
        // Three units, not in id order: the commune, its city, the province.
        let pick = |id: &str| s.units.iter().find(|u| u.id == id).expect("unit in seed").clone();
        s.units = vec![pick(DAKBLA), pick("kontum.tpkontum"), pick("kontum")];
        s.tasks.tasks.truncate(1);
        s.tasks.today = date(2024, 7, 1);
        s.tasks.generated_at = utc("2024-07-01T00:00:00Z");
        s.fetched_at = utc("2024-07-01T00:00:01.5Z");
        s
    };
    assert!(second.units.len() < first.units.len());

    let db = open(&name).await;
    db.save_snapshot(&first).await.expect("save first snapshot");
    let got = db.load_snapshot().await.expect("load_snapshot").expect("first snapshot");
    assert_same_snapshot(&got, &first);

    db.save_snapshot(&second).await.expect("save second snapshot");
    let got = db.load_snapshot().await.expect("load_snapshot").expect("second snapshot");
    assert_eq!(got.plans.len(), 1, "no leftover plan");
    assert_eq!(got.units.len(), 3, "no leftover unit");
    assert_same_snapshot(&got, &second);

    db.close();
    let db = open(&name).await;
    let got = db.load_snapshot().await.expect("load_snapshot after reopen").expect("second snapshot");
    assert_same_snapshot(&got, &second);

    db.delete().await.expect("delete");
}

#[wasm_bindgen_test]
async fn two_handles_on_one_database_see_the_same_data() {
    let name = unique_db_name("tabs");
    let snapshot = realistic_snapshot();

    // Two connections, as two tabs of the app would hold.
    let tab1 = open(&name).await;
    let tab2 = open(&name).await;

    tab1.save_session(&session()).await.expect("tab1 save_session");
    assert_eq!(tab2.load_session().await.expect("tab2 load_session"), Some(session()));

    tab2.save_snapshot(&snapshot).await.expect("tab2 save_snapshot");
    let seen = tab1.load_snapshot().await.expect("tab1 load_snapshot").expect("tab1 sees tab2's snapshot");
    assert_same_snapshot(&seen, &snapshot);

    tab2.clear_session().await.expect("tab2 clear_session");
    assert_eq!(tab1.load_session().await.expect("tab1 load_session"), None);
    assert!(tab1.load_snapshot().await.expect("tab1 load_snapshot").is_some());

    // Deleting waits for every connection to close; close the other tab first.
    tab1.close();
    tab2.delete().await.expect("delete");
}

/// A newer app version in another tab upgrades the schema: this tab's connection
/// must let go instead of blocking that upgrade forever (the other tab would hang
/// on "Đang mở dữ liệu…"), and the data written before stays.
#[wasm_bindgen_test]
async fn an_upgrade_from_another_tab_is_not_blocked() {
    use indexed_db_futures::database::Database;

    let name = unique_db_name("upgrade");
    let old_tab = open(&name).await;
    old_tab.save_session(&session()).await.unwrap();

    // Without the watcher this open waits on `blocked` until the test times out.
    let newer = Database::open(name.as_str())
        .with_version(danvan_app::storage::SCHEMA_VERSION + 1)
        .with_on_upgrade_needed(|_, _| Ok(()))
        .await
        .expect("the upgrade went through");
    assert_eq!(newer.version() as u32, danvan_app::storage::SCHEMA_VERSION + 1);
    assert!(old_tab.load_session().await.is_err(), "the old tab's connection was closed");
    let stores: Vec<String> = newer.object_store_names().collect();
    assert!(stores.iter().any(|s| s == "meta"), "{stores:?}");
    newer.close();
    Database::delete_by_name(&name).unwrap().await.unwrap();
}
