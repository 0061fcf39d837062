//! "Tổng quan": who has filed a period's report, on time or not, over a unit's
//! subtree — totals, then the unit itself and one row per unit directly below it
//! (tap a row to go down a level; the breadcrumb goes back up).
//!
//! Every answer is kept on the phone (`storage::cache`); offline, or when the
//! server cannot be reached, the last one is shown with the time it was fetched.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use danvan_core::aggregate::{Counts, ModelCounts, ModelField, ObligationState, Timeliness, UnitRow};
use danvan_core::api::ObligationCounts;
use danvan_core::period::DateWindow;
use danvan_core::time::{format_date, format_vn_datetime, vn_date, vn_offset};
use danvan_core::{OrgUnit, Period, ReportStatus, UnitTree};

use crate::api::{self, ApiError};
use crate::components::charts::{Donut, Legend, Segment, StackedBar};
use crate::hooks::{use_cached_query_with_options, Loaded, Query, ShowKept, Shown, Source, UseCachedQueryOptions};
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;
use crate::storage::dashboard_cache_key;

// ---------------------------------------------------------------------------
// What the dashboard and the consolidation ask (src/hooks/use_cached_query.rs).

/// A plan, a unit, a period.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Scope {
    pub plan_id: String,
    pub unit_id: String,
    pub period: Period,
}

/// On 2G the answer may take many seconds: after this long, the copy on the phone
/// is shown meanwhile. Shorter would flash old numbers before fresh ones on a
/// good connection.
pub(super) const SHOW_KEPT_AFTER_MS: u32 = 2_500;

/// The query for `scope` as the signed-in official, kept under
/// `cache_key(plan, unit, period)`.
pub(super) fn scope_query(
    state: AppState,
    scope: Option<Scope>,
    cache_key: fn(&str, &str, &str) -> String,
) -> Option<Query<Scope>> {
    let scope = scope?;
    let (user_id, token) = state.session.with(|s| s.as_ref().map(|s| (s.user.id, s.token.clone())))?;
    Some(Query {
        cache_key: cache_key(&scope.plan_id, &scope.unit_id, &scope.period.key()),
        user_id,
        token,
        args: scope,
    })
}

/// The server's refusal, over the phone's copy or instead of it (a lost
/// connection is said by [`AsOf`] and [`NothingShown`] instead).
pub(super) fn refusal(error: Option<ApiError>) -> Option<String> {
    error.filter(|e| *e != ApiError::Network).map(|e| e.to_string())
}

/// The unit the overview opens on (`danvan_core::access::home_unit`): the province
/// of today for Sở Nội vụ and the administrator (after a merger, the new one: a
/// past period is shown over what stood for it then), else the official's own.
pub(super) fn home_unit(state: AppState) -> Option<String> {
    let (role, own) = state.session.with(|s| s.as_ref().map(|s| (s.user.role, s.user.unit_id.clone())))?;
    let today = vn_date(Utc::now());
    Some(state.snapshot.with(|s| {
        let tree = UnitTree::partial(s.as_ref().map(|s| s.units.clone()).unwrap_or_default());
        danvan_core::access::home_unit(&tree, role, &own, today).to_string()
    }))
}

/// The plan shown, as (id, validity): the one `period` belongs to, else the one
/// that applies today (the latest started), else the most recent. A period names
/// its plan, so links carry only the period.
pub(super) fn current_plan(state: AppState, period: Option<Period>) -> Option<(String, DateWindow)> {
    let today = vn_date(Utc::now());
    state.snapshot.with(|s| {
        let plans = &s.as_ref()?.plans;
        let by_start = |p: &&danvan_core::Plan| p.validity().first;
        period
            .and_then(|period| plans.iter().filter(|p| p.covers(&period)).max_by_key(by_start))
            .or_else(|| plans.iter().filter(|p| p.validity().contains(today)).max_by_key(by_start))
            .or_else(|| plans.iter().max_by_key(by_start))
            .map(|p| (p.id.clone(), p.validity()))
    })
}

