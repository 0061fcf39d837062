//! A report: one unit's answer to a plan's form for one period, its status
//! (Draft → Submitted → (Returned → Submitted)* → Accepted) and the field-level
//! three-way merge used when two devices edited it apart.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::form::{PeriodKind, Values};
use crate::period::Period;

/// Which report: a unit's report on a plan for a period. There is exactly one such
/// report, so its id is made from this key rather than drawn at random: two phones
/// that start the same month's report offline start the *same* report, and the
/// server sees one report with a conflict to settle, never two copies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportKey {
    pub plan_id: String,
    pub unit_id: String,
    pub period: Period,
}

impl ReportKey {
    /// `plan~unit~period`, e.g. `kh-413-ubnd-2024~kontum.tpkontum.dakbla~2024-03`.
    pub fn id(&self) -> String {
        format!("{}~{}~{}", self.plan_id, self.unit_id, self.period.key())
    }

    /// The key back from an id made by [`ReportKey::id`].
    pub fn parse_id(id: &str) -> Option<ReportKey> {
        let mut parts = id.split('~');
        let (plan, unit, period) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || plan.is_empty() || unit.is_empty() {
            return None;
        }
        let period = Period::parse_key(period).ok()?;
        Some(ReportKey { plan_id: plan.to_string(), unit_id: unit.to_string(), period })
    }

    pub fn period_kind(&self) -> PeriodKind {
        match self.period {
            Period::Month { .. } => PeriodKind::Month,
            Period::Year { .. } => PeriodKind::Year,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Draft,
    Submitted,
    Returned,
    Accepted,
}

impl ReportStatus {
    /// Whether the reporting unit may change the values.
    pub fn is_editable(self) -> bool {
        matches!(self, ReportStatus::Draft | ReportStatus::Returned)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Draft => "draft",
            ReportStatus::Submitted => "submitted",
            ReportStatus::Returned => "returned",
            ReportStatus::Accepted => "accepted",
        }
    }

    pub fn parse(s: &str) -> Option<ReportStatus> {
        Some(match s {
            "draft" => ReportStatus::Draft,
            "submitted" => ReportStatus::Submitted,
            "returned" => ReportStatus::Returned,
            "accepted" => ReportStatus::Accepted,
            _ => return None,
        })
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            ReportStatus::Draft => "Bản nháp",
            ReportStatus::Submitted => "Đã gửi",
            ReportStatus::Returned => "Bị trả lại",
            ReportStatus::Accepted => "Đã tiếp nhận",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ReportStatus::Draft => "Draft",
            ReportStatus::Submitted => "Submitted",
            ReportStatus::Returned => "Returned",
            ReportStatus::Accepted => "Accepted",
        }
    }
}

/// A photo or file attached as evidence. The bytes travel separately
/// (`PUT /api/attachments/{id}`); the report only carries this reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentRef {
    /// Made on the device (random hex); the same id names the bytes on the server.
    pub id: String,
    /// The form section it documents.
    pub section: String,
    pub name: String,
    pub mime: String,
    /// Bytes; more than 3 MiB makes the mutation `rejected`. Beyond a 64-bit signed
    /// integer the push is a 400 `invalid_mutation`.
    #[cfg_attr(feature = "openapi", schema(maximum = 9223372036854775807_i64))]
    pub size: u64,
    /// SHA-256 of the bytes, hex: the server checks it on upload.
    pub sha256: String,
}

/// Attachment limits, checked on the device before storing and on the server.
pub const MAX_ATTACHMENT_BYTES: u64 = 3 * 1024 * 1024;
pub const MAX_ATTACHMENTS_PER_REPORT: usize = 20;
/// Longest file name kept with an attachment (a phone's name is cut to it).
pub const MAX_ATTACHMENT_NAME_CHARS: usize = 200;

/// What may be attached: photos as phones take them, and PDF scans. Nothing a
/// browser would run (HTML, SVG) is ever stored, so nothing is served back as it.
pub const ATTACHMENT_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "application/pdf"];

