//! Reports, the outbox, conflicts and photos on the real IndexedDB of a headless
//! Chromium. Run with
//! `scripts/wasm.sh cargo test --target wasm32-unknown-unknown -p danvan-app --test outbox`.

#![cfg(target_arch = "wasm32")]

use std::collections::BTreeMap;

use chrono::Utc;
use wasm_bindgen_test::*;

use danvan_app::storage::{EditError, LocalDb, StorageError};
use danvan_core::client::Side;
use danvan_core::report::AttachmentRef;
use danvan_core::sync::{MutationOp, MutationOutcome, MutationResult, PullResponse};
use danvan_core::{Period, Report, ReportForm, ReportKey, ReportStatus, Values};

wasm_bindgen_test_configure!(run_in_browser);

const FORM_JSON: &str = include_str!("../data/seed/forms/kh-413-ubnd-2024.json");
const DAKBLA: &str = "kontum.tpkontum.dakbla";

fn form() -> ReportForm {
    serde_json::from_str(FORM_JSON).expect("seed form parses")
}

fn key() -> ReportKey {
    ReportKey { plan_id: "kh-413-ubnd-2024".into(), unit_id: DAKBLA.into(), period: Period::month(2024, 3).unwrap() }
}

fn save(pairs: &[(&str, &str)]) -> MutationOp {
    MutationOp::Save {
        form_id: String::new(),
        set: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        attach: vec![],
        detach: vec![],
    }
}

async fn fresh(test: &str) -> LocalDb {
    let name = format!("danvan-outbox-{test}-{}-{}", js_sys::Date::now() as u64, (js_sys::Math::random() * 1e9) as u64);
    let db = LocalDb::open(&name).await.expect("open");
    db.save_form(&form()).await.expect("save form");
    db.ensure_sync_meta(7, "client-a".into()).await.expect("sync meta");
    db
}

