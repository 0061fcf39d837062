//! `/quan-tri/ke-hoach`: the plans and their report forms as data. Next year's
//! plan starts as a copy of this year's (dates moved, the work of merged units given
//! to their successors) and is edited as a draft (`plan_editor.rs`) until it is
//! published; a published plan never changes — a correction is a new version. A
//! plan written elsewhere can be imported as JSON, previewed, then published.

use chrono::{Datelike, Utc};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use wasm_bindgen::JsCast;

use danvan_core::catalog::{CopyNotes, PlanCheck, PlanDocument, PlanSummary};
use danvan_core::time::{format_date, vn_date};

use super::{failure_view, loading_view, AdminOnly, Ctx, OfflineBanner};
use crate::catalog_api;
use crate::i18n::{Lang, T};

#[component]
pub fn AdminPlansPage() -> impl IntoView {
    view! { <AdminOnly><Plans/></AdminOnly> }
}

thread_local! {
    static LAST_COPY: ArcRwSignal<Option<(String, CopyNotes)>> = ArcRwSignal::new(None);
}

/// What the last copy said (which units got the work of merged ones), for the
/// editor it opens: the plan id and the notes. In memory only.
pub(crate) fn last_copy_notes() -> ArcRwSignal<Option<(String, CopyNotes)>> {
    LAST_COPY.with(Clone::clone)
}

#[component]
fn Plans() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let generation = RwSignal::new(0u32);
    let plans = LocalResource::new(move || {
        let _ = generation.get();
        let token = ctx.token();
        async move {
            let token = token.ok_or_else(|| ctx.offline())?;
            catalog_api::plans(&token).await.map(|p| p.plans).map_err(|e| ctx.failure(&e))
        }
    });
    let list = move || {
        let l = lang.get();
        match plans.get() {
            None => loading_view(l),
            Some(Err(e)) => failure_view(ctx, e),
            Some(Ok(plans)) => {
                plans.into_iter().map(|p| view! { <PlanCard plan=p ctx=ctx/> }).collect_view().into_any()
            }
        }
    };
    view! {
        <main class="page admin-page" data-testid="admin-plans-page">
            <a class="back-link" href="/quan-tri"><T vi="← Quản trị" en="← Administration"/></a>
            <h1><T vi="Kế hoạch và mẫu báo cáo" en="Plans and report forms"/></h1>
            <OfflineBanner online=ctx.online/>
            <p class="muted"><T
                vi="Kế hoạch đã công bố không sửa trực tiếp: mỗi lần đính chính là một phiên bản mới; báo cáo đã nộp giữ nguyên phiên bản đã dùng. Điện thoại nhận kế hoạch mới ở lần đồng bộ kế tiếp."
                en="A published plan is never edited in place: each correction is a new version; reports keep the version they were filed against. Phones get new plans at their next sync."
            /></p>
            <div class="plan-list" data-testid="plan-list">{list}</div>
            <ImportPlan ctx=ctx generation=generation/>
        </main>
    }
}

