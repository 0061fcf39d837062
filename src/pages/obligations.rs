//! "Kế hoạch của đơn vị": the unit's own III.1 implementation plan (number, date,
//! the document) against its February deadline, and the "Dân vận khéo" register
//! (register a model; a unit above recognises and commends it).
//!
//! These are online operations. What was typed stays in the form when the
//! network or the server says no; the last lists fetched are kept on the phone
//! (`cache:implementation-plans:…`, `cache:models:…`) and shown offline, dated.

use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use danvan_core::aggregate::{
    classify_once, implementation_plan_obligation, owes_implementation_plan, ModelField, ModelStage, MovementModel,
    ObligationState,
};
use danvan_core::api::{
    ImplementationPlanInput, ImplementationPlanRecord, ImplementationPlansResponse, ModelStep, ModelsResponse,
    NewModel, Role,
};
use danvan_core::report::MAX_ATTACHMENT_BYTES;
use danvan_core::time::{format_date, vn_date};
use danvan_core::{OrgUnit, Plan};

use super::review::{is_reviewer, may_review};
use crate::api;
use crate::components::history::vn_date_time;
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;
use crate::storage::LocalDb;

/// The server's limits, checked here first so the person hears it before sending.
const MAX_TEXT: usize = 200;
const MAX_DESCRIPTION: usize = 4000;
const FILE_TYPES: [&str; 4] = ["application/pdf", "image/jpeg", "image/png", "image/webp"];

/// Who is looking, and at what.
#[derive(Clone, Debug, PartialEq)]
struct Ctx {
    plan: Plan,
    unit: OrgUnit,
    role: Role,
    user_id: i64,
    /// The subtree the lists cover: the province for Sở Nội vụ, else the own unit.
    scope: String,
    units: Vec<OrgUnit>,
}

/// Reads dd/mm/yyyy, also with '.', '-' or spaces between the parts (a numeric
/// keypad may lack '/') or as 8 digits.
pub(crate) fn parse_vn_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        return danvan_core::time::parse_date(&format!("{}/{}/{}", &t[0..2], &t[2..4], &t[4..8]));
    }
    let normalised: String = t.chars().map(|c| if matches!(c, '.' | '-' | ' ') { '/' } else { c }).collect();
    danvan_core::time::parse_date(&normalised)
}

fn state_label(s: ObligationState, lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => s.label_vi(),
        Lang::En => match s {
            ObligationState::Done => "Issued on time",
            ObligationState::Late => "Issued late",
            ObligationState::Missing => "Not issued (overdue)",
            ObligationState::NotDue => "Not issued yet (not due)",
        },
    }
}

fn state_key(s: ObligationState) -> &'static str {
    match s {
        ObligationState::Done => "done",
        ObligationState::Late => "late",
        ObligationState::Missing => "missing",
        ObligationState::NotDue => "not_due",
    }
}

fn state_chip(s: ObligationState) -> &'static str {
    match s {
        ObligationState::Done => "chip chip-ok",
        ObligationState::Late | ObligationState::Missing => "chip chip-late",
        ObligationState::NotDue => "chip chip-soon",
    }
}

fn field_label(f: ModelField, lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => f.label_vi(),
        Lang::En => match f {
            ModelField::Economy => "Economy",
            ModelField::CultureSociety => "Culture and society",
            ModelField::DefenceSecurity => "Defence and security",
            ModelField::PoliticalSystem => "Building the political system",
        },
    }
}

fn stage_key(s: ModelStage) -> &'static str {
    match s {
        ModelStage::Registered => "registered",
        ModelStage::Recognised => "recognised",
        ModelStage::Commended => "commended",
    }
}

fn stage_label(s: ModelStage, lang: Lang) -> &'static str {
    match s {
        ModelStage::Registered => lang.pick("Đã đăng ký", "Registered"),
        ModelStage::Recognised => lang.pick("Đã công nhận", "Recognised"),
        ModelStage::Commended => lang.pick("Đã khen thưởng", "Commended"),
    }
}