#[wasm_bindgen_test]
async fn an_edit_writes_the_report_its_entry_and_the_counter_together() {
    let db = fresh("edit").await;
    let saved = db.record_edit(&key(), save(&[("ii1.sessions", "3")]), Utc::now()).await.expect("edit");
    assert_eq!(saved.report.value("ii1.sessions"), "3");
    assert_eq!(saved.last_mutation, Some(1));
    // A second edit folds into the unsent entry: still one mutation to push.
    db.record_edit(&key(), save(&[("ii1.participants", "120"), ("ii1.sessions", "4")]), Utc::now()).await.unwrap();
    let outbox = db.load_outbox().await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].id, 1);
    let MutationOp::Save { set, form_id, .. } = &outbox[0].op else { panic!("a save") };
    assert_eq!(form_id, "kh-413-ubnd-2024.bao-cao");
    assert_eq!(set.get("ii1.sessions").map(String::as_str), Some("4"));
    assert_eq!(set.get("ii1.participants").map(String::as_str), Some("120"));
    assert_eq!(outbox[0].content_hash, outbox[0].expected_hash());
    let meta = db.load_sync_meta().await.unwrap().unwrap();
    assert_eq!(meta.next_mutation_id, 2);
    assert_eq!(db.unsent_count().await.unwrap(), 1);
    let stored = db.load_report(&key().id()).await.unwrap().unwrap();
    assert_eq!(stored.report.value("ii1.sessions"), "4");
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_refused_edit_writes_nothing() {
    let db = fresh("refused").await;
    let err = db.record_edit(&key(), MutationOp::Submit, Utc::now()).await.unwrap_err();
    assert!(matches!(err, EditError::Refused(ref r) if r.code == "invalid"), "{err:?}");
    assert!(db.load_report(&key().id()).await.unwrap().is_none());
    assert!(db.load_outbox().await.unwrap().is_empty());
    assert_eq!(db.load_sync_meta().await.unwrap().unwrap().next_mutation_id, 1);
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn entries_in_flight_are_not_changed_and_only_acknowledged_ones_go() {
    let db = fresh("inflight").await;
    db.record_edit(&key(), save(&[("ii1.sessions", "1")]), Utc::now()).await.unwrap();
    let (meta, batch) = db.take_outbox_batch().await.unwrap();
    assert_eq!(meta.sent_upto, 1);
    assert_eq!(batch.len(), 1);
    // Typed while the push is on the wire: a new entry, the sent one untouched.
    db.record_edit(&key(), save(&[("ii1.sessions", "2")]), Utc::now()).await.unwrap();
    let outbox = db.load_outbox().await.unwrap();
    assert_eq!(outbox.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(outbox[0], batch[0]);
    db.take_push_outcomes(&batch, &[MutationOutcome { id: 1, result: MutationResult::Applied { version: 1 } }])
        .await
        .unwrap();
    let outbox = db.load_outbox().await.unwrap();
    assert_eq!(outbox.iter().map(|m| m.id).collect::<Vec<_>>(), [2]);
    let local = db.load_report(&key().id()).await.unwrap().unwrap();
    assert_eq!(local.report.version, 1);
    assert_eq!(local.report.value("ii1.sessions"), "2", "the newer edit stays");
    assert_eq!(local.last_mutation, Some(2));
    assert_eq!(db.load_sync_meta().await.unwrap().unwrap().sent_upto, 1, "the mark never goes down");
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn an_entry_whose_answer_was_lost_goes_again_unchanged() {
    // The push reached the server, which applied it, but the answer never came
    // back (a timeout on 2G). The entry must go again exactly as it was: the
    // server answers a resend of the same id and hash with the first outcome.
    let db = fresh("lost-answer").await;
    db.record_edit(&key(), save(&[("ii1.sessions", "1")]), Utc::now()).await.unwrap();
    let (_, first_push) = db.take_outbox_batch().await.unwrap();
    assert_eq!(first_push.len(), 1);
    // No answer: nothing is taken in. The official types on.
    db.record_edit(&key(), save(&[("ii1.sessions", "2"), ("ii1.participants", "30")]), Utc::now()).await.unwrap();
    let outbox = db.load_outbox().await.unwrap();
    assert_eq!(outbox.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2], "the later edit is an entry of its own");
    assert_eq!(outbox[0], first_push[0], "the sent entry is untouched");
    assert_eq!(outbox[0].content_hash, outbox[0].expected_hash());
    // The retry sends both; the first again with the same id and hash.
    let (meta, retry) = db.take_outbox_batch().await.unwrap();
    assert_eq!(meta.sent_upto, 2);
    assert_eq!(retry.len(), 2);
    assert_eq!(retry[0], first_push[0]);
    // Typed after the retry left: a third entry, neither sent one changes.
    db.record_edit(&key(), save(&[("ii1.sessions", "3")]), Utc::now()).await.unwrap();
    assert_eq!(db.load_outbox().await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2, 3]);
    let outcomes = [
        MutationOutcome { id: 1, result: MutationResult::Applied { version: 1 } },
        MutationOutcome { id: 2, result: MutationResult::Applied { version: 2 } },
    ];
    db.take_push_outcomes(&retry, &outcomes).await.unwrap();
    let local = db.load_report(&key().id()).await.unwrap().unwrap();
    assert_eq!(local.error, None, "a lost answer shows no error");
    assert_eq!(local.base.as_ref().map(|b| b.value("ii1.participants")), Some("30"));
    assert_eq!(local.report.value("ii1.sessions"), "3");
    assert_eq!(local.last_mutation, Some(3));
    assert!(db.load_conflict(&key().id()).await.unwrap().is_none());
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_conflict_is_kept_until_settled_and_the_choice_is_queued() {
    let db = fresh("conflict").await;
    db.record_edit(&key(), save(&[("ii1.sessions", "5"), ("assessment", "Tốt")]), Utc::now()).await.unwrap();
    let (_, batch) = db.take_outbox_batch().await.unwrap();
    let mut theirs = Report::new(key(), "kh-413-ubnd-2024.bao-cao");
    theirs.values = Values::from([("ii1.sessions".to_string(), "9".to_string())]);
    theirs.version = 3;
    theirs.updated_by = Some("Máy khác".into());
    let outcome = MutationOutcome { id: 1, result: MutationResult::Conflict { server: Box::new(theirs.clone()) } };
    db.take_push_outcomes(&batch, &[outcome]).await.unwrap();
    assert!(db.load_outbox().await.unwrap().is_empty());
    let conflict = db.load_conflict(&key().id()).await.unwrap().expect("kept");
    assert_eq!(conflict.mine.value("ii1.sessions"), "5");
    assert_eq!(conflict.theirs.value("ii1.sessions"), "9");
    // A pull meanwhile does not replace what is on screen.
    let page = PullResponse {
        epoch: "e".into(),
        reset: false,
        changes: vec![theirs.clone()],
        cursor: 3,
        has_more: false,
        catalog_version: 0,
    };
    db.take_pull(&page, Utc::now()).await.unwrap();
    assert_eq!(db.load_report(&key().id()).await.unwrap().unwrap().report.value("ii1.sessions"), "5");

    let choices = BTreeMap::from([("ii1.sessions".to_string(), Side::Mine)]);
    let resolved = db.resolve_conflict(&key().id(), &choices, Utc::now()).await.unwrap().expect("the merged report");
    assert_eq!(resolved.report.value("ii1.sessions"), "5");
    assert_eq!(resolved.report.value("assessment"), "Tốt");
    assert!(db.load_conflict(&key().id()).await.unwrap().is_none());
    let outbox = db.load_outbox().await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].base_version, 3);
    assert_eq!(outbox[0].id, 2);
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn values_refused_for_good_are_shown_once_and_never_resent() {
    let db = fresh("refused").await;
    db.record_edit(&key(), save(&[("ii1.sessions", "5")]), Utc::now()).await.unwrap();
    let (_, batch) = db.take_outbox_batch().await.unwrap();
    let refused =
        MutationResult::Rejected { code: "invalid".into(), message: "Kỳ báo cáo ngoài kế hoạch".into() };
    db.take_push_outcomes(&batch, &[MutationOutcome { id: 1, result: refused }]).await.unwrap();
    // Kept aside with the reason, and nothing queued by itself.
    assert!(db.load_outbox().await.unwrap().is_empty());
    let conflict = db.load_conflict(&key().id()).await.unwrap().expect("kept aside");
    assert_eq!(conflict.mine.value("ii1.sessions"), "5");
    assert_eq!(conflict.refusal.as_deref(), Some("invalid"));
    assert!(!conflict.can_merge());

    // "Noted": the report goes back to what the server holds, nothing is sent.
    let choices = BTreeMap::from([("ii1.sessions".to_string(), Side::Mine)]);
    // The server never had this report: no empty draft is left behind.
    assert_eq!(db.resolve_conflict(&key().id(), &choices, Utc::now()).await.unwrap(), None);
    assert!(db.load_report(&key().id()).await.unwrap().is_none());
    assert!(db.load_outbox().await.unwrap().is_empty());
    assert!(db.load_conflict(&key().id()).await.unwrap().is_none());
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_restored_server_gets_the_unsent_work_renumbered_from_one() {
    let db = fresh("restart").await;
    let other = ReportKey { period: Period::month(2024, 4).unwrap(), ..key() };
    db.record_edit(&key(), save(&[("ii1.sessions", "1")]), Utc::now()).await.unwrap();
    let (_, batch) = db.take_outbox_batch().await.unwrap();
    db.take_push_outcomes(&batch, &[MutationOutcome { id: 1, result: MutationResult::Applied { version: 1 } }])
        .await
        .unwrap();
    db.record_edit(&key(), save(&[("ii1.sessions", "2")]), Utc::now()).await.unwrap();
    db.record_edit(&other, save(&[("ii1.sessions", "7")]), Utc::now()).await.unwrap();
    assert_eq!(db.load_outbox().await.unwrap().iter().map(|m| m.id).collect::<Vec<_>>(), [2, 3]);
    db.restart_sync("client-b".into(), "epoch-2").await.unwrap();
    let outbox = db.load_outbox().await.unwrap();
    assert_eq!(outbox.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2]);
    assert!(outbox.iter().all(|m| m.content_hash == m.expected_hash()));
    let meta = db.load_sync_meta().await.unwrap().unwrap();
    assert_eq!((meta.client_id.as_str(), meta.next_mutation_id, meta.cursor), ("client-b", 3, 0));
    assert_eq!(db.load_report(&other.id()).await.unwrap().unwrap().last_mutation, Some(2));
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn another_official_cannot_take_over_a_phone_with_unsent_work() {
    let db = fresh("handover").await;
    db.record_edit(&key(), save(&[("ii1.sessions", "1")]), Utc::now()).await.unwrap();
    let err = db.ensure_sync_meta(8, "client-z".into()).await.unwrap_err();
    assert!(matches!(err, StorageError::OtherUsersWork(1)), "{err:?}");
    assert!(db.load_report(&key().id()).await.unwrap().is_some());
    let (_, batch) = db.take_outbox_batch().await.unwrap();
    db.take_push_outcomes(&batch, &[MutationOutcome { id: 1, result: MutationResult::Applied { version: 1 } }])
        .await
        .unwrap();
    let meta = db.ensure_sync_meta(8, "client-z".into()).await.unwrap();
    assert_eq!(meta.client_id, "client-z");
    assert!(db.load_report(&key().id()).await.unwrap().is_none(), "the previous official's reports are gone");
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_photo_is_stored_with_its_report_and_survives_a_backup_round_trip() {
    let db = fresh("photo").await;
    let bytes: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let blob = danvan_app::web::bytes_to_blob(&bytes, "image/jpeg").unwrap();
    let attachment = AttachmentRef {
        id: "a1b2".into(),
        section: "II.1".into(),
        name: "hop-dan.jpg".into(),
        mime: "image/jpeg".into(),
        size: bytes.len() as u64,
        sha256: danvan_app::web::sha256_hex(&bytes).await.unwrap(),
    };
    db.record_edit(&key(), save(&[("assessment", "Có ảnh")]), Utc::now()).await.unwrap();
    let local = db.attach_blob(&key(), attachment.clone(), &blob, Utc::now()).await.unwrap();
    assert_eq!(local.report.attachments, [attachment.clone()]);
    let pending = db.pending_uploads().await.unwrap();
    assert_eq!(pending, [(attachment.clone(), key().id())]);
    let back = db.load_blob("a1b2").await.unwrap().expect("stored");
    assert_eq!(danvan_app::web::blob_bytes(&back).await.unwrap(), bytes);

    let backup = db.export_unsent(7, Utc::now()).await.unwrap();
    let json = serde_json::to_string(&backup).unwrap();
    let restored = fresh("photo-restore").await;
    let parsed = serde_json::from_str(&json).unwrap();
    assert_eq!(restored.import_backup(&parsed, Utc::now()).await.unwrap(), 1);
    let local = restored.load_report(&key().id()).await.unwrap().unwrap();
    assert_eq!(local.report.value("assessment"), "Có ảnh");
    assert_eq!(local.report.attachments, [attachment]);
    let back = restored.load_blob("a1b2").await.unwrap().expect("photo restored");
    assert_eq!(danvan_app::web::blob_bytes(&back).await.unwrap(), bytes);
    assert_eq!(local.report.status, ReportStatus::Draft);
    db.delete().await.unwrap();
    restored.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_photo_the_server_refuses_for_good_is_set_aside_with_its_reason() {
    let db = fresh("refused-photo").await;
    let bytes = vec![0xff, 0xd8, 0xff, 1, 2, 3];
    let blob = danvan_app::web::bytes_to_blob(&bytes, "image/jpeg").unwrap();
    let attachment = AttachmentRef {
        id: "c3d4".into(),
        section: "II.1".into(),
        name: "anh-lon.jpg".into(),
        mime: "image/jpeg".into(),
        size: bytes.len() as u64,
        sha256: danvan_app::web::sha256_hex(&bytes).await.unwrap(),
    };
    db.attach_blob(&key(), attachment.clone(), &blob, Utc::now()).await.unwrap();
    assert_eq!(db.unsent_count().await.unwrap(), 2, "the report's entry and the photo");
    db.refuse_upload(&attachment, "Tệp đính kèm quá lớn (tối đa 3 MiB)").await.unwrap();
    assert!(db.pending_uploads().await.unwrap().is_empty(), "no longer waits to upload");
    assert_eq!(db.unsent_count().await.unwrap(), 1, "the report's entry still goes");
    let refused = db.refused_uploads().await.unwrap();
    assert_eq!(refused.get("c3d4").map(String::as_str), Some("Tệp đính kèm quá lớn (tối đa 3 MiB)"));
    let local = db.load_report(&key().id()).await.unwrap().unwrap();
    assert_eq!(local.report.attachments, [attachment], "still in the report");
    assert!(db.load_blob("c3d4").await.unwrap().is_some(), "the photo stays on the phone");
    db.delete().await.unwrap();
}

#[wasm_bindgen_test]
async fn signing_out_forgets_the_officials_data_once_nothing_is_unsent() {
    use danvan_app::storage::Forgotten;
    let db = fresh("sign-out").await;
    db.record_edit(&key(), save(&[("ii1.sessions", "1")]), Utc::now()).await.unwrap();
    db.put_cached("cache:dashboard:p:u:2024-03", 7, &"số liệu", Utc::now()).await.unwrap();
    // Something unsent: the reports stay for their owner; the kept answers go.
    assert_eq!(db.forget_signed_out_user().await.unwrap(), Forgotten::KeptUnsent(1));
    assert!(db.load_report(&key().id()).await.unwrap().is_some());
    assert_eq!(db.load_outbox().await.unwrap().len(), 1);
    assert!(db.get_cached::<String>("cache:dashboard:p:u:2024-03", 7).await.unwrap().is_none());
    // Sent and acknowledged: nothing of theirs is left.
    let (_, batch) = db.take_outbox_batch().await.unwrap();
    let ack = [MutationOutcome { id: 1, result: MutationResult::Applied { version: 1 } }];
    db.take_push_outcomes(&batch, &ack).await.unwrap();
    db.put_cached("cache:dashboard:p:u:2024-03", 7, &"số liệu", Utc::now()).await.unwrap();
    assert_eq!(db.forget_signed_out_user().await.unwrap(), Forgotten::All);
    assert!(db.load_reports().await.unwrap().is_empty());
    assert!(db.load_sync_meta().await.unwrap().is_none(), "the next sign-in starts a new outbox");
    assert!(db.get_cached::<String>("cache:dashboard:p:u:2024-03", 7).await.unwrap().is_none());
    db.delete().await.unwrap();
}