/// Every plan's validity on the phone, for the period picker.
fn plan_windows(state: AppState) -> Vec<DateWindow> {
    state.snapshot.with(|s| s.as_ref().map(|s| s.plans.iter().map(|p| p.validity()).collect()).unwrap_or_default())
}

/// A unit's name from the phone's copy of the unit tree.
pub(super) fn unit_name(state: AppState, id: &str) -> Option<String> {
    state.snapshot.with(|s| s.as_ref().and_then(|s| s.units.iter().find(|u| u.id == id).map(|u| u.name.clone())))
}

/// "dd/mm/yyyy HH:MM", Vietnam time.
pub(super) fn format_date_time(t: DateTime<Utc>) -> String {
    let local = t.with_timezone(&vn_offset());
    format!("{} {:02}:{:02}", format_date(local.date_naive()), local.hour(), local.minute())
}

/// "Số liệu lúc HH:MM dd/mm/yyyy", and whether it comes from the phone:
/// "(đang ngoại tuyến)" when the server could not be reached, "(bản lưu trên
/// máy)" when it answered with an error (shown in its own banner).
/// `data-offline` is true for both: the figures are the phone's copy.
#[component]
pub(super) fn AsOf(shown: Shown<()>, lang: Lang) -> impl IntoView {
    let mut text = format!("{} {}", lang.pick("Số liệu lúc", "Figures as of"), format_vn_datetime(shown.fetched_at));
    match shown.source {
        Source::KeptRefused => text.push_str(lang.pick(" (bản lưu trên máy)", " (copy on this phone)")),
        Source::KeptOffline => text.push_str(lang.pick(" (đang ngoại tuyến)", " (offline)")),
        Source::KeptWhileUpdating => text.push_str(lang.pick(" · Đang cập nhật…", " · Updating…")),
        Source::Server => {}
    }
    let offline = matches!(shown.source, Source::KeptOffline | Source::KeptRefused);
    let updating = shown.source == Source::KeptWhileUpdating;
    let class = if offline { "as-of banner banner-warn" } else { "as-of" };
    view! {
        <p class=class data-testid="as-of" data-offline=offline.to_string() data-updating=updating.to_string() role="status">
            {text}
        </p>
    }
}

/// What to say when there is nothing to show.
#[component]
pub(super) fn NothingShown(offline: bool, error: Option<ApiError>) -> impl IntoView {
    match error.map(|e| e.to_string()) {
        Some(e) => view! { <p class="banner banner-error" role="alert" data-testid="no-data">{e}</p> }.into_any(),
        None if offline => view! {
            <p class="card empty" data-testid="no-data">
                <T
                    vi="Máy đang ngoại tuyến và chưa lưu số liệu của đơn vị, kỳ này. Hãy kết nối mạng để tải về; sau đó xem được cả khi mất mạng."
                    en="Offline, and these figures were never downloaded to this phone. Connect once to fetch them; they then stay readable offline."
                />
            </p>
        }
        .into_any(),
        None => view! {
            <p class="card empty" data-testid="no-data">
                <T
                    vi="Chưa có kế hoạch trên máy. Hãy kết nối mạng một lần để tải kế hoạch."
                    en="No plan on this phone yet. Connect once to download the plan."
                />
            </p>
        }
        .into_any(),
    }
}

