//! The report editor: one period's report of the caller's unit. Its writes are
//! src/hooks/use_autosave.rs; "fill in from the units below" is
//! src/components/report_form/prefill.rs.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use danvan_core::client::{Conflict, LocalReport, Side};
use danvan_core::form::Stage;
use danvan_core::report::{AttachmentRef, MAX_ATTACHMENT_BYTES};
use danvan_core::sync::MutationOp;
use danvan_core::task::TaskStatus;
use danvan_core::time::{format_date, format_vn_datetime, vn_date};
use danvan_core::{Period, ReportForm, ReportKey, ReportStatus, Values};

use crate::components::history::RevisionHistory;
use crate::components::report_form::{ConflictView, ConsolidationPrefill, FormBinding, SectionCard};
use crate::hooks::{use_autosave, SaveState, UseAutosaveReturn};
use crate::i18n::{use_lang, T};
use crate::state::AppState;
use crate::storage::{EditError, LocalDb};
use crate::sync::{refresh_counts, request_sync};
use crate::web;

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
    let query = use_query_map();
    let period = Memo::new(move |_| params.with(|p| p.get("period").and_then(|k| Period::parse_key(&k).ok())));
    // `?ke-hoach=` names the plan, `?don-vi=` a unit other than one's own (a
    // predecessor's report, read only); without them: the plan that asks this unit
    // for this period.
    let key = Memo::new(move |_| {
        let period = period.get()?;
        let own = state.session.with(|s| s.as_ref().map(|s| s.user.unit_id.clone()))?;
        let unit_id = query.with(|q| q.get("don-vi")).filter(|u| !u.is_empty()).unwrap_or(own);
        let plan_id = query.with(|q| q.get("ke-hoach")).filter(|p| !p.is_empty()).or_else(|| {
            state.snapshot.with(|s| {
                let s = s.as_ref()?;
                let asked: Vec<&str> =
                    s.tasks.tasks.iter().filter(|t| t.is_periodic()).map(|t| t.plan_id.as_str()).collect();
                let covering = || s.plans.iter().filter(|p| p.covers(&period));
                covering().find(|p| asked.contains(&p.id.as_str())).or_else(|| covering().next()).map(|p| p.id.clone())
            })
        })?;
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
    let autosave = use_autosave(key);
    let UseAutosaveReturn { values, local, save_state, .. } = autosave;
    let conflict = RwSignal::new(None::<Conflict>);
    let form = RwSignal::new(None::<ReportForm>);
    let load_error = RwSignal::new(None::<String>);
    let show_required = RwSignal::new(false);

    let load = move || async move {
        let mark = autosave.edit_mark();
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
                // Every sync reloads: only what changed is set, so an unchanged form
                // is not rebuilt under the person's fingers (focus, keyboard).
                autosave.show_loaded(mark, l.local);
                set_if_changed(conflict, l.conflict);
                set_if_changed(form, Some(l.form));
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
    // A predecessor's report (a commune merged into this one) is read, never rewritten.
    let own_unit = Signal::derive(move || {
        state.session.with(|s| s.as_ref().is_some_and(|s| key.with_value(|k| k.unit_id == s.user.unit_id)))
    });
    // Why this unit has no report to file for this period under the plan (outside
    // the plan's validity, or the unit not active at the deadline): the rule the
    // server applies to every save (`Plan::report_problem`), so the page says so
    // rather than taking values the server would refuse. An old link, or a plan
    // shortened while this phone was offline, lands here.
    let not_filed = Memo::new(move |_| {
        if !own_unit.get() {
            return None;
        }
        key.with_value(|k| {
            state.snapshot.with(|s| {
                let s = s.as_ref()?;
                let plan = s.plans.iter().find(|p| p.id == k.plan_id)?;
                let unit = s.units.iter().find(|u| u.id == k.unit_id)?;
                plan.report_problem(unit, &k.period)
            })
        })
    });
    let editable = Signal::derive(move || {
        own_unit.get()
            && status.get().is_editable()
            && conflict.with(|c| c.is_none())
            && not_filed.with(Option::is_none)
    });
    let issues = Memo::new(move |_| {
        let stage = if show_required.get() { Stage::Submit } else { Stage::Draft };
        form.with(|f| f.as_ref().map(|f| values.with(|v| f.validate(v, kind, stage))).unwrap_or_default())
    });

    let on_change = Callback::new(move |(field, value): (String, String)| autosave.change(field, value));

    let on_photo = Callback::new(move |(section, file): (String, web_sys::File)| {
        save_state.set(SaveState::Saving);
        leptos::task::spawn_local(async move {
            match attach_photo(&key.get_value(), section, file).await {
                Ok(saved) => {
                    autosave.saved(saved);
                    request_sync(Duration::from_secs(2));
                    refresh_counts(state).await;
                }
                Err(e) => autosave.failed(e),
            }
        });
    });

    let submit = Action::new_local(move |_: &()| async move {
        autosave.flush().await;
        show_required.set(true);
        let (f, v) = (form.get_untracked(), values.get_untracked());
        let Some(f) = f else { return };
        if !f.validate(&v, kind, Stage::Submit).is_empty() {
            autosave.failed(lang.get_untracked().pick(
                "Chưa gửi được: còn mục cần sửa (đánh dấu đỏ).".to_string(),
                "Not sent: some fields need fixing (marked in red).".to_string(),
            ));
            return;
        }
        let result = match LocalDb::shared().await {
            Ok(db) => db.record_edit(&key.get_value(), MutationOp::Submit, Utc::now()).await,
            Err(e) => Err(EditError::Storage(e)),
        };
        match result {
            Ok(saved) => {
                autosave.saved(saved);
                request_sync(Duration::ZERO);
                refresh_counts(state).await;
            }
            Err(e) => autosave.failed(e.to_string()),
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
                Ok(Some(saved)) => {
                    values.try_set(saved.report.values.clone());
                    autosave.saved(saved);
                    conflict.try_set(None);
                    request_sync(Duration::ZERO);
                    refresh_counts(state).await;
                }
                // Nothing of it is left on this phone (the server never had it).
                Ok(None) => {
                    autosave.show_loaded(autosave.edit_mark(), None);
                    conflict.try_set(None);
                    refresh_counts(state).await;
                }
                Err(e) => autosave.failed(e.to_string()),
            }
        });
    });

    // "Report of reports": applied as one edit through the same path as typing.
    let on_prefill = Callback::new(move |filled: Values| {
        if editable.get_untracked() {
            autosave.apply(filled);
        }
    });
    let history_id = key.with_value(|k| k.id());
    let on_server = Memo::new(move |_| local.with(|l| l.as_ref().is_some_and(|l| l.report.version > 0)));

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
    // Under a plan that has ended a period is not "overdue by 700 days".
    let plan_end = key.with_value(|k| {
        state.snapshot.with_untracked(|s| {
            s.as_ref().and_then(|s| s.plans.iter().find(|p| p.id == k.plan_id).map(|p| p.validity().last))
        })
    });
    let deadline = match plan_end {
        Some(last) if today > last => TaskStatus::Ended { on: last },
        _ => TaskStatus::for_due_date(period.due_date(), today),
    };
    // The report's own unit (a predecessor's report names its commune).
    let unit_name = move || {
        let id = key.with_value(|k| k.unit_id.clone());
        state
            .snapshot
            .with(|s| s.as_ref().and_then(|s| s.units.iter().find(|u| u.id == id).map(|u| u.name.clone())))
            .or_else(|| state.session.with(|s| s.as_ref().map(|s| s.user.unit_name.clone())))
            .unwrap_or_default()
    };

    // "Đang lưu…" only for a write still running after `SLOW_SAVE`: a write takes
    // tens of milliseconds, and flipping the line at every keystroke only makes
    // the page lay out and paint twice per key on a slow phone. Until then the
    // line keeps what it said (`data-state` says "saving" at once).
    let slow_save = RwSignal::new(false);
    Effect::new(move |_| {
        if save_state.with(|s| *s == SaveState::Saving) {
            leptos::task::spawn_local(async move {
                gloo_timers::future::sleep(SLOW_SAVE).await;
                if save_state.try_with_untracked(|s| *s == SaveState::Saving) == Some(true) {
                    slow_save.try_set(true);
                }
            });
        } else {
            slow_save.set(false);
        }
    });
    let footer_text = Memo::new(move |shown: Option<&String>| {
        let lang = lang.get();
        match save_state.get() {
            SaveState::Idle => String::new(),
            SaveState::Saving if !slow_save.get() => shown.cloned().unwrap_or_default(),
            SaveState::Saving => lang.pick("Đang lưu…", "Saving…").to_string(),
            SaveState::Saved(t) => {
                format!("{} {}", lang.pick("Đã lưu trên máy lúc", "Saved on this phone at"), time_of_day(t))
            }
            SaveState::Failed(m) => m,
        }
    });

    view! {
        <h1 data-testid="report-title">
            {move || lang.get().pick(
                format!("Báo cáo {}", period.label_vi().to_lowercase()),
                format!("Report — {}", period.label_en()),
            )}
        </h1>
        <p class="unit-name">{unit_name}</p>
        <Show when=move || not_filed.with(Option::is_none)>
            <p class="report-deadline" data-testid="report-deadline">
                {move || format!("{}{}", lang.get().pick("Hạn: ", "Due: "), format_date(period.due_date()))}
                " · "
                <span class=match deadline { TaskStatus::Overdue { .. } => "late", _ => "soon" }>
                    {move || lang.get().pick(deadline.label_vi(), deadline.label_en())}
                </span>
            </p>
        </Show>
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
        {move || not_filed.get().map(|problem| view! {
            <p class="banner banner-warn" data-testid="not-filed" role="alert">
                <strong><T vi="Không lập báo cáo này: " en="No report to file here: "/></strong>{problem}
            </p>
        })}
        // While the conflict card is shown it carries the server's reason itself.
        {move || conflict.with(Option::is_none).then(|| local.with(|l| l.as_ref().and_then(|l| l.error.clone()))).flatten().map(|e| view! {
            <p class="banner banner-error" data-testid="server-error" role="alert">
                <T vi="Máy chủ từ chối: " en="Refused by the server: "/>{e}
            </p>
        })}
        {move || load_error.get().map(|e| view! { <p class="banner banner-error" role="alert">{e}</p> })}
        {move || match (conflict.get(), form.get()) {
            (Some(c), Some(f)) => {
                // The same reason as the page's "no report to file" line: said once.
                let reason_said = c.reason.is_some() && c.reason == not_filed.get();
                view! { <ConflictView conflict=c form=f on_resolve=resolve reason_said=reason_said/> }.into_any()
            }
            _ => ().into_any(),
        }}
        <Show when=move || editable.get() && form.with(|f| f.is_some())>
            <ConsolidationPrefill
                report=key.get_value()
                form=form
                values=values
                on_apply=on_prefill
            />
        </Show>
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
        <Show when=move || on_server.get()>
            <RevisionHistory
                report_id=history_id.clone()
                form=Signal::derive(move || form.get())
                version=Signal::derive(move || local.with(|l| l.as_ref().map(|l| l.report.version).unwrap_or(0)))
            />
        </Show>
        <div class="editor-footer">
            <p class="save-status" data-testid="save-status" role="status" data-state=move || save_state.with(SaveState::as_str)>
                {footer_text}
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

/// How long a write may run before the footer says "Đang lưu…".
const SLOW_SAVE: Duration = Duration::from_millis(300);

/// Sets `signal` only when `value` differs: a set always notifies its readers.
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.try_with_untracked(|v| *v != value) == Some(true) {
        signal.try_set(value);
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
        name: danvan_core::report::attachment_name(&file.name()),
        mime: "image/jpeg".into(),
        size: bytes.len() as u64,
        sha256: web::sha256_hex(&bytes).await?,
    };
    let db = LocalDb::shared().await.map_err(|e| e.to_string())?;
    db.attach_blob(key, attachment, &blob, Utc::now()).await.map_err(|e| e.to_string())
}
