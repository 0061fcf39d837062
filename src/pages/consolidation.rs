//! "Tổng hợp báo cáo": the accepted reports below a unit for one period, summed —
//! totals per section, whose reports went in, who is still missing, the narratives
//! with their units' names, the "Dân vận khéo" models — with the files to download
//! (Word, Excel, CSV) and a print view (the page itself, see `@media print`).
//!
//! Kept on the phone like the dashboard, so it can be read (and printed) offline.

use std::collections::{BTreeMap, BTreeSet};

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use wasm_bindgen::JsCast;

use danvan_core::aggregate::{period_kind, Consolidation, SectionNarratives, SourceUnit};
use danvan_core::form::{FieldKind, PeriodKind};
use danvan_core::{Period, ReportForm};

use super::dashboard::{
    current_plan, dashboard_href, refusal, scope_query, AsOf, ModelTable, NothingShown, Scope, SHOW_KEPT_AFTER_MS,
};
use crate::api;
use crate::hooks::{use_cached_query_with_options, Loaded, Query, ShowKept, UseCachedQueryOptions};
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;
use crate::storage::{consolidation_cache_key, LocalDb};

/// The export formats: file extension, button label, test id.
const EXPORTS: [(&str, &str, &str); 3] = [
    ("docx", "Tải Word (.docx)", "export-docx"),
    ("xlsx", "Tải Excel (.xlsx)", "export-xlsx"),
    ("csv", "Tải CSV", "export-csv"),
];

