//! "Nhiệm vụ của tôi": the obligations a plan puts on one unit, each with its next
//! deadline. Computed by the same code on the server and, offline, on the phone.
//!
//! A plan applies for a time (`Plan::validity`): before it starts its tasks wait,
//! after it ends they are shown as ended with the record of each period, never as
//! overdue by a thousand days.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::aggregate::Timeliness;
use crate::period::{DateWindow, Period};
use crate::plan::{DueRule, Plan};
use crate::time::format_date;
use crate::unit::OrgUnit;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Task {
    pub plan_id: String,
    pub item_id: String,
    pub item_number: String,
    pub item_title: String,
    pub obligation_id: String,
    pub title: String,
    pub due: DueRule,
    /// The plan's validity, so the phone recomputes deadlines offline.
    pub valid: DateWindow,
    /// The next deadline on or after the reference date; None for continuous
    /// duties and once the plan has ended.
    pub next: Option<NextDeadline>,
    /// When a one-off obligation was met (III.1: the date of the unit's own
    /// implementation plan, once recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done_on: Option<NaiveDate>,
    /// For a periodic obligation of a plan that has ended: each period's outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub record: Vec<PeriodRecord>,
}

/// How one period's report went (filed on time, late, missing…).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodRecord {
    pub period: Period,
    pub state: Timeliness,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NextDeadline {
    /// The report period this deadline closes, for periodic reports.
    pub period: Option<Period>,
    /// The last day that is still on time.
    pub due_date: NaiveDate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    Continuous,
    Upcoming {
        days_left: i64,
    },
    DueToday,
    Overdue {
        days: i64,
    },
    /// A one-off obligation that has been met.
    Done {
        on: NaiveDate,
    },
    /// The plan has not started yet.
    NotStarted {
        starts: NaiveDate,
    },
    /// The plan ended on this day.
    Ended {
        on: NaiveDate,
    },
}

/// The next deadline of a rule as seen on `today` (a Vietnam calendar date), within
/// a plan that applies during `valid`.
pub fn next_deadline(rule: &DueRule, valid: &DateWindow, today: NaiveDate) -> Option<NextDeadline> {
    if today > valid.last {
        return None;
    }
    // Before the plan starts, its first period is the next one.
    let from = today.max(valid.first);
    let periodic =
        |p: Period| (p.due_date() <= valid.last).then(|| NextDeadline { period: Some(p), due_date: p.due_date() });
    match *rule {
        DueRule::Continuous => None,
        DueRule::Once { date } => Some(NextDeadline { period: None, due_date: date }),
        // Plan::validate guarantees the Decree 09 day, so the period containing
        // the day is the one whose report is due next; its deadline may fall after
        // the plan ends (the last days of December), then nothing more is due.
        DueRule::Monthly { .. } => periodic(Period::month_containing(from)),
        DueRule::Yearly { .. } => periodic(Period::year_containing(from)),
    }
}

/// Every obligation of `plan` that applies to `unit`, soonest deadline first and
/// continuous duties last, in plan order among equals. Nothing when the unit did
/// not exist while the plan applied (a commune closed in 2025 has no 2026 tasks).
pub fn tasks_for(plan: &Plan, unit: &OrgUnit, today: NaiveDate) -> Vec<Task> {
    let valid = plan.validity();
    if !unit.valid_during(valid.first, valid.last) {
        return Vec::new();
    }
    let mut tasks: Vec<Task> = plan
        .items
        .iter()
        .flat_map(|item| {
            item.obligations.iter().filter(|o| o.applies_to(item, unit)).map(move |o| Task {
                plan_id: plan.id.clone(),
                item_id: item.id.clone(),
                item_number: item.number.clone(),
                item_title: item.title.clone(),
                obligation_id: o.id.clone(),
                title: o.title.clone(),
                due: o.due,
                valid,
                next: next_deadline(&o.due, &valid, today),
                done_on: None,
                record: Vec::new(),
            })
        })
        .collect();
    sort_tasks(&mut tasks);
    tasks
}

