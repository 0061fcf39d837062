//! What must hold after a run, read from the server's database through the store
//! (`Store::pull`, `Store::revisions`, `Store::mutation_outcomes`: no SQL of the
//! harness's own, so the checks are the same on SQLite and PostgreSQL) and from
//! the devices' stores. Each finding is a sentence; none means the run passed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use danvan_core::sync::apply_op;
use danvan_core::{Report, ReportForm};
use danvan_server::store::{DataScope, Revision, Store};

use crate::device::Device;
use crate::proxy::ProxyStats;

/// Refusals that are a person's doing (a report locked by a submit or a review on
/// another phone, a submit with gaps). Any other code — `replay_mismatch`,
/// `unknown_mutation`, `bad_hash`, `forbidden` — would mean a device showing an
/// error for what was only a lost or repeated message.
const HUMAN_REFUSALS: [&str; 3] = ["not_editable", "invalid", "wrong_status"];

pub async fn check(store: &Store, form: &ReportForm, devices: &[Arc<Device>], proxy: &ProxyStats) -> Vec<String> {
    let mut found = Vec::new();
    let page = store.pull(0, &DataScope::All, 100_000, usize::MAX).await.expect("the server's reports");
    let server: BTreeMap<String, Report> = page.rows.into_iter().map(|(_, r)| (r.id(), r)).collect();
    let mut history: BTreeMap<String, Vec<Revision>> = BTreeMap::new();
    for id in server.keys() {
        history.insert(id.clone(), store.revisions(id, None).await.expect("revisions"));
    }

    // 0. Nothing outside the plan was taken, however often it was sent.
    for (id, report) in &server {
        if report.key.period == crate::person::OUTSIDE_PLAN {
            found.push(format!("{id}: a report outside the plan's validity is on the server (v{})", report.version));
        }
    }

    // 2. None applied twice: one revision per (client, mutation), versions 1..=n
    //    without a hole, and the report is its history replayed.
    let mut seen: BTreeSet<(String, u64)> = BTreeSet::new();
    for (id, report) in &server {
        let revisions = &history[id];
        let versions: Vec<u64> = revisions.iter().map(|r| r.version).collect();
        if versions != (1..=report.version).collect::<Vec<_>>() {
            found.push(format!("{id}: revisions {versions:?} for version {}", report.version));
        }
        let mut replay = Report::new(report.key.clone(), &report.form_id);
        for r in revisions {
            if !seen.insert((r.client_id.clone(), r.mutation_id)) {
                found.push(format!("{id}: mutation {} of {} applied twice", r.mutation_id, r.client_id));
            }
            if let Err(e) = apply_op(&mut replay, &r.op, form, r.created_at) {
                found.push(format!("{id}: revision {} does not replay: {}", r.version, e.message));
            }
        }
        if (&replay.values, replay.status) != (&report.values, report.status) {
            found.push(format!("{id}: the stored report is not its history replayed"));
        }
    }
    // 1. No acknowledged mutation lost: each `Applied` a device received is one
    //    revision, at the version it was told, with the operation it sent — or a
    //    save that changed nothing, which the server acknowledges at the current
    //    version without a revision (`sync::decide`): then the report at that
    //    version must already hold what it set.
    let mut no_ops: BTreeSet<(String, u64)> = BTreeSet::new();
    for device in devices {
        let log = device.log.lock().unwrap().clone();
        for ack in &log.acks {
            let revisions = history.get(&ack.report_id).map(Vec::as_slice).unwrap_or_default();
            let matching =
                revisions.iter().filter(|r| r.client_id == ack.client_id && r.mutation_id == ack.mutation_id);
            if matching.count() > 0 {
                continue;
            }
            let Some(key) = danvan_core::ReportKey::parse_id(&ack.report_id) else { continue };
            let mut at = Report::new(key, &form.id);
            for r in revisions.iter().filter(|r| r.version <= ack.version) {
                let _ = apply_op(&mut at, &r.op, form, r.created_at);
            }
            let before = (at.values.clone(), at.attachments.clone());
            let changed_nothing = ack.op.is_save()
                && apply_op(&mut at, &ack.op, form, chrono::Utc::now()).is_ok()
                && (at.values, at.attachments) == before;
            if changed_nothing {
                no_ops.insert((ack.client_id.clone(), ack.mutation_id));
            }
        }
    }
    let revisions: usize = history.values().map(Vec::len).sum();
    let outcomes = store.mutation_outcomes().await.expect("outcomes");
    let applied = outcomes.get("applied").copied().unwrap_or(0);
    if applied != (revisions + no_ops.len()) as i64 {
        found.push(format!(
            "{applied} mutations answered applied, {revisions} revisions and {} saves that changed nothing",
            no_ops.len()
        ));
    }
    for device in devices {
        let log = device.log.lock().unwrap().clone();
        for ack in &log.acks {
            let matching: Vec<&Revision> = history
                .get(&ack.report_id)
                .map(|h| {
                    h.iter().filter(|r| r.client_id == ack.client_id && r.mutation_id == ack.mutation_id).collect()
                })
                .unwrap_or_default();
            match matching.as_slice() {
                [] if no_ops.contains(&(ack.client_id.clone(), ack.mutation_id)) => {}
                [r] if r.version == ack.version && r.op == ack.op => {}
                [r] => found.push(format!(
                    "{}: mutation {} acknowledged at v{} is v{} {:?} on the server",
                    device.name, ack.mutation_id, ack.version, r.version, r.op
                )),
                other => found.push(format!(
                    "{}: mutation {} of {} acknowledged on {} is in the history {} times",
                    device.name,
                    ack.mutation_id,
                    ack.client_id,
                    ack.report_id,
                    other.len()
                )),
            }
        }

        // 4. No 5xx but 503, no error shown for a lost answer.
        for (status, n) in &log.statuses {
            if *status >= 500 && *status != 503 {
                found.push(format!("{}: {n} answers {status}", device.name));
            }
        }
        for (code, n) in &log.rejections {
            if !HUMAN_REFUSALS.contains(&code.as_str()) {
                found.push(format!("{}: {n} mutations refused as {code}", device.name));
            }
        }
        if log.gap_restarts > 0 {
            found.push(format!("{}: {} restarts after a gap in its own ids", device.name, log.gap_restarts));
        }
        for e in &log.errors {
            found.push(format!("{}: sync error shown: {e}", device.name));
        }

        // 3. Every device ends with the server's copy of every report, nothing stuck.
        let local = device.snapshot();
        if !local.outbox.is_empty() {
            found.push(format!("{}: {} outbox entries never drained", device.name, local.outbox.len()));
        }
        if !local.conflicts.is_empty() {
            for (id, c) in &local.conflicts {
                found.push(format!(
                    "{}: conflict left on {id} (reason {:?}, theirs v{} {:?}, mine {:?})",
                    device.name, c.reason, c.theirs.version, c.theirs.status, c.mine.values
                ));
            }
        }
        let mine: BTreeSet<&String> = local.reports.keys().collect();
        let theirs: BTreeSet<&String> = server.keys().collect();
        if mine != theirs {
            found.push(format!("{}: holds {mine:?}, the server has {theirs:?}", device.name));
        }
        for (id, l) in &local.reports {
            let Some(s) = server.get(id) else { continue };
            if (&l.report.values, l.report.status, l.report.version) != (&s.values, s.status, s.version) {
                found.push(format!(
                    "{}: {id} is v{} {:?} {:?} on the device, v{} {:?} {:?} on the server",
                    device.name, l.report.version, l.report.status, l.report.values, s.version, s.status, s.values
                ));
            }
            if l.has_unsent() || l.base.as_ref().map(|b| b.version) != Some(s.version) {
                found.push(format!("{}: {id} not settled (pending {:?})", device.name, l.last_mutation));
            }
        }
    }
    for e in &proxy.server_errors {
        found.push(format!("server answered {e}"));
    }
    found
}
