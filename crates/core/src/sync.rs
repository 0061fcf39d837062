//! Sync messages (client ⇄ server) and the report state machine both sides run.
//!
//! Exactly-once: every mutation carries the device's client id and a sequential id.
//! The server applies each in its own transaction, stores the result under
//! (client, id) and moves the client's `last_mutation_id` in the same transaction,
//! so a retry after a lost response gets the stored answer instead of a second copy.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::form::{ReportForm, Stage, Values};
use crate::report::{AttachmentRef, Report, ReportKey, ReportStatus, MAX_ATTACHMENTS_PER_REPORT};

/// Bumped when the mutation format changes incompatibly; the server refuses
/// versions it does not know instead of misreading them.
pub const SYNC_SCHEMA_VERSION: u32 = 1;

/// Most mutations the server takes in one push; the client sends at most this many.
pub const MAX_PUSH_MUTATIONS: usize = 100;

/// Most changes in one pull page.
pub const PULL_PAGE: usize = 200;

/// Most report JSON in one pull page (before gzip; one report larger than this
/// still comes alone): a reviewer's first pull of long narratives arrives in
/// pages a 2G connection finishes (~40 KB gzipped each) instead of one that
/// times out and starts over.
pub const PULL_PAGE_BYTES: usize = 256 * 1024;

/// Longest return reason.
pub const MAX_REASON_CHARS: usize = 2000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushRequest {
    /// Made on the device: 1–64 ASCII letters, digits, `_` or `-` (400
    /// `invalid_client_id`).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub client_id: String,
    /// The server epoch the client last synced with (None before its first pull);
    /// another server's epoch is a 409 `epoch_mismatch`.
    #[serde(default)]
    pub epoch: Option<String>,
    /// [`SYNC_SCHEMA_VERSION`]; any other is a 400 `unsupported_schema`.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1))]
    pub schema_version: u32,
    /// At most [`MAX_PUSH_MUTATIONS`] (400 `too_many_mutations`). Each is checked
    /// on its own and answered in `results` (`rejected` with a code when it cannot
    /// apply): an unknown plan, a return reason over 2000 characters or more than 20
    /// attachments is a rejected mutation in a 200 answer, not a 400.
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub mutations: Vec<Mutation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mutation {
    /// 1, 2, 3, … per client, no gaps; stored as a 64-bit signed integer (400
    /// `invalid_mutation` beyond).
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 9223372036854775807_i64))]
    pub id: u64,
    pub key: ReportKey,
    /// The server version this edit was made on (0: the report was new here).
    #[cfg_attr(feature = "openapi", schema(maximum = 9223372036854775807_i64))]
    pub base_version: u64,
    pub op: MutationOp,
    /// FNV-1a of (key, base_version, op): a retry must be the same mutation.
    pub content_hash: String,
    /// When the official did it, by the phone's clock (set on "Gửi"): shown to the
    /// reviewer of a report that was sent offline before its deadline and reached
    /// the server after it. Never trusted alone, and not part of the content hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
        )
    )]
    pub device_time: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MutationOp {
    /// Field changes ("" clears a field) and attachment changes.
    Save {
        #[serde(default)]
        form_id: String,
        #[serde(default)]
        #[cfg_attr(feature = "openapi", schema(schema_with = crate::form::values_schema))]
        set: Values,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attach: Vec<AttachmentRef>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        detach: Vec<String>,
    },
    Submit,
    /// A reviewer sends it back with a reason (Trả lại): 1–2000 characters once
    /// trimmed, else the mutation is `rejected` (`invalid`).
    Return {
        reason: String,
    },
    /// A reviewer accepts it; it is read-only from then on.
    Accept,
}

impl MutationOp {
    pub fn name(&self) -> &'static str {
        match self {
            MutationOp::Save { .. } => "save",
            MutationOp::Submit => "submit",
            MutationOp::Return { .. } => "return",
            MutationOp::Accept => "accept",
        }
    }

    pub fn is_save(&self) -> bool {
        matches!(self, MutationOp::Save { .. })
    }

    /// Whether the op is the reporting unit's (save, submit) or a reviewer's.
    pub fn is_reporters(&self) -> bool {
        matches!(self, MutationOp::Save { .. } | MutationOp::Submit)
    }
}

