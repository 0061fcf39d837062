//! The unit's own III.1 implementation plan (number, date, the document) against
//! its deadline; a reviewer also sees where the units below stand.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use danvan_core::access::is_reviewer;
use danvan_core::aggregate::{classify_once, implementation_plan_obligation, owes_implementation_plan};
use danvan_core::api::{ImplementationPlanInput, ImplementationPlanRecord};
use danvan_core::report::MAX_ATTACHMENT_BYTES;
use danvan_core::time::{format_date, vn_date};

use super::{failure, list_failure, parse_vn_date, state_chip, state_label, token, use_list, Ctx, ListScope, MAX_TEXT};
use crate::api;
use crate::components::history::vn_date_time;
use crate::hooks::Query;
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;

/// The document types the server keeps.
const FILE_TYPES: [&str; 4] = ["application/pdf", "image/jpeg", "image/png", "image/webp"];

#[component]
pub(super) fn ImplementationPlanSection(ctx: Ctx) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let owes = owes_implementation_plan(&ctx.plan, &ctx.unit);
    let obligation = implementation_plan_obligation(&ctx.plan).map(|(_, due)| due);
    let reviewer = is_reviewer(ctx.role);
    if !owes && !reviewer {
        return view! {
            <section class="card" data-testid="impl-not-owed">
                <h2><T vi="Kế hoạch triển khai (mục III.1)" en="Implementation plan (item III.1)"/></h2>
                <p class="muted">
                    <T
                        vi="Mục III.1 giao các sở, ban, ngành và UBND các huyện, thành phố xây dựng kế hoạch triển khai; đơn vị của bạn không phải ban hành kế hoạch riêng."
                        en="Item III.1 asks departments and district People's Committees for their own plan; your unit does not owe one."
                    />
                </p>
            </section>
        }
        .into_any();
    }
    let plan_id = StoredValue::new(ctx.plan.id.clone());
    let unit_id = StoredValue::new(ctx.unit.id.clone());
    let doc_number = RwSignal::new(String::new());
    let issued_on = RwSignal::new(String::new());
    let file = StoredValue::new_local(None::<web_sys::File>);
    let file_name = RwSignal::new(None::<String>);
    let form_error = RwSignal::new(None::<String>);
    let saved_at = RwSignal::new(None::<DateTime<Utc>>);
    let saving = RwSignal::new(false);
    let prefilled = StoredValue::new(false);

    let query = use_list(&ctx, "implementation-plans", |q: Query<ListScope>| async move {
        api::implementation_plans(&q.token, &q.args.plan_id, &q.args.scope).await
    });
    let list = Memo::new(move |_| query.loaded.with(|l| l.shown().cloned()));
    let list_error = Memo::new(move |_| list_failure(query.error.get(), list.with(|l| l.is_some())));

    let own_record = Memo::new(move |_| {
        list.with(|l| {
            l.as_ref().and_then(|l| l.value.records.iter().find(|r| r.unit_id == unit_id.get_value()).cloned())
        })
    });
    // The form starts from what the server holds, once, unless typing began.
    Effect::new(move |_| {
        if let Some(r) = own_record.get() {
            if !prefilled.get_value()
                && doc_number.with_untracked(String::is_empty)
                && issued_on.with_untracked(String::is_empty)
            {
                prefilled.set_value(true);
                doc_number.set(r.doc_number.clone().unwrap_or_default());
                issued_on.set(r.issued_on.map(format_date).unwrap_or_default());
            }
        }
    });
    let due = Memo::new(move |_| list.with(|l| l.as_ref().map(|l| l.value.due)).or(obligation));
    let own_state = Memo::new(move |_| {
        if let Some(r) = own_record.get() {
            return Some(r.state);
        }
        // The server's list is known but has no line for this unit: nothing recorded.
        let known = list.with(|l| l.is_some());
        match (known, due.get()) {
            (true, Some(d)) => Some(classify_once(None, d, vn_date(Utc::now()))),
            _ => None,
        }
    });

    let on_file = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let picked = input.files().and_then(|f| f.get(0));
        form_error.set(None);
        match picked {
            None => {
                file.set_value(None);
                file_name.set(None);
            }
            Some(f) => {
                let lang = lang.get_untracked();
                let mime = mime_of(&f);
                if !FILE_TYPES.contains(&mime.as_str()) {
                    form_error.set(Some(
                        lang.pick(
                            "Chỉ nhận tệp PDF hoặc ảnh (JPEG, PNG, WebP).",
                            "Only PDF or image files (JPEG, PNG, WebP).",
                        )
                        .to_string(),
                    ));
                    input.set_value("");
                    file.set_value(None);
                    file_name.set(None);
                } else if f.size() > MAX_ATTACHMENT_BYTES as f64 {
                    form_error.set(Some(
                        lang.pick("Tệp quá lớn (tối đa 3 MB).", "The file is too large (3 MB at most).").to_string(),
                    ));
                    input.set_value("");
                    file.set_value(None);
                    file_name.set(None);
                } else {
                    file_name.set(Some(f.name()));
                    file.set_value(Some(f));
                }
            }
        }
    };

    let save = move |_| {
        let lang = lang.get_untracked();
        let doc = doc_number.get_untracked().trim().to_string();
        if doc.is_empty() || doc.chars().count() > MAX_TEXT {
            form_error.set(Some(
                lang.pick(
                    "Cần ghi số, ký hiệu văn bản (tối đa 200 ký tự).",
                    "Enter the document number (200 characters at most).",
                )
                .to_string(),
            ));
            return;
        }
        let Some(date) = parse_vn_date(&issued_on.get_untracked()) else {
            form_error.set(Some(
                lang.pick(
                    "Ngày ban hành không hợp lệ: nhập theo dạng dd/mm/yyyy, ví dụ 20/02/2024.",
                    "Invalid date: use dd/mm/yyyy, e.g. 20/02/2024.",
                )
                .to_string(),
            ));
            return;
        };
        if date > vn_date(Utc::now()) {
            form_error.set(Some(
                lang.pick("Ngày ban hành không được sau hôm nay.", "The date cannot be in the future.").to_string(),
            ));
            return;
        }
        form_error.set(None);
        saving.set(true);
        leptos::task::spawn_local(async move {
            let result = async {
                let t = token(&state).ok_or(api::ApiError::Unauthorized("Chưa đăng nhập.".into()))?;
                let (plan, unit) = (plan_id.get_value(), unit_id.get_value());
                api::save_implementation_plan(
                    &t,
                    &plan,
                    &unit,
                    &ImplementationPlanInput { doc_number: doc, issued_on: date },
                )
                .await?;
                if let Some(f) = file.try_get_value().flatten() {
                    let mime = mime_of(&f);
                    api::upload_implementation_plan_file(&t, &plan, &unit, &f.name(), &mime, f.as_ref()).await?;
                }
                Ok::<_, api::ApiError>(())
            }
            .await;
            match result {
                Ok(()) => {
                    saved_at.try_set(Some(Utc::now()));
                    file.try_update_value(|f| *f = None);
                    file_name.try_set(None);
                    query.refetch();
                }
                Err(e) => {
                    form_error.try_set(Some(failure(&e, lang)));
                }
            }
            saving.try_set(false);
        });
    };

    let others = move || {
        let lang = lang.get();
        list.with(|l| {
            l.as_ref().map(|l| {
                let rows: Vec<ImplementationPlanRecord> =
                    l.value.records.iter().filter(|r| r.unit_id != unit_id.get_value()).cloned().collect();
                if rows.is_empty() {
                    return view! {
                        <li class="muted">
                            {lang.pick(
                                "Không có đơn vị trực thuộc nào phải ban hành kế hoạch riêng.",
                                "No unit below yours owes its own plan.",
                            )}
                        </li>
                    }
                    .into_any();
                }
                let mut counts = danvan_core::api::ObligationCounts::default();
                for r in &rows {
                    counts.add(r.state);
                }
                let summary = match lang {
                    Lang::Vi => format!(
                        "Đúng hạn {} · Trễ hạn {} · Chưa ban hành {} · Còn hạn {}",
                        counts.done, counts.late, counts.missing, counts.not_due
                    ),
                    Lang::En => format!(
                        "On time {} · Late {} · Missing {} · Not due {}",
                        counts.done, counts.late, counts.missing, counts.not_due
                    ),
                };
                view! {
                    <li class="muted" data-testid="impl-summary">{summary}</li>
                    {rows.into_iter().map(|r| record_row(r, lang)).collect_view()}
                }
                .into_any()
            })
        })
    };

    view! {
        <section class="card impl-plan" data-testid="impl-plan">
            <h2><T vi="Kế hoạch triển khai của đơn vị (mục III.1)" en="The unit's implementation plan (item III.1)"/></h2>
            <p class="muted">
                {move || due.get().map(|d| format!("{}{}", lang.get().pick("Hạn ban hành: hết ngày ", "Due by the end of "), format_date(d)))}
            </p>
            {move || list.with(|l| l.as_ref().filter(|l| l.source.is_kept()).map(|l| l.fetched_at)).map(|t| view! {
                <p class="muted" data-testid="impl-cached">{format!("{} {}", lang.get().pick("Số liệu lúc", "Data from"), vn_date_time(t))}</p>
            })}
            {move || list_error.get().map(|e| view! { <p class="banner banner-warn" role="status">{e}</p> })}
            {owes.then(|| view! {
                <p class="impl-state-line">
                    {move || match own_state.get() {
                        Some(s) => view! {
                            <span class=state_chip(s) data-testid="impl-state" data-state=s.as_str()>{state_label(s, lang.get())}</span>
                        }.into_any(),
                        None => view! {
                            <span class="chip chip-neutral" data-testid="impl-state" data-state="unknown">
                                {lang.get().pick("Chưa rõ (cần kết nối mạng)", "Unknown (needs a connection)")}
                            </span>
                        }.into_any(),
                    }}
                </p>
                {move || own_record.get().and_then(|r| r.file_name.clone()).map(|n| view! {
                    <p class="muted" data-testid="impl-file-name">{lang.get().pick("Tệp đã gửi: ", "File on the server: ")}{n}</p>
                })}
                <div class="form impl-form">
                    <label for="impl-doc-number"><T vi="Số, ký hiệu văn bản" en="Document number"/></label>
                    <input
                        id="impl-doc-number"
                        type="text"
                        autocomplete="off"
                        maxlength=MAX_TEXT
                        placeholder="Ví dụ: 25/KH-UBND"
                        data-testid="impl-doc-number"
                        prop:value=move || doc_number.get()
                        on:input=move |ev| doc_number.set(event_target_value(&ev))
                    />
                    <label for="impl-issued-on"><T vi="Ngày ban hành (dd/mm/yyyy)" en="Date issued (dd/mm/yyyy)"/></label>
                    <input
                        id="impl-issued-on"
                        type="text"
                        inputmode="numeric"
                        autocomplete="off"
                        placeholder="dd/mm/yyyy"
                        data-testid="impl-issued-on"
                        prop:value=move || issued_on.get()
                        on:input=move |ev| issued_on.set(event_target_value(&ev))
                    />
                    <label class="btn btn-secondary file-button">
                        <input type="file" accept="application/pdf,image/jpeg,image/png,image/webp" data-testid="impl-file" on:change=on_file/>
                        {move || match file_name.get() {
                            Some(n) => format!("{}{n}", lang.get().pick("Tệp: ", "File: ")),
                            None => lang.get().pick("+ Đính kèm văn bản (PDF hoặc ảnh, tối đa 3 MB)", "+ Attach the document (PDF or image, 3 MB max)").to_string(),
                        }}
                    </label>
                    {move || form_error.get().map(|e| view! { <p class="form-error" data-testid="impl-error" role="alert">{e}</p> })}
                    {move || saved_at.get().map(|t| view! {
                        <p class="form-hint ok" data-testid="impl-saved" role="status">{format!("{} {}", lang.get().pick("Đã lưu lúc", "Saved at"), vn_date_time(t))}</p>
                    })}
                    <button type="button" class="btn btn-primary" data-testid="impl-save" disabled=move || saving.get() on:click=save>
                        {move || if saving.get() { lang.get().pick("Đang gửi…", "Sending…") } else { lang.get().pick("Lưu kế hoạch", "Save") }}
                    </button>
                </div>
            })}
            {reviewer.then(|| view! {
                <h3 class="impl-subtree-title"><T vi="Các đơn vị trực thuộc" en="Units below"/></h3>
                <ul class="task-list impl-records" data-testid="impl-records">{others}</ul>
            })}
        </section>
    }
    .into_any()
}

