//! "Duyệt báo cáo": the reports of the units below the reviewer's own, read from
//! IndexedDB (sync pulls the whole subtree), so the queue also works offline.

use std::collections::{BTreeMap, HashMap};

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use danvan_core::access::{is_reviewer, may_review};
use danvan_core::client::{Conflict, LocalReport};
use danvan_core::{OrgUnit, Period, ReportStatus, UnitTree};

use crate::components::history::vn_date_time;
use crate::components::{load_failed, LoadingLine};
use crate::i18n::{use_lang, T};
use crate::state::AppState;
use crate::storage::{LocalDb, StorageError};

/// The status to show: a review the server refused outright (the report is
/// unchanged there) goes back to the server's status; when someone else acted
/// first, the server's copy held in the conflict is the truth.
pub(crate) fn effective_status(local: &LocalReport, conflict: Option<&Conflict>) -> ReportStatus {
    if let Some(c) = conflict {
        return c.theirs.status;
    }
    match &local.base {
        Some(base) if local.error.is_some() && !local.has_unsent() => base.status,
        _ => local.report.status,
    }
}

/// The first line of a long text, for a list.
fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > 120 || text.lines().nth(1).is_some() {
        format!("{}…", line.chars().take(120).collect::<String>())
    } else {
        line.to_string()
    }
}

pub(crate) fn status_chip(status: ReportStatus) -> &'static str {
    match status {
        ReportStatus::Accepted => "chip chip-ok",
        ReportStatus::Submitted => "chip chip-soon",
        ReportStatus::Returned => "chip chip-late",
        ReportStatus::Draft => "chip chip-neutral",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Filter {
    Submitted,
    Returned,
    Accepted,
    All,
}

impl Filter {
    const ALL: [Filter; 4] = [Filter::Submitted, Filter::Returned, Filter::Accepted, Filter::All];

    fn key(self) -> &'static str {
        match self {
            Filter::Submitted => "submitted",
            Filter::Returned => "returned",
            Filter::Accepted => "accepted",
            Filter::All => "all",
        }
    }

    fn parse(s: Option<&str>) -> Filter {
        Filter::ALL.into_iter().find(|f| Some(f.key()) == s).unwrap_or(Filter::Submitted)
    }

    fn label(self) -> (&'static str, &'static str) {
        match self {
            Filter::Submitted => ("Chờ duyệt", "To review"),
            Filter::Returned => ("Bị trả lại", "Returned"),
            Filter::Accepted => ("Đã tiếp nhận", "Accepted"),
            Filter::All => ("Tất cả", "All"),
        }
    }

    fn matches(self, s: ReportStatus) -> bool {
        match self {
            Filter::Submitted => s == ReportStatus::Submitted,
            Filter::Returned => s == ReportStatus::Returned,
            Filter::Accepted => s == ReportStatus::Accepted,
            Filter::All => true,
        }
    }
}

/// One line of the queue.
#[derive(Clone, Debug, PartialEq)]
struct Item {
    id: String,
    unit_name: String,
    /// The unit's place in the tree, for a stable order within a period.
    order: usize,
    period: Period,
    status: ReportStatus,
    first_submitted: Option<chrono::DateTime<chrono::Utc>>,
    /// Late, but sent from the phone before the deadline (its clock).
    sent_offline_before: Option<chrono::DateTime<chrono::Utc>>,
    unsent: bool,
    reason: Option<String>,
}

