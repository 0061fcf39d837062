//! Report forms as data: which sections a report has, which fields each section
//! holds, and the validation rules over them. The same definition (and the same
//! `validate` below) runs in the app on the phone and on the server, so a report the
//! phone accepts is a report the server accepts.
//!
//! Values are kept exactly as typed (text), never coerced: a draft with "12a" in a
//! number field is still saved and synced, nothing the person typed is lost; it only
//! cannot be submitted until it is fixed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a person typed, by field id. An absent key and an empty string mean the same.
pub type Values = BTreeMap<String, String>;

/// [`Values`] in the API description: an object of strings (a type alias has no
/// schema of its own).
#[cfg(feature = "openapi")]
pub fn values_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(
            ObjectBuilder::new().schema_type(Type::String).build().into(),
        )))
        .description(Some("Field id → value exactly as typed (\"\" clears the field)."))
        .build()
}

/// Upper bound for a count; anything larger is a typing mistake.
pub const MAX_COUNT: u64 = 1_000_000_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReportForm {
    pub id: String,
    pub plan_id: String,
    pub title: String,
    pub title_en: String,
    pub sections: Vec<FormSection>,
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FormSection {
    /// `II.1` … `II.7` for the plan's content items, a word for the closing sections.
    pub id: String,
    /// The plan item this section reports on, when it is one.
    #[serde(default)]
    pub plan_item: Option<String>,
    pub title: String,
    pub title_en: String,
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Field {
    /// Stable across form versions: stored reports refer to it.
    pub id: String,
    pub label: String,
    pub label_en: String,
    pub kind: FieldKind,
    /// Must be filled before the report can be submitted (0 is a value).
    #[serde(default)]
    pub required: bool,
    /// Which yearly/monthly reports ask for it; empty = both.
    #[serde(default)]
    pub only: Option<PeriodKind>,
    /// Taken out of the form in a later version: no longer asked for, but reports
    /// filed with a value keep it and show it (a field is never deleted, so a form
    /// change cannot invalidate what was filed).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Year,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A non-negative whole number (sessions, participants, petitions, …).
    Count,
    /// Free text, several lines.
    Text {
        #[cfg_attr(feature = "openapi", schema(maximum = 4294967295_i64))]
        max_chars: u32,
    },
}

/// A rule between two fields, checked when both hold valid numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `field` ≤ `limit` (resolved ≤ received, "of which" ≤ total).
    NotMoreThan { field: String, limit: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Issue {
    pub field: String,
    pub kind: IssueKind,
    pub message: String,
    pub message_en: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// Not a field of this form (stale app or a forged request).
    UnknownField,
    TooLong,
    NotANumber,
    Negative,
    TooLarge,
    Required,
    /// Breaks a `NotMoreThan` rule; `limit` is the other field.
    Exceeds {
        limit: String,
    },
}

impl IssueKind {
    /// Issues the server refuses even in a draft. Everything else is kept in the
    /// draft as typed and only blocks submitting.
    pub fn blocks_saving(&self) -> bool {
        matches!(self, IssueKind::UnknownField | IssueKind::TooLong)
    }
}

/// How far the report is going: a draft is checked for format only, a submission
/// also for required fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Draft,
    Submit,
}

impl ReportForm {
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.sections.iter().flat_map(|s| s.fields.iter())
    }

    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields().find(|f| f.id == id)
    }

    /// The fields a report of this period kind asks for.
    pub fn fields_for(&self, kind: PeriodKind) -> impl Iterator<Item = &Field> {
        self.fields().filter(move |f| f.applies_to(kind))
    }

    /// Whether `self` may replace `previous` as the next version of a plan's form:
    /// every field of `previous` is still there (retired at most) with the same
    /// kind, and a text limit only grows. Values already filed then stay valid.
    pub fn check_evolution(&self, previous: &ReportForm) -> Result<(), String> {
        for old in previous.fields() {
            let Some(new) = self.field(&old.id) else {
                return Err(format!(
                    "trường «{}» ({}) của phiên bản trước không được xoá (có thể ngừng sử dụng)",
                    old.label, old.id
                ));
            };
            let compatible = match (old.kind, new.kind) {
                (FieldKind::Count, FieldKind::Count) => true,
                (FieldKind::Text { max_chars: a }, FieldKind::Text { max_chars: b }) => b >= a,
                _ => false,
            };
            if !compatible {
                return Err(format!(
                    "trường «{}» ({}) không được đổi kiểu hoặc giảm độ dài tối đa: báo cáo đã nộp phải còn hợp lệ",
                    old.label, old.id
                ));
            }
        }
        Ok(())
    }

    /// Checks the definition itself (unique ids, rules naming count fields).
    pub fn check_definition(&self) -> Result<(), String> {
        let mut seen = std::collections::HashSet::new();
        for f in self.fields() {
            if !seen.insert(f.id.as_str()) {
                return Err(format!("trường {} bị trùng", f.id));
            }
        }
        for rule in &self.rules {
            let Rule::NotMoreThan { field, limit } = rule;
            for id in [field, limit] {
                match self.field(id) {
                    Some(f) if f.kind == FieldKind::Count => {}
                    _ => return Err(format!("quy tắc nhắc đến {id}, không phải trường số")),
                }
            }
        }
        Ok(())
    }

    /// Every problem with `values` for a report of `kind` at `stage`, in form order.
    pub fn validate(&self, values: &Values, kind: PeriodKind, stage: Stage) -> Vec<Issue> {
        let mut issues = Vec::new();
        for (id, value) in values {
            if self.field(id).is_none() && !value.is_empty() {
                issues.push(Issue {
                    field: id.clone(),
                    kind: IssueKind::UnknownField,
                    message: format!("Trường «{id}» không có trong mẫu báo cáo"),
                    message_en: format!("Field «{id}» is not part of the form"),
                });
            }
        }
        for field in self.fields_for(kind) {
            let raw = values.get(&field.id).map(String::as_str).unwrap_or("");
            if let Some(issue) = field.check(raw, stage) {
                issues.push(issue);
            }
        }
        for rule in &self.rules {
            let Rule::NotMoreThan { field, limit } = rule;
            let (Some(f), Some(l)) = (self.field(field), self.field(limit)) else { continue };
            if !f.applies_to(kind) || !l.applies_to(kind) {
                continue;
            }
            let value = values.get(field).and_then(|v| parse_count(v).ok().flatten());
            let max = values.get(limit).and_then(|v| parse_count(v).ok().flatten());
            if let (Some(value), Some(max)) = (value, max) {
                if value > max {
                    issues.push(Issue {
                        field: field.clone(),
                        kind: IssueKind::Exceeds { limit: limit.clone() },
                        message: format!("Không được lớn hơn «{}» ({max})", l.label),
                        message_en: format!("Must not exceed «{}» ({max})", l.label_en),
                    });
                }
            }
        }
        issues
    }
}