/// "Dân vận khéo" events per field: registered, recognised, commended.
#[component]
pub(super) fn ModelTable(models: ModelCounts, lang: Lang) -> impl IntoView {
    let rows = ModelField::ALL
        .into_iter()
        .map(|f| {
            let [r, c, k] = models.by_field.get(&f).copied().unwrap_or([0; 3]);
            view! {
                <tr data-field=f.as_str()>
                    <th scope="row">{model_field_label(f, lang)}</th>
                    <td>{r}</td>
                    <td>{c}</td>
                    <td>{k}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="data-table" data-testid="models">
            <thead>
                <tr>
                    <th scope="col">{lang.pick("Lĩnh vực", "Field")}</th>
                    <th scope="col">{lang.pick("Đăng ký", "Registered")}</th>
                    <th scope="col">{lang.pick("Công nhận", "Recognised")}</th>
                    <th scope="col">{lang.pick("Khen thưởng", "Commended")}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
            <tfoot>
                <tr>
                    <th scope="row">{lang.pick("Tổng", "Total")}</th>
                    <td data-testid="models-registered">{models.registered}</td>
                    <td data-testid="models-recognised">{models.recognised}</td>
                    <td data-testid="models-commended">{models.commended}</td>
                </tr>
            </tfoot>
        </table>
    }
}

fn model_field_label(f: ModelField, lang: Lang) -> &'static str {
    lang.pick(f.label_vi(), f.label_en())
}

// ---------------------------------------------------------------------------
// The dashboard.

/// The period the dashboard opens on: the most recent one whose deadline has
/// passed (the previous monthly window, the one still to chase), or the current
/// one while nothing of the plan has fallen due yet.
pub(super) fn default_period(today: NaiveDate, plan: Option<DateWindow>) -> Period {
    let current = Period::month_containing(today);
    let previous = current.previous();
    let Some(v) = plan else { return previous };
    let covered = |p: &Period| v.contains(p.due_date());
    // The latest month of the plan whose deadline has passed; the first one while
    // none has; the last one of a plan that has ended.
    let mut p = if covered(&previous) || today > v.last { previous } else { current };
    let mut guard = 0;
    while !covered(&p) && guard < 1200 {
        p = if p.due_date() > v.last { p.previous() } else { p.next() };
        guard += 1;
    }
    p
}

/// The periods offered: every period of the plans on the phone whose window has
/// begun, by year (newest first), the year before its months.
fn period_choices(today: NaiveDate, plans: &[DateWindow], selected: Period) -> Vec<(i32, Vec<Period>)> {
    let current = Period::month_containing(today);
    let last_year = match current {
        Period::Month { year, .. } | Period::Year { year } => year,
    };
    let first_year = plans.iter().map(|v| v.first.year()).min().unwrap_or(last_year).min(last_year);
    let covered = |p: &Period| plans.is_empty() || plans.iter().any(|v| v.contains(p.due_date()));
    let mut out = Vec::new();
    for year in (first_year..=last_year).rev() {
        let mut periods: Vec<Period> = Vec::new();
        if let Ok(y) = Period::year(year) {
            if y.window().first <= today && covered(&y) {
                periods.push(y);
            }
        }
        for month in (1..=12).rev() {
            if let Ok(m) = Period::month(year, month) {
                if m.window().first <= today && covered(&m) {
                    periods.push(m);
                }
            }
        }
        if !periods.is_empty() {
            out.push((year, periods));
        }
    }
    // A period from a link outside that range is still listed, so the picker
    // shows what is on screen.
    if !out.iter().any(|(_, ps)| ps.contains(&selected)) {
        let year = match selected {
            Period::Month { year, .. } | Period::Year { year } => year,
        };
        out.push((year, vec![selected]));
    }
    out
}

/// A short status label for the per-row counts ("Quá hạn 2").
fn short_label(t: Timeliness, lang: Lang) -> &'static str {
    match t {
        Timeliness::OnTime => lang.pick("Đúng hạn", "On time"),
        Timeliness::Late => lang.pick("Trễ hạn", "Late"),
        Timeliness::Returned => lang.pick("Bị trả lại", "Returned"),
        Timeliness::Missing => lang.pick("Quá hạn", "Missing"),
        Timeliness::NotDue => lang.pick("Còn hạn", "Not due"),
    }
}

fn timeliness_label(t: Timeliness, lang: Lang) -> &'static str {
    lang.pick(t.label_vi(), t.label_en())
}

fn count_segments(c: &Counts, lang: Lang) -> Vec<Segment> {
    Timeliness::ALL.into_iter().map(|t| Segment::new(c.get(t), t.as_str(), timeliness_label(t, lang))).collect()
}