#[component]
pub fn ReviewPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let query = use_query_map();
    let filter = Memo::new(move |_| Filter::parse(query.with(|q| q.get("loc")).as_deref()));
    let data = LocalResource::new(move || {
        // Re-read whenever sync changed local reports.
        let _ = state.sync.generation.get();
        async move {
            let db = LocalDb::shared().await?;
            Ok::<_, StorageError>((db.load_reports().await?, db.load_conflicts().await?))
        }
    });
    let who = move || state.session.with(|s| s.as_ref().map(|s| (s.user.role, s.user.unit_id.clone())));

    // Every reviewable report that has been sent (drafts are the unit's own business).
    let items = Memo::new(move |_| {
        let Some((role, own)) = who() else { return Vec::new() };
        let Some(Ok((reports, conflicts))) = data.get() else { return Vec::new() };
        state.snapshot.with(|s| {
            let units: &[OrgUnit] = s.as_ref().map(|s| s.units.as_slice()).unwrap_or(&[]);
            let tree = UnitTree::partial(units.to_vec());
            let index: HashMap<&str, (usize, &str)> =
                units.iter().enumerate().map(|(i, u)| (u.id.as_str(), (i, u.name.as_str()))).collect();
            let conflicts: HashMap<String, Conflict> =
                conflicts.into_iter().map(|c| (c.report_id.clone(), c)).collect();
            reports
                .into_iter()
                .filter(|l| may_review(&tree, role, &own, &l.report.key.unit_id))
                .filter_map(|l| {
                    let id = l.report.id();
                    let status = effective_status(&l, conflicts.get(&id));
                    if status == ReportStatus::Draft {
                        return None;
                    }
                    let (order, name) = index.get(l.report.key.unit_id.as_str()).copied().unwrap_or((usize::MAX, ""));
                    let report = &l.report;
                    Some(Item {
                        unit_name: if name.is_empty() { report.key.unit_id.clone() } else { name.to_string() },
                        order,
                        period: report.key.period,
                        status,
                        first_submitted: report.first_submitted_at.or(report.submitted_at),
                        sent_offline_before: report.sent_offline_before(report.key.period.deadline()),
                        unsent: l.has_unsent(),
                        reason: (status == ReportStatus::Returned)
                            .then(|| report.return_reason.as_deref().map(short))
                            .flatten(),
                        id,
                    })
                })
                .collect::<Vec<_>>()
        })
    });

    let groups = move || {
        let f = filter.get();
        let mut by_period: BTreeMap<(std::cmp::Reverse<chrono::NaiveDate>, String), Vec<Item>> = BTreeMap::new();
        for item in items.get().into_iter().filter(|i| f.matches(i.status)) {
            let key = (std::cmp::Reverse(item.period.due_date()), item.period.key());
            by_period.entry(key).or_default().push(item);
        }
        by_period
            .into_values()
            .map(|mut list| {
                list.sort_by(|a, b| a.order.cmp(&b.order).then(a.unit_name.cmp(&b.unit_name)));
                let period = list[0].period;
                view! {
                    <section class="review-group" data-testid="review-group" data-period=period.key()>
                        <h2 class="review-period">{move || lang.get().pick(period.label_vi(), period.label_en())}</h2>
                        <ul class="task-list">
                            {list.into_iter().map(|i| view! { <ReviewItem item=i/> }).collect_view()}
                        </ul>
                    </section>
                }
            })
            .collect_view()
    };

    let chips = move || {
        let current = filter.get();
        let all = items.get();
        Filter::ALL
            .into_iter()
            .map(|f| {
                let n = all.iter().filter(|i| f.matches(i.status)).count();
                let (vi, en) = f.label();
                view! {
                    <A
                        href=format!("/duyet?loc={}", f.key())
                        attr:class=if f == current { "filter-chip filter-chip-on" } else { "filter-chip" }
                        attr:data-testid="review-filter"
                        attr:data-filter=f.key()
                        attr:aria-pressed=(f == current).to_string()
                    >
                        {move || format!("{} ({n})", lang.get().pick(vi, en))}
                    </A>
                }
            })
            .collect_view()
    };

    let empty =
        move || data.get().is_some_and(|d| d.is_ok()) && !items.get().iter().any(|i| filter.get().matches(i.status));

    view! {
        <main class="page review-list-page">
            <h1><T vi="Duyệt báo cáo" en="Review reports"/></h1>
            {move || match who() {
                Some((role, _)) if is_reviewer(role) => view! {
                    <p class="muted">
                        <T
                            vi="Báo cáo của các đơn vị cấp dưới đã gửi lên. Dữ liệu trên máy, xem được cả khi không có mạng."
                            en="Reports sent by the units below yours. Kept on this phone, also offline."
                        />
                    </p>
                    <nav class="filter-chips" aria-label="Lọc theo trạng thái">{chips}</nav>
                    // Read again after every sync: `Transition` keeps the list meanwhile.
                    <Transition fallback=LoadingLine>
                        <ErrorBoundary fallback=load_failed>
                            {move || Suspend::new(async move {
                                data.await.map(|_| view! {
                                    {move || empty().then(|| view! {
                                        <p class="card empty" data-testid="review-empty">
                                            <T vi="Không có báo cáo nào ở mục này." en="No reports here."/>
                                        </p>
                                    })}
                                    <div data-testid="review-list">{groups}</div>
                                })
                            })}
                        </ErrorBoundary>
                    </Transition>
                }.into_any(),
                _ => view! {
                    <p class="card empty" data-testid="not-reviewer">
                        <T
                            vi="Trang này dành cho cán bộ thẩm định và Sở Nội vụ."
                            en="This page is for reviewers and Sở Nội vụ."
                        />
                    </p>
                }.into_any(),
            }}
        </main>
    }
}

#[component]
fn ReviewItem(item: Item) -> impl IntoView {
    let lang = use_lang();
    let status = item.status;
    let period = item.period;
    let submitted = item.first_submitted.map(vn_date_time);
    let offline = item.sent_offline_before.map(vn_date_time);
    view! {
        <li class="card task review-item" data-testid="review-item" data-report=item.id.clone() data-status=status.as_str()>
            <A href=format!("/duyet/{}", item.id) attr:class="task-link">
                <div class="task-head">
                    <span class="review-unit">{item.unit_name.clone()}</span>
                    <span class=status_chip(status) data-testid="review-item-status">
                        {move || lang.get().pick(status.label_vi(), status.label_en())}
                    </span>
                </div>
                <p class="task-period muted">
                    {move || lang.get().pick(period.label_vi(), period.label_en())}
                    {submitted.clone().map(|t| view! {
                        " · " {move || lang.get().pick("Gửi lần đầu ", "First sent ")} {t.clone()}
                    })}
                    {offline.clone().map(|t| view! {
                        <br/><span data-testid="review-item-offline">{move || lang.get().pick("Trễ hạn · gửi từ máy lúc ", "Late · sent from the phone at ")}{t.clone()}</span>
                    })}
                </p>
                {item.reason.clone().map(|r| view! { <p class="review-reason muted">{r}</p> })}
                {item.unsent.then(|| view! {
                    <p class="task-period"><span class="unsent-mark"><T vi="Chờ gửi" en="Waiting to send"/></span></p>
                })}
            </A>
        </li>
    }
}