#[component]
pub fn ConsolidationPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let params = use_params_map();
    let unit = Memo::new(move |_| params.with(|p| p.get("unit")));
    let period = Memo::new(move |_| params.with(|p| p.get("period")).and_then(|k| Period::parse_key(&k).ok()));
    let plan = Memo::new(move |_| current_plan(state, period.get()));
    let scope = Memo::new(move |_| {
        let scope = Scope { plan_id: plan.get()?.0, unit_id: unit.get()?, period: period.get()? };
        scope_query(state, Some(scope), consolidation_cache_key)
    });
    let query_state = use_cached_query_with_options(
        scope,
        |q: Query<Scope>| async move {
            let s = q.args;
            api::consolidation(&q.token, &s.plan_id, &s.period.key(), &s.unit_id).await
        },
        UseCachedQueryOptions { show_kept: ShowKept::After(SHOW_KEPT_AFTER_MS), ..Default::default() },
    );
    // The form, for the labels and sections of the sums (on the phone since sign-in).
    let form = LocalResource::new(move || {
        let plan_id = plan.get().map(|p| p.0);
        async move {
            let plan_id = plan_id?;
            LocalDb::shared().await.ok()?.load_form(&plan_id).await.ok().flatten()
        }
    });

    let exporting = RwSignal::new(None::<&'static str>);
    let export_message = RwSignal::new(None::<(bool, String)>);
    let export = move |extension: &'static str| {
        let Some(Query { token, args: s, .. }) = scope.get_untracked() else { return };
        let l = lang.get_untracked();
        let online = web_sys::window().map(|w| w.navigator().on_line()).unwrap_or(true);
        if !online {
            export_message.set(Some((
                false,
                l.pick(
                    "Cần có mạng để tải tệp. Trang này vẫn in được khi ngoại tuyến (nút “In”).",
                    "Downloading a file needs a connection. This page can still be printed offline (“Print”).",
                )
                .to_string(),
            )));
            return;
        }
        exporting.set(Some(extension));
        export_message.set(None);
        leptos::task::spawn_local(async move {
            let result = api::export_consolidation(&token, extension, &s.plan_id, &s.period.key(), &s.unit_id).await;
            let message = match result {
                Ok(file) => {
                    let name = file
                        .file_name
                        .unwrap_or_else(|| format!("tong-hop-{}-{}.{extension}", s.unit_id, s.period.key()));
                    match download_blob(&file.blob, &name) {
                        Ok(()) => (true, format!("{} {name}", l.pick("Đã tải về:", "Downloaded:"))),
                        Err(e) => (false, e),
                    }
                }
                Err(e) => (false, e.to_string()),
            };
            exporting.try_set(None);
            export_message.try_set(Some(message));
        });
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };

    let header = move || {
        let l = lang.get();
        let p = period.get();
        let unit_id = unit.get().unwrap_or_default();
        let name = query_state
            .loaded
            .with(|q| match q {
                Loaded::Shown(s) => Some(s.value.unit_name.clone()),
                _ => None,
            })
            .or_else(|| super::dashboard::unit_name(state, &unit_id))
            .unwrap_or(unit_id);
        view! {
            <header class="consolidation-head">
                <h1>{l.pick("Tổng hợp báo cáo", "Consolidated report")}</h1>
                <p class="consolidation-unit" data-testid="consolidation-unit">{name}</p>
                {p.map(|p| view! {
                    <p class="muted">{format!("{} ({})", l.pick(p.label_vi(), p.label_en()), p.window_label())}</p>
                })}
            </header>
        }
    };

    let buttons = move || {
        let l = lang.get();
        let exports = EXPORTS
            .into_iter()
            .map(|(extension, label, testid)| {
                let label = match (l, extension) {
                    (Lang::Vi, _) => label,
                    (Lang::En, "docx") => "Word (.docx)",
                    (Lang::En, "xlsx") => "Excel (.xlsx)",
                    (Lang::En, _) => "CSV",
                };
                view! {
                    <button
                        type="button"
                        class="btn btn-secondary"
                        data-testid=testid
                        disabled=move || exporting.get().is_some()
                        on:click=move |_| export(extension)
                    >
                        {move || if exporting.get() == Some(extension) { l.pick("Đang tải…", "Downloading…") } else { label }}
                    </button>
                }
            })
            .collect_view();
        view! {
            <div class="export-bar no-print">
                {exports}
                <button type="button" class="btn btn-secondary" data-testid="print" on:click=print>
                    {l.pick("In", "Print")}
                </button>
            </div>
        }
    };

    let body = move || {
        let l = lang.get();
        let form = form.get().flatten();
        match query_state.loaded.get() {
            Loaded::Loading => view! {
                <p class="card empty" role="status" data-testid="loading">{l.pick("Đang tải số liệu…", "Loading figures…")}</p>
            }
            .into_any(),
            Loaded::Nothing { offline, error } => view! { <NothingShown offline=offline error=error/> }.into_any(),
            Loaded::Shown(shown) => {
                let about = shown.about();
                let c = shown.value;
                let kind = Period::parse_key(&c.period).map(|p| period_kind(&p)).unwrap_or(PeriodKind::Month);
                view! {
                    <AsOf shown=about lang=l/>
                    <Sums consolidation=c.clone() form=form.clone() kind=kind lang=l/>
                    <Sources consolidation=c.clone() lang=l/>
                    <Narratives sections=c.narratives form=form lang=l/>
                    <section class="card consolidation-section" data-testid="models-section">
                        <h2>{l.pick("Phong trào “Dân vận khéo”", "“Skilful mass mobilisation” movement")}</h2>
                        <ModelTable models=c.models lang=l/>
                    </section>
                    <p class="muted print-only">
                        {format!("{} {}", l.pick("Số liệu lập lúc", "Generated at"), super::dashboard::format_date_time(c.generated_at))}
                    </p>
                }
                .into_any()
            }
        }
    };

    let back = move || {
        let href = match (unit.get(), period.get()) {
            (Some(u), Some(p)) => dashboard_href(&u, p),
            _ => "/tong-quan".to_string(),
        };
        view! { <A href=href attr:class="back-link no-print"><T vi="← Tổng quan" en="← Overview"/></A> }
    };

    view! {
        <main
            class="page consolidation"
            data-testid="consolidation"
            data-unit=move || unit.get().unwrap_or_default()
            data-period=move || period.get().map(|p| p.key()).unwrap_or_default()
        >
            {back}
            {header}
            {buttons}
            {move || export_message.get().map(|(ok, m)| {
                let class = if ok { "banner banner-info no-print" } else { "banner banner-error no-print" };
                view! { <p class=class role="status" data-testid="export-message">{m}</p> }
            })}
            {move || refusal(query_state.error.get()).map(|e| view! { <p class="banner banner-error no-print" role="alert">{e}</p> })}
            {move || period.get().is_none().then(|| view! {
                <p class="banner banner-error" role="alert"><T vi="Kỳ báo cáo không hợp lệ." en="Invalid period."/></p>
            })}
            {body}
        </main>
    }
}