/// Open tasks first, soonest deadline first; continuous duties after them, then
/// what is done or ended. Stable, so plan order is kept.
pub fn sort_tasks(tasks: &mut [Task]) {
    tasks.sort_by_key(|t| {
        let settled = t.done_on.is_some() || (t.next.is_none() && !matches!(t.due, DueRule::Continuous));
        (settled, t.next.as_ref().filter(|_| t.done_on.is_none()).map(|n| n.due_date).unwrap_or(NaiveDate::MAX))
    });
}

impl Task {
    pub fn status(&self, today: NaiveDate) -> TaskStatus {
        if let Some(on) = self.done_on {
            return TaskStatus::Done { on };
        }
        if today > self.valid.last {
            return TaskStatus::Ended { on: self.valid.last };
        }
        if today < self.valid.first {
            return TaskStatus::NotStarted { starts: self.valid.first };
        }
        match &self.next {
            None if self.is_periodic() => TaskStatus::Ended { on: self.valid.last },
            None => TaskStatus::Continuous,
            Some(n) => TaskStatus::for_due_date(n.due_date, today),
        }
    }

    /// Recomputes the next deadline for another day (the phone does this offline).
    pub fn refreshed(&self, today: NaiveDate) -> Task {
        Task { next: next_deadline(&self.due, &self.valid, today), ..self.clone() }
    }

    /// Whether the obligation is a report per period (monthly or yearly).
    pub fn is_periodic(&self) -> bool {
        matches!(self.due, DueRule::Monthly { .. } | DueRule::Yearly { .. })
    }
}

impl TaskStatus {
    /// Days left (or overdue) to `due` as seen on `today` (both Vietnam dates).
    pub fn for_due_date(due: NaiveDate, today: NaiveDate) -> TaskStatus {
        match (due - today).num_days() {
            0 => TaskStatus::DueToday,
            d if d > 0 => TaskStatus::Upcoming { days_left: d },
            d => TaskStatus::Overdue { days: -d },
        }
    }

    pub fn label_vi(&self) -> String {
        match *self {
            TaskStatus::Continuous => "Thường xuyên".into(),
            TaskStatus::DueToday => "Hạn chót hôm nay".into(),
            TaskStatus::Upcoming { days_left } => format!("Còn {days_left} ngày"),
            TaskStatus::Overdue { days } => format!("Quá hạn {days} ngày"),
            TaskStatus::Done { on } => format!("Đã thực hiện ({})", format_date(on)),
            TaskStatus::NotStarted { starts } => format!("Bắt đầu từ {}", format_date(starts)),
            TaskStatus::Ended { on } => format!("Đã kết thúc ({})", format_date(on)),
        }
    }

    pub fn label_en(&self) -> String {
        let days = |n: i64| if n == 1 { "1 day".to_string() } else { format!("{n} days") };
        match *self {
            TaskStatus::Continuous => "Ongoing".into(),
            TaskStatus::DueToday => "Due today".into(),
            TaskStatus::Upcoming { days_left } => format!("{} left", days(days_left)),
            TaskStatus::Overdue { days: d } => format!("{} overdue", days(d)),
            TaskStatus::Done { on } => format!("Done ({})", format_date(on)),
            TaskStatus::NotStarted { starts } => format!("Starts {}", format_date(starts)),
            TaskStatus::Ended { on } => format!("Ended ({})", format_date(on)),
        }
    }
}