/// Ids made on devices (client ids, attachment ids) are ASCII letters, digits, `_`
/// and `-`, 1 to 64 of them: they appear in logs and URLs and must not smuggle
/// anything (a path, a query, a script).
pub fn is_plain_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A SHA-256 as the device and the server write it: 64 lowercase hex digits.
pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl AttachmentRef {
    /// Why this reference cannot be kept in a report of `form` (Vietnamese), or
    /// None. Checked by the server on every save and by the device before it
    /// stores a photo, so what one side keeps the other takes.
    pub fn problem(&self, form: &crate::form::ReportForm) -> Option<String> {
        let name = if self.name.chars().count() <= 40 {
            self.name.clone()
        } else {
            format!("{}…", self.name.chars().take(40).collect::<String>())
        };
        if !is_plain_id(&self.id) {
            return Some(format!("Tệp đính kèm «{name}»: mã tệp không hợp lệ"));
        }
        if !ATTACHMENT_TYPES.contains(&self.mime.as_str()) {
            return Some(format!("Tệp đính kèm «{name}»: chỉ nhận ảnh JPEG, PNG, WebP hoặc tệp PDF"));
        }
        if !is_sha256_hex(&self.sha256) {
            return Some(format!("Tệp đính kèm «{name}»: mã SHA-256 không hợp lệ"));
        }
        if self.size == 0 || self.size > MAX_ATTACHMENT_BYTES {
            return Some(format!("Tệp đính kèm «{name}»: kích thước phải từ 1 byte đến 3 MiB"));
        }
        if self.name.trim().is_empty()
            || self.name.chars().count() > MAX_ATTACHMENT_NAME_CHARS
            || self.name.chars().any(char::is_control)
        {
            return Some(format!(
                "Tệp đính kèm «{name}»: tên tệp phải có từ 1 đến {MAX_ATTACHMENT_NAME_CHARS} ký tự, không có ký tự điều khiển"
            ));
        }
        if !form.sections.iter().any(|s| s.id == self.section) {
            return Some(format!("Tệp đính kèm «{name}»: mẫu báo cáo không có mục «{}»", self.section));
        }
        None
    }
}

/// A file name as the phone gave it, made fit to keep: control characters out,
/// cut to [`MAX_ATTACHMENT_NAME_CHARS`], never empty.
pub fn attachment_name(raw: &str) -> String {
    let clean: String =
        raw.chars().filter(|c| !c.is_control()).take(MAX_ATTACHMENT_NAME_CHARS).collect::<String>().trim().to_string();
    if clean.is_empty() {
        "anh.jpg".to_string()
    } else {
        clean
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub key: ReportKey,
    pub form_id: String,
    pub status: ReportStatus,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::form::values_schema))]
    pub values: Values,
    #[serde(default)]
    pub attachments: Vec<AttachmentRef>,
    /// The server's version; 0 for a report the server has never seen.
    pub version: u64,
    /// Set by the server (never the device clock) when last changed.
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub updated_by: Option<String>,
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    /// The first submission (server time): what timeliness is judged by, so a
    /// report returned for a correction is not made late by its reviewer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_submitted_at: Option<DateTime<Utc>>,
    /// Why a reviewer returned it (shown to the reporter, also offline).
    #[serde(default)]
    pub return_reason: Option<String>,
    /// When the first submission was made on the phone, by its own clock (the
    /// official's word, shown to the reviewer; `first_submitted_at`, the server's
    /// receipt, stays the official time). See [`Report::sent_offline_before`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_sent_on_device_at: Option<DateTime<Utc>>,
}

impl Report {
    pub fn new(key: ReportKey, form_id: &str) -> Report {
        Report {
            key,
            form_id: form_id.to_string(),
            status: ReportStatus::Draft,
            values: Values::new(),
            attachments: Vec::new(),
            version: 0,
            updated_at: None,
            updated_by: None,
            submitted_at: None,
            first_submitted_at: None,
            first_sent_on_device_at: None,
            return_reason: None,
        }
    }

    /// Late by the server's receipt, but sent from the phone before `deadline` by
    /// the phone's clock (the commune had no signal): the reviewer decides. The
    /// time on a phone can be wrong or set back, so this is a note for a person,
    /// never a status: the dashboard counts the report as late.
    pub fn sent_offline_before(&self, deadline: DateTime<chrono::FixedOffset>) -> Option<DateTime<Utc>> {
        let received = self.first_submitted_at.or(self.submitted_at)?;
        let sent = self.first_sent_on_device_at?;
        (received >= deadline && sent < deadline).then_some(sent)
    }

