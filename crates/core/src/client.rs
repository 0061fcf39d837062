//! The device side of sync as pure functions: recording an edit into the outbox,
//! taking in the server's answer to a pushed mutation, taking in a pulled report,
//! and settling a conflict. The app wraps each in ONE IndexedDB transaction; keeping
//! the decisions here means they are tested with plain `#[test]`s, and the rules
//! that decide whether anything could be lost are in one readable place.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::form::{ReportForm, Values};
use crate::report::{diff, merge3, merge_attachments, FieldConflict, Report, ReportStatus};
use crate::sync::{apply_op, Mutation, MutationOp, MutationResult, Rejection, CODE_NOT_EDITABLE};

/// The device's sync bookkeeping (one record in the `meta` store).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncMeta {
    /// Random, made on first use; identifies this browser profile's outbox.
    pub client_id: String,
    /// The user the outbox belongs to (another official gets a new client id).
    pub user_id: i64,
    pub next_mutation_id: u64,
    /// The highest outbox id ever handed to a push under this client id (0: none).
    /// An entry at or below it may have reached the server even if no answer came
    /// back (a timeout after the commit), so it is never changed again: a later
    /// edit goes into a new entry. Only a new client id (`restart_sync`) lowers it.
    #[serde(default, alias = "inflight_upto")]
    pub sent_upto: u64,
    #[serde(default)]
    pub cursor: u64,
    #[serde(default)]
    pub epoch: Option<String>,
    #[serde(default)]
    pub last_synced_at: Option<DateTime<Utc>>,
}

impl SyncMeta {
    /// Records that the entries of `batch` (ids ascending) are about to leave the
    /// phone. The mark only moves up: a failed push does not make them editable.
    pub fn mark_sent(&mut self, batch: &[Mutation]) {
        if let Some(last) = batch.iter().map(|m| m.id).max() {
            self.sent_upto = self.sent_upto.max(last);
        }
    }

    pub fn new(client_id: String, user_id: i64) -> SyncMeta {
        SyncMeta { client_id, user_id, next_mutation_id: 1, sent_upto: 0, cursor: 0, epoch: None, last_synced_at: None }
    }
}

/// Largest push body a device builds (before gzip): well under the server's 1 MiB
/// body limit, since a 413 would be retried forever; long narratives make one
/// mutation up to ~150 KB.
pub const MAX_PUSH_BYTES: usize = 512 * 1024;

/// The oldest outbox entries that go in one push: at most `MAX_PUSH_MUTATIONS` and
/// `MAX_PUSH_BYTES` of JSON, but always at least one (an entry alone over the
/// budget still goes, and the server answers it).
pub fn push_batch(oldest_first: Vec<Mutation>) -> Vec<Mutation> {
    let mut bytes = 0;
    let keep = oldest_first
        .iter()
        .take(crate::sync::MAX_PUSH_MUTATIONS)
        .take_while(|m| {
            bytes += serde_json::to_string(m).map(|j| j.len()).unwrap_or(0);
            bytes <= MAX_PUSH_BYTES
        })
        .count()
        .max(1);
    let mut batch = oldest_first;
    batch.truncate(keep);
    batch
}

/// A report as the device keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocalReport {
    /// What the person sees: the server's copy plus every local edit.
    pub report: Report,
    /// The last copy the server confirmed (the common ancestor for a merge).
    #[serde(default)]
    pub base: Option<Report>,
    /// The newest outbox entry for this report while it is unacknowledged.
    #[serde(default)]
    pub last_mutation: Option<u64>,
    /// When the last local edit was committed on this device (device clock: only
    /// for "Đã lưu trên máy lúc …").
    #[serde(default)]
    pub saved_at: Option<DateTime<Utc>>,
    /// The server's reason when it refused a change (shown until the next edit).
    #[serde(default)]
    pub error: Option<String>,
}

impl LocalReport {
    pub fn has_unsent(&self) -> bool {
        self.last_mutation.is_some()
    }

    /// A copy that holds nothing: never on the server, nothing in it, nothing
    /// waiting to go (what a save the server refused leaves once settled). Kept,
    /// it would list an empty draft nobody made.
    pub fn is_blank(&self) -> bool {
        self.report.version == 0
            && !self.has_unsent()
            && self.report.values.is_empty()
            && self.report.attachments.is_empty()
    }
}

