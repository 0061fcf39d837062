//! "Nhiệm vụ của tôi": the obligations a plan puts on one unit, each with its next
//! deadline. Computed by the same code on the server and, offline, on the phone.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::period::Period;
use crate::plan::{DueRule, Plan};
use crate::time::format_date;
use crate::unit::OrgUnit;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub plan_id: String,
    pub item_id: String,
    pub item_number: String,
    pub item_title: String,
    pub obligation_id: String,
    pub title: String,
    pub due: DueRule,
    /// The next deadline on or after the reference date; None for continuous duties.
    pub next: Option<NextDeadline>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextDeadline {
    /// The report period this deadline closes, for periodic reports.
    pub period: Option<Period>,
    /// The last day that is still on time.
    pub due_date: NaiveDate,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    Continuous,
    Upcoming { days_left: i64 },
    DueToday,
    Overdue { days: i64 },
}

/// The next deadline of a rule as seen on `today` (a Vietnam calendar date).
pub fn next_deadline(rule: &DueRule, today: NaiveDate) -> Option<NextDeadline> {
    match *rule {
        DueRule::Continuous => None,
        DueRule::Once { date } => Some(NextDeadline { period: None, due_date: date }),
        // Plan::validate guarantees the Decree 09 day, so the period containing
        // today is the one whose report is due next.
        DueRule::Monthly { .. } => {
            let p = Period::month_containing(today);
            Some(NextDeadline { period: Some(p), due_date: p.due_date() })
        }
        DueRule::Yearly { .. } => {
            let p = Period::year_containing(today);
            Some(NextDeadline { period: Some(p), due_date: p.due_date() })
        }
    }
}

/// Every obligation of `plan` that applies to `unit`, soonest deadline first and
/// continuous duties last, in plan order among equals.
pub fn tasks_for(plan: &Plan, unit: &OrgUnit, today: NaiveDate) -> Vec<Task> {
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
                next: next_deadline(&o.due, today),
            })
        })
        .collect();
    sort_tasks(&mut tasks);
    tasks
}

/// Soonest deadline first; continuous duties last. Stable, so plan order is kept.
pub fn sort_tasks(tasks: &mut [Task]) {
    tasks.sort_by_key(|t| t.next.as_ref().map(|n| n.due_date).unwrap_or(NaiveDate::MAX));
}

impl Task {
    pub fn status(&self, today: NaiveDate) -> TaskStatus {
        match &self.next {
            None => TaskStatus::Continuous,
            Some(n) => TaskStatus::for_due_date(n.due_date, today),
        }
    }

    /// Recomputes the next deadline for another day (the phone does this offline).
    pub fn refreshed(&self, today: NaiveDate) -> Task {
        Task { next: next_deadline(&self.due, today), ..self.clone() }
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
        }
    }

    pub fn label_en(&self) -> String {
        let days = |n: i64| if n == 1 { "1 day".to_string() } else { format!("{n} days") };
        match *self {
            TaskStatus::Continuous => "Ongoing".into(),
            TaskStatus::DueToday => "Due today".into(),
            TaskStatus::Upcoming { days_left } => format!("{} left", days(days_left)),
            TaskStatus::Overdue { days: d } => format!("{} overdue", days(d)),
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
        OrgUnit { id: id.into(), code: id.into(), name: id.into(), kind, parent: None }
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
}