/// An online operation's failure in words. The network one differs from sync's:
/// nothing here is retried by itself, and what was typed stays in the form.
fn failure(e: &api::ApiError, lang: Lang) -> String {
    match e {
        api::ApiError::Network => lang
            .pick(
                "Không kết nối được máy chủ. Việc này cần có mạng; nội dung đã nhập vẫn giữ nguyên, hãy bấm lại khi có mạng.",
                "The server cannot be reached. This needs a connection; what you typed is kept, try again when online.",
            )
            .to_string(),
        other => other.to_string(),
    }
}

fn token(state: &AppState) -> Option<String> {
    state.session.try_with_untracked(|s| s.as_ref().map(|s| s.token.clone())).flatten()
}

/// A list fetched from the server, or the copy kept on the phone.
#[derive(Clone, Debug, PartialEq)]
struct Listed<T> {
    value: T,
    fetched_at: DateTime<Utc>,
    cached: bool,
}

/// Shows the kept copy at once, then asks the server; keeps the answer.
async fn fetch_listed<T, F, Fut>(
    key: String,
    user_id: i64,
    target: RwSignal<Option<Listed<T>>>,
    error: RwSignal<Option<String>>,
    fetch: F,
) where
    T: serde::Serialize + serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, api::ApiError>>,
{
    let db = LocalDb::shared().await.ok();
    if target.try_with_untracked(|t| t.is_none()) == Some(true) {
        if let Some(db) = &db {
            if let Ok(Some(c)) = db.get_cached::<T>(&key, user_id).await {
                target.try_set(Some(Listed { value: c.value, fetched_at: c.fetched_at, cached: true }));
            }
        }
    }
    match fetch().await {
        Ok(value) => {
            let now = Utc::now();
            if let Some(db) = &db {
                let _ = db.put_cached(&key, user_id, &value, now).await;
            }
            target.try_set(Some(Listed { value, fetched_at: now, cached: false }));
            error.try_set(None);
        }
        Err(e) => {
            // The kept copy stays on screen, marked with its date.
            target.try_update(|t| {
                if let Some(t) = t {
                    t.cached = true;
                }
            });
            let kept = target.try_with_untracked(|t| t.is_some()).unwrap_or(false);
            error.try_set(Some(match (&e, kept) {
                (api::ApiError::Network, true) => {
                    "Không kết nối được máy chủ: đang xem danh sách đã lưu trên máy.".to_string()
                }
                (api::ApiError::Network, false) => {
                    "Không kết nối được máy chủ: cần có mạng để tải danh sách lần đầu.".to_string()
                }
                (other, _) => other.to_string(),
            }));
        }
    }
}

#[component]
pub fn ObligationsPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let ctx = Memo::new(move |_| {
        let session = state.session.get()?;
        state.snapshot.with(|s| {
            let s = s.as_ref()?;
            let plan_id = super::dashboard::current_plan(state, None)?.0;
            let plan = s.plans.iter().find(|p| p.id == plan_id)?.clone();
            let unit =
                s.units.iter().find(|u| u.id == session.user.unit_id).cloned().unwrap_or_else(|| s.tasks.unit.clone());
            let scope = match session.user.role {
                Role::Aggregator | Role::Admin => {
                    super::dashboard::province_today(&s.units).unwrap_or_else(|| unit.id.clone())
                }
                Role::Reviewer | Role::Reporter => unit.id.clone(),
            };
            Some(Ctx { plan, unit, role: session.user.role, user_id: session.user.id, scope, units: s.units.clone() })
        })
    });
    view! {
        <main class="page obligations-page" data-testid="obligations-page">
            <h1><T vi="Kế hoạch của đơn vị và mô hình «Dân vận khéo»" en="Unit plan and «Dân vận khéo» models"/></h1>
            {move || match ctx.get() {
                None => view! {
                    <p class="card empty" data-testid="no-data">
                        <T
                            vi="Chưa có kế hoạch trên máy. Hãy kết nối mạng để tải."
                            en="No plan on this phone yet. Connect to download it."
                        />
                    </p>
                }.into_any(),
                Some(c) => view! {
                    <ImplementationPlanSection ctx=c.clone()/>
                    <ModelsSection ctx=c/>
                }.into_any(),
            }}
        </main>
    }
}