impl NextDeadline {
    /// "Hạn: 14/03/2024 (trước 15/03/2024)" is too long on a phone; the due date
    /// alone is what officials write.
    pub fn label_vi(&self) -> String {
        format!("Hạn: {}", format_date(self.due_date))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Assignee, Obligation, PlanItem};
    use crate::unit::UnitKind;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn plan() -> Plan {
        let item = |id: &str, to: Vec<Assignee>, obligations: Vec<Obligation>| PlanItem {
            id: id.into(),
            section: "III".into(),
            number: id.into(),
            title: id.into(),
            body: String::new(),
            assigned_to: to,
            obligations,
        };
        let ob = |id: &str, due: DueRule| Obligation { id: id.into(), title: id.into(), due, assigned_to: None };
        Plan {
            id: "p".into(),
            number: "1/KH".into(),
            title: "t".into(),
            issued_by: "x".into(),
            issued_on: d(2024, 2, 1),
            valid_from: None,
            valid_to: None,
            version: 1,
            demo: false,
            place: String::new(),
            preamble: String::new(),
            purposes: vec![],
            requirements: vec![],
            closing: String::new(),
            recipients: vec![],
            signer: None,
            items: vec![
                item(
                    "II.1",
                    vec![Assignee::Kind(UnitKind::Commune), Assignee::Kind(UnitKind::District)],
                    vec![ob("II.1", DueRule::Continuous)],
                ),
                item(
                    "III.1",
                    vec![Assignee::Kind(UnitKind::District)],
                    vec![
                        ob("III.1.plan", DueRule::Once { date: d(2024, 2, 29) }),
                        ob("III.1.yearly", DueRule::Yearly { before_month: 12, before_day: 15 }),
                        Obligation {
                            assigned_to: Some(vec![
                                Assignee::Kind(UnitKind::District),
                                Assignee::Kind(UnitKind::Commune),
                            ]),
                            ..ob("III.1.monthly", DueRule::Monthly { before_day: 15 })
                        },
                    ],
                ),
                item("III.5", vec![Assignee::Unit("snv".into())], vec![ob("III.5", DueRule::Continuous)]),
            ],
        }
    }

    fn unit(id: &str, kind: UnitKind) -> OrgUnit {
        OrgUnit::new(id, id, id, kind, None)
    }

    #[test]
    fn district_tasks_sorted_by_next_deadline() {
        let p = plan();
        p.validate().unwrap();
        let tasks = tasks_for(&p, &unit("d", UnitKind::District), d(2024, 2, 20));
        let ids: Vec<_> = tasks.iter().map(|t| t.obligation_id.as_str()).collect();
        assert_eq!(ids, ["III.1.plan", "III.1.monthly", "III.1.yearly", "II.1"]);
        assert_eq!(tasks[0].status(d(2024, 2, 20)), TaskStatus::Upcoming { days_left: 9 });
        assert_eq!(tasks[1].next.as_ref().unwrap().period, Some(Period::Month { year: 2024, month: 3 }));
        assert_eq!(tasks[1].next.as_ref().unwrap().due_date, d(2024, 3, 14));
        assert_eq!(tasks[2].next.as_ref().unwrap().due_date, d(2024, 12, 14));
        assert_eq!(tasks[3].status(d(2024, 2, 20)), TaskStatus::Continuous);
    }

    #[test]
    fn obligation_override_and_unit_assignment() {
        let p = plan();
        let commune: Vec<_> =
            tasks_for(&p, &unit("c", UnitKind::Commune), d(2024, 3, 1)).into_iter().map(|t| t.obligation_id).collect();
        assert_eq!(commune, ["III.1.monthly", "II.1"]);
        let snv: Vec<_> = tasks_for(&p, &unit("snv", UnitKind::Department), d(2024, 3, 1))
            .into_iter()
            .map(|t| t.obligation_id)
            .collect();
        assert_eq!(snv, ["III.5"]);
    }

    #[test]
    fn statuses_around_the_deadline() {
        let p = plan();
        let t = tasks_for(&p, &unit("d", UnitKind::District), d(2024, 3, 14))
            .into_iter()
            .find(|t| t.obligation_id == "III.1.monthly")
            .unwrap();
        assert_eq!(t.status(d(2024, 3, 14)), TaskStatus::DueToday);
        assert_eq!(t.status(d(2024, 3, 16)), TaskStatus::Overdue { days: 2 });
        assert_eq!(TaskStatus::Overdue { days: 2 }.label_vi(), "Quá hạn 2 ngày");
        assert_eq!(TaskStatus::Overdue { days: 2 }.label_en(), "2 days overdue");
        assert_eq!(TaskStatus::Upcoming { days_left: 1 }.label_en(), "1 day left");
        // On the 15th the next monthly report is the following month's.
        let next = t.refreshed(d(2024, 3, 15));
        assert_eq!(next.next.unwrap().due_date, d(2024, 4, 14));
    }