impl Field {
    pub fn applies_to(&self, kind: PeriodKind) -> bool {
        !self.retired && self.only.is_none_or(|only| only == kind)
    }

    fn issue(&self, kind: IssueKind, message: String, message_en: String) -> Issue {
        Issue { field: self.id.clone(), kind, message, message_en }
    }

    /// The problem with one value, if any.
    pub fn check(&self, raw: &str, stage: Stage) -> Option<Issue> {
        if raw.trim().is_empty() {
            return (stage == Stage::Submit && self.required).then(|| {
                self.issue(IssueKind::Required, "Cần nhập trước khi gửi".into(), "Required before submitting".into())
            });
        }
        match self.kind {
            FieldKind::Text { max_chars } => {
                let n = raw.chars().count();
                (n > max_chars as usize).then(|| {
                    self.issue(
                        IssueKind::TooLong,
                        format!("Dài quá {max_chars} ký tự (đang có {n})"),
                        format!("Longer than {max_chars} characters ({n})"),
                    )
                })
            }
            FieldKind::Count => match parse_count(raw) {
                Ok(_) => None,
                Err(kind) => Some(match kind {
                    IssueKind::Negative => {
                        self.issue(kind, "Không được là số âm".into(), "Must not be negative".into())
                    }
                    IssueKind::TooLarge => self.issue(kind, "Số quá lớn".into(), "Number too large".into()),
                    IssueKind::TooLong => self.issue(kind, "Quá dài".into(), "Too long".into()),
                    _ => self.issue(
                        IssueKind::NotANumber,
                        "Nhập số nguyên không âm, ví dụ 12".into(),
                        "Enter a whole number, e.g. 12".into(),
                    ),
                }),
            },
        }
    }
}