impl Mutation {
    pub fn new(id: u64, key: ReportKey, base_version: u64, op: MutationOp) -> Mutation {
        let content_hash = content_hash(&key, base_version, &op);
        Mutation { id, key, base_version, op, content_hash, device_time: None }
    }

    pub fn expected_hash(&self) -> String {
        content_hash(&self.key, self.base_version, &self.op)
    }
}

/// FNV-1a 64 over the JSON of the mutation's content. Not a security measure (the
/// session authenticates); it catches a client that reuses an id for other content.
pub fn content_hash(key: &ReportKey, base_version: u64, op: &MutationOp) -> String {
    let json = serde_json::to_string(&(key, base_version, op)).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in json.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushResponse {
    pub epoch: String,
    /// The last mutation id of this client the server has recorded.
    pub last_mutation_id: u64,
    /// One per mutation processed, in order (replays included).
    pub results: Vec<MutationOutcome>,
    /// Set when the batch stopped early (`gap`): the client resends from
    /// `last_mutation_id + 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationOutcome {
    pub id: u64,
    pub result: MutationResult,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MutationResult {
    /// Applied; the report is now at `version`.
    Applied { version: u64 },
    /// The report changed on the server (another device) since `base_version`:
    /// here is the server copy to merge with.
    Conflict { server: Box<Report> },
    /// Never applicable (invalid, forbidden, wrong state); the queue moves on.
    Rejected { code: String, message: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullRequest {
    /// As in [`PushRequest::client_id`] (400 `invalid_client_id`).
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z0-9_-]{1,64}$"))]
    pub client_id: String,
    /// The last change seen (0 = everything); a 64-bit signed integer (400
    /// `invalid_cursor` beyond).
    #[cfg_attr(feature = "openapi", schema(maximum = 9223372036854775807_i64))]
    pub cursor: u64,
    #[serde(default)]
    pub epoch: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PullResponse {
    pub epoch: String,
    /// The client's epoch is not this server's (database restored or replaced): the
    /// changes are a full snapshot from cursor 0 and the client must rebuild.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reset: bool,
    pub changes: Vec<Report>,
    pub cursor: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub has_more: bool,
    /// Moves when the server's units, plans or forms change: the app then
    /// downloads them again (0 from a server that does not say).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub catalog_version: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// [`Revision`](crate::api::Revision)'s `op`: the names [`MutationOp::name`] gives.
#[cfg(feature = "openapi")]
pub fn op_name_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(["save", "submit", "return", "accept"]))
        .build()
}

/// The refusal code of a change to a report that is not editable now (submitted
/// or accepted): unlike the others, it may apply once the report is returned.
pub const CODE_NOT_EDITABLE: &str = "not_editable";

/// Why a mutation cannot apply, as the result's `code` and a Vietnamese message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

impl Rejection {
    fn new(code: &'static str, message: impl Into<String>) -> Rejection {
        Rejection { code, message: message.into() }
    }

    pub fn into_result(self) -> MutationResult {
        MutationResult::Rejected { code: self.code.to_string(), message: self.message }
    }
}

/// Applies `op` to `report` (status rules, validation), as the server does and as
/// the app does optimistically. `now` is the server's clock on the server; the app
/// passes its own only for display until the server's copy arrives.
pub fn apply_op(report: &mut Report, op: &MutationOp, form: &ReportForm, now: DateTime<Utc>) -> Result<(), Rejection> {
    let kind = report.key.period_kind();
    match op {
        MutationOp::Save { set, attach, detach, .. } => {
            if !report.status.is_editable() {
                return Err(Rejection::new(
                    CODE_NOT_EDITABLE,
                    format!("Báo cáo đang ở trạng thái «{}», không sửa được", report.status.label_vi()),
                ));
            }
            let blocking: Vec<_> =
                form.validate(set, kind, Stage::Draft).into_iter().filter(|i| i.kind.blocks_saving()).collect();
            if let Some(issue) = blocking.first() {
                return Err(Rejection::new("invalid", format!("{}: {}", issue.field, issue.message)));
            }
            if let Some(problem) = attach.iter().find_map(|a| a.problem(form)) {
                return Err(Rejection::new("invalid", problem));
            }
            if detach.iter().any(|id| !crate::report::is_plain_id(id)) {
                return Err(Rejection::new("invalid", "Mã tệp đính kèm cần gỡ không hợp lệ"));
            }
            report.apply_changes(set);
            report.apply_attachments(attach, detach);
            if report.attachments.len() > MAX_ATTACHMENTS_PER_REPORT {
                return Err(Rejection::new(
                    "invalid",
                    format!("Tối đa {MAX_ATTACHMENTS_PER_REPORT} tệp đính kèm cho một báo cáo"),
                ));
            }
        }
        MutationOp::Submit => {
            if !report.status.is_editable() {
                return Err(Rejection::new(
                    CODE_NOT_EDITABLE,
                    format!("Báo cáo đang ở trạng thái «{}», không gửi lại được", report.status.label_vi()),
                ));
            }
            let issues = form.validate(&report.values, kind, Stage::Submit);
            if let Some(issue) = issues.first() {
                let label = form.field(&issue.field).map(|f| f.label.as_str()).unwrap_or(&issue.field);
                return Err(Rejection::new(
                    "invalid",
                    format!("Chưa gửi được: «{label}» — {} ({} lỗi)", issue.message, issues.len()),
                ));
            }
            report.status = ReportStatus::Submitted;
            report.submitted_at = Some(now);
            report.first_submitted_at.get_or_insert(now);
        }
        MutationOp::Return { reason } => {
            if report.status != ReportStatus::Submitted {
                return Err(Rejection::new("wrong_status", "Chỉ trả lại được báo cáo đã gửi"));
            }
            let reason = reason.trim();
            if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
                return Err(Rejection::new("invalid", "Cần ghi lý do trả lại (tối đa 2000 ký tự)"));
            }
            report.status = ReportStatus::Returned;
            report.return_reason = Some(reason.to_string());
        }
        MutationOp::Accept => {
            if report.status != ReportStatus::Submitted {
                return Err(Rejection::new("wrong_status", "Chỉ tiếp nhận được báo cáo đã gửi"));
            }
            report.status = ReportStatus::Accepted;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::{Field, FieldKind, FormSection};
    use crate::Period;

    fn form() -> ReportForm {
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
                fields: vec![Field {
                    id: "n".into(),
                    label: "Số buổi".into(),
                    label_en: "Sessions".into(),
                    kind: FieldKind::Count,
                    required: true,
                    only: None,
                    retired: false,
                }],
            }],
            rules: vec![],
        }
    }

    fn report() -> Report {
        Report::new(
            ReportKey { plan_id: "p".into(), unit_id: "u".into(), period: Period::month(2024, 3).unwrap() },
            "f",
        )
    }

    fn save(pairs: &[(&str, &str)]) -> MutationOp {
        MutationOp::Save {
            form_id: "f".into(),
            set: pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            attach: vec![],
            detach: vec![],
        }
    }

    #[test]
    fn attachment_references_are_checked_before_they_are_kept() {
        let f = form();
        let good = AttachmentRef {
            id: "a1b2c3".into(),
            section: "s".into(),
            name: "ảnh buổi tiếp dân.jpg".into(),
            mime: "image/jpeg".into(),
            size: 1000,
            sha256: "ab".repeat(32),
        };
        let attach = |a: AttachmentRef| MutationOp::Save {
            form_id: "f".into(),
            set: Values::new(),
            attach: vec![a],
            detach: vec![],
        };
        let mut r = report();
        assert_eq!(apply_op(&mut r, &attach(good.clone()), &f, Utc::now()), Ok(()));
        assert_eq!(r.attachments, vec![good.clone()]);
        let bad = [
            AttachmentRef { id: "../../admin".into(), ..good.clone() },
            AttachmentRef { id: "".into(), ..good.clone() },
            AttachmentRef { id: "x".repeat(65), ..good.clone() },
            AttachmentRef { mime: "text/html".into(), ..good.clone() },
            AttachmentRef { mime: "image/svg+xml".into(), ..good.clone() },
            AttachmentRef { sha256: "AB".repeat(32), ..good.clone() },
            AttachmentRef { sha256: "ab".repeat(31), ..good.clone() },
            AttachmentRef { sha256: "zz".repeat(32), ..good.clone() },
            AttachmentRef { name: "x".repeat(201), ..good.clone() },
            AttachmentRef { name: " ".into(), ..good.clone() },
            AttachmentRef { name: "a\u{0}b.jpg".into(), ..good.clone() },
            AttachmentRef { section: "khong-co".into(), ..good.clone() },
            AttachmentRef { size: 0, ..good.clone() },
            AttachmentRef { size: crate::report::MAX_ATTACHMENT_BYTES + 1, ..good.clone() },
        ];
        for a in bad {
            let mut r = report();
            let err = apply_op(&mut r, &attach(a.clone()), &f, Utc::now()).unwrap_err();
            assert_eq!(err.code, "invalid", "{a:?}");
            assert!(err.message.starts_with("Tệp đính kèm"), "{}", err.message);
            assert!(r.attachments.is_empty());
        }
        let ok_name = AttachmentRef { name: "x".repeat(200), ..good.clone() };
        assert_eq!(ok_name.problem(&f), None);
        let detach =
            MutationOp::Save { form_id: "f".into(), set: Values::new(), attach: vec![], detach: vec!["a/b".into()] };
        assert_eq!(apply_op(&mut report(), &detach, &f, Utc::now()).unwrap_err().code, "invalid");
        assert_eq!(crate::report::attachment_name(&format!("{}\u{7}", "ả".repeat(250))).chars().count(), 200);
        assert_eq!(crate::report::attachment_name("\u{1b}  "), "anh.jpg");
    }

    #[test]
    fn the_whole_life_of_a_report() {
        let f = form();
        let now = Utc::now();
        let mut r = report();
        assert_eq!(apply_op(&mut r, &MutationOp::Submit, &f, now).unwrap_err().code, "invalid");
        apply_op(&mut r, &save(&[("n", "abc")]), &f, now).unwrap();
        assert_eq!(r.value("n"), "abc", "a draft keeps what was typed");
        assert_eq!(apply_op(&mut r, &MutationOp::Submit, &f, now).unwrap_err().code, "invalid");
        apply_op(&mut r, &save(&[("n", "4")]), &f, now).unwrap();
        apply_op(&mut r, &MutationOp::Submit, &f, now).unwrap();
        assert_eq!(r.status, ReportStatus::Submitted);
        assert_eq!(apply_op(&mut r, &save(&[("n", "5")]), &f, now).unwrap_err().code, CODE_NOT_EDITABLE);
        assert_eq!(apply_op(&mut r, &MutationOp::Return { reason: "  ".into() }, &f, now).unwrap_err().code, "invalid");
        apply_op(&mut r, &MutationOp::Return { reason: "Thiếu số liệu".into() }, &f, now).unwrap();
        assert_eq!(r.status, ReportStatus::Returned);
        apply_op(&mut r, &save(&[("n", "5")]), &f, now).unwrap();
        apply_op(&mut r, &MutationOp::Submit, &f, now).unwrap();
        apply_op(&mut r, &MutationOp::Accept, &f, now).unwrap();
        assert_eq!(r.status, ReportStatus::Accepted);
        for op in [save(&[("n", "6")]), MutationOp::Submit, MutationOp::Accept] {
            assert!(apply_op(&mut r, &op, &f, now).is_err());
        }
        assert_eq!(r.value("n"), "5");
    }

    #[test]
    fn saving_unknown_fields_is_rejected_without_changing_anything() {
        let mut r = report();
        let err = apply_op(&mut r, &save(&[("n", "1"), ("zz", "x")]), &form(), Utc::now()).unwrap_err();
        assert_eq!(err.code, "invalid");
        assert!(r.values.is_empty());
    }

    #[test]
    fn the_hash_covers_the_content() {
        let key = report().key;
        let a = Mutation::new(1, key.clone(), 0, save(&[("n", "1")]));
        let b = Mutation::new(1, key, 0, save(&[("n", "2")]));
        assert_ne!(a.content_hash, b.content_hash);
        assert_eq!(a.content_hash, a.expected_hash());
    }

    #[test]
    fn messages_have_a_stable_json_shape() {
        let m = Mutation::new(3, report().key, 2, MutationOp::Submit);
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["op"], "submit");
        assert_eq!(json["key"]["period"], "2024-03");
        let r = MutationResult::Applied { version: 4 };
        assert_eq!(serde_json::to_string(&r).unwrap(), r#"{"applied":{"version":4}}"#);
        let empty = PullResponse {
            epoch: "e".into(),
            reset: false,
            changes: vec![],
            cursor: 9,
            has_more: false,
            catalog_version: 0,
        };
        assert_eq!(serde_json::to_string(&empty).unwrap(), r#"{"epoch":"e","changes":[],"cursor":9}"#);
    }
}