    #[test]
    fn validate_rejects_rules_outside_decree_09() {
        let mut p = plan();
        p.items[1].obligations[2].due = DueRule::Monthly { before_day: 10 };
        assert_eq!(p.validate(), Err(crate::plan::PlanError::UnsupportedRule("III.1.monthly".into())));
        let mut p = plan();
        p.items[2].obligations[0].id = "II.1".into();
        assert!(matches!(p.validate(), Err(crate::plan::PlanError::DuplicateObligation(_))));
    }

    #[test]
    fn validate_keeps_plan_dates_in_the_years_of_report_periods() {
        use crate::form::PeriodKind;
        use crate::plan::PlanError;
        // From fuzz/fuzz_targets/plan_import.rs: valid to chrono's last day, the
        // periods ran past it and `Period::window` panicked.
        let mut p = plan();
        p.valid_to = NaiveDate::from_ymd_opt(262142, 12, 31);
        assert_eq!(p.validate(), Err(PlanError::DateOutOfRange));
        let mut p = plan();
        p.issued_on = NaiveDate::MIN;
        p.valid_from = Some(d(2024, 1, 1));
        assert_eq!(p.validate(), Err(PlanError::DateOutOfRange));
        let mut p = plan();
        p.valid_from = Some(d(1900, 1, 1));
        p.valid_to = Some(d(9999, 12, 31));
        assert_eq!(p.validate(), Ok(()));
        let months = p.periods(PeriodKind::Month);
        assert_eq!(months.first(), Some(&Period::Month { year: 1900, month: 1 }));
        assert_eq!(months.last(), Some(&Period::Month { year: 9999, month: 12 }));
        assert!(months.iter().all(|m| Period::parse_key(&m.key()) == Ok(*m)));
    }

    #[test]
    fn a_plan_covers_only_the_periods_due_while_it_applies() {
        use crate::form::PeriodKind;
        let p = plan();
        assert_eq!(p.validity_label(), "01/02/2024 – 31/12/2024");
        let months: Vec<String> = p.periods(PeriodKind::Month).iter().map(|p| p.key()).collect();
        assert_eq!(months.first().map(String::as_str), Some("2024-02"));
        assert_eq!(months.last().map(String::as_str), Some("2024-12"));
        assert_eq!(months.len(), 11);
        assert!(!p.covers(&Period::Month { year: 2024, month: 1 }), "due 14/01, before the plan");
        assert!(!p.covers(&Period::Month { year: 2025, month: 1 }), "due 14/01/2025, after it");
        assert_eq!(p.periods(PeriodKind::Year), [Period::Year { year: 2024 }]);
        assert!(!p.covers(&Period::Year { year: 2025 }));
        // An explicit validity replaces the default one.
        let mut two_years = plan();
        two_years.valid_to = Some(d(2025, 12, 31));
        assert_eq!(two_years.periods(PeriodKind::Year).len(), 2);
        let mut inverted = plan();
        inverted.valid_to = Some(d(2023, 12, 31));
        assert!(matches!(inverted.validate(), Err(crate::plan::PlanError::InvertedValidity { .. })));
    }