/// Two edits of one report that met: kept until the person settles it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub report_id: String,
    #[serde(default)]
    pub base: Option<Report>,
    /// This device's version, exactly as it was.
    pub mine: Report,
    /// The server's copy (refreshed by later pulls).
    pub theirs: Report,
    /// Set when the server refused this device's change outright (e.g. the report
    /// had been submitted from another phone).
    #[serde(default)]
    pub reason: Option<String>,
    /// The refusal's code (`MutationResult::Rejected`), with `reason`.
    #[serde(default)]
    pub refusal: Option<String>,
}

impl Conflict {
    fn empty_base(&self) -> Values {
        self.base.as_ref().map(|b| b.values.clone()).unwrap_or_default()
    }

    /// The field-level three-way merge of the two sides.
    pub fn merge(&self) -> crate::report::Merge {
        merge3(&self.empty_base(), &self.mine.values, &self.theirs.values)
    }

    /// Fields where the two sides disagree and the person must choose.
    pub fn overlapping(&self) -> Vec<FieldConflict> {
        self.merge().conflicts
    }

    /// The server refused these very values and would refuse them again (a month
    /// outside the plan, a form replaced while the phone was offline, a unit it
    /// may not report for): sending them once more can only loop. Only "not
    /// editable" may pass later, once the report is returned, and the pulled copy
    /// says when. A conflict kept by an older app has the reason without the code:
    /// it was a refused save too.
    pub fn refused_for_good(&self) -> bool {
        self.reason.is_some() && self.refusal.as_deref() != Some(CODE_NOT_EDITABLE)
    }

    /// Whether this device's values can still go in: the server copy is editable
    /// and did not refuse them for good.
    pub fn can_merge(&self) -> bool {
        self.theirs.status.is_editable() && !self.refused_for_good()
    }

    /// Nothing for the person to choose: the two sides changed different fields
    /// (or the server restored an older copy), so the merge can be sent as is.
    pub fn settles_itself(&self) -> bool {
        self.reason.is_none() && self.can_merge() && self.overlapping().is_empty()
    }
}

/// Which side the person chose for a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Mine,
    Theirs,
}

/// The result of recording one edit.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEdit {
    pub local: LocalReport,
    /// The outbox entry to write (a new one, or the open one with the edit folded in).
    pub entry: Mutation,
    /// True when `entry` took `next_mutation_id` (the counter must move on).
    pub took_new_id: bool,
}

/// Records one edit (a save or a submit) of `local` (None: a report new on this
/// device, `fresh` gives it) the way the server will apply it.
///
/// Consecutive saves fold into the report's still-unsent outbox entry instead of
/// queuing one mutation per keystroke; an entry the sync engine has ever taken
/// for sending (`id <= sent_upto`) is never changed, a new one is made instead.
pub fn record_edit(
    local: Option<LocalReport>,
    fresh: impl FnOnce() -> Report,
    open_entry: Option<Mutation>,
    op: MutationOp,
    form: &ReportForm,
    meta: &SyncMeta,
    now: DateTime<Utc>,
) -> Result<RecordedEdit, Rejection> {
    let (next_mutation_id, sent_upto) = (meta.next_mutation_id, meta.sent_upto);
    let mut local = local.unwrap_or_else(|| LocalReport {
        report: fresh(),
        base: None,
        last_mutation: None,
        saved_at: None,
        error: None,
    });
    apply_op(&mut local.report, &op, form, now)?;
    let foldable = open_entry
        .filter(|e| Some(e.id) == local.last_mutation && e.id > sent_upto && matches!(e.op, MutationOp::Save { .. }));
    let (entry, took_new_id) = match (foldable, op) {
        (Some(open), MutationOp::Save { form_id, set, attach, detach }) => {
            let MutationOp::Save { set: mut old_set, attach: mut old_attach, detach: mut old_detach, .. } = open.op
            else {
                unreachable!("filtered to saves above")
            };
            old_set.extend(set);
            old_attach.retain(|a| !detach.contains(&a.id));
            let dropped_new: Vec<String> =
                detach.iter().filter(|id| !old_attach.iter().any(|a| &a.id == *id)).cloned().collect();
            old_detach.extend(dropped_new);
            old_attach.extend(attach);
            let op = MutationOp::Save { form_id, set: old_set, attach: old_attach, detach: old_detach };
            (Mutation::new(open.id, open.key, open.base_version, op), false)
        }
        (_, op) => {
            let submit = matches!(op, MutationOp::Submit);
            let mut m = Mutation::new(next_mutation_id, local.report.key.clone(), local.report.version, op);
            // The moment "Gửi" was pressed, by this phone's clock.
            if submit {
                m.device_time = Some(now);
            }
            (m, true)
        }
    };
    local.last_mutation = Some(entry.id);
    local.saved_at = Some(now);
    local.error = None;
    Ok(RecordedEdit { local, entry, took_new_id })
}