#[component]
fn PlanCard(plan: PlanSummary, ctx: Ctx) -> impl IntoView {
    let lang = ctx.lang.get_untracked();
    let navigate = use_navigate();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let today = vn_date(Utc::now());
    let default_year = (plan.validity.first.year() + 1).max(today.year());
    let year = RwSignal::new(default_year.to_string());
    let id = plan.id.clone();
    let editor = format!("/quan-tri/ke-hoach/{}", plan.id);
    let copy = {
        let (id, navigate) = (id.clone(), navigate.clone());
        move |_| {
            let Ok(y) = year.get_untracked().trim().parse::<i32>() else {
                error.set(Some(ctx.pick("Nhập năm, ví dụ 2027", "Enter a year, e.g. 2027").to_string()));
                return;
            };
            busy.set(true);
            error.set(None);
            let (id, navigate) = (id.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                let result = async {
                    let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
                    catalog_api::copy_plan(&token, &id, y).await.map_err(|e| ctx.failure(&e))
                }
                .await;
                busy.try_set(false);
                match result {
                    Ok(r) => {
                        last_copy_notes().try_set(Some((r.plan_id.clone(), r.notes)));
                        navigate(&format!("/quan-tri/ke-hoach/{}", r.plan_id), Default::default());
                    }
                    Err(e) => {
                        error.try_set(Some(e));
                    }
                }
            });
        }
    };
    let correct = {
        let (id, navigate) = (id.clone(), navigate.clone());
        move |_| {
            busy.set(true);
            error.set(None);
            let (id, navigate) = (id.clone(), navigate.clone());
            leptos::task::spawn_local(async move {
                let result = async {
                    let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
                    catalog_api::start_draft(&token, &id).await.map_err(|e| ctx.failure(&e))
                }
                .await;
                busy.try_set(false);
                match result {
                    Ok(_) => navigate(&format!("/quan-tri/ke-hoach/{id}"), Default::default()),
                    Err(e) => {
                        error.try_set(Some(e));
                    }
                }
            });
        }
    };
    let status = match (plan.published_version, &plan.draft) {
        (Some(v), None) => format!("{} {v}", lang.pick("Đang áp dụng: phiên bản", "In use: version")),
        (Some(v), Some(d)) => format!(
            "{} {v} · {} {}",
            lang.pick("Đang áp dụng: phiên bản", "In use: version"),
            lang.pick("bản nháp phiên bản", "draft of version"),
            d.version
        ),
        (None, _) => lang.pick("Bản nháp, chưa công bố", "Draft, not published").to_string(),
    };
    let ended = today > plan.validity.last;
    view! {
        <article class="card plan-card" data-testid="plan-card" data-plan=plan.id.clone()>
            <p class="plan-number">
                <strong>{plan.number.clone()}</strong>
                {plan.demo.then(|| view! { <span class="chip chip-soon">{lang.pick("Bản mẫu chạy thử", "Demo plan")}</span> })}
                {ended.then(|| view! { <span class="chip chip-neutral">{lang.pick("Đã kết thúc", "Ended")}</span> })}
            </p>
            <p>{plan.title.clone()}</p>
            <p class="muted">{format!(
                "{} {} – {}",
                lang.pick("Áp dụng", "Applies"),
                format_date(plan.validity.first),
                format_date(plan.validity.last)
            )}</p>
            <p class="muted" data-testid="plan-status">{status}</p>
            <div class="admin-buttons">
                {plan.draft.is_some().then(|| view! {
                    <a class="btn btn-primary" href=editor.clone() data-testid="plan-edit-draft">{lang.pick("Sửa bản nháp", "Edit the draft")}</a>
                })}
                {(plan.draft.is_none() && plan.published_version.is_some()).then(|| view! {
                    <button type="button" class="btn btn-secondary" data-testid="plan-correct" disabled=move || busy.get() on:click=correct.clone()>
                        {lang.pick("Đính chính (phiên bản mới)", "Correct (new version)")}
                    </button>
                })}
            </div>
            {plan.published_version.is_some().then(|| view! {
                <div class="copy-row">
                    <label>
                        {lang.pick("Sao chép sang năm", "Copy to year")}
                        <input type="number" inputmode="numeric" min="2000" max="2100" class="year-input" data-testid="copy-year"
                            prop:value=move || year.get() on:input=move |ev| year.set(event_target_value(&ev))/>
                    </label>
                    <button type="button" class="btn btn-secondary" data-testid="plan-copy" disabled=move || busy.get() on:click=copy.clone()>
                        {lang.pick("Sao chép", "Copy")}
                    </button>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="form-error" role="alert" data-testid="plan-error">{e}</p> })}
        </article>
    }
}

