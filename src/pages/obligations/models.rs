//! The "Dân vận khéo" register: a unit registers its models; a unit above
//! recognises and commends them.

use chrono::Utc;
use leptos::prelude::*;

use danvan_core::access::may_review;
use danvan_core::aggregate::{ModelField, ModelStage, MovementModel};
use danvan_core::api::{ModelStep, NewModel, Role};
use danvan_core::time::{format_date, vn_date};
use danvan_core::UnitTree;

use super::{
    failure, field_label, list_failure, parse_vn_date, stage_label, token, use_list, Ctx, ListScope, MAX_TEXT,
};
use crate::api;
use crate::components::history::vn_date_time;
use crate::hooks::Query;
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;

/// The server's limit on a model's description.
const MAX_DESCRIPTION: usize = 4000;

#[component]
pub(super) fn ModelsSection(ctx: Ctx) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let plan_id = StoredValue::new(ctx.plan.id.clone());
    let unit_id = StoredValue::new(ctx.unit.id.clone());
    let role = ctx.role;
    let tree = StoredValue::new(UnitTree::partial(ctx.units.clone()));
    let can_register = role != Role::Admin;
    let name = RwSignal::new(String::new());
    let field = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let date = RwSignal::new(format_date(vn_date(Utc::now())));
    let form_error = RwSignal::new(None::<String>);
    let form_ok = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);

    let query = use_list(&ctx, "models", |q: Query<ListScope>| async move {
        api::movement_models(&q.token, &q.args.plan_id, &q.args.scope).await
    });
    let list = Memo::new(move |_| query.loaded.with(|l| l.shown().cloned()));
    let list_error = Memo::new(move |_| list_failure(query.error.get(), list.with(|l| l.is_some())));

    let register = move |_| {
        let lang = lang.get_untracked();
        form_ok.set(None);
        let n = name.get_untracked().trim().to_string();
        if n.is_empty() || n.chars().count() > MAX_TEXT {
            form_error.set(Some(
                lang.pick(
                    "Cần ghi tên mô hình (tối đa 200 ký tự).",
                    "Enter the model's name (200 characters at most).",
                )
                .to_string(),
            ));
            return;
        }
        let Some(f) = ModelField::parse(&field.get_untracked()) else {
            form_error.set(Some(lang.pick("Cần chọn lĩnh vực.", "Choose a field.").to_string()));
            return;
        };
        let d = description.get_untracked().trim().to_string();
        if d.chars().count() > MAX_DESCRIPTION {
            form_error.set(Some(
                lang.pick("Mô tả tối đa 4000 ký tự.", "The description is 4000 characters at most.").to_string(),
            ));
            return;
        }
        let on = if date.get_untracked().trim().is_empty() {
            None
        } else {
            match parse_vn_date(&date.get_untracked()) {
                Some(on) if on > vn_date(Utc::now()) => {
                    form_error.set(Some(
                        lang.pick("Ngày đăng ký không được sau hôm nay.", "The date cannot be in the future.")
                            .to_string(),
                    ));
                    return;
                }
                Some(on) => Some(on),
                None => {
                    form_error.set(Some(
                        lang.pick(
                            "Ngày đăng ký không hợp lệ: nhập theo dạng dd/mm/yyyy.",
                            "Invalid date: use dd/mm/yyyy.",
                        )
                        .to_string(),
                    ));
                    return;
                }
            }
        };
        form_error.set(None);
        sending.set(true);
        let body = NewModel {
            plan_id: plan_id.get_value(),
            unit_id: unit_id.get_value(),
            name: n.clone(),
            field: f,
            description: d,
            registered_on: on,
        };
        leptos::task::spawn_local(async move {
            let result = match token(&state) {
                Some(t) => api::register_model(&t, &body).await,
                None => Err(api::ApiError::Unauthorized("Chưa đăng nhập.".into())),
            };
            match result {
                Ok(()) => {
                    name.try_set(String::new());
                    description.try_set(String::new());
                    field.try_set(String::new());
                    form_ok.try_set(Some(format!("{} «{n}».", lang.pick("Đã đăng ký mô hình", "Registered"))));
                    query.refetch();
                }
                Err(e) => {
                    form_error.try_set(Some(failure(&e, lang)));
                }
            }
            sending.try_set(false);
        });
    };

    let models = move || {
        let mut all: Vec<MovementModel> = list.with(|l| l.as_ref().map(|l| l.value.models.clone()).unwrap_or_default());
        all.sort_by(|a, b| b.registered_on.cmp(&a.registered_on).then(b.id.cmp(&a.id)));
        let own = unit_id.get_value();
        all.into_iter()
            .map(|m| {
                let reviewable = tree.with_value(|t| may_review(t, role, &own, &m.unit_id));
                view! { <ModelItem model=m reviewable=reviewable on_done=Callback::new(move |_| query.refetch())/> }
            })
            .collect_view()
    };

    view! {
        <section class="card models" data-testid="models">
            <h2><T vi="Mô hình «Dân vận khéo»" en="«Dân vận khéo» models"/></h2>
            {can_register.then(|| view! {
                <div class="form model-form">
                    <h3><T vi="Đăng ký mô hình của đơn vị" en="Register a model of your unit"/></h3>
                    <label for="model-name"><T vi="Tên mô hình" en="Name"/></label>
                    <input id="model-name" type="text" maxlength=MAX_TEXT autocomplete="off" data-testid="model-name"
                        prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                    <label for="model-field"><T vi="Lĩnh vực" en="Field"/></label>
                    <select id="model-field" class="select" data-testid="model-field"
                        prop:value=move || field.get() on:change=move |ev| field.set(event_target_value(&ev))>
                        <option value="" selected=move || field.with(String::is_empty)>{move || lang.get().pick("— Chọn lĩnh vực —", "— Choose —")}</option>
                        {ModelField::ALL.into_iter().map(|f| view! {
                            <option value=f.as_str() selected=move || field.with(|v| v == f.as_str())>{move || field_label(f, lang.get())}</option>
                        }).collect_view()}
                    </select>
                    <label for="model-description"><T vi="Mô tả (không bắt buộc)" en="Description (optional)"/></label>
                    <textarea id="model-description" class="field-text" rows="3" maxlength=MAX_DESCRIPTION data-testid="model-description"
                        prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                    <label for="model-date"><T vi="Ngày đăng ký (dd/mm/yyyy)" en="Date registered (dd/mm/yyyy)"/></label>
                    <input id="model-date" type="text" inputmode="numeric" autocomplete="off" placeholder="dd/mm/yyyy" data-testid="model-date"
                        prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev))/>
                    {move || form_error.get().map(|e| view! { <p class="form-error" data-testid="model-error" role="alert">{e}</p> })}
                    {move || form_ok.get().map(|m| view! { <p class="form-hint ok" data-testid="model-registered" role="status">{m}</p> })}
                    <button type="button" class="btn btn-primary" data-testid="model-register" disabled=move || sending.get() on:click=register>
                        {move || if sending.get() { lang.get().pick("Đang gửi…", "Sending…") } else { lang.get().pick("Đăng ký mô hình", "Register") }}
                    </button>
                </div>
            })}
            <h3><T vi="Danh sách mô hình" en="Models"/></h3>
            {move || list.with(|l| l.as_ref().filter(|l| l.source.is_kept()).map(|l| l.fetched_at)).map(|t| view! {
                <p class="muted" data-testid="models-cached">{format!("{} {}", lang.get().pick("Số liệu lúc", "Data from"), vn_date_time(t))}</p>
            })}
            {move || list_error.get().map(|e| view! { <p class="banner banner-warn" role="status">{e}</p> })}
            {move || list.with(|l| l.as_ref().is_some_and(|l| l.value.models.is_empty())).then(|| view! {
                <p class="muted"><T vi="Chưa có mô hình nào." en="No models yet."/></p>
            })}
            <ul class="task-list model-list" data-testid="model-list">{models}</ul>
        </section>
    }
}