fn record_row(r: ImplementationPlanRecord, lang: Lang) -> impl IntoView {
    let doc = match (&r.doc_number, r.issued_on) {
        (Some(n), Some(d)) => Some(format!("{n} · {}", format_date(d))),
        (Some(n), None) => Some(n.clone()),
        _ => None,
    };
    view! {
        <li class="impl-record" data-testid="impl-record" data-unit=r.unit_id.clone() data-state=r.state.as_str()>
            <p class="review-unit">{r.unit_name.clone()}</p>
            <p><span class=state_chip(r.state)>{state_label(r.state, lang)}</span></p>
            {doc.map(|d| view! { <p class="muted">{d}</p> })}
            {r.file_name.clone().map(|f| view! { <p class="muted">{lang.pick("Tệp: ", "File: ")}{f}</p> })}
        </li>
    }
}

/// The file's type, from the browser or else its name's extension.
fn mime_of(f: &web_sys::File) -> String {
    let t = f.type_().to_ascii_lowercase();
    if !t.is_empty() {
        return if t == "image/jpg" { "image/jpeg".into() } else { t };
    }
    let name = f.name().to_ascii_lowercase();
    let ext = name.rsplit('.').next().unwrap_or("");
    match ext {
        "pdf" => "application/pdf",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        _ => "application/octet-stream",
    }
    .into()
}