fn obligation_segments(c: &ObligationCounts, lang: Lang) -> Vec<Segment> {
    let label = |s: ObligationState| lang.pick(s.label_vi(), s.label_en());
    vec![
        Segment::new(c.done, ObligationState::Done.as_str(), label(ObligationState::Done)),
        Segment::new(c.late, ObligationState::Late.as_str(), label(ObligationState::Late)),
        Segment::new(c.missing, ObligationState::Missing.as_str(), label(ObligationState::Missing)),
        Segment::new(c.not_due, ObligationState::NotDue.as_str(), label(ObligationState::NotDue)),
    ]
}

/// "Đã nộp 18/22 · 82 %"
fn completeness_text(c: &Counts, lang: Lang) -> String {
    format!("{} {}/{} · {} %", lang.pick("Đã nộp", "Filed"), c.on_time + c.late, c.expected, c.completeness_percent())
}

pub(super) fn dashboard_href(unit_id: &str, period: Period) -> String {
    format!("/tong-quan/{}?ky={}", js_sys::encode_uri_component(unit_id), period.key())
}

pub(super) fn consolidation_href(unit_id: &str, period: Period) -> String {
    format!("/tong-hop/{}/{}", js_sys::encode_uri_component(unit_id), period.key())
}

/// The chain of units from `home` down to `current` (both included), from the
/// phone's unit tree; just `current` when it does not lie below `home`.
fn unit_chain(units: &[OrgUnit], home: Option<&str>, current: &str) -> Vec<(String, String)> {
    let find = |id: &str| units.iter().find(|u| u.id == id);
    let mut chain = Vec::new();
    let mut cursor = find(current);
    while let Some(u) = cursor {
        chain.push((u.id.clone(), u.name.clone()));
        if Some(u.id.as_str()) == home || chain.len() > 16 {
            break;
        }
        cursor = u.parent.as_deref().and_then(find);
    }
    if chain.last().map(|(id, _)| id.as_str()) != home {
        chain.truncate(1);
    }
    chain.reverse();
    chain
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let params = use_params_map();
    let query = use_query_map();
    let navigate = use_navigate();
    let go = Callback::new(move |href: String| navigate(&href, Default::default()));
    let today = vn_date(Utc::now());

    let home = Memo::new(move |_| home_unit(state));
    let unit = Memo::new(move |_| params.with(|p| p.get("unit")).or_else(|| home.get()));
    let period = Memo::new(move |_| {
        query
            .with(|q| q.get("ky"))
            .and_then(|k| Period::parse_key(&k).ok())
            .unwrap_or_else(|| default_period(today, current_plan(state, None).map(|p| p.1)))
    });
    let plan = Memo::new(move |_| current_plan(state, Some(period.get())));
    let scope = Memo::new(move |_| {
        let scope = Scope { plan_id: plan.get()?.0, unit_id: unit.get()?, period: period.get() };
        scope_query(state, Some(scope), dashboard_cache_key)
    });
    let query_state = use_cached_query_with_options(
        scope,
        |q: Query<Scope>| async move {
            let s = q.args;
            api::dashboard(&q.token, &s.plan_id, &s.period.key(), Some(&s.unit_id)).await
        },
        UseCachedQueryOptions { show_kept: ShowKept::After(SHOW_KEPT_AFTER_MS), ..Default::default() },
    );
    let filter = RwSignal::new(None::<Timeliness>);

    let on_period = move |ev: leptos::ev::Event| {
        let key = event_target_value(&ev);
        let Ok(p) = Period::parse_key(&key) else { return };
        let href = match params.with_untracked(|ps| ps.get("unit")) {
            Some(u) => dashboard_href(&u, p),
            None => format!("/tong-quan?ky={}", p.key()),
        };
        go.run(href);
    };
    let picker = move || {
        let l = lang.get();
        let selected = period.get();
        let groups = period_choices(today, &plan_windows(state), selected)
            .into_iter()
            .map(|(year, periods)| {
                let options = periods
                    .into_iter()
                    .map(|p| {
                        let label = match p {
                            Period::Year { .. } => format!("{} {}", l.pick("Cả năm", "Whole year"), p.key()),
                            Period::Month { .. } => l.pick(p.label_vi(), p.label_en()),
                        };
                        view! { <option value=p.key() selected=p == selected>{label}</option> }
                    })
                    .collect_view();
                view! { <optgroup label=format!("{} {year}", l.pick("Năm", "Year"))>{options}</optgroup> }
            })
            .collect_view();
        view! {
            <label class="dash-control">
                <span>{l.pick("Kỳ báo cáo", "Period")}</span>
                <select data-testid="period-picker" on:change=on_period>{groups}</select>
            </label>
            <p class="muted dash-window">
                {format!("{} · {} {}", selected.window_label(), l.pick("hạn", "due"), format_date(selected.due_date()))}
            </p>
        }
    };

    let crumbs = move || {
        let l = lang.get();
        let Some(current) = unit.get() else { return ().into_any() };
        let p = period.get();
        let home = home.get();
        let mut chain = state
            .snapshot
            .with(|s| s.as_ref().map(|s| unit_chain(&s.units, home.as_deref(), &current)))
            .unwrap_or_default();
        if chain.is_empty() {
            // No unit tree on the phone: the answer names the unit.
            let name = query_state.loaded.with(|q| match q {
                Loaded::Shown(s) => s.value.dashboard.rows.first().map(|r| r.name.clone()),
                _ => None,
            });
            chain.push((current.clone(), name.unwrap_or(current.clone())));
        }
        let last = chain.len() - 1;
        let items = chain
            .into_iter()
            .enumerate()
            .map(|(i, (id, name))| {
                if i == last {
                    view! { <li aria-current="page" data-unit=id>{name}</li> }.into_any()
                } else {
                    view! { <li><A href=dashboard_href(&id, p) attr:data-unit=id>{name}</A></li> }.into_any()
                }
            })
            .collect_view();
        view! {
            <nav class="crumbs" aria-label=l.pick("Cấp đơn vị", "Unit levels") data-testid="breadcrumb">
                <ol>{items}</ol>
            </nav>
        }
        .into_any()
    };

    let body = move || {
        let l = lang.get();
        match query_state.loaded.get() {
            Loaded::Loading => view! {
                <p class="card empty" role="status" data-testid="loading">{l.pick("Đang tải số liệu…", "Loading figures…")}</p>
            }
            .into_any(),
            Loaded::Nothing { offline, error } => view! { <NothingShown offline=offline error=error/> }.into_any(),
            Loaded::Shown(shown) => {
                let about = shown.about();
                let response = shown.value;
                let p = period.get_untracked();
                view! {
                    <AsOf shown=about lang=l/>
                    <Totals counts=response.dashboard.totals lang=l/>
                    <Rows rows=response.dashboard.rows period=p filter=filter lang=l/>
                    <ImplementationPlans counts=response.implementation_plans lang=l/>
                    <section class="card" data-testid="models-section">
                        <h2>{l.pick("Phong trào “Dân vận khéo”", "“Skilful mass mobilisation” movement")}</h2>
                        <p class="muted">{l.pick("Số mô hình trong kỳ, theo lĩnh vực", "Models in the period, by field")}</p>
                        <ModelTable models=response.models lang=l/>
                    </section>
                }
                .into_any()
            }
        }
    };

    view! {
        <main
            class="page dashboard"
            data-testid="dashboard"
            data-period=move || period.get().key()
            data-unit=move || unit.get().unwrap_or_default()
        >
            <h1><T vi="Tổng quan" en="Overview"/></h1>
            {crumbs}
            <div class="dash-controls">{picker}</div>
            {move || refusal(query_state.error.get()).map(|e| view! { <p class="banner banner-error" role="alert">{e}</p> })}
            {body}
        </main>
    }
}

