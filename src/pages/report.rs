//! The report editor: one period's report of the caller's unit.
//!
//! Every change is written to IndexedDB at once (one strict transaction: the
//! report, its outbox entry, the mutation counter) and "Đã lưu trên máy" appears
//! only when that transaction has committed. Changes typed while a write is in
//! progress are written together by the next one, so there is never more than one
//! write in flight and nothing waits on a timer that a closing tab would skip.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use danvan_core::client::{Conflict, LocalReport, Side};
use danvan_core::form::Stage;
use danvan_core::report::{AttachmentRef, MAX_ATTACHMENT_BYTES};
use danvan_core::sync::MutationOp;
use danvan_core::task::TaskStatus;
use danvan_core::time::{format_date, format_vn_datetime, vn_date};
use danvan_core::{Period, ReportForm, ReportKey, ReportStatus, Values};

use crate::components::report_form::{ConflictView, FormBinding, SectionCard};
use crate::i18n::{use_lang, T};
use crate::state::AppState;
use crate::storage::{EditError, LocalDb};
use crate::sync::{refresh_counts, request_sync};
use crate::web;

#[derive(Clone, Debug, PartialEq)]
enum SaveState {
    Idle,
    Saving,
    Saved(DateTime<Utc>),
    Failed(String),
}

/// What the page loaded from IndexedDB.
#[derive(Clone)]
struct Loaded {
    form: ReportForm,
    local: Option<LocalReport>,
    conflict: Option<Conflict>,
}

