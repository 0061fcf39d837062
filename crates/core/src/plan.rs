//! A plan (kế hoạch) as data: its items, who each applies to and by when. Next year's
//! plan, or another province's, is a new data file, not new code.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::form::PeriodKind;
use crate::period::{DateWindow, Period, WINDOW_START_DAY};
use crate::unit::{OrgUnit, UnitKind};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Plan {
    pub id: String,
    /// "413/KH-UBND"
    pub number: String,
    pub title: String,
    /// "Ủy ban nhân dân tỉnh Kon Tum"
    pub issued_by: String,
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
        )
    )]
    pub issued_on: NaiveDate,
    /// First day the plan applies; None: its issue date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
        )
    )]
    pub valid_from: Option<NaiveDate>,
    /// Last day the plan applies; None: 31/12 of the year it was issued (a yearly
    /// plan such as 413/KH-UBND "năm 2024").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
        )
    )]
    pub valid_to: Option<NaiveDate>,
    /// Published versions count from 1; a correction of a published plan is the
    /// next version (reports keep the version they were filed against).
    #[serde(default = "first_version")]
    #[cfg_attr(feature = "openapi", schema(maximum = 4294967295_i64))]
    pub version: u32,
    /// A plan made up for the demonstration, never a real document: the app says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub demo: bool,
    #[serde(default)]
    pub place: String,
    /// The preamble: the documents the plan implements.
    #[serde(default)]
    pub preamble: String,
    #[serde(default)]
    pub purposes: Vec<String>,
    #[serde(default)]
    pub requirements: Vec<String>,
    pub items: Vec<PlanItem>,
    #[serde(default)]
    pub closing: String,
    #[serde(default)]
    pub recipients: Vec<String>,
    #[serde(default)]
    pub signer: Option<Signer>,
}

fn first_version() -> u32 {
    1
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signer {
    /// e.g. ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    pub capacity: Vec<String>,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanItem {
    /// Stable id within the plan, e.g. "II.3".
    pub id: String,
    /// Section heading the item belongs to, e.g. "II. NỘI DUNG TRIỂN KHAI".
    pub section: String,
    /// "II.3"
    pub number: String,
    /// A short title for lists; the full text is in `body`.
    pub title: String,
    /// The item's full text, paragraphs separated by blank lines.
    pub body: String,
    pub assigned_to: Vec<Assignee>,
    pub obligations: Vec<Obligation>,
}

/// Something a unit must do under an item, with its deadline rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Obligation {
    /// Unique within the plan, e.g. "III.1.monthly-report".
    pub id: String,
    pub title: String,
    pub due: DueRule,
    /// Overrides the item's assignees when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_to: Option<Vec<Assignee>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// Every unit of a kind.
    Kind(UnitKind),
    /// One unit, by id.
    Unit(String),
}

impl Assignee {
    pub fn matches(&self, unit: &OrgUnit) -> bool {
        match self {
            Assignee::Kind(k) => *k == unit.kind,
            Assignee::Unit(id) => *id == unit.id,
        }
    }
}

/// Externally tagged in JSON (`"continuous"`, `{"monthly": {"before_day": 15}}`):
/// internally tagged enums make serde buffer every value, which costs the phone
/// kilobytes of download for no gain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DueRule {
    /// Once, by the end of this date (Vietnam time).
    Once {
        #[cfg_attr(
            feature = "openapi",
            schema(
                pattern = "^(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)-02-29)$"
            )
        )]
        date: NaiveDate,
    },
    /// Every month, before this day (Decree 09: 15).
    Monthly {
        #[cfg_attr(feature = "openapi", schema(maximum = 4294967295_i64))]
        before_day: u32,
    },
    /// Every year, before this day of this month (Decree 09: 15/12).
    Yearly {
        #[cfg_attr(feature = "openapi", schema(maximum = 4294967295_i64))]
        before_month: u32,
        #[cfg_attr(feature = "openapi", schema(maximum = 4294967295_i64))]
        before_day: u32,
    },
    /// An ongoing duty with no deadline of its own.
    Continuous,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("mục {0} bị trùng")]
    DuplicateItem(String),
    #[error("nghĩa vụ {0} bị trùng")]
    DuplicateObligation(String),
    #[error("mục {0} không có nghĩa vụ nào")]
    NoObligation(String),
    #[error("mục {0} không giao cho đơn vị nào")]
    NoAssignee(String),
    #[error("hạn của {0} không theo kỳ báo cáo của Nghị định 09 (trước ngày 15; năm: trước 15/12)")]
    UnsupportedRule(String),
    #[error("thời gian áp dụng của kế hoạch: ngày kết thúc {to} trước ngày bắt đầu {from}")]
    InvertedValidity { from: String, to: String },
    #[error("ngày ban hành và thời gian áp dụng phải trong các năm 1900–9999")]
    DateOutOfRange,
}

/// How long before a plan's issue date a unit's implementation plan (III.1) or a
/// "Dân vận khéo" decision may be dated: a unit may carry on work it began
/// under the previous year's plan, but a date years back is a typing mistake
/// (01/01/1900 from a date picker), and it would count in the wrong year.
pub const OBLIGATION_PAST_MARGIN_DAYS: i64 = 366;