    #[test]
    fn an_ended_plan_is_ended_not_overdue() {
        let p = plan();
        let today = d(2026, 12, 2);
        let tasks = tasks_for(&p, &unit("d", UnitKind::District), today);
        assert_eq!(tasks.len(), 4);
        for t in &tasks {
            assert_eq!(t.status(today), TaskStatus::Ended { on: d(2024, 12, 31) }, "{}", t.obligation_id);
            assert!(t.next.is_none(), "{}: nothing is due any more", t.obligation_id);
        }
        assert_eq!(tasks[0].status(today).label_vi(), "Đã kết thúc (31/12/2024)");
        // The last monthly report of the year is due inside it; after that, none.
        let monthly = |day| {
            tasks_for(&p, &unit("d", UnitKind::District), day)
                .into_iter()
                .find(|t| t.obligation_id == "III.1.monthly")
                .unwrap()
        };
        assert_eq!(monthly(d(2024, 12, 1)).next.unwrap().due_date, d(2024, 12, 14));
        assert_eq!(monthly(d(2024, 12, 20)).next, None, "01/2025 is not this plan's");
        assert_eq!(
            monthly(d(2024, 12, 20)).status(d(2024, 12, 20)),
            TaskStatus::Ended { on: d(2024, 12, 31) },
            "no period left to report: not an ongoing duty"
        );
    }

    #[test]
    fn a_plan_not_started_waits_for_its_first_period() {
        let p = plan();
        let today = d(2024, 1, 10);
        let t = tasks_for(&p, &unit("d", UnitKind::District), today)
            .into_iter()
            .find(|t| t.obligation_id == "III.1.monthly")
            .unwrap();
        assert_eq!(t.status(today), TaskStatus::NotStarted { starts: d(2024, 2, 1) });
        assert_eq!(t.next.unwrap().period, Some(Period::Month { year: 2024, month: 2 }));
    }

    #[test]
    fn a_recorded_one_off_obligation_is_done() {
        let p = plan();
        let today = d(2024, 6, 1);
        let mut tasks = tasks_for(&p, &unit("d", UnitKind::District), today);
        assert_eq!(tasks[0].obligation_id, "III.1.plan");
        assert_eq!(tasks[0].status(today), TaskStatus::Overdue { days: 93 });
        tasks[0].done_on = Some(d(2024, 2, 20));
        assert_eq!(tasks[0].status(today), TaskStatus::Done { on: d(2024, 2, 20) });
        assert_eq!(tasks[0].status(today).label_vi(), "Đã thực hiện (20/02/2024)");
        sort_tasks(&mut tasks);
        let ids: Vec<_> = tasks.iter().map(|t| t.obligation_id.as_str()).collect();
        assert_eq!(ids, ["III.1.monthly", "III.1.yearly", "II.1", "III.1.plan"], "what is done goes last");
    }

    #[test]
    fn a_unit_outside_the_plan_years_has_no_tasks() {
        let p = plan();
        let mut closed = unit("c", UnitKind::Commune);
        closed.valid_to = Some(d(2023, 12, 31));
        assert!(tasks_for(&p, &closed, d(2024, 3, 1)).is_empty());
        let mut new = unit("c", UnitKind::Commune);
        new.valid_from = Some(d(2025, 7, 1));
        assert!(tasks_for(&p, &new, d(2025, 8, 1)).is_empty());
    }

    #[test]
    fn reports_exist_only_inside_the_plan_and_the_unit_life() {
        let p = plan();
        let commune = unit("c", UnitKind::Commune);
        assert_eq!(p.report_problem(&commune, &Period::Month { year: 2024, month: 3 }), None);
        assert_eq!(
            p.report_problem(&commune, &Period::Month { year: 2025, month: 1 }).as_deref(),
            Some("Tháng 01/2025 nằm ngoài thời gian áp dụng của kế hoạch 1/KH (01/02/2024 – 31/12/2024)")
        );
        let mut closed = unit("c", UnitKind::Commune);
        closed.valid_to = Some(d(2024, 6, 30));
        assert_eq!(p.report_problem(&closed, &Period::Month { year: 2024, month: 6 }), None);
        assert!(p
            .report_problem(&closed, &Period::Month { year: 2024, month: 7 })
            .unwrap()
            .contains("không hoạt động"));
    }
}