#[component]
pub fn ReportPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let params = use_params_map();
    let period = Memo::new(move |_| params.with(|p| p.get("period").and_then(|k| Period::parse_key(&k).ok())));
    let key = Memo::new(move |_| {
        let period = period.get()?;
        let unit_id = state.session.with(|s| s.as_ref().map(|s| s.user.unit_id.clone()))?;
        let plan_id = state.snapshot.with(|s| s.as_ref().and_then(|s| s.plans.first().map(|p| p.id.clone())))?;
        Some(ReportKey { plan_id, unit_id, period })
    });
    view! {
        <main class="page report-page">
            <A href="/bao-cao" attr:class="back-link"><T vi="← Danh sách báo cáo" en="← All reports"/></A>
            {move || match key.get() {
                None => view! {
                    <p class="card empty" data-testid="no-data">
                        <T
                            vi="Chưa có kế hoạch hoặc kỳ báo cáo không hợp lệ. Hãy kết nối mạng một lần để tải kế hoạch."
                            en="No plan on this phone yet, or an invalid period. Connect once to download the plan."
                        />
                    </p>
                }.into_any(),
                Some(key) => view! { <Editor key=key/> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn Editor(key: ReportKey) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let kind = key.period_kind();
    let key = StoredValue::new(key);
    let values = RwSignal::new(Values::new());
    let local = RwSignal::new(None::<LocalReport>);
    let conflict = RwSignal::new(None::<Conflict>);
    let form = RwSignal::new(None::<ReportForm>);
    let load_error = RwSignal::new(None::<String>);
    let save_state = RwSignal::new(SaveState::Idle);
    let show_required = RwSignal::new(false);
    // Typed but not yet committed, and when the oldest of it was typed.
    let pending = StoredValue::new(Values::new());
    let first_change_at = StoredValue::new(None::<f64>);
    let writing = StoredValue::new(false);

    let load = move || async move {
        let db = match LocalDb::shared().await {
            Ok(db) => db,
            Err(e) => {
                load_error.try_set(Some(e.to_string()));
                return;
            }
        };
        let k = key.get_value();
        let result = async {
            let form = db.load_form(&k.plan_id).await?;
            let local = db.load_report(&k.id()).await?;
            let conflict = db.load_conflict(&k.id()).await?;
            Ok::<_, crate::storage::StorageError>(form.map(|form| Loaded { form, local, conflict }))
        }
        .await;
        match result {
            Ok(Some(l)) => {
                // Never replace what is on screen while the person's typing is
                // still being written.
                if !writing.try_get_value().unwrap_or(false) && pending.with_value(|p| p.is_empty()) {
                    values.try_set(l.local.as_ref().map(|r| r.report.values.clone()).unwrap_or_default());
                    local.try_set(l.local);
                }
                conflict.try_set(l.conflict);
                form.try_set(Some(l.form));
            }
            Ok(None) => {
                load_error.try_set(Some(lang.get_untracked().pick(
                    "Chưa có mẫu báo cáo trên máy. Hãy kết nối mạng một lần để tải về.".to_string(),
                    "The report form is not on this phone yet. Connect once to download it.".to_string(),
                )));
            }
            Err(e) => {
                load_error.try_set(Some(e.to_string()));
            }
        }
    };
    // Load now, and again whenever sync changed local data.
    Effect::new(move |_| {
        let _ = state.sync.generation.get();
        leptos::task::spawn_local(load());
    });

    let status = Memo::new(move |_| local.with(|l| l.as_ref().map(|l| l.report.status).unwrap_or(ReportStatus::Draft)));
    let editable = Signal::derive(move || status.get().is_editable() && conflict.with(|c| c.is_none()));
    let issues = Memo::new(move |_| {
        let stage = if show_required.get() { Stage::Submit } else { Stage::Draft };
        form.with(|f| f.as_ref().map(|f| values.with(|v| f.validate(v, kind, stage))).unwrap_or_default())
    });

    // Writes everything pending, one transaction at a time.
    let flush = move || async move {
        if writing.try_get_value().unwrap_or(true) {
            return;
        }
        writing.set_value(true);
        let busy = web::BusyGuard::new();
        loop {
            let changes = pending.try_update_value(std::mem::take).unwrap_or_default();
            if changes.is_empty() {
                break;
            }
            let started = first_change_at.try_update_value(Option::take).flatten();
            let op = MutationOp::Save { form_id: String::new(), set: changes.clone(), attach: vec![], detach: vec![] };
            let result = match LocalDb::shared().await {
                Ok(db) => db.record_edit(&key.get_value(), op, Utc::now()).await,
                Err(e) => Err(EditError::Storage(e)),
            };
            match result {
                Ok(saved) => {
                    if let Some(t0) = started {
                        record_save_latency(web::now_ms() - t0);
                    }
                    local.try_set(Some(saved));
                    // "Saved" only when everything typed so far is committed.
                    if pending.with_value(|p| p.is_empty()) {
                        save_state.try_set(SaveState::Saved(Utc::now()));
                    }
                }
                Err(e) => {
                    // Nothing was written (the transaction rolled back): keep the
                    // changes pending, under anything typed since.
                    pending.update_value(|p| {
                        for (k, v) in changes {
                            p.entry(k).or_insert(v);
                        }
                    });
                    save_state.try_set(SaveState::Failed(e.to_string()));
                    break;
                }
            }
        }
        writing.set_value(false);
        drop(busy);
        request_sync(Duration::from_secs(10));
        refresh_counts(state).await;
    };

    let on_change = Callback::new(move |(field, value): (String, String)| {
        values.update(|v| {
            if value.is_empty() {
                v.remove(&field);
            } else {
                v.insert(field.clone(), value.clone());
            }
        });
        pending.update_value(|p| {
            p.insert(field, value);
        });
        first_change_at.update_value(|t| {
            t.get_or_insert_with(web::now_ms);
        });
        save_state.set(SaveState::Saving);
        leptos::task::spawn_local(flush());
    });

    let on_photo = Callback::new(move |(section, file): (String, web_sys::File)| {
        save_state.set(SaveState::Saving);
        leptos::task::spawn_local(async move {
            match attach_photo(&key.get_value(), section, file).await {
                Ok(saved) => {
                    local.try_set(Some(saved));
                    save_state.try_set(SaveState::Saved(Utc::now()));
                    request_sync(Duration::from_secs(2));
                    refresh_counts(state).await;
                }
                Err(e) => {
                    save_state.try_set(SaveState::Failed(e));
                }
            }
        });
    });

    let submit = Action::new_local(move |_: &()| async move {
        flush().await;
        show_required.set(true);
        let (f, v) = (form.get_untracked(), values.get_untracked());
        let Some(f) = f else { return };
        if !f.validate(&v, kind, Stage::Submit).is_empty() {
            save_state.set(SaveState::Failed(lang.get_untracked().pick(
                "Chưa gửi được: còn mục cần sửa (đánh dấu đỏ).".to_string(),
                "Not sent: some fields need fixing (marked in red).".to_string(),
            )));
            return;
        }
        let result = match LocalDb::shared().await {
            Ok(db) => db.record_edit(&key.get_value(), MutationOp::Submit, Utc::now()).await,
            Err(e) => Err(EditError::Storage(e)),
        };
        match result {
            Ok(saved) => {
                local.set(Some(saved));
                save_state.set(SaveState::Saved(Utc::now()));
                request_sync(Duration::ZERO);
                refresh_counts(state).await;
            }
            Err(e) => save_state.set(SaveState::Failed(e.to_string())),
        }
    });

    let resolve = Callback::new(move |choices: BTreeMap<String, Side>| {
        leptos::task::spawn_local(async move {
            let id = key.get_value().id();
            let result = match LocalDb::shared().await {
                Ok(db) => db.resolve_conflict(&id, &choices, Utc::now()).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(saved) => {
                    values.try_set(saved.report.values.clone());
                    local.try_set(Some(saved));
                    conflict.try_set(None);
                    save_state.try_set(SaveState::Saved(Utc::now()));
                    request_sync(Duration::ZERO);
                    refresh_counts(state).await;
                }
                Err(e) => {
                    save_state.try_set(SaveState::Failed(e.to_string()));
                }
            }
        });
    });

    let binding = FormBinding {
        values,
        issues,
        editable,
        on_change,
        attachments: Signal::derive(move || {
            local.with(|l| l.as_ref().map(|l| l.report.attachments.clone()).unwrap_or_default())
        }),
        on_photo,
        kind,
    };
    let period = key.with_value(|k| k.period);
    let today = vn_date(Utc::now());
    let deadline = TaskStatus::for_due_date(period.due_date(), today);
    let unit_name = move || state.session.with(|s| s.as_ref().map(|s| s.user.unit_name.clone()).unwrap_or_default());

    view! {
        <h1 data-testid="report-title">
            {move || lang.get().pick(
                format!("Báo cáo {}", period.label_vi().to_lowercase()),
                format!("Report — {}", period.label_en()),
            )}
        </h1>
        <p class="unit-name">{unit_name}</p>
        <p class="report-deadline" data-testid="report-deadline">
            {move || format!("{}{}", lang.get().pick("Hạn: ", "Due: "), format_date(period.due_date()))}
            " · "
            <span class=match deadline { TaskStatus::Overdue { .. } => "late", _ => "soon" }>
                {move || lang.get().pick(deadline.label_vi(), deadline.label_en())}
            </span>
        </p>
        <p class="muted">{move || format!("{}{}", lang.get().pick("Kỳ báo cáo: ", "Period: "), period.window_label())}</p>
        <p>
            <span class="chip chip-neutral" data-testid="report-status" data-status=move || status.get().as_str()>
                {move || lang.get().pick(status.get().label_vi(), status.get().label_en())}
            </span>
        </p>
        {move || local.with(|l| l.as_ref().and_then(|l| {
            let r = &l.report;
            match r.status {
                ReportStatus::Returned => r.return_reason.clone().map(|reason| view! {
                    <p class="banner banner-warn" data-testid="return-reason" role="alert">
                        <strong><T vi="Bị trả lại: " en="Returned: "/></strong>{reason}
                    </p>
                }.into_any()),
                ReportStatus::Submitted => Some(view! {
                    <p class="banner banner-info" data-testid="locked-banner">
                        {r.submitted_at.map(format_vn_datetime).map(|t| format!("Đã gửi lúc {t}. ")).unwrap_or_else(|| "Đã gửi. ".into())}
                        <T vi="Báo cáo bị khóa cho đến khi được trả lại." en="Locked until a reviewer returns it."/>
                    </p>
                }.into_any()),
                ReportStatus::Accepted => Some(view! {
                    <p class="banner banner-info" data-testid="locked-banner">
                        <T vi="Báo cáo đã được tiếp nhận, không sửa được nữa." en="Accepted: this report is final."/>
                    </p>
                }.into_any()),
                ReportStatus::Draft => None,
            }
        }))}
        {move || local.with(|l| l.as_ref().and_then(|l| l.error.clone())).map(|e| view! {
            <p class="banner banner-error" data-testid="server-error" role="alert">
                <T vi="Máy chủ từ chối: " en="Refused by the server: "/>{e}
            </p>
        })}
        {move || load_error.get().map(|e| view! { <p class="banner banner-error" role="alert">{e}</p> })}
        {move || match (conflict.get(), form.get()) {
            (Some(c), Some(f)) => view! { <ConflictView conflict=c form=f on_resolve=resolve/> }.into_any(),
            _ => ().into_any(),
        }}
        {move || form.get().map(|f| {
            let errors = move || if show_required.get() { issues.get().len() } else { 0 };
            view! {
                {move || (errors() > 0).then(|| view! {
                    <p class="banner banner-error" data-testid="issue-summary" role="alert">
                        {move || lang.get().pick(
                            format!("Còn {} mục cần sửa trước khi gửi.", errors()),
                            format!("{} fields to fix before sending.", errors()),
                        )}
                    </p>
                })}
                {f.sections.iter().filter(|s| s.fields.iter().any(|x| x.applies_to(kind))).cloned()
                    .map(|s| view! { <SectionCard section=s binding=binding/> }).collect_view()}
            }
        })}
        <div class="editor-footer">
            <p class="save-status" data-testid="save-status" role="status" data-state=move || match save_state.get() {
                SaveState::Idle => "idle",
                SaveState::Saving => "saving",
                SaveState::Saved(_) => "saved",
                SaveState::Failed(_) => "failed",
            }>
                {move || match save_state.get() {
                    SaveState::Idle => String::new(),
                    SaveState::Saving => lang.get().pick("Đang lưu…", "Saving…").to_string(),
                    SaveState::Saved(t) => format!("{} {}", lang.get().pick("Đã lưu trên máy lúc", "Saved on this phone at"), time_of_day(t)),
                    SaveState::Failed(m) => m,
                }}
            </p>
            <button
                class="btn btn-primary"
                data-testid="submit-report"
                disabled=move || !editable.get() || submit.pending().get()
                on:click=move |_| { submit.dispatch_local(()); }
            >
                <T vi="Gửi báo cáo" en="Submit report"/>
            </button>
        </div>
    }
}

/// HH:MM:SS in Vietnam time.
fn time_of_day(t: DateTime<Utc>) -> String {
    use chrono::Timelike;
    let local = t.with_timezone(&danvan_core::time::vn_offset());
    format!("{:02}:{:02}:{:02}", local.hour(), local.minute(), local.second())
}

/// Resizes, hashes and stores a photo, then records it in the report (one
/// transaction for the bytes, the pending upload and the report).
async fn attach_photo(key: &ReportKey, section: String, file: web_sys::File) -> Result<LocalReport, String> {
    let original: &web_sys::Blob = file.as_ref();
    let blob = web::resize_photo(original)
        .await
        .map_err(|e| format!("Không đọc được ảnh (chỉ nhận ảnh JPEG, PNG, WebP): {e}"))?;
    let bytes = web::blob_bytes(&blob).await?;
    if bytes.len() as u64 > MAX_ATTACHMENT_BYTES {
        return Err("Ảnh quá lớn sau khi nén (tối đa 3 MB)".into());
    }
    let attachment = AttachmentRef {
        id: web::random_hex(16),
        section,
        name: file.name(),
        mime: "image/jpeg".into(),
        size: bytes.len() as u64,
        sha256: web::sha256_hex(&bytes).await?,
    };
    let db = LocalDb::shared().await.map_err(|e| e.to_string())?;
    db.attach_blob(key, attachment, &blob, Utc::now()).await.map_err(|e| e.to_string())
}

/// Keeps the last autosave latencies on `window.danvanSaveTimings` for the
/// benchmark (bench/autosave) — a few numbers, no cost worth a flag.
fn record_save_latency(ms: f64) {
    let Some(w) = web_sys::window() else { return };
    let key = wasm_bindgen::JsValue::from_str("danvanSaveTimings");
    let array = match js_sys::Reflect::get(&w, &key).ok().filter(|v| js_sys::Array::is_array(v)) {
        // The array itself, not `Array::from` (a copy the bench would never see).
        Some(a) => wasm_bindgen::JsCast::unchecked_into::<js_sys::Array>(a),
        None => {
            let a = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&w, &key, &a);
            a
        }
    };
    if array.length() < 10_000 {
        array.push(&wasm_bindgen::JsValue::from_f64(ms));
    }
}