/// Offers a downloaded file to the person (an object URL on a temporary link).
fn download_blob(blob: &web_sys::Blob, file_name: &str) -> Result<(), String> {
    let failed = || "Trình duyệt không cho tải tệp xuống.".to_string();
    let url = crate::web::object_url(blob).ok_or_else(failed)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or_else(failed)?;
    let a: web_sys::HtmlAnchorElement =
        document.create_element("a").map_err(|_| failed())?.dyn_into().map_err(|_| failed())?;
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    // Revoked later: some browsers read the URL after `click` returns.
    gloo_timers::callback::Timeout::new(60_000, move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    })
    .forget();
    Ok(())
}

/// "II.1. Phổ biến, quán triệt…": a section titled with its plan item's number.
fn section_title(plan_item: Option<&str>, title: &str) -> String {
    match plan_item {
        Some(n) => format!("{n}. {title}"),
        None => title.to_string(),
    }
}

/// The sums per section of the form: (section title, [(field id, label, sum)]).
fn sum_sections(
    form: Option<&ReportForm>,
    totals: &BTreeMap<String, u64>,
    kind: PeriodKind,
    lang: Lang,
) -> Vec<(String, Vec<(String, String, u64)>)> {
    let mut listed = BTreeSet::new();
    let mut out = Vec::new();
    if let Some(form) = form {
        for section in &form.sections {
            let rows: Vec<(String, String, u64)> = section
                .fields
                .iter()
                .filter(|f| matches!(f.kind, FieldKind::Count) && f.applies_to(kind))
                .map(|f| {
                    listed.insert(f.id.clone());
                    let label = lang.pick(&f.label, &f.label_en).clone();
                    (f.id.clone(), label, totals.get(&f.id).copied().unwrap_or(0))
                })
                .collect();
            if !rows.is_empty() {
                out.push((
                    section_title(section.plan_item.as_deref(), lang.pick(&section.title, &section.title_en)),
                    rows,
                ));
            }
        }
    }
    // Sums the form on this phone does not know (an older copy): by id.
    let rest: Vec<(String, String, u64)> =
        totals.iter().filter(|(k, _)| !listed.contains(*k)).map(|(k, v)| (k.clone(), k.clone(), *v)).collect();
    if !rest.is_empty() {
        out.push((lang.pick("Chỉ tiêu khác", "Other figures").to_string(), rest));
    }
    out
}

