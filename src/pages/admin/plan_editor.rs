//! `/quan-tri/ke-hoach/:id`: a plan's draft, edited without writing JSON: its
//! number, title and dates; its items (text, who carries them out, the deadline of
//! each obligation); its report form's fields. "Lưu bản nháp" keeps the work and
//! shows what would stop publishing or what publishing changes; "Công bố" makes it
//! the version phones use.
//!
//! A field of a form already published cannot be deleted, only retired (reports
//! filed with it keep their values); a field added in this draft can. Sections
//! follow the plan's content items: their titles are edited here, not their set.

use std::collections::HashSet;

use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use danvan_core::catalog::{DraftInfo, PlanCheck, PlanDocument};
use danvan_core::form::{Field, FieldKind, PeriodKind};
use danvan_core::plan::{Assignee, DueRule, Obligation, PlanItem};
use danvan_core::{OrgUnit, UnitKind};

use super::plans::{last_copy_notes, CheckView};
use super::{error_view, loading_view, AdminOnly, ConfirmButton, Ctx, OfflineBanner};
use crate::i18n::{Lang, T};
use crate::{api, catalog_api};

#[component]
pub fn AdminPlanEditorPage() -> impl IntoView {
    view! { <AdminOnly><Editor/></AdminOnly> }
}

/// Everything the editor works on: the draft, the ids of the fields already
/// published (retire, not delete), the units to assign work to.
#[derive(Clone)]
struct Loaded {
    doc: PlanDocument,
    check: PlanCheck,
    info: DraftInfo,
    published_fields: HashSet<String>,
    units: Vec<OrgUnit>,
}

#[component]
fn Editor() -> impl IntoView {
    let ctx = Ctx::new();
    let params = use_params_map();
    let plan_id = move || params.with(|p| p.get("id").unwrap_or_default());
    let loaded = LocalResource::new(move || {
        let id = plan_id();
        let token = ctx.token();
        async move {
            let token = token.ok_or_else(|| ctx.offline())?;
            let draft = catalog_api::draft(&token, &id).await.map_err(|e| ctx.failure(&e))?;
            // The published form, if any: its fields may only be retired.
            let published_fields = match api::form(&token, &id).await {
                Ok(f) => f.form.fields().map(|f| f.id.clone()).collect(),
                Err(_) => HashSet::new(),
            };
            let units = api::units(&token).await.map_err(|e| ctx.failure(&e))?.units;
            Ok::<_, String>(Loaded { doc: draft.doc, check: draft.check, info: draft.info, published_fields, units })
        }
    });
    view! {
        <main class="page admin-page plan-editor" data-testid="plan-editor">
            <a class="back-link" href="/quan-tri/ke-hoach"><T vi="← Kế hoạch" en="← Plans"/></a>
            <OfflineBanner online=ctx.online/>
            {move || match loaded.get() {
                None => loading_view(ctx.lang.get()),
                Some(Err(e)) => error_view(e),
                Some(Ok(l)) => view! { <Workbench ctx=ctx loaded=l/> }.into_any(),
            }}
        </main>
    }
}

