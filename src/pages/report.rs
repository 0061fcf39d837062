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
use leptos_router::hooks::{use_params_map, use_query_map};

use danvan_core::aggregate::Consolidation;
use danvan_core::api::Role;
use danvan_core::client::{Conflict, LocalReport, Side};
use danvan_core::form::{FieldKind, PeriodKind, Stage};
use danvan_core::report::{AttachmentRef, MAX_ATTACHMENT_BYTES};
use danvan_core::sync::MutationOp;
use danvan_core::task::TaskStatus;
use danvan_core::time::{format_date, format_vn_datetime, vn_date};
use danvan_core::{Period, ReportForm, ReportKey, ReportStatus, Values};

use crate::api::ApiError;
use crate::components::history::{vn_date_time, RevisionHistory};
use crate::components::report_form::{ConflictView, FormBinding, SectionCard};
use crate::hooks::use_online;
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;
use crate::storage::{consolidation_cache_key, EditError, LocalDb};
use crate::sync::{refresh_counts, request_sync};
use crate::web;

/// "Lấy số liệu tổng hợp từ đơn vị cấp dưới": where that stands.
#[derive(Clone, Debug, PartialEq)]
enum Prefill {
    Idle,
    Loading,
    /// Fetched (or read from the phone's copy); waiting for the official's yes.
    Confirm {
        values: Values,
        /// Units whose accepted reports are summed.
        sources: usize,
        /// Units that owe a report but have none accepted.
        without: usize,
        /// Fields already filled that would change.
        overwritten: usize,
        /// Narratives cut to their field's length.
        truncated: usize,
        at: DateTime<Utc>,
        cached: bool,
    },
    Message(String),
}

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
    // A predecessor's report (a commune merged into this one) is read, never rewritten.
    let own_unit = Signal::derive(move || {
        state.session.with(|s| s.as_ref().is_some_and(|s| key.with_value(|k| k.unit_id == s.user.unit_id)))
    });
    let editable =
        Signal::derive(move || own_unit.get() && status.get().is_editable() && conflict.with(|c| c.is_none()));
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

    // "Report of reports": a unit with units below starts its own report from the
    // sums of their accepted reports (Sở Nội vụ: the province's).
    let is_online = use_online().is_online;
    let prefill = RwSignal::new(Prefill::Idle);
    let consolidation_unit = Memo::new(move |_| {
        let (role, own) = state.session.with(|s| s.as_ref().map(|s| (s.user.role, s.user.unit_id.clone())))?;
        state.snapshot.with(|s| {
            let units = &s.as_ref()?.units;
            if units.iter().any(|u| u.parent.as_deref() == Some(own.as_str())) {
                return Some(own);
            }
            (role == Role::Aggregator)
                .then(|| units.iter().find(|u| u.parent.is_none()).map(|u| u.id.clone()))
                .flatten()
        })
    });
    let start_prefill = move |_| {
        let Some(unit) = consolidation_unit.get_untracked() else { return };
        prefill.set(Prefill::Loading);
        leptos::task::spawn_local(async move {
            let lang = lang.try_get_untracked().unwrap_or(Lang::Vi);
            let k = key.get_value();
            let period = k.period.key();
            let cache_key = consolidation_cache_key(&k.plan_id, &unit, &period);
            let session = state.session.try_get_untracked().flatten();
            let user_id = session.as_ref().map(|s| s.user.id).unwrap_or_default();
            let db = LocalDb::shared().await.ok();
            let fetched = match (&session, is_online.try_get_untracked().unwrap_or(false)) {
                (Some(s), true) => Some(crate::api::consolidation(&s.token, &k.plan_id, &period, &unit).await),
                _ => None,
            };
            let (consolidation, at, cached) = match fetched {
                Some(Ok(c)) => {
                    let now = Utc::now();
                    if let Some(db) = &db {
                        let _ = db.put_cached(&cache_key, user_id, &c, now).await;
                    }
                    (c, now, false)
                }
                Some(Err(ApiError::Network)) | None => {
                    let kept = match &db {
                        Some(db) => db.get_cached::<Consolidation>(&cache_key, user_id).await.ok().flatten(),
                        None => None,
                    };
                    match kept {
                        Some(c) => (c.value, c.fetched_at, true),
                        None => {
                            prefill.try_set(Prefill::Message(lang.pick(
                                "Cần kết nối mạng để lấy số liệu tổng hợp từ đơn vị cấp dưới (trên máy chưa có bản tổng hợp của kỳ này).",
                                "A connection is needed to fetch the consolidated figures (none kept on this phone for this period).",
                            ).to_string()));
                            return;
                        }
                    }
                }
                Some(Err(e)) => {
                    prefill.try_set(Prefill::Message(e.to_string()));
                    return;
                }
            };
            if consolidation.sources.is_empty() {
                prefill.try_set(Prefill::Message(
                    lang.pick(
                        "Chưa có báo cáo nào của đơn vị cấp dưới được tiếp nhận cho kỳ này.",
                        "No report of the units below has been accepted for this period yet.",
                    )
                    .to_string(),
                ));
                return;
            }
            let Some(f) = form.try_get_untracked().flatten() else { return };
            let (new_values, truncated) = prefill_values(&consolidation, &f, kind);
            let overwritten = values
                .try_with_untracked(|v| {
                    new_values
                        .iter()
                        .filter(|(k, n)| v.get(*k).is_some_and(|old| !old.trim().is_empty() && old != *n))
                        .count()
                })
                .unwrap_or(0);
            prefill.try_set(Prefill::Confirm {
                values: new_values,
                sources: consolidation.sources.len(),
                without: consolidation.without_accepted.len(),
                overwritten,
                truncated,
                at,
                cached,
            });
        });
    };
    // Applied as one edit through the same path as typing: on screen at once,
    // written in one transaction, synced like any save.
    let apply_prefill = move |_| {
        let Prefill::Confirm { values: new_values, .. } = prefill.get_untracked() else { return };
        prefill.set(Prefill::Idle);
        if !editable.get_untracked() {
            return;
        }
        values.update(|v| {
            for (k, val) in &new_values {
                if val.is_empty() {
                    v.remove(k);
                } else {
                    v.insert(k.clone(), val.clone());
                }
            }
        });
        pending.update_value(|p| p.extend(new_values));
        first_change_at.update_value(|t| {
            t.get_or_insert_with(web::now_ms);
        });
        save_state.set(SaveState::Saving);
        leptos::task::spawn_local(flush());
    };
    let prefill_view = move || {
        let lang = lang.get();
        let button = view! {
            <button type="button" class="btn btn-secondary" data-testid="prefill-consolidation"
                disabled=move || prefill.with(|p| *p == Prefill::Loading)
                on:click=start_prefill>
                {move || if prefill.with(|p| *p == Prefill::Loading) {
                    lang.pick("Đang lấy số liệu…", "Fetching…")
                } else {
                    lang.pick("Lấy số liệu tổng hợp từ đơn vị cấp dưới", "Fill in from the units below")
                }}
            </button>
        };
        let detail = match prefill.get() {
            Prefill::Idle | Prefill::Loading => None,
            Prefill::Message(m) => Some(
                view! { <p class="banner banner-warn" data-testid="prefill-message" role="status">{m}</p> }.into_any(),
            ),
            Prefill::Confirm { values: v, sources, without, overwritten, truncated, at, cached } => {
                let text = match lang {
                    Lang::Vi => {
                        let mut t = format!(
                            "Cộng số liệu và gộp nội dung từ báo cáo đã được tiếp nhận của {sources} đơn vị cấp dưới ({} lúc {}).",
                            if cached { "bản lưu trên máy" } else { "số liệu" },
                            vn_date_time(at)
                        );
                        if without > 0 {
                            t.push_str(&format!(" {without} đơn vị chưa có báo cáo được tiếp nhận."));
                        }
                        t.push_str(&format!(
                            " Sẽ điền {} mục; các số liệu và nội dung đã nhập ở những mục này sẽ bị ghi đè",
                            v.len()
                        ));
                        if overwritten > 0 {
                            t.push_str(&format!(" ({overwritten} mục đang có giá trị khác)"));
                        }
                        t.push('.');
                        if truncated > 0 {
                            t.push_str(&format!(" {truncated} nội dung dài quá giới hạn đã được cắt bớt."));
                        }
                        t
                    }
                    Lang::En => {
                        let mut t = format!(
                            "Sums the figures and gathers the narratives of the accepted reports of {sources} units below ({} {}).",
                            if cached { "copy kept on this phone from" } else { "as of" },
                            vn_date_time(at)
                        );
                        if without > 0 {
                            t.push_str(&format!(" {without} units have no accepted report."));
                        }
                        t.push_str(&format!(" {} fields will be filled, overwriting what they hold", v.len()));
                        if overwritten > 0 {
                            t.push_str(&format!(" ({overwritten} currently differ)"));
                        }
                        t.push('.');
                        if truncated > 0 {
                            t.push_str(&format!(" {truncated} narratives were cut to fit."));
                        }
                        t
                    }
                };
                Some(view! {
                    <div class="prefill-confirm" data-testid="prefill-confirm" role="alertdialog">
                        <p>{text}</p>
                        <div class="review-actions">
                            <button type="button" class="btn btn-secondary" data-testid="cancel-prefill"
                                on:click=move |_| prefill.set(Prefill::Idle)>
                                {lang.pick("Hủy", "Cancel")}
                            </button>
                            <button type="button" class="btn btn-primary" data-testid="confirm-prefill" on:click=apply_prefill>
                                {lang.pick("Ghi đè và điền", "Overwrite and fill")}
                            </button>
                        </div>
                    </div>
                }.into_any())
            }
        };
        view! {
            <section class="card prefill" data-testid="prefill">
                <p class="muted">
                    {lang.pick(
                        "Báo cáo của đơn vị có đơn vị cấp dưới: có thể bắt đầu từ tổng hợp các báo cáo đã được tiếp nhận.",
                        "Your unit has units below: you can start from the sum of their accepted reports.",
                    )}
                </p>
                {button}
                {detail}
            </section>
        }
    };
    let show_prefill = Memo::new(move |_| editable.get() && consolidation_unit.with(|u| u.is_some()));
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
        <Show when=move || show_prefill.get() && form.with(|f| f.is_some())>{prefill_view}</Show>
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

/// The consolidation's values that this form can take for this period: fields
/// it has, narratives cut to their field's length (a longer one would be refused
/// and block the save). Returns them and how many were cut.
fn prefill_values(c: &Consolidation, form: &ReportForm, kind: PeriodKind) -> (Values, usize) {
    let mut out = Values::new();
    let mut truncated = 0;
    for (k, v) in c.prefill() {
        let Some(field) = form.field(&k) else { continue };
        if !field.applies_to(kind) {
            continue;
        }
        let v = match field.kind {
            FieldKind::Text { max_chars } if v.chars().count() > max_chars as usize => {
                truncated += 1;
                let mut cut: String = v.chars().take((max_chars as usize).saturating_sub(1)).collect();
                cut.push('…');
                cut
            }
            _ => v,
        };
        out.insert(k, v);
    }
    (out, truncated)
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