    pub fn id(&self) -> String {
        self.key.id()
    }

    pub fn value(&self, field: &str) -> &str {
        self.values.get(field).map(String::as_str).unwrap_or("")
    }

    /// Sets (or with "" clears) fields; empty values are not stored.
    pub fn apply_changes(&mut self, changes: &Values) {
        apply_set(&mut self.values, changes);
    }

    pub fn apply_attachments(&mut self, attach: &[AttachmentRef], detach: &[String]) {
        self.attachments.retain(|a| !detach.contains(&a.id));
        for a in attach {
            if !self.attachments.iter().any(|x| x.id == a.id) {
                self.attachments.push(a.clone());
            }
        }
    }
}

/// The fields whose values differ between `from` and `to`, as the changes that
/// turn one into the other ("" for a cleared field).
/// What a save's `set` does to the values: a value sets its field, "" clears it
/// (empty values are not stored). The server replays these to show a report's
/// history, so the phone, the server and the history agree.
pub fn apply_set(values: &mut Values, set: &Values) {
    for (field, value) in set {
        if value.is_empty() {
            values.remove(field);
        } else {
            values.insert(field.clone(), value.clone());
        }
    }
}

pub fn diff(from: &Values, to: &Values) -> Values {
    let keys: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let a = from.get(k).map(String::as_str).unwrap_or("");
            let b = to.get(k).map(String::as_str).unwrap_or("");
            (a != b).then(|| (k.clone(), b.to_string()))
        })
        .collect()
}

/// A field both sides changed to different values: the person chooses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldConflict {
    pub field: String,
    pub base: String,
    pub mine: String,
    pub theirs: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Merge {
    /// Every field changed on one side only, and every field both changed alike.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::form::values_schema))]
    pub merged: Values,
    /// Fields both sides changed differently; `merged` holds theirs for these until
    /// the person chooses.
    pub conflicts: Vec<FieldConflict>,
}

/// Field-level three-way merge of two edits of the same `base`.
pub fn merge3(base: &Values, mine: &Values, theirs: &Values) -> Merge {
    let get = |v: &Values, k: &str| v.get(k).cloned().unwrap_or_default();
    let keys: BTreeSet<&String> = base.keys().chain(mine.keys()).chain(theirs.keys()).collect();
    let mut merged = Values::new();
    let mut conflicts = Vec::new();
    for k in keys {
        let (b, m, t) = (get(base, k), get(mine, k), get(theirs, k));
        let value = if m == t || m == b {
            t
        } else if t == b {
            m
        } else {
            conflicts.push(FieldConflict { field: k.clone(), base: b, mine: m, theirs: t.clone() });
            t
        };
        if !value.is_empty() {
            merged.insert(k.clone(), value);
        }
    }
    Merge { merged, conflicts }
}

