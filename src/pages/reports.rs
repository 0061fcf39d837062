use chrono::Utc;
use leptos::prelude::*;
use leptos_router::components::A;

use danvan_core::client::LocalReport;
use danvan_core::form::PeriodKind;
use danvan_core::task::TaskStatus;
use danvan_core::time::{format_date, vn_date};
use danvan_core::{Period, ReportStatus, UnitTree};

use crate::components::{load_failed, LoadingLine};
use crate::i18n::{use_lang, T};
use crate::state::AppState;
use crate::storage::LocalDb;

/// One line of the list: a report of a plan, a unit and a period.
#[derive(Clone)]
struct Line {
    plan_id: String,
    unit_id: String,
    period: Period,
    /// "Xã Đăk Blà (trước 01/07/2025)" when not the official's own unit today;
    /// the plan's number when the phone holds several plans.
    note: Option<String>,
    local: Option<LocalReport>,
    /// The plan has ended: an unfiled period is "not filed", not overdue.
    ended: bool,
}

/// "Báo cáo": this period's monthly and yearly reports of each plan that applies,
/// then every other report kept on this phone — the unit's own, and those of the
/// units merged into it (read only).
#[component]
pub fn ReportsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let today = vn_date(Utc::now());
    let reports = LocalResource::new(move || {
        // Re-read when sync changed something.
        let _ = state.sync.generation.get();
        async move { LocalDb::shared().await?.load_reports().await }
    });
    let unit = move || state.session.with(|s| s.as_ref().map(|s| s.user.unit_id.clone()));
    let rows = move |list: Vec<LocalReport>| {
        let Some(me) = unit() else { return Vec::new() };
        let (plans, tree, task_plans) = state.snapshot.with(|s| match s {
            Some(s) => (
                s.plans.clone(),
                UnitTree::partial(s.units.clone()),
                s.tasks.tasks.iter().filter(|t| t.is_periodic()).map(|t| t.plan_id.clone()).collect::<Vec<_>>(),
            ),
            None => (Vec::new(), UnitTree::default(), Vec::new()),
        });
        let several_plans = plans.len() > 1;
        let plan_number =
            |id: &str| plans.iter().find(|p| p.id == id).map(|p| p.number.clone()).unwrap_or(id.to_string());
        let note = |plan_id: &str, unit_id: &str| {
            let mut parts = Vec::new();
            if unit_id != me {
                let name = tree.get(unit_id).map(|u| format!("{} ({})", u.name, u.validity_label_vi()));
                parts.push(name.unwrap_or(unit_id.to_string()));
            }
            if several_plans {
                parts.push(plan_number(plan_id));
            }
            (!parts.is_empty()).then(|| parts.join(" · "))
        };
        let find = |plan_id: &str, unit_id: &str, period: Period| {
            list.iter()
                .find(|r| {
                    r.report.key.plan_id == plan_id && r.report.key.unit_id == unit_id && r.report.key.period == period
                })
                .cloned()
        };
        // Every period so far of the plans that ask this unit for reports, newest
        // first: this month's and this year's, then the past ones (filed or not).
        let mut lines: Vec<Line> = Vec::new();
        let unit = tree.get(&me).cloned();
        let horizon = Period::year_containing(today).due_date().max(Period::month_containing(today).due_date());
        for plan in plans.iter().filter(|p| task_plans.contains(&p.id)) {
            let mut periods: Vec<Period> = [PeriodKind::Month, PeriodKind::Year]
                .into_iter()
                .flat_map(|k| plan.periods(k))
                .filter(|p| p.due_date() <= horizon)
                .filter(|p| unit.as_ref().is_none_or(|u| u.valid_on(p.due_date())))
                .collect();
            periods.sort_by_key(|p| std::cmp::Reverse((p.due_date(), matches!(p, Period::Year { .. }))));
            let ended = plan.has_ended(today);
            for period in periods {
                let local = find(&plan.id, &me, period);
                let note = note(&plan.id, &me);
                lines.push(Line { plan_id: plan.id.clone(), unit_id: me.clone(), period, note, local, ended });
            }
        }
        // Everything else on the phone: mine, and my predecessors' (newest first).
        let mut others: Vec<&LocalReport> = list
            .iter()
            .filter(|r| r.report.key.unit_id == me || tree.is_within(&r.report.key.unit_id, &me))
            .filter(|r| {
                !lines.iter().any(|l| {
                    l.plan_id == r.report.key.plan_id
                        && l.unit_id == r.report.key.unit_id
                        && l.period == r.report.key.period
                })
            })
            .collect();
        others.sort_by(|a, b| {
            b.report.key.period.cmp(&a.report.key.period).then(a.report.key.unit_id.cmp(&b.report.key.unit_id))
        });
        lines.extend(others.into_iter().map(|r| Line {
            plan_id: r.report.key.plan_id.clone(),
            unit_id: r.report.key.unit_id.clone(),
            period: r.report.key.period,
            note: note(&r.report.key.plan_id, &r.report.key.unit_id),
            local: Some(r.clone()),
            ended: plans.iter().find(|p| p.id == r.report.key.plan_id).is_some_and(|p| p.has_ended(today)),
        }));
        lines.into_iter().map(|line| view! { <ReportRow line=line today=today mine=me.clone()/> }).collect::<Vec<_>>()
    };
    view! {
        <main class="page">
            <h1><T vi="Báo cáo" en="Reports"/></h1>
            <p class="muted">
                {move || lang.get().pick(
                    "Kỳ báo cáo theo Nghị định 09/2019/NĐ-CP; gửi trước ngày 15.",
                    "Periods follow Decree 09/2019; file before the 15th.",
                )}
            </p>
            // `Transition`, not `Suspense`: the list is read again after every sync,
            // and the previous one stays on screen meanwhile.
            <Transition fallback=LoadingLine>
                <ErrorBoundary fallback=load_failed>
                    <ul class="task-list" data-testid="report-list">
                        {move || Suspend::new(async move { reports.await.map(rows) })}
                    </ul>
                </ErrorBoundary>
            </Transition>
        </main>
    }
}