#[component]
fn Totals(counts: Counts, lang: Lang) -> impl IntoView {
    let segments = count_segments(&counts, lang);
    let percent = format!("{} %", counts.completeness_percent());
    view! {
        <section class="card dash-totals" data-testid="totals">
            <h2>{lang.pick("Tình hình nộp báo cáo", "Reports filed")}</h2>
            <p class="dash-completeness" data-testid="completeness">{completeness_text(&counts, lang)}</p>
            <div class="dash-totals-body">
                <Donut segments=segments.clone() center=percent/>
                <Legend segments=segments testid_prefix="total-"/>
            </div>
            <p class="dash-expected">
                {lang.pick("Số đơn vị phải báo cáo: ", "Units that must report: ")}
                <strong data-testid="total-expected">{counts.expected}</strong>
                {format!(" · {} {}", lang.pick("đã tiếp nhận", "accepted"), counts.accepted)}
            </p>
        </section>
    }
}

fn row_matches(row: &UnitRow, filter: Option<Timeliness>) -> bool {
    match filter {
        None => true,
        Some(t) => row.timeliness == Some(t) || (row.has_children && row.subtree.get(t) > 0),
    }
}

#[component]
fn Rows(rows: Vec<UnitRow>, period: Period, filter: RwSignal<Option<Timeliness>>, lang: Lang) -> impl IntoView {
    let mut rows = rows.into_iter();
    let own = rows.next();
    let children: Vec<UnitRow> = rows.collect();
    let child_count = children.len();
    // Counts per status among the rows below (for the chips).
    let chip_count = {
        let children = children.clone();
        move |t: Option<Timeliness>| children.iter().filter(|r| row_matches(r, t)).count()
    };
    let chips = std::iter::once(None)
        .chain(Timeliness::ALL.into_iter().map(Some))
        .map(|t| {
            let n = chip_count(t);
            let label = match t {
                None => lang.pick("Tất cả", "All").to_string(),
                Some(t) => short_label(t, lang).to_string(),
            };
            let tone = t.map(|t| format!("dash-filter chip-t-{}", t.as_str())).unwrap_or("dash-filter".into());
            view! {
                <button
                    type="button"
                    class=tone
                    data-testid="status-filter"
                    data-status=t.map(|t| t.as_str()).unwrap_or("")
                    aria-pressed=move || (filter.get() == t).to_string()
                    on:click=move |_| filter.set(if filter.get_untracked() == t { None } else { t })
                >
                    {format!("{label} ({n})")}
                </button>
            }
        })
        .collect_view();
    let list = move || {
        let f = filter.get();
        let shown: Vec<UnitRow> = children.iter().filter(|r| row_matches(r, f)).cloned().collect();
        if shown.is_empty() {
            return view! {
                <p class="empty dash-none">{lang.pick("Không có đơn vị nào ở trạng thái này.", "No unit in this state.")}</p>
            }
            .into_any();
        }
        shown
            .into_iter()
            .map(|r| view! { <RowCard row=r period=period own=false lang=lang/> })
            .collect_view()
            .into_any()
    };
    view! {
        {own.map(|r| view! {
            <section class="dash-own">
                <h2>{lang.pick("Đơn vị đang xem", "This unit")}</h2>
                <ul class="unit-rows"><RowCard row=r period=period own=true lang=lang/></ul>
            </section>
        })}
        {(child_count > 0).then(|| view! {
            <section class="dash-children">
                <h2>{format!("{} ({child_count})", lang.pick("Đơn vị trực thuộc", "Units below"))}</h2>
                <div class="dash-filters" role="group" aria-label=lang.pick("Lọc theo trạng thái", "Filter by status")>
                    {chips}
                </div>
                <ul class="unit-rows" data-testid="unit-rows">{list}</ul>
            </section>
        })}
    }
}

