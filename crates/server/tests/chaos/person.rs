//! The officials holding the phones: what they type and press, at random moments,
//! through the device's own operations (`device.rs`), as the app's screens do
//! (`src/pages/report.rs`: save, "Gửi", settling a conflict;
//! `src/pages/review_report.rs`: "Trả lại", "Tiếp nhận").

use std::collections::BTreeMap;

use chrono::Utc;
use danvan_core::client::{Conflict, Side};
use danvan_core::form::{FieldKind, PeriodKind};
use danvan_core::sync::MutationOp;
use danvan_core::{Period, ReportKey, ReportStatus, Values};

use crate::device::Device;
use crate::rng::Rng;

/// Who holds the phone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The commune's official: fills in and sends its reports.
    Reporter,
    /// The city's reviewer: returns or accepts what was sent.
    Reviewer,
}

/// One thing the person does, then the edit is on the phone (or refused there,
/// as the screen would refuse it: a locked report, a submit with gaps).
pub fn act(device: &Device, role: Role, keys: &[ReportKey], rng: &mut Rng) {
    match role {
        Role::Reporter => report(device, keys, rng),
        Role::Reviewer => review(device, rng),
    }
}

/// A month plan 413 does not cover (it applies from February 2024).
pub const OUTSIDE_PLAN: Period = Period::Month { year: 2024, month: 1 };

fn report(device: &Device, keys: &[ReportKey], rng: &mut Rng) {
    let key = rng.pick(keys).clone();
    let roll = rng.below(100);
    let op = if roll < 60 {
        save(random_values(device, rng))
    } else if roll < 74 {
        save(complete_values(device, rng))
    } else if roll < 86 {
        MutationOp::Submit
    } else if roll < 89 {
        // Figures typed for a month outside the plan, as on a phone that has not
        // heard yet that the plan was shortened (once it knows, the report page
        // takes no values: `src/pages/report.rs`). The server refuses the save for
        // good (`invalid`); while that conflict is shown the form is not.
        let outside = ReportKey { period: OUTSIDE_PLAN, ..key };
        if !device.snapshot().conflicts.contains_key(&outside.id()) {
            record(device, &outside, save(random_values(device, rng)));
            device.log.lock().unwrap().outside_saves += 1;
        }
        return;
    } else {
        settle_conflicts(device, rng, false);
        return;
    };
    record(device, &key, op);
}

fn review(device: &Device, rng: &mut Rng) {
    let local = device.snapshot();
    let submitted: Vec<ReportKey> = local
        .reports
        .values()
        .filter(|l| l.report.status == ReportStatus::Submitted)
        .map(|l| l.report.key.clone())
        .collect();
    if submitted.is_empty() || rng.percent(20) {
        settle_conflicts(device, rng, false);
        return;
    }
    let key = rng.pick(&submitted).clone();
    let op = if rng.percent(70) {
        MutationOp::Return { reason: format!("Cần bổ sung số liệu (lần {})", rng.below(1000)) }
    } else {
        MutationOp::Accept
    };
    record(device, &key, op);
}

fn record(device: &Device, key: &ReportKey, op: MutationOp) {
    let outcome = device.record_edit(key, op, Utc::now());
    let mut log = device.log.lock().unwrap();
    log.edits += 1;
    if outcome.is_err() {
        log.edits_refused += 1;
    }
}

/// Settles every open conflict: by coin flips field by field during the run, or
/// (`final_choice`) keeping this device's values everywhere, the deterministic
/// choice of someone sure of what they typed.
pub fn settle_conflicts(device: &Device, rng: &mut Rng, final_choice: bool) {
    for (id, conflict) in device.snapshot().conflicts {
        let choices = choose(&conflict, rng, final_choice);
        device.resolve_conflict(&id, &choices, Utc::now());
    }
}

fn choose(conflict: &Conflict, rng: &mut Rng, final_choice: bool) -> BTreeMap<String, Side> {
    conflict
        .overlapping()
        .into_iter()
        .map(|c| {
            let side = if final_choice || rng.percent(50) { Side::Mine } else { Side::Theirs };
            (c.field, side)
        })
        .collect()
}

fn save(set: Values) -> MutationOp {
    // The form id is filled in by `record_edit`, as in the app.
    MutationOp::Save { form_id: String::new(), set, attach: vec![], detach: vec![] }
}

/// One to three fields typed with random figures or words.
fn random_values(device: &Device, rng: &mut Rng) -> Values {
    let fields: Vec<_> = device.form().fields_for(PeriodKind::Month).collect();
    let mut set = Values::new();
    for _ in 0..rng.between(1, 3) {
        let field = rng.pick(&fields);
        set.insert(field.id.clone(), value(&field.kind, rng));
    }
    set
}

/// Every required field filled in (so that "Gửi" can pass the form's checks).
fn complete_values(device: &Device, rng: &mut Rng) -> Values {
    device
        .form()
        .fields_for(PeriodKind::Month)
        .filter(|f| f.required)
        .map(|f| {
            let v = match f.kind {
                FieldKind::Count => "0".to_string(),
                FieldKind::Text { .. } => format!("Đã triển khai đầy đủ ({})", rng.below(100)),
            };
            (f.id.clone(), v)
        })
        .collect()
}

fn value(kind: &FieldKind, rng: &mut Rng) -> String {
    match kind {
        FieldKind::Count => rng.below(40).to_string(),
        FieldKind::Text { .. } => format!("Ghi chú {}", rng.below(10_000)),
    }
}