/// A plan written elsewhere: `{"plan": …, "form": …}`, previewed, then published.
#[component]
fn ImportPlan(ctx: Ctx, generation: RwSignal<u32>) -> impl IntoView {
    let doc = RwSignal::new(None::<PlanDocument>);
    let check = RwSignal::new(None::<PlanCheck>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let send = move |commit: bool| {
        let Some(d) = doc.get_untracked() else { return };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
                catalog_api::import_plan(&token, &d, commit).await.map_err(|e| ctx.failure(&e))
            }
            .await;
            busy.try_set(false);
            match result {
                Ok(c) => {
                    if c.committed {
                        generation.try_update(|g| *g += 1);
                        leptos::task::spawn_local(crate::state::refresh(ctx.state));
                    }
                    check.try_set(Some(c));
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        check.set(None);
        error.set(None);
        leptos::task::spawn_local(async move {
            let parsed = crate::web::blob_bytes(file.as_ref()).await.and_then(|bytes| {
                serde_json::from_slice::<PlanDocument>(&bytes).map_err(|e| {
                    format!(
                        "{} ({e})",
                        ctx.pick(
                            "Tệp không phải kế hoạch dạng JSON {\"plan\": …, \"form\": …}",
                            "Not a plan as JSON {\"plan\": …, \"form\": …}"
                        )
                    )
                })
            });
            match parsed {
                Ok(d) => {
                    doc.try_set(Some(d));
                    send(false);
                }
                Err(e) => {
                    error.try_set(Some(e));
                }
            }
        });
    };
    view! {
        <section class="card admin-section" data-testid="plan-import">
            <h2><T vi="Nhập kế hoạch từ tệp JSON" en="Import a plan from JSON"/></h2>
            <label class="btn btn-secondary file-button">
                <input type="file" accept=".json,application/json" data-testid="plan-file" on:change=on_file/>
                <T vi="Chọn tệp .json" en="Choose a .json file"/>
            </label>
            {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert">{e}</p> })}
            {move || check.get().map(|c| view! { <CheckView check=c lang=ctx.lang.get()/> })}
            {move || check.with(|c| c.as_ref().is_some_and(|c| c.valid && !c.committed)).then(|| view! {
                <button type="button" class="btn btn-primary" data-testid="plan-import-publish"
                    disabled=move || busy.get() || !ctx.online.get() on:click=move |_| send(true)>
                    <T vi="Công bố kế hoạch" en="Publish the plan"/>
                </button>
            })}
        </section>
    }
}

/// A plan's check: its errors, or what publishing it changes.
#[component]
pub(crate) fn CheckView(check: PlanCheck, lang: Lang) -> impl IntoView {
    let errors = check.errors.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view();
    let has_errors = !check.errors.is_empty();
    let changes = check.changes.clone().map(|c| {
        let groups = [
            (lang.pick("Thông tin chung", "General"), c.facts),
            (lang.pick("Mục thêm", "Items added"), c.items_added),
            (lang.pick("Mục sửa", "Items changed"), c.items_changed),
            (lang.pick("Mục bỏ", "Items removed"), c.items_removed),
            (lang.pick("Trường thêm", "Fields added"), c.fields_added),
            (lang.pick("Trường sửa", "Fields changed"), c.fields_changed),
            (lang.pick("Trường ngừng sử dụng", "Fields retired"), c.fields_retired),
        ]
        .into_iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(title, list)| {
            let n = list.len();
            let items = list
                .into_iter()
                .map(|ch| view! { <li>{ch.label}{ch.detail.map(|d| format!(" — {d}"))}</li> })
                .collect_view();
            view! { <details class="change-group" open=n <= 8><summary>{format!("{title}: {n}")}</summary><ul>{items}</ul></details> }
        })
        .collect_view();
        view! {
            {c.new_plan.then(|| view! { <p class="import-summary ok">{lang.pick("Kế hoạch mới", "A new plan")}</p> })}
            {groups}
        }
    });
    let status = if check.committed {
        Some(format!("{} {}", lang.pick("Đã công bố phiên bản", "Published version"), check.version.unwrap_or(1)))
    } else if check.valid {
        check.version.map(|v| format!("{} {v}", lang.pick("Sẵn sàng công bố: phiên bản", "Ready to publish: version")))
    } else {
        None
    };
    view! {
        <div class="plan-check" data-testid="plan-check" data-valid=check.valid.to_string() data-committed=check.committed.to_string()>
            {has_errors.then(|| view! {
                <p class="import-summary bad">{lang.pick("Chưa công bố được:", "Cannot be published yet:")}</p>
                <ul class="banner banner-error" role="alert" data-testid="plan-errors">{errors}</ul>
            })}
            {status.map(|s| view! { <p class="import-summary ok" data-testid="plan-check-status">{s}</p> })}
            {changes}
        </div>
    }
}