/// Reads a count as typed: surrounding spaces ignored, digits only. `Ok(None)` for
/// an empty value.
pub fn parse_count(raw: &str) -> Result<Option<u64>, IssueKind> {
    let t = raw.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() > 32 {
        return Err(IssueKind::TooLong);
    }
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(IssueKind::NotANumber);
    }
    if negative && digits.bytes().any(|b| b != b'0') {
        return Err(IssueKind::Negative);
    }
    match digits.parse::<u64>() {
        Ok(n) if n <= MAX_COUNT => Ok(Some(n)),
        _ => Err(IssueKind::TooLarge),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ReportForm {
        let count = |id: &str, required| Field {
            id: id.into(),
            label: id.to_uppercase(),
            label_en: id.into(),
            kind: FieldKind::Count,
            required,
            only: None,
            retired: false,
        };
        ReportForm {
            id: "f".into(),
            plan_id: "p".into(),
            title: "t".into(),
            title_en: "t".into(),
            sections: vec![FormSection {
                id: "II.6".into(),
                plan_item: Some("II.6".into()),
                title: "s".into(),
                title_en: "s".into(),
                fields: vec![
                    count("received", true),
                    count("resolved", true),
                    Field {
                        id: "notes".into(),
                        label: "Ghi chú".into(),
                        label_en: "Notes".into(),
                        kind: FieldKind::Text { max_chars: 10 },
                        required: false,
                        only: None,
                        retired: false,
                    },
                    Field { only: Some(PeriodKind::Year), ..count("yearly", true) },
                ],
            }],
            rules: vec![Rule::NotMoreThan { field: "resolved".into(), limit: "received".into() }],
        }
    }

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn kinds(issues: &[Issue]) -> Vec<(&str, &IssueKind)> {
        issues.iter().map(|i| (i.field.as_str(), &i.kind)).collect()
    }

    #[test]
    fn counts_are_parsed_strictly() {
        assert_eq!(parse_count(" 12 "), Ok(Some(12)));
        assert_eq!(parse_count(""), Ok(None));
        assert_eq!(parse_count("0"), Ok(Some(0)));
        assert_eq!(parse_count("-0"), Ok(Some(0)));
        assert_eq!(parse_count("-3"), Err(IssueKind::Negative));
        assert_eq!(parse_count("1.5"), Err(IssueKind::NotANumber));
        assert_eq!(parse_count("12a"), Err(IssueKind::NotANumber));
        assert_eq!(parse_count("+1"), Err(IssueKind::NotANumber));
        assert_eq!(parse_count("1000000001"), Err(IssueKind::TooLarge));
    }

    #[test]
    fn a_draft_only_reports_format_problems() {
        let f = form();
        assert!(f.validate(&values(&[]), PeriodKind::Month, Stage::Draft).is_empty());
        let issues = f.validate(&values(&[("received", "abc")]), PeriodKind::Month, Stage::Draft);
        assert_eq!(kinds(&issues), [("received", &IssueKind::NotANumber)]);
        assert!(!issues[0].kind.blocks_saving());
    }

    #[test]
    fn submitting_needs_required_fields_of_the_period_kind() {
        let f = form();
        let month = f.validate(&values(&[("received", "0")]), PeriodKind::Month, Stage::Submit);
        assert_eq!(kinds(&month), [("resolved", &IssueKind::Required)]);
        let year = f.validate(&values(&[("received", "0"), ("resolved", "0")]), PeriodKind::Year, Stage::Submit);
        assert_eq!(kinds(&year), [("yearly", &IssueKind::Required)]);
    }

    #[test]
    fn resolved_may_not_exceed_received() {
        let f = form();
        let issues = f.validate(&values(&[("received", "3"), ("resolved", "4")]), PeriodKind::Month, Stage::Draft);
        assert_eq!(kinds(&issues), [("resolved", &IssueKind::Exceeds { limit: "received".into() })]);
        assert!(issues[0].message.contains("RECEIVED"));
        assert!(f
            .validate(&values(&[("received", "4"), ("resolved", "4")]), PeriodKind::Month, Stage::Draft)
            .is_empty());
    }

    #[test]
    fn unknown_fields_and_long_text_block_saving() {
        let f = form();
        let issues =
            f.validate(&values(&[("nope", "1"), ("notes", "ơ".repeat(11).as_str())]), PeriodKind::Month, Stage::Draft);
        assert_eq!(kinds(&issues), [("nope", &IssueKind::UnknownField), ("notes", &IssueKind::TooLong)]);
        assert!(issues.iter().all(|i| i.kind.blocks_saving()));
        // Ten Vietnamese characters are ten, not thirty bytes.
        assert!(f.validate(&values(&[("notes", "ơ".repeat(10).as_str())]), PeriodKind::Month, Stage::Draft).is_empty());
    }

    #[test]
    fn a_definition_with_a_rule_on_text_is_refused() {
        let mut f = form();
        assert_eq!(f.check_definition(), Ok(()));
        f.rules.push(Rule::NotMoreThan { field: "notes".into(), limit: "received".into() });
        assert!(f.check_definition().is_err());
    }

    #[test]
    fn a_retired_field_keeps_filed_values_and_is_no_longer_asked() {
        let mut next = form();
        next.sections[0].fields[3].retired = true;
        next.check_evolution(&form()).unwrap();
        let filed = values(&[("received", "3"), ("resolved", "2"), ("yearly", "")]);
        assert!(next.validate(&filed, PeriodKind::Year, Stage::Submit).is_empty(), "no longer required");
        let kept = values(&[("received", "3"), ("resolved", "2"), ("yearly", "7")]);
        assert!(next.validate(&kept, PeriodKind::Year, Stage::Submit).is_empty(), "an old value is not unknown");
        assert_eq!(next.fields_for(PeriodKind::Year).count(), 3);
    }

    #[test]
    fn a_new_version_may_not_drop_or_narrow_a_field() {
        let mut dropped = form();
        dropped.sections[0].fields.remove(0);
        let err = dropped.check_evolution(&form()).unwrap_err();
        assert!(err.contains("RECEIVED") && err.contains("không được xoá"), "{err}");
        let mut narrowed = form();
        narrowed.sections[0].fields[2].kind = FieldKind::Text { max_chars: 5 };
        assert!(narrowed.check_evolution(&form()).unwrap_err().contains("Ghi chú"));
        let mut retyped = form();
        retyped.sections[0].fields[0].kind = FieldKind::Text { max_chars: 100 };
        assert!(retyped.check_evolution(&form()).is_err());
        let mut grown = form();
        grown.sections[0].fields[2].kind = FieldKind::Text { max_chars: 500 };
        grown.sections[0].fields.push(Field { id: "added".into(), ..form().sections[0].fields[0].clone() });
        grown.check_evolution(&form()).unwrap();
    }
}