/// Takes in the server's answer to `entry`. Returns the report and conflict records
/// to write (None conflict = none to keep); the entry itself is then deleted.
pub fn take_outcome(
    local: Option<LocalReport>,
    conflict: Option<Conflict>,
    entry: &Mutation,
    result: &MutationResult,
    form: &ReportForm,
) -> (Option<LocalReport>, Option<Conflict>) {
    let Some(mut local) = local else { return (None, conflict) };
    if local.last_mutation == Some(entry.id) {
        local.last_mutation = None;
    }
    match result {
        MutationResult::Applied { version } => {
            // The server's copy now is the old one with this op applied: replay it
            // on the base so the next merge has the right ancestor.
            let mut base = local.base.clone().unwrap_or_else(|| Report::new(entry.key.clone(), &form.id));
            let now = local.report.updated_at.unwrap_or_else(Utc::now);
            if apply_op(&mut base, &entry.op, form, now).is_err() {
                base = local.report.clone();
            }
            base.version = *version;
            local.base = Some(base);
            local.report.version = local.report.version.max(*version);
            if conflict.is_none() {
                local.error = None;
            }
            (Some(local), conflict)
        }
        MutationResult::Conflict { server } => {
            let conflict = match conflict {
                Some(mut c) => {
                    if server.version >= c.theirs.version {
                        c.theirs = (**server).clone();
                    }
                    c
                }
                None => Conflict {
                    report_id: local.report.id(),
                    // A server copy older than the base this device last saw (its
                    // database was restored from a backup) is itself the common
                    // ancestor: everything since is this device's to send again.
                    base: match &local.base {
                        Some(b) if b.version > server.version => Some((**server).clone()),
                        other => other.clone(),
                    },
                    mine: local.report.clone(),
                    theirs: (**server).clone(),
                    reason: None,
                    refusal: None,
                },
            };
            (Some(local), Some(conflict))
        }
        MutationResult::Rejected { code, message } => {
            local.error = Some(message.clone());
            match &entry.op {
                // The values were already on the server; only the status goes back.
                MutationOp::Submit => {
                    let before = local.base.as_ref().map(|b| b.status).unwrap_or(ReportStatus::Draft);
                    local.report.status = if before.is_editable() { before } else { ReportStatus::Draft };
                    local.report.submitted_at = local.base.as_ref().and_then(|b| b.submitted_at);
                    (Some(local), conflict)
                }
                // A refused review (someone else returned or accepted it first): the
                // screen goes back to the last status the server confirmed.
                MutationOp::Return { .. } | MutationOp::Accept => {
                    if let Some(base) = &local.base {
                        local.report.status = base.status;
                        local.report.return_reason = base.return_reason.clone();
                    }
                    (Some(local), conflict)
                }
                // Values the server would not take: keep them aside next to the
                // server's copy so nothing typed is lost when the pull replaces the
                // report.
                MutationOp::Save { .. } if conflict.is_none() => {
                    let theirs = local.base.clone().unwrap_or_else(|| Report::new(entry.key.clone(), &form.id));
                    let c = Conflict {
                        report_id: local.report.id(),
                        base: local.base.clone(),
                        mine: local.report.clone(),
                        theirs,
                        reason: Some(message.clone()),
                        refusal: Some(code.clone()),
                    };
                    (Some(local), Some(c))
                }
                _ => (Some(local), conflict),
            }
        }
    }
}

/// Takes in a report from a pull. A report with unsent edits or an open conflict
/// keeps the local version; the server copy waits in the conflict (or comes back
/// as a conflict when the unsent edit is pushed).
pub fn take_pulled(
    local: Option<LocalReport>,
    conflict: Option<Conflict>,
    server: Report,
) -> (LocalReport, Option<Conflict>) {
    if let Some(mut c) = conflict {
        if server.version >= c.theirs.version {
            c.theirs = server;
        }
        let local = local.unwrap_or_else(|| LocalReport {
            report: c.mine.clone(),
            base: c.base.clone(),
            last_mutation: None,
            saved_at: None,
            error: None,
        });
        return (local, Some(c));
    }
    match local {
        Some(local) if local.has_unsent() => (local, None),
        Some(local) if local.base.as_ref().is_some_and(|b| b.version > server.version) => {
            // Never step back to an older copy (a late page of an earlier pull).
            (local, None)
        }
        _ => (
            LocalReport {
                report: server.clone(),
                base: Some(server),
                last_mutation: None,
                saved_at: None,
                error: None,
            },
            None,
        ),
    }
}

