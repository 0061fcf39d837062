use chrono::Utc;
use leptos::prelude::*;
use leptos_router::components::A;

use danvan_core::aggregate::Timeliness;
use danvan_core::task::{sort_tasks, Task, TaskStatus};
use danvan_core::time::{format_date, vn_date};

use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;

/// "Nhiệm vụ của tôi": the caller's unit's obligations, soonest deadline first.
#[component]
pub fn TasksPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    // Deadlines are recomputed for today's date in Vietnam, so days left stay right
    // after days offline; the device's own time zone plays no part. A phone keeps
    // an installed app open for days, so "today" is re-read every minute.
    let (today, set_today) = signal(vn_date(Utc::now()));
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let now = vn_date(Utc::now());
            if today.try_get_untracked() != Some(now) {
                set_today.try_set(now);
            }
        },
        std::time::Duration::from_secs(60),
    ) {
        on_cleanup(move || handle.clear());
    }
    let tasks = Memo::new(move |_| {
        let today = today.get();
        state.snapshot.with(|s| {
            s.as_ref().map(|s| {
                let mut tasks: Vec<Task> = s.tasks.tasks.iter().map(|t| t.refreshed(today)).collect();
                sort_tasks(&mut tasks);
                (s.tasks.unit.name.clone(), tasks)
            })
        })
    });

    view! {
        <main class="page">
            <h1><T vi="Nhiệm vụ của tôi" en="My tasks"/></h1>
            <p class="muted"><T vi="Hôm nay: " en="Today: "/>{move || format_date(today.get())}</p>
            {move || match tasks.get() {
                None => view! {
                    <p class="card empty" data-testid="no-data">
                        <T
                            vi="Chưa có dữ liệu trên máy. Hãy kết nối mạng để tải kế hoạch và nhiệm vụ lần đầu."
                            en="No data on this phone yet. Connect once to download the plan and your tasks."
                        />
                    </p>
                }.into_any(),
                Some((unit, tasks)) => {
                    // Tasks of plans that have ended come last, under their own
                    // heading: a record to consult, not work to do.
                    let today_now = today.get_untracked();
                    let (ended, open): (Vec<Task>, Vec<Task>) = tasks
                        .into_iter()
                        .partition(|t| matches!(t.status(today_now), TaskStatus::Ended { .. }));
                    let has_ended = !ended.is_empty();
                    view! {
                        <p class="unit-name" data-testid="unit-name">{unit}</p>
                        <ul class="task-list" data-testid="task-list">
                            {move || {
                                let lang = lang.get();
                                open.iter().cloned().map(|t| view! { <TaskCard task=t today=today_now lang=lang/> }).collect_view()
                            }}
                        </ul>
                        {has_ended.then(|| view! {
                            <h2><T vi="Kế hoạch đã kết thúc" en="Plans that have ended"/></h2>
                            <ul class="task-list" data-testid="ended-task-list">
                                {move || {
                                    let lang = lang.get();
                                    ended.iter().cloned().map(|t| view! { <TaskCard task=t today=today_now lang=lang/> }).collect_view()
                                }}
                            </ul>
                        })}
                    }.into_any()
                }
            }}
        </main>
    }
}

#[component]
fn TaskCard(task: Task, today: chrono::NaiveDate, lang: Lang) -> impl IntoView {
    let status = task.status(today);
    let status_class = match status {
        TaskStatus::Continuous | TaskStatus::NotStarted { .. } | TaskStatus::Ended { .. } => "chip chip-neutral",
        TaskStatus::Upcoming { days_left } if days_left > 7 => "chip chip-ok",
        TaskStatus::Done { .. } => "chip chip-ok",
        TaskStatus::Upcoming { .. } | TaskStatus::DueToday => "chip chip-soon",
        TaskStatus::Overdue { .. } => "chip chip-late",
    };
    let record = (!task.record.is_empty()).then(|| record_summary(&task, lang));
    let href = format!("/ke-hoach/{}", task.item_id);
    let due = task.next.as_ref().map(|n| format!("{}{}", lang.pick("Hạn: ", "Due: "), format_date(n.due_date)));
    let period = task.next.as_ref().and_then(|n| n.period).map(|p| {
        format!(
            "{}{} ({})",
            lang.pick("Kỳ báo cáo: ", "Period: "),
            lang.pick(p.label_vi(), p.label_en()),
            p.window_label()
        )
    });
    // Periodic reports open straight into the editor for their period.
    let report_href =
        task.next.as_ref().and_then(|n| n.period).map(|p| format!("/bao-cao/{}?ke-hoach={}", p.key(), task.plan_id));
    // III.1: the unit records its own implementation plan (while the plan applies
    // and it has not yet).
    let unit_plan = task.obligation_id.ends_with("implementation-plan")
        && task.done_on.is_none()
        && !matches!(status, TaskStatus::Ended { .. });
    view! {
        <li class="card task" data-testid="task" data-obligation=task.obligation_id.clone()>
            <A href=href attr:class="task-link">
                <div class="task-head">
                    <span class="item-number">{task.item_number.clone()}</span>
                    <span class=status_class data-testid="task-status">{lang.pick(status.label_vi(), status.label_en())}</span>
                </div>
                <p class="task-title">{task.title.clone()}</p>
                {due.map(|d| view! { <p class="task-due" data-testid="task-due">{d}</p> })}
                {period.map(|p| view! { <p class="task-period muted">{p}</p> })}
                {record.map(|(line, periods)| view! {
                    <p class="task-record" data-testid="task-record">{line}</p>
                    <p class="task-record-periods muted">{periods}</p>
                })}
            </A>
            {report_href.map(|href| view! {
                <A href=href attr:class="task-action" attr:data-testid="task-report">
                    {lang.pick("Lập báo cáo →", "Write the report →")}
                </A>
            })}
            {unit_plan.then(|| view! {
                <A href="/ke-hoach-don-vi" attr:class="task-action" attr:data-testid="task-unit-plan">
                    {lang.pick("Ghi nhận kế hoạch của đơn vị →", "Record the unit's plan →")}
                </A>
            })}
        </li>
    }
}

/// "Đúng hạn 9 · Trễ hạn 1 · Chưa nộp 1" and the periods that were not on time,
/// for a task of a plan that has ended.
fn record_summary(task: &Task, lang: Lang) -> (String, String) {
    let count = |t: Timeliness| task.record.iter().filter(|r| r.state == t).count();
    let parts: Vec<String> = [
        (Timeliness::OnTime, lang.pick("Đúng hạn", "On time")),
        (Timeliness::Late, lang.pick("Trễ hạn", "Late")),
        (Timeliness::Returned, lang.pick("Bị trả lại", "Returned")),
        (Timeliness::Missing, lang.pick("Không nộp", "Not filed")),
    ]
    .into_iter()
    .filter_map(|(t, label)| {
        let n = count(t);
        (n > 0).then(|| format!("{label} {n}"))
    })
    .collect();
    let not_on_time: Vec<String> = task
        .record
        .iter()
        .filter(|r| r.state != Timeliness::OnTime)
        .map(|r| {
            let mark = match r.state {
                Timeliness::Late => lang.pick("trễ", "late"),
                Timeliness::Returned => lang.pick("trả lại", "returned"),
                _ => lang.pick("không nộp", "not filed"),
            };
            format!("{} ({mark})", lang.pick(r.period.label_vi(), r.period.label_en()))
        })
        .collect();
    (parts.join(" · "), not_on_time.join(", "))
}