#[component]
fn ReportRow(line: Line, today: chrono::NaiveDate, mine: String) -> impl IntoView {
    let lang = use_lang();
    let Line { plan_id, unit_id, period, note, local, ended } = line;
    let status = local.as_ref().map(|l| l.report.status);
    let unsent = local.as_ref().is_some_and(|l| l.has_unsent());
    let deadline = TaskStatus::for_due_date(period.due_date(), today);
    let chip = match status {
        Some(ReportStatus::Accepted) => "chip chip-ok",
        Some(ReportStatus::Submitted) => "chip chip-neutral",
        Some(ReportStatus::Returned) => "chip chip-late",
        _ if ended => "chip chip-neutral",
        _ => match deadline {
            TaskStatus::Overdue { .. } => "chip chip-late",
            _ => "chip chip-soon",
        },
    };
    // Another plan's or another unit's report is named in the address.
    let href = if unit_id == mine {
        format!("/bao-cao/{}?ke-hoach={}", period.key(), plan_id)
    } else {
        format!("/bao-cao/{}?ke-hoach={}&don-vi={}", period.key(), plan_id, unit_id)
    };
    view! {
        <li class="card task" data-testid="report-row" data-period=period.key() data-plan=plan_id.clone() data-unit=unit_id.clone()>
            <A href=href attr:class="task-link">
                <div class="task-head">
                    <span class="item-number">{move || lang.get().pick(period.label_vi(), period.label_en())}</span>
                    <span class=chip data-testid="report-row-status">
                        {move || match status {
                            Some(s) => lang.get().pick(s.label_vi(), s.label_en()).to_string(),
                            None => lang.get().pick("Chưa lập", "Not started").to_string(),
                        }}
                    </span>
                </div>
                {note.map(|n| view! { <p class="task-period" data-testid="report-row-note">{n}</p> })}
                <p class="task-due">{move || format!("{}{}", lang.get().pick("Hạn: ", "Due: "), format_date(period.due_date()))}</p>
                <p class="task-period muted">
                    {move || match (ended, status) {
                        // No thousand days overdue under a plan that has ended.
                        (true, None | Some(ReportStatus::Draft)) => lang.get().pick("Không nộp (kế hoạch đã kết thúc)", "Not filed (the plan has ended)").to_string(),
                        (true, _) => lang.get().pick("Kế hoạch đã kết thúc", "The plan has ended").to_string(),
                        _ => lang.get().pick(deadline.label_vi(), deadline.label_en()),
                    }}
                    {unsent.then(|| view! { " · " <span class="unsent-mark"><T vi="Chưa gửi lên máy chủ" en="Not yet sent"/></span> })}
                </p>
            </A>
        </li>
    }
}