/// A pulled copy older than what the server had already confirmed to this device
/// (its database was restored from a backup): queue this device's version again,
/// on top of the restored copy, so the server gets back what it lost. None when
/// the copy is not older, or the report is no longer editable there.
pub fn resend_after_restore(
    local: &LocalReport,
    server: &Report,
    next_mutation_id: u64,
    now: DateTime<Utc>,
) -> Option<(LocalReport, Mutation)> {
    let confirmed = local.base.as_ref()?;
    if confirmed.version <= server.version || local.has_unsent() {
        return None;
    }
    let conflict = Conflict {
        report_id: server.id(),
        base: Some(server.clone()),
        mine: local.report.clone(),
        theirs: server.clone(),
        reason: None,
        refusal: None,
    };
    let (local, entry) = resolve(&conflict, &BTreeMap::new(), next_mutation_id, now);
    Some((local, entry?))
}

/// Settles a conflict with the person's choices for the overlapping fields
/// (unchosen ones keep the server's value). Returns the new local report and the
/// save to queue (None when nothing of this device's differs any more, or when
/// the server copy is locked and the person has seen their values).
pub fn resolve(
    conflict: &Conflict,
    choices: &BTreeMap<String, Side>,
    next_mutation_id: u64,
    now: DateTime<Utc>,
) -> (LocalReport, Option<Mutation>) {
    let theirs = conflict.theirs.clone();
    if !conflict.can_merge() {
        let local = LocalReport {
            report: theirs.clone(),
            base: Some(theirs),
            last_mutation: None,
            saved_at: None,
            error: None,
        };
        return (local, None);
    }
    let merge = conflict.merge();
    let mut chosen = merge.merged;
    for c in &merge.conflicts {
        if choices.get(&c.field) == Some(&Side::Mine) {
            if c.mine.is_empty() {
                chosen.remove(&c.field);
            } else {
                chosen.insert(c.field.clone(), c.mine.clone());
            }
        }
    }
    let base_attachments = conflict.base.as_ref().map(|b| b.attachments.clone()).unwrap_or_default();
    let attachments = merge_attachments(&base_attachments, &conflict.mine.attachments, &theirs.attachments);
    let set = diff(&theirs.values, &chosen);
    let attach: Vec<_> =
        attachments.iter().filter(|a| !theirs.attachments.iter().any(|t| t.id == a.id)).cloned().collect();
    let detach: Vec<String> =
        theirs.attachments.iter().filter(|t| !attachments.iter().any(|a| a.id == t.id)).map(|t| t.id.clone()).collect();
    let mut report = theirs.clone();
    report.values = chosen;
    report.attachments = attachments;
    if set.is_empty() && attach.is_empty() && detach.is_empty() {
        let local = LocalReport { report, base: Some(theirs), last_mutation: None, saved_at: Some(now), error: None };
        return (local, None);
    }
    let op = MutationOp::Save { form_id: theirs.form_id.clone(), set, attach, detach };
    let entry = Mutation::new(next_mutation_id, theirs.key.clone(), theirs.version, op);
    let local =
        LocalReport { report, base: Some(theirs), last_mutation: Some(entry.id), saved_at: Some(now), error: None };
    (local, Some(entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{Field, FieldKind, FormSection};
    use crate::report::ReportKey;
    use crate::Period;

    fn form() -> ReportForm {
        let field = |id: &str, kind| Field {
            id: id.into(),
            label: id.into(),
            label_en: id.into(),
            kind,
            required: true,
            only: None,
            retired: false,
        };
        ReportForm {
            id: "f".into(),
            plan_id: "p".into(),
            title: "t".into(),
            title_en: "t".into(),
            sections: vec![FormSection {
                id: "s".into(),
                plan_item: None,
                title: "s".into(),
                title_en: "s".into(),
                fields: vec![
                    field("a", FieldKind::Count),
                    field("b", FieldKind::Count),
                    field("t", FieldKind::Text { max_chars: 100 }),
                ],
            }],
            rules: vec![],
        }
    }

    fn key() -> ReportKey {
        ReportKey { plan_id: "p".into(), unit_id: "u".into(), period: Period::month(2024, 3).unwrap() }
    }

    fn save(pairs: &[(&str, &str)]) -> MutationOp {
        MutationOp::Save {
            form_id: "f".into(),
            set: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            attach: vec![],
            detach: vec![],
        }
    }

    fn meta(next: u64, sent: u64) -> SyncMeta {
        SyncMeta { next_mutation_id: next, sent_upto: sent, ..SyncMeta::new("c".into(), 1) }
    }

    fn edit(local: Option<LocalReport>, open: Option<Mutation>, op: MutationOp, next: u64, sent: u64) -> RecordedEdit {
        record_edit(local, || Report::new(key(), "f"), open, op, &form(), &meta(next, sent), Utc::now()).unwrap()
    }

    #[test]
    fn consecutive_saves_fold_into_one_unsent_entry() {
        let first = edit(None, None, save(&[("a", "1")]), 1, 0);
        assert!(first.took_new_id);
        assert_eq!(first.entry.id, 1);
        assert_eq!(first.entry.base_version, 0);
        let second = edit(Some(first.local), Some(first.entry), save(&[("a", "2"), ("b", "3")]), 2, 0);
        assert!(!second.took_new_id, "folded");
        assert_eq!(second.entry.id, 1);
        let MutationOp::Save { set, .. } = &second.entry.op else { panic!() };
        assert_eq!(set.get("a").map(String::as_str), Some("2"));
        assert_eq!(set.get("b").map(String::as_str), Some("3"));
        assert_eq!(second.entry.content_hash, second.entry.expected_hash());
        assert_eq!(second.local.report.value("a"), "2");
    }

    #[test]
    fn an_entry_being_sent_is_never_changed() {
        let first = edit(None, None, save(&[("a", "1")]), 1, 0);
        let second = edit(Some(first.local), Some(first.entry.clone()), save(&[("a", "2")]), 2, 1);
        assert!(second.took_new_id);
        assert_eq!(second.entry.id, 2);
        assert_eq!(second.local.last_mutation, Some(2));
    }

    #[test]
    fn an_entry_sent_without_an_answer_is_never_changed_again() {
        // A push times out after the server committed entry 1: the mark stays, so
        // the next edit does not change what the server may already have applied
        // (resent with the same id and another hash, it would be refused).
        let first = edit(None, None, save(&[("a", "1")]), 1, 0);
        let mut m = meta(2, 0);
        m.mark_sent(std::slice::from_ref(&first.entry));
        assert_eq!(m.sent_upto, 1);
        m.mark_sent(&[]);
        assert_eq!(m.sent_upto, 1, "an empty batch does not lower it");
        let second = record_edit(
            Some(first.local),
            || unreachable!(),
            Some(first.entry.clone()),
            save(&[("a", "2")]),
            &form(),
            &m,
            Utc::now(),
        )
        .unwrap();
        assert!(second.took_new_id);
        assert_eq!(second.entry.id, 2);
        assert_eq!(first.entry.content_hash, first.entry.expected_hash());
        let old: SyncMeta =
            serde_json::from_str(r#"{"client_id":"c","user_id":1,"next_mutation_id":5,"inflight_upto":4}"#).unwrap();
        assert_eq!(old.sent_upto, 4, "a phone's stored mark is kept across the rename");
    }

    #[test]
    fn a_push_batch_is_bounded_by_count_and_bytes() {
        let entry = |id: u64, chars: usize| Mutation::new(id, key(), 0, save(&[("t", &"x".repeat(chars))]));
        let small: Vec<_> = (1..=150).map(|i| entry(i, 10)).collect();
        assert_eq!(push_batch(small).len(), crate::sync::MAX_PUSH_MUTATIONS);
        let big: Vec<_> = (1..=10).map(|i| entry(i, 150_000)).collect();
        let batch = push_batch(big);
        assert_eq!(batch.iter().map(|m| m.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(push_batch(vec![entry(1, 600_000)]).len(), 1, "one over the budget still goes");
        assert!(push_batch(vec![]).is_empty());
    }

    #[test]
    fn a_submit_is_its_own_entry_and_locks_the_report() {
        let first = edit(None, None, save(&[("a", "1"), ("b", "2"), ("t", "x")]), 1, 0);
        let submit = edit(Some(first.local), Some(first.entry), MutationOp::Submit, 2, 0);
        assert!(submit.took_new_id);
        assert_eq!(submit.local.report.status, ReportStatus::Submitted);
        let err = record_edit(
            Some(submit.local),
            || unreachable!(),
            Some(submit.entry),
            save(&[("a", "9")]),
            &form(),
            &meta(3, 0),
            Utc::now(),
        )
        .unwrap_err();
        assert_eq!(err.code, "not_editable");
    }

    #[test]
    fn an_ack_moves_the_base_and_clears_the_pending_mark() {
        let f = form();
        let first = edit(None, None, save(&[("a", "1")]), 1, 0);
        let (local, conflict) =
            take_outcome(Some(first.local), None, &first.entry, &MutationResult::Applied { version: 1 }, &f);
        let local = local.unwrap();
        assert!(conflict.is_none());
        assert!(!local.has_unsent());
        assert_eq!(local.report.version, 1);
        assert_eq!(local.base.as_ref().map(|b| b.value("a")), Some("1"));
    }

    #[test]
    fn an_ack_of_an_older_entry_keeps_newer_edits_pending() {
        let f = form();
        let first = edit(None, None, save(&[("a", "1")]), 1, 0);
        let second = edit(Some(first.local), Some(first.entry.clone()), save(&[("a", "2")]), 2, 1);
        let (local, _) =
            take_outcome(Some(second.local), None, &first.entry, &MutationResult::Applied { version: 1 }, &f);
        let local = local.unwrap();
        assert_eq!(local.last_mutation, Some(2));
        assert_eq!(local.report.value("a"), "2", "the newer edit stays on screen");
        assert_eq!(local.base.unwrap().value("a"), "1");
    }

    fn server(values: &[(&str, &str)], version: u64) -> Report {
        let mut r = Report::new(key(), "f");
        r.values = values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        r.version = version;
        r
    }

    #[test]
    fn a_conflict_keeps_both_sides_and_the_resolution_sends_the_choice() {
        let f = form();
        let base = server(&[("a", "1"), ("b", "1")], 1);
        let local =
            LocalReport { report: base.clone(), base: Some(base), last_mutation: None, saved_at: None, error: None };
        let e = edit(Some(local), None, save(&[("a", "5"), ("t", "của tôi")]), 7, 0);
        assert_eq!(e.entry.base_version, 1);
        let theirs = server(&[("a", "9"), ("b", "2")], 2);
        let (local, conflict) = take_outcome(
            Some(e.local),
            None,
            &e.entry,
            &MutationResult::Conflict { server: Box::new(theirs.clone()) },
            &f,
        );
        let conflict = conflict.unwrap();
        let local = local.unwrap();
        assert_eq!(local.report.value("a"), "5", "mine is still what the screen shows");
        assert_eq!(conflict.overlapping().len(), 1);
        assert_eq!(conflict.overlapping()[0].field, "a");

        // A pull meanwhile does not overwrite mine.
        let (after_pull, conflict) = take_pulled(Some(local), Some(conflict), theirs.clone());
        assert_eq!(after_pull.report.value("a"), "5");
        let conflict = conflict.unwrap();

        let choices = BTreeMap::from([("a".to_string(), Side::Mine)]);
        let (resolved, entry) = resolve(&conflict, &choices, 8, Utc::now());
        let entry = entry.unwrap();
        assert_eq!(entry.base_version, 2);
        assert_eq!(resolved.report.value("a"), "5");
        assert_eq!(resolved.report.value("b"), "2", "their non-overlapping change kept");
        assert_eq!(resolved.report.value("t"), "của tôi", "my non-overlapping change kept");
        let MutationOp::Save { set, .. } = entry.op else { panic!() };
        assert_eq!(set, BTreeMap::from([("a".into(), "5".into()), ("t".into(), "của tôi".into())]));
    }

    #[test]
    fn a_server_restored_to_an_older_copy_is_the_ancestor() {
        let f = form();
        let v1 = server(&[("a", "1")], 1);
        let v2 = server(&[("a", "1"), ("b", "40")], 2);
        let local =
            LocalReport { report: v2.clone(), base: Some(v2), last_mutation: None, saved_at: None, error: None };
        let e = edit(Some(local), None, save(&[("t", "sau khôi phục")]), 1, 0);
        let (_, conflict) =
            take_outcome(Some(e.local), None, &e.entry, &MutationResult::Conflict { server: Box::new(v1) }, &f);
        let conflict = conflict.unwrap();
        assert!(conflict.settles_itself(), "{:?}", conflict.overlapping());
        let (resolved, entry) = resolve(&conflict, &BTreeMap::new(), 2, Utc::now());
        assert_eq!(resolved.report.value("b"), "40", "the edit the restored server lost comes back");
        let MutationOp::Save { set, .. } = entry.unwrap().op else { panic!() };
        assert_eq!(set.get("b").map(String::as_str), Some("40"));
        assert_eq!(set.get("t").map(String::as_str), Some("sau khôi phục"));
    }

    #[test]
    fn a_restored_older_copy_gets_this_devices_version_again() {
        let v2 = server(&[("a", "1"), ("b", "40")], 2);
        let local =
            LocalReport { report: v2.clone(), base: Some(v2), last_mutation: None, saved_at: None, error: None };
        let v1 = server(&[("a", "1")], 1);
        let (after, entry) = resend_after_restore(&local, &v1, 5, Utc::now()).expect("resent");
        assert_eq!(entry.id, 5);
        assert_eq!(entry.base_version, 1);
        assert_eq!(after.report.value("b"), "40");
        assert_eq!(after.last_mutation, Some(5));
        assert!(resend_after_restore(&local, &server(&[("a", "1")], 2), 5, Utc::now()).is_none());
    }

    #[test]
    fn choosing_theirs_everywhere_with_nothing_else_sends_nothing() {
        let base = server(&[("a", "1")], 1);
        let c = Conflict {
            report_id: key().id(),
            base: Some(base),
            mine: server(&[("a", "2")], 1),
            theirs: server(&[("a", "3")], 2),
            reason: None,
            refusal: None,
        };
        let (local, entry) = resolve(&c, &BTreeMap::new(), 1, Utc::now());
        assert!(entry.is_none());
        assert_eq!(local.report.value("a"), "3");
    }

    #[test]
    fn a_refused_save_keeps_the_typed_values_aside() {
        let f = form();
        let base = server(&[("a", "1")], 3);
        let local =
            LocalReport { report: base.clone(), base: Some(base), last_mutation: None, saved_at: None, error: None };
        let e = edit(Some(local), None, save(&[("a", "42")]), 1, 0);
        let rejected = MutationResult::Rejected { code: CODE_NOT_EDITABLE.into(), message: "Đã gửi".into() };
        let (local, conflict) = take_outcome(Some(e.local), None, &e.entry, &rejected, &f);
        let conflict = conflict.expect("kept aside");
        assert_eq!(conflict.mine.value("a"), "42");
        assert_eq!(conflict.reason.as_deref(), Some("Đã gửi"));
        // The pull brings the submitted server copy; mine is still in the conflict.
        let mut submitted = server(&[("a", "1")], 4);
        submitted.status = ReportStatus::Submitted;
        let (_, conflict) = take_pulled(local, Some(conflict), submitted);
        let conflict = conflict.unwrap();
        assert!(!conflict.can_merge());
        assert_eq!(conflict.mine.value("a"), "42");
    }

    #[test]
    fn values_the_server_refused_for_good_are_shown_not_sent_again() {
        let f = form();
        let base = server(&[("a", "1")], 3);
        let local =
            LocalReport { report: base.clone(), base: Some(base), last_mutation: None, saved_at: None, error: None };
        let e = edit(Some(local), None, save(&[("a", "42")]), 1, 0);
        let rejected =
            MutationResult::Rejected { code: "invalid".into(), message: "Tháng ngoài kế hoạch".into() };
        let (_, conflict) = take_outcome(Some(e.local), None, &e.entry, &rejected, &f);
        let conflict = conflict.expect("kept aside");
        assert_eq!(conflict.refusal.as_deref(), Some("invalid"));
        // The server copy is still an editable draft, yet the same values would be
        // refused again: nothing settles by itself and settling queues nothing.
        assert!(conflict.theirs.status.is_editable());
        assert!(conflict.refused_for_good());
        assert!(!conflict.can_merge());
        assert!(!conflict.settles_itself());
        let mine_chosen = BTreeMap::from([("a".to_string(), Side::Mine)]);
        let (local, entry) = resolve(&conflict, &mine_chosen, 2, Utc::now());
        assert!(entry.is_none(), "refused values are not sent again");
        assert_eq!(local.report.value("a"), "1", "the server's copy is kept");
        assert!(!local.has_unsent());

        // Refused only because the report was submitted elsewhere: once it is
        // returned (editable again), the values may go in after all.
        let mut not_editable = conflict.clone();
        not_editable.refusal = Some(CODE_NOT_EDITABLE.into());
        assert!(!not_editable.refused_for_good() && not_editable.can_merge());
        // A conflict an older app kept: the reason without the code, a refused save.
        let mut older = conflict;
        older.refusal = None;
        assert!(older.refused_for_good());
    }

    #[test]
    fn a_refused_first_save_leaves_nothing_once_settled() {
        let f = form();
        let e = edit(None, None, save(&[("a", "4")]), 1, 0);
        assert!(!e.local.is_blank(), "a typed draft is kept");
        let rejected =
            MutationResult::Rejected { code: "invalid".into(), message: "Tháng ngoài kế hoạch".into() };
        let (_, conflict) = take_outcome(Some(e.local), None, &e.entry, &rejected, &f);
        let conflict = conflict.expect("kept aside");
        assert_eq!(conflict.theirs.version, 0, "the server never had it");
        let (local, entry) = resolve(&conflict, &BTreeMap::new(), 2, Utc::now());
        assert!(entry.is_none());
        assert!(local.is_blank(), "nothing left to keep: {local:?}");
        // A report the server has is never blank, even with nothing in it.
        let held = server(&[], 1);
        let kept =
            LocalReport { report: held.clone(), base: Some(held), last_mutation: None, saved_at: None, error: None };
        assert!(!kept.is_blank());
    }

    #[test]
    fn a_refused_submit_goes_back_to_draft_with_the_reason() {
        let f = form();
        let mut s = server(&[("a", "1"), ("b", "1"), ("t", "x")], 2);
        s.status = ReportStatus::Draft;
        let local = LocalReport { report: s.clone(), base: Some(s), last_mutation: None, saved_at: None, error: None };
        let e = edit(Some(local), None, MutationOp::Submit, 5, 0);
        let rejected = MutationResult::Rejected { code: "invalid".into(), message: "Thiếu".into() };
        let (local, conflict) = take_outcome(Some(e.local), None, &e.entry, &rejected, &f);
        let local = local.unwrap();
        assert!(conflict.is_none());
        assert_eq!(local.report.status, ReportStatus::Draft);
        assert_eq!(local.error.as_deref(), Some("Thiếu"));
    }

    #[test]
    fn a_refused_review_goes_back_to_the_confirmed_status() {
        let f = form();
        let mut s = server(&[("a", "1")], 4);
        s.status = ReportStatus::Submitted;
        let local = LocalReport { report: s.clone(), base: Some(s), last_mutation: None, saved_at: None, error: None };
        let e = edit(Some(local), None, MutationOp::Return { reason: "Thiếu".into() }, 7, 0);
        assert_eq!(e.local.report.status, ReportStatus::Returned, "shown at once, offline");
        let rejected = MutationResult::Rejected { code: "wrong_status".into(), message: "Đã tiếp nhận".into() };
        let (local, _) = take_outcome(Some(e.local), None, &e.entry, &rejected, &f);
        let local = local.unwrap();
        assert_eq!(local.report.status, ReportStatus::Submitted);
        assert_eq!(local.report.return_reason, None);
        assert_eq!(local.error.as_deref(), Some("Đã tiếp nhận"));
    }

    #[test]
    fn pulls_replace_clean_reports_and_never_unsent_ones() {
        let clean = LocalReport {
            report: server(&[("a", "1")], 1),
            base: Some(server(&[("a", "1")], 1)),
            last_mutation: None,
            saved_at: None,
            error: None,
        };
        let (l, _) = take_pulled(Some(clean.clone()), None, server(&[("a", "2")], 2));
        assert_eq!(l.report.value("a"), "2");
        let (l, _) =
            take_pulled(Some(LocalReport { last_mutation: Some(4), ..clean.clone() }), None, server(&[("a", "2")], 2));
        assert_eq!(l.report.value("a"), "1");
        let newer = LocalReport { base: Some(server(&[("a", "3")], 3)), ..clean };
        let (l, _) = take_pulled(Some(newer), None, server(&[("a", "2")], 2));
        assert_eq!(l.base.unwrap().version, 3, "never steps back");
    }
}