/// Attachments merge as sets: whatever either side added stays, whatever either
/// side removed goes. Nothing to choose, so never a conflict.
pub fn merge_attachments(
    base: &[AttachmentRef],
    mine: &[AttachmentRef],
    theirs: &[AttachmentRef],
) -> Vec<AttachmentRef> {
    let in_list = |list: &[AttachmentRef], id: &str| list.iter().any(|a| a.id == id);
    let mut out: Vec<AttachmentRef> =
        theirs.iter().filter(|a| !in_list(base, &a.id) || in_list(mine, &a.id)).cloned().collect();
    for a in mine {
        if !in_list(base, &a.id) && !in_list(&out, &a.id) {
            out.push(a.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pairs: &[(&str, &str)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn report_ids_come_from_the_key() {
        let key =
            ReportKey { plan_id: "p".into(), unit_id: "kontum.x".into(), period: Period::month(2024, 3).unwrap() };
        assert_eq!(key.id(), "p~kontum.x~2024-03");
        assert_eq!(key.period_kind(), PeriodKind::Month);
        assert_eq!(ReportKey::parse_id(&key.id()), Some(key));
        assert_eq!(ReportKey::parse_id("p~u"), None);
        assert_eq!(ReportKey::parse_id("p~u~2024-13"), None);
        assert_eq!(ReportKey::parse_id("p~u~2024~x"), None);
    }

    #[test]
    fn only_drafts_and_returned_reports_are_editable() {
        assert!(ReportStatus::Draft.is_editable());
        assert!(ReportStatus::Returned.is_editable());
        assert!(!ReportStatus::Submitted.is_editable());
        assert!(!ReportStatus::Accepted.is_editable());
        for s in [ReportStatus::Draft, ReportStatus::Submitted, ReportStatus::Returned, ReportStatus::Accepted] {
            assert_eq!(ReportStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn merge_takes_each_sides_own_changes() {
        let base = v(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let mine = v(&[("a", "10"), ("b", "2"), ("c", "3"), ("d", "mới")]);
        let theirs = v(&[("a", "1"), ("b", "20"), ("c", "3")]);
        let m = merge3(&base, &mine, &theirs);
        assert_eq!(m.merged, v(&[("a", "10"), ("b", "20"), ("c", "3"), ("d", "mới")]));
        assert!(m.conflicts.is_empty());
    }

    #[test]
    fn merge_reports_overlaps_and_keeps_both_values() {
        let base = v(&[("a", "1")]);
        let mine = v(&[("a", "2"), ("x", "same")]);
        let theirs = v(&[("a", "3"), ("x", "same")]);
        let m = merge3(&base, &mine, &theirs);
        assert_eq!(
            m.conflicts,
            [FieldConflict { field: "a".into(), base: "1".into(), mine: "2".into(), theirs: "3".into() }]
        );
        assert_eq!(m.merged.get("x").map(String::as_str), Some("same"));
    }

    #[test]
    fn clearing_is_a_change_too() {
        let base = v(&[("a", "1"), ("b", "1")]);
        let m = merge3(&base, &v(&[("b", "1")]), &v(&[("a", "1"), ("b", "2")]));
        assert_eq!(m.merged, v(&[("b", "2")]));
        let m = merge3(&base, &v(&[("b", "1")]), &v(&[("a", "5"), ("b", "1")]));
        assert_eq!(m.conflicts.len(), 1);
        assert_eq!(m.conflicts[0].mine, "");
    }

    #[test]
    fn diff_lists_changed_and_cleared_fields() {
        let d = diff(&v(&[("a", "1"), ("b", "2")]), &v(&[("a", "1"), ("c", "3")]));
        assert_eq!(d, v(&[("b", ""), ("c", "3")]));
        let mut r = Report::new(
            ReportKey { plan_id: "p".into(), unit_id: "u".into(), period: Period::year(2024).unwrap() },
            "f",
        );
        r.values = v(&[("a", "1"), ("b", "2")]);
        r.apply_changes(&d);
        assert_eq!(r.values, v(&[("a", "1"), ("c", "3")]));
    }

    #[test]
    fn attachments_merge_as_sets() {
        let a = |id: &str| AttachmentRef {
            id: id.into(),
            section: "II.1".into(),
            name: format!("{id}.jpg"),
            mime: "image/jpeg".into(),
            size: 1,
            sha256: "00".into(),
        };
        let base = [a("1"), a("2")];
        let mine = [a("1"), a("3")]; // removed 2, added 3
        let theirs = [a("1"), a("2"), a("4")]; // added 4
        let ids: Vec<String> = merge_attachments(&base, &mine, &theirs).into_iter().map(|x| x.id).collect();
        assert_eq!(ids, ["1", "4", "3"]);
    }

    #[test]
    fn a_report_sent_offline_before_its_deadline_is_noted_not_excused() {
        let period = crate::Period::Month { year: 2024, month: 3 };
        let key = ReportKey { plan_id: "p".into(), unit_id: "u".into(), period };
        let mut r = Report::new(key, "f");
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        r.first_submitted_at = Some(t("2024-03-16T08:00:00+07:00"));
        r.first_sent_on_device_at = Some(t("2024-03-14T22:00:00+07:00"));
        assert_eq!(r.sent_offline_before(period.deadline()), Some(t("2024-03-14T22:00:00+07:00")));
        r.first_sent_on_device_at = Some(t("2024-03-15T07:00:00+07:00"));
        assert_eq!(r.sent_offline_before(period.deadline()), None, "sent after the deadline too");
        r.first_submitted_at = Some(t("2024-03-14T23:00:00+07:00"));
        r.first_sent_on_device_at = Some(t("2024-03-14T22:00:00+07:00"));
        assert_eq!(r.sent_offline_before(period.deadline()), None, "received on time: nothing to note");
    }
}
