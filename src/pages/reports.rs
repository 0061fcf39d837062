use chrono::Utc;
use leptos::prelude::*;
use leptos_router::components::A;

use danvan_core::client::LocalReport;
use danvan_core::task::TaskStatus;
use danvan_core::time::{format_date, vn_date};
use danvan_core::{Period, ReportStatus};

use crate::i18n::{use_lang, T};
use crate::state::AppState;
use crate::storage::LocalDb;

/// "Báo cáo": this period's monthly and yearly reports first, then every other
/// report kept on this phone.
#[component]
pub fn ReportsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let today = vn_date(Utc::now());
    let current = [Period::month_containing(today), Period::year_containing(today)];
    let reports = LocalResource::new(move || {
        // Re-read when sync changed something.
        let _ = state.sync.generation.get();
        async move {
            let db = LocalDb::shared().await.map_err(|e| e.to_string())?;
            db.load_reports().await.map_err(|e| e.to_string())
        }
    });
    let unit = move || state.session.with(|s| s.as_ref().map(|s| s.user.unit_id.clone()));
    let rows = move || {
        let mine: Vec<LocalReport> = match reports.get() {
            Some(Ok(list)) => list.into_iter().filter(|r| Some(&r.report.key.unit_id) == unit().as_ref()).collect(),
            _ => Vec::new(),
        };
        let mut periods: Vec<Period> = current.to_vec();
        let mut others: Vec<Period> =
            mine.iter().map(|r| r.report.key.period).filter(|p| !current.contains(p)).collect();
        others.sort();
        others.reverse();
        others.dedup();
        periods.extend(others);
        periods
            .into_iter()
            .map(|p| {
                let local = mine.iter().find(|r| r.report.key.period == p).cloned();
                view! { <ReportRow period=p local=local today=today/> }
            })
            .collect_view()
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
            {move || reports.get().and_then(|r| r.err()).map(|e| view! { <p class="banner banner-error" role="alert">{e}</p> })}
            <ul class="task-list" data-testid="report-list">{rows}</ul>
        </main>
    }
}

#[component]
fn ReportRow(period: Period, local: Option<LocalReport>, today: chrono::NaiveDate) -> impl IntoView {
    let lang = use_lang();
    let status = local.as_ref().map(|l| l.report.status);
    let unsent = local.as_ref().is_some_and(|l| l.has_unsent());
    let deadline = TaskStatus::for_due_date(period.due_date(), today);
    let chip = match status {
        Some(ReportStatus::Accepted) => "chip chip-ok",
        Some(ReportStatus::Submitted) => "chip chip-neutral",
        Some(ReportStatus::Returned) => "chip chip-late",
        _ => match deadline {
            TaskStatus::Overdue { .. } => "chip chip-late",
            _ => "chip chip-soon",
        },
    };
    let href = format!("/bao-cao/{}", period.key());
    view! {
        <li class="card task" data-testid="report-row" data-period=period.key()>
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
                <p class="task-due">{move || format!("{}{}", lang.get().pick("Hạn: ", "Due: "), format_date(period.due_date()))}</p>
                <p class="task-period muted">
                    {move || lang.get().pick(deadline.label_vi(), deadline.label_en())}
                    {unsent.then(|| view! { " · " <span class="unsent-mark"><T vi="Chưa gửi lên máy chủ" en="Not yet sent"/></span> })}
                </p>
            </A>
        </li>
    }
}