// --- III.1 ---------------------------------------------------------------------------

#[component]
fn ImplementationPlanSection(ctx: Ctx) -> impl IntoView {
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
    let scope = ctx.scope.clone();
    let user_id = ctx.user_id;
    let list = RwSignal::new(None::<Listed<ImplementationPlansResponse>>);
    let list_error = RwSignal::new(None::<String>);
    let doc_number = RwSignal::new(String::new());
    let issued_on = RwSignal::new(String::new());
    let file = StoredValue::new_local(None::<web_sys::File>);
    let file_name = RwSignal::new(None::<String>);
    let form_error = RwSignal::new(None::<String>);
    let saved_at = RwSignal::new(None::<DateTime<Utc>>);
    let saving = RwSignal::new(false);
    let prefilled = StoredValue::new(false);

    let reload = move || {
        let scope = scope.clone();
        leptos::task::spawn_local(async move {
            let key = format!("cache:implementation-plans:{}:{scope}", plan_id.get_value());
            let Some(t) = token(&state) else { return };
            let plan = plan_id.get_value();
            fetch_listed(key, user_id, list, list_error, || async move {
                api::implementation_plans(&t, &plan, &scope).await
            })
            .await;
        });
    };
    reload();
    let reload = StoredValue::new(reload);

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
                    reload.with_value(|r| r());
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
            {move || list.with(|l| l.as_ref().filter(|l| l.cached).map(|l| l.fetched_at)).map(|t| view! {
                <p class="muted" data-testid="impl-cached">{format!("{} {}", lang.get().pick("Số liệu lúc", "Data from"), vn_date_time(t))}</p>
            })}
            {move || list_error.get().map(|e| view! { <p class="banner banner-warn" role="status">{e}</p> })}
            {owes.then(|| view! {
                <p class="impl-state-line">
                    {move || match own_state.get() {
                        Some(s) => view! {
                            <span class=state_chip(s) data-testid="impl-state" data-state=state_key(s)>{state_label(s, lang.get())}</span>
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
        <li class="impl-record" data-testid="impl-record" data-unit=r.unit_id.clone() data-state=state_key(r.state)>
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

// --- "Dân vận khéo" ------------------------------------------------------------------

#[component]
fn ModelsSection(ctx: Ctx) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let plan_id = StoredValue::new(ctx.plan.id.clone());
    let unit_id = StoredValue::new(ctx.unit.id.clone());
    let scope = ctx.scope.clone();
    let user_id = ctx.user_id;
    let role = ctx.role;
    let units = StoredValue::new(ctx.units.clone());
    let can_register = role != Role::Admin;
    let list = RwSignal::new(None::<Listed<ModelsResponse>>);
    let list_error = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    let field = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let date = RwSignal::new(format_date(vn_date(Utc::now())));
    let form_error = RwSignal::new(None::<String>);
    let form_ok = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);

    let reload =
        move || {
            let scope = scope.clone();
            leptos::task::spawn_local(async move {
                let key = format!("cache:models:{}:{scope}", plan_id.get_value());
                let Some(t) = token(&state) else { return };
                let plan = plan_id.get_value();
                fetch_listed(key, user_id, list, list_error, || async move {
                    api::movement_models(&t, &plan, &scope).await
                })
                .await;
            });
        };
    reload();
    let reload = StoredValue::new(reload);

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
                    reload.with_value(|r| r());
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
                let reviewable = units.with_value(|u| may_review(role, &own, u, &m.unit_id));
                view! { <ModelItem model=m reviewable=reviewable on_done=Callback::new(move |_| reload.with_value(|r| r()))/> }
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
            {move || list.with(|l| l.as_ref().filter(|l| l.cached).map(|l| l.fetched_at)).map(|t| view! {
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
        <li class="card model" data-testid="model" data-stage=stage_key(stage) data-model=id>
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
