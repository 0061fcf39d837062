//! `POST /api/sync/push` bodies: decoded as the server does (`ApiJson`), checked
//! as a whole (`sync::check_request`), then each mutation as `sync::decide` takes
//! it: content hash, the report it targets (`sync::valid_target` on the shipped
//! catalog) and `danvan_core::sync::apply_op` on the report, in order, so a push
//! can walk a report through save, submit, return and accept.
//!
//! The database steps (replays, gaps, conflicts, rights) are not here; they do
//! not decode anything.
#![no_main]

use std::collections::BTreeMap;

use danvan_core::form::{PeriodKind, Stage, MAX_COUNT};
use danvan_core::report::{is_plain_id, MAX_ATTACHMENTS_PER_REPORT};
use danvan_core::sync::{apply_op, content_hash, Mutation, MutationOp, PushRequest, MAX_PUSH_MUTATIONS};
use danvan_core::Report;
use danvan_fuzz::{assert_json_round_trip, catalog, decode_body, now};
use danvan_server::sync::{check_request, valid_target};
use libfuzzer_sys::fuzz_target;

const EPOCH: &str = "fuzz-epoch";

fuzz_target!(|data: &[u8]| {
    let Some(req) = decode_body::<PushRequest>(data) else { return };
    assert_json_round_trip(&req);
    if check_request(&req, EPOCH).is_ok() {
        assert!(is_plain_id(&req.client_id));
        assert!(req.mutations.len() <= MAX_PUSH_MUTATIONS);
        assert!(req.mutations.iter().all(|m| m.id >= 1 && m.id <= i64::MAX as u64));
    }
    let catalog = catalog();
    let mut reports: BTreeMap<String, Report> = BTreeMap::new();
    for m in &req.mutations {
        let expected = m.expected_hash();
        assert_eq!(expected.len(), 16);
        assert!(expected.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(Mutation::new(m.id, m.key.clone(), m.base_version, m.op.clone()).content_hash, expected);
        assert_eq!(content_hash(&m.key, m.base_version, &m.op), expected, "the hash is a function of the content");
        // The server stops here on a wrong hash ("bad_hash"); a fuzzer cannot
        // forge FNV-1a, so the rest runs either way to reach apply_op (which the
        // phone also runs on its own edits, unhashed).
        let Ok(form) = valid_target(catalog, m) else { continue };
        let id = m.key.id();
        let report = reports.entry(id.clone()).or_insert_with(|| Report::new(m.key.clone(), &form.id));
        if !m.op.is_reporters() && report.status == danvan_core::ReportStatus::Draft {
            // A reviewer's op only finds a report on the server once it was sent.
            report.status = danvan_core::ReportStatus::Submitted;
        }
        let before = report.clone();
        let kind = m.key.period_kind();
        match apply_op(report, &m.op, form, now()) {
            Ok(()) => {
                assert_eq!(report.key, before.key);
                check_kept_report(report, form, kind);
                match &m.op {
                    MutationOp::Submit => {
                        assert!(form.validate(&report.values, kind, Stage::Submit).is_empty());
                        assert_eq!(report.status, danvan_core::ReportStatus::Submitted);
                    }
                    MutationOp::Return { reason } => {
                        let kept = report.return_reason.as_deref().expect("a returned report has its reason");
                        assert_eq!(kept, reason.trim());
                        assert!(!kept.is_empty());
                    }
                    MutationOp::Save { .. } | MutationOp::Accept => {}
                }
            }
            Err(rejection) => {
                assert!(!rejection.code.is_empty() && !rejection.message.is_empty());
                // The server and the phone both drop the report on a refusal;
                // its status never moves.
                assert_eq!(report.status, before.status);
                *report = before;
            }
        }
    }
});

/// What a report the server keeps (and sends back in pulls) must satisfy.
fn check_kept_report(report: &Report, form: &danvan_core::ReportForm, kind: PeriodKind) {
    assert!(report.values.values().all(|v| !v.is_empty()), "empty values are not stored");
    assert!(
        form.validate(&report.values, kind, Stage::Draft).iter().all(|i| !i.kind.blocks_saving()),
        "a kept draft has no value the server refuses"
    );
    assert!(report.attachments.len() <= MAX_ATTACHMENTS_PER_REPORT);
    for (i, a) in report.attachments.iter().enumerate() {
        assert_eq!(a.problem(form), None, "{a:?}");
        assert!(report.attachments[..i].iter().all(|b| b.id != a.id), "attachment ids are unique");
    }
    for (field, n) in danvan_core::aggregate::figures(form, &report.values) {
        assert!(n <= MAX_COUNT, "{field}: {n}");
    }
    assert_json_round_trip(report);
}