#[component]
fn RowCard(row: UnitRow, period: Period, own: bool, lang: Lang) -> impl IntoView {
    let timeliness = row.timeliness.map(|t| t.as_str()).unwrap_or("");
    let chip = row.timeliness.map(|t| {
        view! { <span class=format!("chip chip-t-{}", t.as_str()) data-testid="row-status">{timeliness_label(t, lang)}</span> }
    });
    let status_note = match row.status {
        Some(s @ (ReportStatus::Submitted | ReportStatus::Accepted)) => Some(lang.pick(s.label_vi(), s.label_en())),
        _ => None,
    };
    let submitted = row.first_submitted_at.map(|t| {
        let mut text = format!("{} {}", lang.pick("Nộp lần đầu:", "First filed:"), format_date_time(t));
        if let Some(note) = status_note {
            text.push_str(" · ");
            text.push_str(note);
        }
        view! { <p class="row-line" data-testid="row-submitted">{text}</p> }
    });
    let not_owed = (!row.expected).then(|| {
        view! { <p class="row-line muted">{lang.pick("Đơn vị không phải nộp báo cáo này.", "This unit does not file this report.")}</p> }
    });
    let reason = row.return_reason.clone().map(|r| {
        view! {
            <p class="row-line row-reason" data-testid="row-return-reason">
                <strong>{lang.pick("Lý do trả lại: ", "Returned because: ")}</strong>{r}
            </p>
        }
    });
    let subtree = row.has_children.then(|| {
        let c = row.subtree;
        let parts: Vec<String> = Timeliness::ALL
            .into_iter()
            .filter(|t| c.get(*t) > 0)
            .map(|t| format!("{} {}", short_label(t, lang), c.get(t)))
            .collect();
        view! {
            <div class="row-subtree">
                <StackedBar segments=count_segments(&c, lang)/>
                <p class="row-line row-counts" data-testid="row-counts">
                    <strong>{completeness_text(&c, lang)}</strong>
                    {(!parts.is_empty()).then(|| format!(" — {}", parts.join(" · ")))}
                </p>
            </div>
        }
    });
    let name = row.name.clone();
    let title = if row.has_children && !own {
        view! {
            <A href=dashboard_href(&row.unit_id, period) attr:class="row-name row-drill" attr:data-testid="drill">
                <span>{name}</span>
                <span class="chevron" aria-hidden="true">"›"</span>
            </A>
        }
        .into_any()
    } else {
        view! { <span class="row-name">{name}</span> }.into_any()
    };
    let consolidation = row.has_children.then(|| {
        view! {
            <A href=consolidation_href(&row.unit_id, period) attr:class="row-action" attr:data-testid="consolidation-link">
                {lang.pick("Xem tổng hợp báo cáo →", "Consolidated report →")}
            </A>
        }
    });
    view! {
        <li class="card unit-row" class:own=own data-testid="unit-row" data-unit=row.unit_id.clone() data-timeliness=timeliness>
            <div class="row-head">
                {title}
                {chip}
            </div>
            {not_owed}
            {submitted}
            {reason}
            {subtree}
            {consolidation}
        </li>
    }
}

#[component]
fn ImplementationPlans(counts: ObligationCounts, lang: Lang) -> impl IntoView {
    let total = counts.done + counts.late + counts.missing + counts.not_due;
    let segments = obligation_segments(&counts, lang);
    view! {
        <section class="card" data-testid="implementation-plans">
            <h2>{lang.pick("Kế hoạch thực hiện của đơn vị (mục III.1)", "Units' implementation plans (item III.1)")}</h2>
            {if total == 0 {
                view! { <p class="muted">{lang.pick("Không có đơn vị nào phải ban hành.", "No unit has to issue one.")}</p> }.into_any()
            } else {
                view! {
                    <p class="dash-completeness">
                        {format!("{} {}/{total}", lang.pick("Đã ban hành", "Issued"), counts.done + counts.late)}
                    </p>
                    <StackedBar segments=segments.clone()/>
                    <Legend segments=segments testid_prefix="plans-"/>
                }
                .into_any()
            }}
        </section>
    }
}