impl Plan {
    /// Why `on` cannot be the date of a unit's document under this plan
    /// (Vietnamese, to follow the field's name), or None: never after `today`
    /// (Vietnam's date), never more than [`OBLIGATION_PAST_MARGIN_DAYS`] before
    /// the plan's issue date.
    pub fn obligation_date_problem(&self, on: NaiveDate, today: NaiveDate) -> Option<String> {
        let earliest = self.issued_on - chrono::Duration::days(OBLIGATION_PAST_MARGIN_DAYS);
        if on > today {
            return Some(format!("không được sau hôm nay ({})", crate::time::format_date(today)));
        }
        if on < earliest {
            return Some(format!(
                "không được trước {} (một năm trước ngày ban hành kế hoạch {})",
                crate::time::format_date(earliest),
                crate::time::format_date(self.issued_on)
            ));
        }
        None
    }

    /// Checks what the rest of the code relies on.
    pub fn validate(&self) -> Result<(), PlanError> {
        let v = self.validity();
        // Report periods exist for these years only (`Period::year`): beyond them
        // `periods()` made periods whose window is not a date (a panic on every
        // task list) and keys no report id can carry, and the obligation-date
        // check subtracted past chrono's first date (fuzz/fuzz_targets/plan_import.rs).
        if [self.issued_on, v.first, v.last].iter().any(|d| Period::year(chrono::Datelike::year(d)).is_err()) {
            return Err(PlanError::DateOutOfRange);
        }
        if v.last < v.first {
            return Err(PlanError::InvertedValidity {
                from: crate::time::format_date(v.first),
                to: crate::time::format_date(v.last),
            });
        }
        let mut items = std::collections::HashSet::new();
        let mut obligations = std::collections::HashSet::new();
        for item in &self.items {
            if !items.insert(&item.id) {
                return Err(PlanError::DuplicateItem(item.id.clone()));
            }
            if item.obligations.is_empty() {
                return Err(PlanError::NoObligation(item.id.clone()));
            }
            for o in &item.obligations {
                if !obligations.insert(&o.id) {
                    return Err(PlanError::DuplicateObligation(o.id.clone()));
                }
                if o.assigned_to.as_ref().unwrap_or(&item.assigned_to).is_empty() {
                    return Err(PlanError::NoAssignee(o.id.clone()));
                }
                let supported = match o.due {
                    DueRule::Monthly { before_day } => before_day == WINDOW_START_DAY,
                    DueRule::Yearly { before_month, before_day } => {
                        before_month == 12 && before_day == WINDOW_START_DAY
                    }
                    DueRule::Once { .. } | DueRule::Continuous => true,
                };
                if !supported {
                    return Err(PlanError::UnsupportedRule(o.id.clone()));
                }
            }
        }
        Ok(())
    }

    pub fn item(&self, id: &str) -> Option<&PlanItem> {
        self.items.iter().find(|i| i.id == id)
    }

    /// The days the plan applies: from its issue date (or `valid_from`) through the
    /// end of its year (or `valid_to`).
    pub fn validity(&self) -> DateWindow {
        let first = self.valid_from.unwrap_or(self.issued_on);
        let last = self.valid_to.unwrap_or_else(|| {
            NaiveDate::from_ymd_opt(chrono::Datelike::year(&self.issued_on), 12, 31).unwrap_or(first)
        });
        DateWindow { first, last }
    }

    /// Whether a report for `period` belongs to this plan: its deadline falls while
    /// the plan applies. For 413/KH-UBND (01/02/2024 – 31/12/2024) that is the
    /// months 02/2024 … 12/2024 and the year 2024; 01/2025 (due 14/01/2025) is not.
    pub fn covers(&self, period: &Period) -> bool {
        self.validity().contains(period.due_date())
    }

    /// Every period of `kind` the plan covers, oldest first.
    pub fn periods(&self, kind: PeriodKind) -> Vec<Period> {
        let v = self.validity();
        let mut p = match kind {
            PeriodKind::Month => Period::month_containing(v.first),
            PeriodKind::Year => Period::year_containing(v.first),
        };
        let mut out = Vec::new();
        // Bounded: a plan's validity is checked to be ordered, and periods advance.
        while p.due_date() <= v.last {
            if self.covers(&p) {
                out.push(p);
            }
            p = p.next();
        }
        out
    }

    /// Why a report of `unit` for `period` cannot exist under this plan, if it
    /// cannot: the period lies outside the plan's validity, or the unit did not
    /// exist when the period's report fell due (it closed, or opened later).
    pub fn report_problem(&self, unit: &OrgUnit, period: &Period) -> Option<String> {
        if !self.covers(period) {
            return Some(format!(
                "{} nằm ngoài thời gian áp dụng của kế hoạch {} ({})",
                period.label_vi(),
                self.number,
                self.validity_label()
            ));
        }
        if !unit.valid_on(period.due_date()) {
            return Some(format!(
                "{} không hoạt động vào hạn nộp {} ({}): báo cáo do đơn vị đang hoạt động lập",
                unit.name,
                period.label_vi().to_lowercase(),
                unit.validity_label_vi()
            ));
        }
        None
    }

    /// Whether the plan no longer applies on `today`.
    pub fn has_ended(&self, today: NaiveDate) -> bool {
        today > self.validity().last
    }

    /// Whether the plan does not apply yet on `today`.
    pub fn not_started(&self, today: NaiveDate) -> bool {
        today < self.validity().first
    }

    /// "01/02/2024 – 31/12/2024".
    pub fn validity_label(&self) -> String {
        let v = self.validity();
        format!("{} – {}", crate::time::format_date(v.first), crate::time::format_date(v.last))
    }
}

impl Obligation {
    pub fn applies_to(&self, item: &PlanItem, unit: &OrgUnit) -> bool {
        self.assigned_to.as_ref().unwrap_or(&item.assigned_to).iter().any(|a| a.matches(unit))
    }
}