#[component]
fn ModelItem(model: MovementModel, reviewable: bool, on_done: Callback<()>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let stage = model.stage();
    let id = model.id;
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let step = move |which: &'static str, body: ModelStep| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = match token(&state) {
                Some(t) => api::model_step(&t, id, which, &body).await,
                None => Err(api::ApiError::Unauthorized("Chưa đăng nhập.".into())),
            };
            match result {
                Ok(()) => on_done.run(()),
                Err(e) => {
                    error.try_set(Some(failure(&e, lang.try_get_untracked().unwrap_or(Lang::Vi))));
                }
            }
            busy.try_set(false);
        });
    };
    let recognise = move |_| step("recognise", ModelStep { on: None, note: None });
    let commend = move |_| {
        let text = note.get_untracked().trim().to_string();
        if text.is_empty() || text.chars().count() > MAX_TEXT {
            error.set(Some(
                lang.get_untracked()
                    .pick(
                        "Cần ghi hình thức khen thưởng (tối đa 200 ký tự), ví dụ: Giấy khen của UBND huyện.",
                        "Enter the commendation (200 characters at most).",
                    )
                    .to_string(),
            ));
            return;
        }
        step("commend", ModelStep { on: None, note: Some(text) });
    };

    let dates = {
        let mut parts = vec![(lang.get_untracked().pick("Đăng ký", "Registered"), model.registered_on)];
        if let Some(d) = model.recognised_on {
            parts.push((lang.get_untracked().pick("Công nhận", "Recognised"), d));
        }
        if let Some(d) = model.commended_on {
            parts.push((lang.get_untracked().pick("Khen thưởng", "Commended"), d));
        }
        parts.into_iter().map(|(l, d)| format!("{l}: {}", format_date(d))).collect::<Vec<_>>().join(" · ")
    };
    let chip = match stage {
        ModelStage::Registered => "chip chip-neutral",
        ModelStage::Recognised => "chip chip-soon",
        ModelStage::Commended => "chip chip-ok",
    };
    let field = model.field;
    view! {
        <li class="card model" data-testid="model" data-stage=stage.as_str() data-model=id>
            <div class="task-head">
                <span class="model-name">{model.name.clone()}</span>
                <span class=chip data-testid="model-stage">{move || stage_label(stage, lang.get())}</span>
            </div>
            <p class="muted">{model.unit_name.clone()} " · " {move || field_label(field, lang.get())}</p>
            <p class="muted">{dates}</p>
            {model.commendation.clone().map(|c| view! { <p class="model-commendation">{c}</p> })}
            {(!model.description.is_empty()).then(|| view! {
                <details class="fold"><summary>{move || lang.get().pick("Mô tả", "Description")}</summary><p class="fold-full">{model.description.clone()}</p></details>
            })}
            {(reviewable && stage == ModelStage::Registered).then(|| view! {
                <button type="button" class="btn btn-primary" data-testid="model-recognise" disabled=move || busy.get() on:click=recognise>
                    {move || lang.get().pick("Công nhận", "Recognise")}
                </button>
            })}
            {(reviewable && stage == ModelStage::Recognised).then(|| view! {
                <label class="model-note-label" for=format!("model-note-{id}")>{move || lang.get().pick("Hình thức khen thưởng", "Commendation")}</label>
                <input id=format!("model-note-{id}") class="text-input" type="text" maxlength=MAX_TEXT data-testid="model-commendation"
                    placeholder="Ví dụ: Giấy khen của UBND huyện"
                    prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev))/>
                <button type="button" class="btn btn-primary" data-testid="model-commend" disabled=move || busy.get() on:click=commend>
                    {move || lang.get().pick("Khen thưởng", "Commend")}
                </button>
            })}
            {move || error.get().map(|e| view! { <p class="form-error" data-testid="model-action-error" role="alert">{e}</p> })}
        </li>
    }
}