#[component]
fn Sums(consolidation: Consolidation, form: Option<ReportForm>, kind: PeriodKind, lang: Lang) -> impl IntoView {
    let sections = sum_sections(form.as_ref(), &consolidation.totals, kind, lang);
    let count = consolidation.sources.len();
    let tables = sections
        .into_iter()
        .map(|(title, rows)| {
            let rows = rows
                .into_iter()
                .map(|(id, label, sum)| {
                    view! {
                        <tr>
                            <th scope="row">{label}</th>
                            <td data-testid="sum" data-field=id>{sum}</td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <h3 class="sum-title">{title}</h3>
                <table class="data-table sum-table">
                    <tbody>{rows}</tbody>
                </table>
            }
        })
        .collect_view();
    view! {
        <section class="card consolidation-section" data-testid="sums">
            <h2>{lang.pick("Số liệu tổng hợp", "Totals")}</h2>
            <p class="muted">
                {format!(
                    "{} {count} {}",
                    lang.pick("Cộng từ", "Summed over"),
                    lang.pick("báo cáo đã được tiếp nhận.", "accepted reports."),
                )}
            </p>
            {tables}
        </section>
    }
}

#[component]
fn Sources(consolidation: Consolidation, lang: Lang) -> impl IntoView {
    let state = expect_context::<AppState>();
    let name_of = move |id: &str| super::dashboard::unit_name(state, id).unwrap_or_else(|| id.to_string());
    let SourceList { sources, without } = SourceList::new(&consolidation, &name_of);
    let source_count = sources.len();
    let without_count = without.len();
    let sources = sources
        .into_iter()
        .map(|(id, name, compiled)| {
            // A unit without its own accepted report: its units' reports summed.
            let note = compiled.map(|n| {
                format!(
                    " · {} {n} {}",
                    lang.pick("tổng hợp", "sum of"),
                    lang.pick("báo cáo của đơn vị trực thuộc", "reports of its units")
                )
            });
            view! {
                <li data-testid="source" data-unit=id>
                    {name}
                    {note.map(|n| view! { <span class="muted">{n}</span> })}
                </li>
            }
        })
        .collect_view();
    let without = without
        .into_iter()
        .map(|(id, name)| view! { <li data-testid="without-accepted" data-unit=id>{name}</li> })
        .collect_view();
    view! {
        <section class="card consolidation-section" data-testid="sources">
            <h2>{format!("{} ({source_count})", lang.pick("Đơn vị đã được tổng hợp", "Units included"))}</h2>
            {if source_count == 0 {
                view! { <p class="muted">{lang.pick("Chưa có báo cáo nào được tiếp nhận.", "No report accepted yet.")}</p> }.into_any()
            } else {
                view! { <ul class="name-list">{sources}</ul> }.into_any()
            }}
            <h2>{format!("{} ({without_count})", lang.pick("Đơn vị chưa có báo cáo được tiếp nhận", "Units without an accepted report"))}</h2>
            {if without_count == 0 {
                view! { <p class="muted">{lang.pick("Không có.", "None.")}</p> }.into_any()
            } else {
                view! { <ul class="name-list">{without}</ul> }.into_any()
            }}
        </section>
    }
}

/// Sources and missing units with names (the answer carries ids for the latter).
struct SourceList {
    /// (unit id, name, how many reports below it were summed when not its own).
    sources: Vec<(String, String, Option<u32>)>,
    without: Vec<(String, String)>,
}

impl SourceList {
    fn new(c: &Consolidation, name_of: &dyn Fn(&str) -> String) -> SourceList {
        // A unit summed in also names itself; reuse those names first.
        let known: BTreeMap<&str, &str> = c.sources.iter().map(|s| (s.unit_id.as_str(), s.name.as_str())).collect();
        let name = |id: &str| known.get(id).map(|n| n.to_string()).unwrap_or_else(|| name_of(id));
        let sources = c
            .sources
            .iter()
            .map(|SourceUnit { unit_id, name: n, own, reports, .. }| {
                (unit_id.clone(), n.clone(), (!own).then_some(*reports))
            })
            .collect();
        let without = c.without_accepted.iter().map(|id| (id.clone(), name(id))).collect();
        SourceList { sources, without }
    }
}

#[component]
fn Narratives(sections: Vec<SectionNarratives>, form: Option<ReportForm>, lang: Lang) -> impl IntoView {
    let empty = sections.is_empty();
    let sections = sections
        .into_iter()
        .map(|s| {
            let plan_item =
                form.as_ref().and_then(|f| f.sections.iter().find(|fs| fs.id == s.section_id)?.plan_item.clone());
            let title = section_title(plan_item.as_deref(), &s.title);
            let fields = s
                .fields
                .into_iter()
                .map(|f| {
                    let entries = f
                        .entries
                        .into_iter()
                        .map(|e| {
                            view! {
                                <li data-unit=e.unit_id>
                                    <strong>{e.unit_name}": "</strong>
                                    <span class="narrative-text">{e.text}</span>
                                </li>
                            }
                        })
                        .collect_view();
                    // A closing section's one field is often named like the section.
                    let label = (f.label != s.title).then_some(f.label);
                    view! {
                        <div class="narrative-field" data-field=f.field_id>
                            {label.map(|l| view! { <h4>{l}</h4> })}
                            <ul class="narrative-list">{entries}</ul>
                        </div>
                    }
                })
                .collect_view();
            view! {
                <div class="narrative-section" data-section=s.section_id>
                    <h3>{title}</h3>
                    {fields}
                </div>
            }
        })
        .collect_view();
    view! {
        <section class="card consolidation-section" data-testid="narratives">
            <h2>{lang.pick("Kết quả theo từng nội dung", "Narratives by section")}</h2>
            {empty.then(|| view! { <p class="muted">{lang.pick("Chưa có nội dung.", "Nothing yet.")}</p> })}
            {sections}
        </section>
    }
}