fn date_value(d: Option<NaiveDate>) -> String {
    d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn parse_date_input(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

#[component]
fn Workbench(ctx: Ctx, loaded: Loaded) -> impl IntoView {
    let lang = ctx.lang;
    let navigate = use_navigate();
    let doc = RwSignal::new(loaded.doc);
    let check = RwSignal::new(Some(loaded.check));
    let dirty = RwSignal::new(false);
    let busy = RwSignal::new(None::<&'static str>);
    let error = RwSignal::new(None::<String>);
    let published_fields = StoredValue::new(loaded.published_fields);
    let units = StoredValue::new(loaded.units);
    let version = loaded.info.version;
    let plan_id = doc.with_untracked(|d| d.plan.id.clone());
    let notes = last_copy_notes().get_untracked().filter(|(id, _)| *id == plan_id).map(|(_, n)| n);
    let edit = move |f: &dyn Fn(&mut PlanDocument)| {
        doc.update(|d| f(d));
        dirty.set(true);
    };

    let save = move |then_publish: bool| {
        busy.set(Some(if then_publish { "publish" } else { "save" }));
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = async {
                if !ctx.is_online_now() {
                    return Err(ctx.offline());
                }
                let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
                let current = doc.get_untracked();
                let saved = catalog_api::save_draft(&token, &current).await.map_err(|e| ctx.failure(&e))?;
                dirty.try_set(false);
                if then_publish && saved.check.valid {
                    let published =
                        catalog_api::publish(&token, &current.plan.id).await.map_err(|e| ctx.failure(&e))?;
                    return Ok(published);
                }
                Ok(saved.check)
            }
            .await;
            busy.try_set(None);
            match result {
                Ok(c) => {
                    if c.committed {
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
    let discard = {
        let navigate = navigate.clone();
        let plan_id = plan_id.clone();
        Callback::new(move |_: ()| {
            let (navigate, plan_id) = (navigate.clone(), plan_id.clone());
            leptos::task::spawn_local(async move {
                let result = async {
                    let token = ctx.token_now().ok_or_else(|| ctx.offline())?;
                    catalog_api::discard_draft(&token, &plan_id).await.map_err(|e| ctx.failure(&e))
                }
                .await;
                match result {
                    Ok(_) => navigate("/quan-tri/ke-hoach", Default::default()),
                    Err(e) => {
                        error.try_set(Some(e));
                    }
                }
            });
        })
    };
    let committed = move || check.with(|c| c.as_ref().is_some_and(|c| c.committed));
    let item_count = Memo::new(move |_| doc.with(|d| d.plan.items.len()));
    let section_count = Memo::new(move |_| doc.with(|d| d.form.as_ref().map_or(0, |f| f.sections.len())));

    let text_input = move |label_vi: &'static str,
                           label_en: &'static str,
                           testid: &'static str,
                           get: fn(&PlanDocument) -> String,
                           set: fn(&mut PlanDocument, String)| {
        view! {
            <label class="field">
                <span class="field-label">{move || lang.get().pick(label_vi, label_en)}</span>
                <input type="text" data-testid=testid prop:value=move || doc.with(get)
                    on:input=move |ev| { let v = event_target_value(&ev); edit(&|d| set(d, v.clone())) }/>
            </label>
        }
    };
    let date_input = move |label_vi: &'static str,
                           label_en: &'static str,
                           testid: &'static str,
                           get: fn(&PlanDocument) -> Option<NaiveDate>,
                           set: fn(&mut PlanDocument, Option<NaiveDate>)| {
        view! {
            <label class="field">
                <span class="field-label">{move || lang.get().pick(label_vi, label_en)}</span>
                <input type="date" data-testid=testid prop:value=move || date_value(doc.with(get))
                    on:change=move |ev| { let v = parse_date_input(&event_target_value(&ev)); edit(&|d| set(d, v)) }/>
            </label>
        }
    };

    view! {
        <h1>
            {move || doc.with(|d| d.plan.number.clone())}
            " · "
            {move || format!("{} {version}", lang.get().pick("bản nháp phiên bản", "draft of version"))}
        </h1>
        {notes.map(|n| view! {
            <section class="card admin-section" data-testid="copy-notes">
                <h2><T vi="Đã sao chép" en="Copied"/></h2>
                {(!n.reassigned.is_empty()).then(|| view! {
                    <p class="muted"><T vi="Việc của đơn vị đã sáp nhập được giao cho đơn vị kế thừa:" en="Work of merged units now goes to their successors:"/></p>
                    <ul>{n.reassigned.iter().map(|l| view! { <li>{l.clone()}</li> }).collect_view()}</ul>
                })}
                {(!n.unresolved.is_empty()).then(|| view! {
                    <p class="banner banner-warn"><T vi="Đơn vị đã đóng, không có đơn vị kế thừa — hãy giao lại:" en="Closed units without a successor — reassign:"/>" "{n.unresolved.join(", ")}</p>
                })}
            </section>
        })}
        <section class="card admin-section">
            <h2><T vi="Thông tin chung" en="General"/></h2>
            {text_input("Số hiệu", "Number", "plan-number", |d| d.plan.number.clone(), |d, v| d.plan.number = v)}
            <label class="field">
                <span class="field-label">{move || lang.get().pick("Trích yếu", "Title")}</span>
                <textarea rows="3" data-testid="plan-title" prop:value=move || doc.with(|d| d.plan.title.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); edit(&|d| d.plan.title = v.clone()) }></textarea>
            </label>
            {text_input("Cơ quan ban hành", "Issued by", "plan-issued-by", |d| d.plan.issued_by.clone(), |d, v| d.plan.issued_by = v)}
            <div class="field-row">
                {date_input("Ngày ban hành", "Issued on", "plan-issued-on", |d| Some(d.plan.issued_on), |d, v| if let Some(v) = v { d.plan.issued_on = v })}
                {date_input("Áp dụng từ (trống: ngày ban hành)", "Applies from (empty: issue date)", "plan-valid-from", |d| d.plan.valid_from, |d, v| d.plan.valid_from = v)}
                {date_input("Áp dụng đến (trống: 31/12)", "Applies to (empty: 31/12)", "plan-valid-to", |d| d.plan.valid_to, |d, v| d.plan.valid_to = v)}
            </div>
        </section>
        <section class="card admin-section">
            <h2><T vi="Các mục của kế hoạch" en="Plan items"/></h2>
            <For each=move || 0..item_count.get() key=|i| *i let:i>
                <ItemEditor i=i doc=doc dirty=dirty units=units lang=lang/>
            </For>
            <button type="button" class="btn btn-secondary" data-testid="item-add" on:click=move |_| edit(&add_item)>
                <T vi="+ Thêm mục" en="+ Add an item"/>
            </button>
        </section>
        <section class="card admin-section">
            <h2><T vi="Mẫu báo cáo" en="Report form"/></h2>
            <p class="muted"><T
                vi="Trường đã công bố không xoá được, chỉ ngừng sử dụng: báo cáo đã nộp giữ nguyên số liệu."
                en="A published field cannot be deleted, only retired: filed reports keep their values."
            /></p>
            <For each=move || 0..section_count.get() key=|i| *i let:s>
                <SectionEditor s=s doc=doc dirty=dirty published=published_fields lang=lang/>
            </For>
        </section>
        <div class="editor-bar" data-testid="editor-bar">
            {move || error.get().map(|e| view! { <p class="banner banner-error" role="alert" data-testid="editor-error">{e}</p> })}
            {move || check.get().map(|c| view! { <CheckView check=c lang=lang.get()/> })}
            {move || (!committed()).then(|| view! {
                <div class="admin-buttons">
                    <button type="button" class="btn btn-secondary" data-testid="draft-save"
                        disabled=move || busy.get().is_some() || !ctx.online.get() on:click=move |_| save(false)>
                        {move || if dirty.get() { lang.get().pick("Lưu bản nháp *", "Save the draft *") } else { lang.get().pick("Lưu bản nháp", "Save the draft") }}
                    </button>
                    <button type="button" class="btn btn-primary" data-testid="draft-publish"
                        disabled=move || busy.get().is_some() || !ctx.online.get() on:click=move |_| save(true)>
                        <T vi="Lưu và công bố" en="Save and publish"/>
                    </button>
                    <ConfirmButton
                        vi="Bỏ bản nháp" en="Discard the draft"
                        question_vi="Bỏ bản nháp này? Những gì đã sửa sẽ mất." question_en="Discard this draft? The edits are lost."
                        confirm_vi="Bỏ bản nháp" confirm_en="Discard"
                        testid="draft-discard" confirm_testid="draft-discard-confirm"
                        on_confirm=discard danger=true
                    />
                </div>
            })}
            {move || committed().then(|| view! {
                <a class="btn btn-primary" href="/quan-tri/ke-hoach" data-testid="back-to-plans"><T vi="Về danh sách kế hoạch" en="Back to the plans"/></a>
            })}
        </div>
    }
}

fn add_item(d: &mut PlanDocument) {
    let mut n = d.plan.items.len() + 1;
    while d.plan.items.iter().any(|i| i.id == format!("M{n}")) {
        n += 1;
    }
    let id = format!("M{n}");
    let section = d.plan.items.last().map(|i| i.section.clone()).unwrap_or_default();
    d.plan.items.push(PlanItem {
        id: id.clone(),
        section,
        number: id.clone(),
        title: String::new(),
        body: String::new(),
        assigned_to: vec![Assignee::Kind(UnitKind::Commune)],
        obligations: vec![Obligation {
            id: format!("{id}.thuc-hien"),
            title: String::new(),
            due: DueRule::Continuous,
            assigned_to: None,
        }],
    });
}

fn kind_label(k: UnitKind, lang: Lang) -> &'static str {
    match k {
        UnitKind::Province => lang.pick("Tỉnh", "Province"),
        UnitKind::Department => lang.pick("Các sở, ban, ngành", "Departments"),
        UnitKind::District => lang.pick("Các huyện (trước 07/2025)", "Districts (before 07/2025)"),
        UnitKind::Commune => lang.pick("Các xã, phường, đặc khu", "Commune-level units"),
    }
}

fn rule_key(r: &DueRule) -> &'static str {
    match r {
        DueRule::Continuous => "continuous",
        DueRule::Monthly { .. } => "monthly",
        DueRule::Yearly { .. } => "yearly",
        DueRule::Once { .. } => "once",
    }
}

#[component]
fn ItemEditor(
    i: usize,
    doc: RwSignal<PlanDocument>,
    dirty: RwSignal<bool>,
    units: StoredValue<Vec<OrgUnit>>,
    lang: RwSignal<Lang>,
) -> impl IntoView {
    let edit = move |f: &dyn Fn(&mut PlanItem)| {
        doc.update(|d| {
            if let Some(item) = d.plan.items.get_mut(i) {
                f(item)
            }
        });
        dirty.set(true);
    };
    let read = move |f: fn(&PlanItem) -> String| doc.with(|d| d.plan.items.get(i).map(f).unwrap_or_default());
    let obligation_count = Memo::new(move |_| doc.with(|d| d.plan.items.get(i).map_or(0, |it| it.obligations.len())));
    let named_units = Memo::new(move |_| {
        doc.with(|d| {
            d.plan.items.get(i).map_or(Vec::new(), |it| {
                it.assigned_to
                    .iter()
                    .filter_map(|a| match a {
                        Assignee::Unit(id) => Some(id.clone()),
                        Assignee::Kind(_) => None,
                    })
                    .collect()
            })
        })
    });
    // Units that exist while the plan applies, for "giao cho đơn vị".
    let choices = move || {
        let v = doc.with(|d| d.plan.validity());
        units.with_value(|us| {
            us.iter()
                .filter(|u| u.valid_during(v.first, v.last) && u.kind != UnitKind::Commune)
                .map(|u| (u.id.clone(), u.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let unit_name = move |id: &str| {
        units.with_value(|us| us.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or(id.to_string()))
    };
    let add_unit = RwSignal::new(String::new());
    view! {
        <fieldset class="item-editor" data-testid="item-editor" data-item=move || read(|it| it.id.clone())>
            <legend>{move || format!("{} {}", lang.get().pick("Mục", "Item"), read(|it| it.number.clone()))}</legend>
            <div class="field-row">
                <label class="field field-narrow">
                    <span class="field-label">{move || lang.get().pick("Số mục", "Number")}</span>
                    <input type="text" data-testid="item-number" prop:value=move || read(|it| it.number.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); edit(&|it| it.number = v.clone()) }/>
                </label>
                <label class="field">
                    <span class="field-label">{move || lang.get().pick("Tiêu đề", "Title")}</span>
                    <input type="text" data-testid="item-title" prop:value=move || read(|it| it.title.clone())
                        on:input=move |ev| { let v = event_target_value(&ev); edit(&|it| it.title = v.clone()) }/>
                </label>
            </div>
            <label class="field">
                <span class="field-label">{move || lang.get().pick("Nội dung", "Text")}</span>
                <textarea rows="4" data-testid="item-body" prop:value=move || read(|it| it.body.clone())
                    on:input=move |ev| { let v = event_target_value(&ev); edit(&|it| it.body = v.clone()) }></textarea>
            </label>
            <div class="assignees">
                <span class="field-label">{move || lang.get().pick("Đơn vị thực hiện", "Carried out by")}</span>
                {UnitKind::ALL.into_iter().map(|k| view! {
                    <label class="check">
                        <input type="checkbox" data-testid="item-kind" data-kind=k.as_str()
                            prop:checked=move || doc.with(|d| d.plan.items.get(i).is_some_and(|it| it.assigned_to.contains(&Assignee::Kind(k))))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                edit(&|it| {
                                    it.assigned_to.retain(|a| *a != Assignee::Kind(k));
                                    if on { it.assigned_to.push(Assignee::Kind(k)) }
                                })
                            }/>
                        {move || kind_label(k, lang.get())}
                    </label>
                }).collect_view()}
                <ul class="named-units">
                    {move || named_units.get().into_iter().map(|id| {
                        let remove = id.clone();
                        view! {
                            <li>{unit_name(&id)}" "
                                <button type="button" class="btn-link" aria-label="Bỏ"
                                    on:click=move |_| { let r = remove.clone(); edit(&|it| it.assigned_to.retain(|a| *a != Assignee::Unit(r.clone()))) }>"×"</button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <div class="field-row">
                    <select data-testid="item-unit-add" on:change=move |ev| add_unit.set(event_target_value(&ev))>
                        <option value="">{move || lang.get().pick("— Giao thêm cho đơn vị —", "— Also assign to a unit —")}</option>
                        {move || choices().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                    <button type="button" class="btn btn-secondary" on:click=move |_| {
                        let id = add_unit.get_untracked();
                        if !id.is_empty() {
                            edit(&|it| if !it.assigned_to.contains(&Assignee::Unit(id.clone())) { it.assigned_to.push(Assignee::Unit(id.clone())) });
                        }
                    }>{move || lang.get().pick("Thêm", "Add")}</button>
                </div>
            </div>
            <For each=move || 0..obligation_count.get() key=|o| *o let:o>
                <ObligationEditor i=i o=o doc=doc dirty=dirty lang=lang/>
            </For>
            <div class="admin-buttons">
                <button type="button" class="btn btn-secondary" on:click=move |_| edit(&|it| {
                    let n = it.obligations.len() + 1;
                    it.obligations.push(Obligation { id: format!("{}.nghia-vu-{n}", it.id), title: String::new(), due: DueRule::Continuous, assigned_to: None });
                })>{move || lang.get().pick("+ Thêm nghĩa vụ", "+ Add an obligation")}</button>
                <button type="button" class="btn btn-danger" data-testid="item-remove" on:click=move |_| {
                    doc.update(|d| { if i < d.plan.items.len() { d.plan.items.remove(i); } });
                    dirty.set(true);
                }>{move || lang.get().pick("Xoá mục", "Remove the item")}</button>
            </div>
        </fieldset>
    }
}

#[component]
fn ObligationEditor(
    i: usize,
    o: usize,
    doc: RwSignal<PlanDocument>,
    dirty: RwSignal<bool>,
    lang: RwSignal<Lang>,
) -> impl IntoView {
    let edit = move |f: &dyn Fn(&mut Obligation)| {
        doc.update(|d| {
            if let Some(ob) = d.plan.items.get_mut(i).and_then(|it| it.obligations.get_mut(o)) {
                f(ob)
            }
        });
        dirty.set(true);
    };
    let read = move || doc.with(|d| d.plan.items.get(i).and_then(|it| it.obligations.get(o)).cloned());
    let rule = move || read().map(|ob| rule_key(&ob.due)).unwrap_or("continuous");
    let once_date = move || match read().map(|ob| ob.due) {
        Some(DueRule::Once { date }) => date_value(Some(date)),
        _ => String::new(),
    };
    view! {
        <div class="obligation-editor" data-testid="obligation-editor">
            <label class="field">
                <span class="field-label">{move || lang.get().pick("Nghĩa vụ", "Obligation")}</span>
                <input type="text" data-testid="obligation-title" prop:value=move || read().map(|ob| ob.title).unwrap_or_default()
                    on:input=move |ev| { let v = event_target_value(&ev); edit(&|ob| ob.title = v.clone()) }/>
            </label>
            <div class="field-row">
                <label class="field">
                    <span class="field-label">{move || lang.get().pick("Thời hạn", "Deadline")}</span>
                    <select data-testid="obligation-rule" prop:value=rule on:change=move |ev| {
                        let v = event_target_value(&ev);
                        let plan_start = doc.with_untracked(|d| d.plan.validity().first);
                        edit(&|ob| ob.due = match v.as_str() {
                            "monthly" => DueRule::Monthly { before_day: 15 },
                            "yearly" => DueRule::Yearly { before_month: 12, before_day: 15 },
                            "once" => DueRule::Once { date: plan_start + chrono::Days::new(28) },
                            _ => DueRule::Continuous,
                        })
                    }>
                        <option value="continuous">{move || lang.get().pick("Thường xuyên", "Ongoing")}</option>
                        <option value="monthly">{move || lang.get().pick("Báo cáo tháng, trước ngày 15", "Monthly report, before the 15th")}</option>
                        <option value="yearly">{move || lang.get().pick("Báo cáo năm, trước 15/12", "Yearly report, before 15/12")}</option>
                        <option value="once">{move || lang.get().pick("Một lần, trước ngày…", "Once, by…")}</option>
                    </select>
                </label>
                {move || (rule() == "once").then(|| view! {
                    <label class="field">
                        <span class="field-label">{move || lang.get().pick("Hạn", "Due")}</span>
                        <input type="date" data-testid="obligation-date" prop:value=once_date on:change=move |ev| {
                            if let Some(date) = parse_date_input(&event_target_value(&ev)) {
                                edit(&|ob| ob.due = DueRule::Once { date })
                            }
                        }/>
                    </label>
                })}
            </div>
        </div>
    }
}

#[component]
fn SectionEditor(
    s: usize,
    doc: RwSignal<PlanDocument>,
    dirty: RwSignal<bool>,
    published: StoredValue<HashSet<String>>,
    lang: RwSignal<Lang>,
) -> impl IntoView {
    let field_count = Memo::new(move |_| {
        doc.with(|d| d.form.as_ref().and_then(|f| f.sections.get(s)).map_or(0, |sec| sec.fields.len()))
    });
    let title = move || {
        doc.with(|d| {
            d.form
                .as_ref()
                .and_then(|f| f.sections.get(s))
                .map(|sec| format!("{} {}", sec.id, sec.title))
                .unwrap_or_default()
        })
    };
    let add = move |_| {
        doc.update(|d| {
            let Some(form) = d.form.as_mut() else { return };
            let taken: HashSet<String> = form.fields().map(|f| f.id.clone()).collect();
            let Some(sec) = form.sections.get_mut(s) else { return };
            // Ids in the section's style ("ii1.sessions" → "ii1.moi-1").
            let prefix = sec
                .fields
                .first()
                .and_then(|f| f.id.split('.').next().map(str::to_string))
                .unwrap_or_else(|| sec.id.to_lowercase().replace(['.', ' '], ""));
            let mut n = 1;
            while taken.contains(&format!("{prefix}.moi-{n}")) {
                n += 1;
            }
            sec.fields.push(Field {
                id: format!("{prefix}.moi-{n}"),
                label: String::new(),
                label_en: String::new(),
                kind: FieldKind::Count,
                required: false,
                only: None,
                retired: false,
            });
        });
        dirty.set(true);
    };
    view! {
        <fieldset class="section-editor" data-testid="section-editor" data-section=move || doc.with(|d| d.form.as_ref().and_then(|f| f.sections.get(s)).map(|x| x.id.clone()).unwrap_or_default())>
            <legend>{title}</legend>
            <label class="field">
                <span class="field-label">{move || lang.get().pick("Tiêu đề phần", "Section title")}</span>
                <input type="text" data-testid="section-title"
                    prop:value=move || doc.with(|d| d.form.as_ref().and_then(|f| f.sections.get(s)).map(|x| x.title.clone()).unwrap_or_default())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        doc.update(|d| if let Some(sec) = d.form.as_mut().and_then(|f| f.sections.get_mut(s)) { sec.title = v.clone() });
                        dirty.set(true);
                    }/>
            </label>
            <For each=move || 0..field_count.get() key=|f| *f let:f>
                <FieldEditor s=s f=f doc=doc dirty=dirty published=published lang=lang/>
            </For>
            <button type="button" class="btn btn-secondary" data-testid="field-add" on:click=add>
                {move || lang.get().pick("+ Thêm trường", "+ Add a field")}
            </button>
        </fieldset>
    }
}

#[component]
fn FieldEditor(
    s: usize,
    f: usize,
    doc: RwSignal<PlanDocument>,
    dirty: RwSignal<bool>,
    published: StoredValue<HashSet<String>>,
    lang: RwSignal<Lang>,
) -> impl IntoView {
    let edit = move |g: &dyn Fn(&mut Field)| {
        doc.update(|d| {
            if let Some(field) =
                d.form.as_mut().and_then(|form| form.sections.get_mut(s)).and_then(|sec| sec.fields.get_mut(f))
            {
                g(field)
            }
        });
        dirty.set(true);
    };
    let read = move || {
        doc.with(|d| d.form.as_ref().and_then(|form| form.sections.get(s)).and_then(|sec| sec.fields.get(f)).cloned())
    };
    let is_published = move || read().is_some_and(|x| published.with_value(|p| p.contains(&x.id)));
    let kind = move || match read().map(|x| x.kind) {
        Some(FieldKind::Text { .. }) => "text",
        _ => "count",
    };
    let max_chars = move || match read().map(|x| x.kind) {
        Some(FieldKind::Text { max_chars }) => max_chars.to_string(),
        _ => String::new(),
    };
    let only = move || match read().and_then(|x| x.only) {
        Some(PeriodKind::Month) => "month",
        Some(PeriodKind::Year) => "year",
        None => "both",
    };
    view! {
        <div class="field-editor" data-testid="field-editor" data-field=move || read().map(|x| x.id).unwrap_or_default()
            class:retired=move || read().is_some_and(|x| x.retired)>
            <label class="field">
                <span class="field-label">{move || format!("{} ({})", lang.get().pick("Tên trường", "Label"), read().map(|x| x.id).unwrap_or_default())}</span>
                <input type="text" data-testid="field-label" prop:value=move || read().map(|x| x.label).unwrap_or_default()
                    on:input=move |ev| { let v = event_target_value(&ev); edit(&|x| { x.label = v.clone(); if x.label_en.is_empty() || !published.with_value(|p| p.contains(&x.id)) { x.label_en = v.clone() } }) }/>
            </label>
            <div class="field-row">
                <select data-testid="field-kind" prop:value=kind on:change=move |ev| {
                    let v = event_target_value(&ev);
                    edit(&|x| x.kind = if v == "text" { FieldKind::Text { max_chars: 2000 } } else { FieldKind::Count })
                }>
                    <option value="count">{move || lang.get().pick("Số", "Number")}</option>
                    <option value="text">{move || lang.get().pick("Văn bản", "Text")}</option>
                </select>
                {move || (kind() == "text").then(|| view! {
                    <label class="field field-narrow">
                        <span class="field-label">{move || lang.get().pick("Tối đa (ký tự)", "Max characters")}</span>
                        <input type="number" inputmode="numeric" min="1" prop:value=max_chars on:change=move |ev| {
                            if let Ok(n) = event_target_value(&ev).trim().parse::<u32>() {
                                edit(&|x| x.kind = FieldKind::Text { max_chars: n })
                            }
                        }/>
                    </label>
                })}
                <select data-testid="field-only" prop:value=only on:change=move |ev| {
                    let v = event_target_value(&ev);
                    edit(&|x| x.only = match v.as_str() { "month" => Some(PeriodKind::Month), "year" => Some(PeriodKind::Year), _ => None })
                }>
                    <option value="both">{move || lang.get().pick("Báo cáo tháng và năm", "Monthly and yearly")}</option>
                    <option value="month">{move || lang.get().pick("Chỉ báo cáo tháng", "Monthly only")}</option>
                    <option value="year">{move || lang.get().pick("Chỉ báo cáo năm", "Yearly only")}</option>
                </select>
                <label class="check">
                    <input type="checkbox" data-testid="field-required" prop:checked=move || read().is_some_and(|x| x.required)
                        on:change=move |ev| { let on = event_target_checked(&ev); edit(&|x| x.required = on) }/>
                    {move || lang.get().pick("Bắt buộc", "Required")}
                </label>
                {move || if is_published() {
                    view! {
                        <label class="check">
                            <input type="checkbox" data-testid="field-retired" prop:checked=move || read().is_some_and(|x| x.retired)
                                on:change=move |ev| { let on = event_target_checked(&ev); edit(&|x| x.retired = on) }/>
                            {move || lang.get().pick("Ngừng sử dụng", "Retired")}
                        </label>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="btn btn-danger" data-testid="field-remove" on:click=move |_| {
                            doc.update(|d| if let Some(sec) = d.form.as_mut().and_then(|form| form.sections.get_mut(s)) { if f < sec.fields.len() { sec.fields.remove(f); } });
                            dirty.set(true);
                        }>{move || lang.get().pick("Xoá", "Remove")}</button>
                    }.into_any()
                }}
            </div>
        </div>
    }
}
