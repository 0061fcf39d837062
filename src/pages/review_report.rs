//! One report under review: read-only, by section, with its photos and history;
//! for a submitted report "Trả lại" (with a reason) and "Tiếp nhận", both recorded
//! through the outbox so they work offline and reach the server with the next sync.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use danvan_core::access::may_review;
use danvan_core::client::{Conflict, LocalReport};
use danvan_core::sync::{MutationOp, MAX_REASON_CHARS};
use danvan_core::{ReportForm, ReportKey, ReportStatus, UnitTree, Values};

use super::review::{effective_status, status_chip};
use crate::components::history::{vn_date_time, RevisionHistory};
use crate::components::report_form::{FormBinding, SectionView};
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;
use crate::storage::{EditError, LocalDb};
use crate::sync::{refresh_counts, request_sync};

#[component]
pub fn ReviewReportPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| params.with(|p| p.get("report_id")).and_then(|id| ReportKey::parse_id(&id)));
    view! {
        <main class="page review-page" data-testid="review-report">
            <A href="/duyet" attr:class="back-link"><T vi="← Danh sách cần duyệt" en="← Review list"/></A>
            {move || match key.get() {
                None => view! {
                    <p class="card empty" data-testid="no-data"><T vi="Không tìm thấy báo cáo." en="Report not found."/></p>
                }.into_any(),
                Some(key) => view! { <Review key=key/> }.into_any(),
            }}
        </main>
    }
}

/// What the reviewer is doing at the bottom of the screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Choose,
    Return,
    Accept,
}

#[component]
fn Review(key: ReportKey) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let kind = key.period_kind();
    let period = key.period;
    let key = StoredValue::new(key);
    let local = RwSignal::new(None::<LocalReport>);
    let conflict = RwSignal::new(None::<Conflict>);
    let form = RwSignal::new(None::<ReportForm>);
    let loaded = RwSignal::new(false);
    let load_error = RwSignal::new(None::<String>);
    let values = RwSignal::new(Values::new());
    let step = RwSignal::new(Step::Choose);
    let reason = RwSignal::new(String::new());
    let reason_error = RwSignal::new(None::<String>);
    let action_error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let load = move || async move {
        let id = key.get_value().id();
        let plan = key.get_value().plan_id;
        let result = async {
            let db = LocalDb::shared().await?;
            let form = db.load_form(&plan).await?;
            let local = db.load_report(&id).await?;
            let conflict = db.load_conflict(&id).await?;
            Ok::<_, crate::storage::StorageError>((form, local, conflict))
        }
        .await;
        match result {
            Ok((f, l, c)) => {
                values.try_set(l.as_ref().map(|l| l.report.values.clone()).unwrap_or_default());
                local.try_set(l);
                conflict.try_set(c);
                form.try_set(f);
                load_error.try_set(None);
            }
            Err(e) => {
                load_error.try_set(Some(e.to_string()));
            }
        }
        loaded.try_set(true);
    };
    Effect::new(move |_| {
        let _ = state.sync.generation.get();
        leptos::task::spawn_local(load());
    });

    let unit_name = move || {
        let id = key.with_value(|k| k.unit_id.clone());
        state
            .snapshot
            .with(|s| s.as_ref().and_then(|s| s.units.iter().find(|u| u.id == id).map(|u| u.name.clone())))
            .unwrap_or(id)
    };
    let status =
        Memo::new(move |_| local.with(|l| l.as_ref().map(|l| conflict.with(|c| effective_status(l, c.as_ref())))));
    let unsent = Memo::new(move |_| local.with(|l| l.as_ref().is_some_and(|l| l.has_unsent())));
    let allowed = Memo::new(move |_| {
        let unit = key.with_value(|k| k.unit_id.clone());
        let who = state.session.with(|s| s.as_ref().map(|s| (s.user.role, s.user.unit_id.clone())));
        let Some((role, own)) = who else { return false };
        state.snapshot.with(|s| {
            let tree = UnitTree::partial(s.as_ref().map(|s| s.units.clone()).unwrap_or_default());
            may_review(&tree, role, &own, &unit)
        })
    });
    let can_act = move || {
        allowed.get()
            && status.get() == Some(ReportStatus::Submitted)
            && conflict.with(|c| c.is_none())
            && !unsent.get()
    };

    let record = move |op: MutationOp| {
        leptos::task::spawn_local(async move {
            if busy.try_get_untracked() != Some(false) {
                return;
            }
            busy.try_set(true);
            let result = match LocalDb::shared().await {
                Ok(db) => db.record_edit(&key.get_value(), op, Utc::now()).await,
                Err(e) => Err(EditError::Storage(e)),
            };
            match result {
                Ok(saved) => {
                    local.try_set(Some(saved));
                    step.try_set(Step::Choose);
                    reason.try_set(String::new());
                    action_error.try_set(None);
                    request_sync(Duration::ZERO);
                    refresh_counts(state).await;
                }
                Err(e) => {
                    action_error.try_set(Some(e.to_string()));
                }
            }
            busy.try_set(false);
        });
    };

    let confirm_return = move |_| {
        let lang = lang.get_untracked();
        let text = reason.get_untracked();
        let n = text.trim().chars().count();
        if n == 0 {
            reason_error
                .set(Some(lang.pick("Cần ghi lý do trả lại.", "Please give the reason for returning it.").to_string()));
            return;
        }
        if n > MAX_REASON_CHARS {
            reason_error.set(Some(match lang {
                Lang::Vi => format!("Lý do trả lại dài quá {MAX_REASON_CHARS} ký tự (đang có {n})."),
                Lang::En => format!("The reason is longer than {MAX_REASON_CHARS} characters ({n})."),
            }));
            return;
        }
        reason_error.set(None);
        record(MutationOp::Return { reason: text.trim().to_string() });
    };

    // Someone else acted first: show the server's copy and let go of this
    // phone's review once read.
    let acknowledge = move |_| {
        leptos::task::spawn_local(async move {
            let id = key.get_value().id();
            let result = match LocalDb::shared().await {
                Ok(db) => db.resolve_conflict(&id, &BTreeMap::new(), Utc::now()).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(saved) => {
                    values.try_set(saved.as_ref().map(|s| s.report.values.clone()).unwrap_or_default());
                    local.try_set(saved);
                    conflict.try_set(None);
                    refresh_counts(state).await;
                }
                Err(e) => {
                    action_error.try_set(Some(e.to_string()));
                }
            }
        });
    };

    let binding = FormBinding {
        values,
        issues: Memo::new(|_| Vec::new()),
        editable: Signal::derive(|| false),
        on_change: Callback::new(|_: (String, String)| {}),
        attachments: Signal::derive(move || {
            local.with(|l| l.as_ref().map(|l| l.report.attachments.clone()).unwrap_or_default())
        }),
        on_photo: Callback::new(|_: (String, web_sys::File)| {}),
        kind,
    };

    let header = move || {
        let lang = lang.get();
        let s = status.get()?;
        Some(view! {
            <p class="review-status-line">
                <span class=status_chip(s) data-testid="report-status" data-status=s.as_str()>
                    {lang.pick(s.label_vi(), s.label_en())}
                </span>
                {unsent.get().then(|| view! {
                    " " <span class="chip chip-soon" data-testid="pending-sync">{lang.pick("Chờ gửi", "Waiting to send")}</span>
                })}
            </p>
        })
    };

    let facts = move || {
        let lang = lang.get();
        local.with(|l| {
            l.as_ref().map(|l| {
                let r = &l.report;
                let first = r.first_submitted_at.or(r.submitted_at).map(vn_date_time);
                // Received late, but sent from the phone before the deadline by the
                // phone's clock: said, for the reviewer to judge (README).
                let offline = r.sent_offline_before(r.key.period.deadline()).map(vn_date_time);
                let last = r.submitted_at.filter(|t| Some(*t) != r.first_submitted_at).map(vn_date_time);
                let updated = r.updated_at.map(|t| {
                    let by = r.updated_by.clone().map(|b| format!(" — {b}")).unwrap_or_default();
                    format!("{}{by}", vn_date_time(t))
                });
                view! {
                    <dl class="facts review-facts">
                        {first.map(|t| view! { <dt>{lang.pick("Gửi lần đầu", "First sent")}</dt><dd data-testid="first-submitted">{t}</dd> })}
                        {offline.map(|t| view! {
                            <dt>{lang.pick("Trễ hạn, nhưng", "Late, but")}</dt>
                            <dd data-testid="sent-offline-before">{format!(
                                "{} {t} {}",
                                lang.pick("gửi từ máy lúc", "sent from the phone at"),
                                lang.pick("(trước hạn, theo giờ của điện thoại)", "(before the deadline, by the phone's clock)")
                            )}</dd>
                        })}
                        {last.map(|t| view! { <dt>{lang.pick("Gửi lại", "Sent again")}</dt><dd>{t}</dd> })}
                        {updated.map(|t| view! { <dt>{lang.pick("Thay đổi cuối", "Last change")}</dt><dd>{t}</dd> })}
                    </dl>
                }
            })
        })
    };

    let banners = move || {
        let lang = lang.get();
        let s = status.get();
        let mut out = Vec::new();
        if let Some(c) = conflict.get() {
            let who = c.theirs.updated_by.clone().unwrap_or_default();
            let when = c.theirs.updated_at.map(vn_date_time).unwrap_or_default();
            let status = c.theirs.status;
            out.push(view! {
                <div class="banner banner-warn" data-testid="review-conflict" role="alert">
                    <p>
                        {match lang {
                            Lang::Vi => format!(
                                "Báo cáo đã được xử lý trên máy chủ trước thao tác của bạn ({} — {who}, {when}). Thao tác của bạn không được áp dụng.",
                                status.label_vi()
                            ),
                            Lang::En => format!(
                                "The report was dealt with on the server before your action ({} — {who}, {when}). Your action was not applied.",
                                status.label_en()
                            ),
                        }}
                    </p>
                    <button type="button" class="btn btn-secondary" data-testid="acknowledge-conflict" on:click=acknowledge>
                        {lang.pick("Đã hiểu", "OK")}
                    </button>
                </div>
            }.into_any());
        }
        if let Some(e) = local.with(|l| l.as_ref().and_then(|l| l.error.clone())) {
            out.push(
                view! {
                    <p class="banner banner-error" data-testid="server-error" role="alert">
                        {lang.pick("Máy chủ từ chối: ", "Refused by the server: ")}{e}
                    </p>
                }
                .into_any(),
            );
        }
        match s {
            Some(ReportStatus::Returned) => {
                let r = local.with(|l| l.as_ref().and_then(|l| l.report.return_reason.clone())).unwrap_or_default();
                out.push(view! {
                    <p class="banner banner-warn" data-testid="return-reason">
                        <strong>{lang.pick("Đã trả lại: ", "Returned: ")}</strong>{r}
                    </p>
                }.into_any());
            }
            Some(ReportStatus::Accepted) => out.push(view! {
                <p class="banner banner-ok" data-testid="accepted-banner">
                    {lang.pick("Đã tiếp nhận — không sửa được nữa.", "Accepted — it can no longer change.")}
                </p>
            }.into_any()),
            Some(ReportStatus::Draft) => out.push(view! {
                <p class="banner banner-info">
                    {lang.pick("Đơn vị chưa gửi báo cáo này (bản nháp).", "The unit has not sent this report yet (draft).")}
                </p>
            }.into_any()),
            _ => {}
        }
        if unsent.get() {
            out.push(
                view! {
                    <p class="muted" data-testid="pending-note">
                        {lang.pick(
                            "Đã ghi trên máy; sẽ gửi lên máy chủ khi có mạng.",
                            "Recorded on this phone; it will be sent when there is a connection.",
                        )}
                    </p>
                }
                .into_any(),
            );
        }
        out
    };

    let sections = move || {
        if local.with(|l| l.is_none()) {
            return None;
        }
        form.get().map(|f| {
            f.sections
                .iter()
                .filter(|s| s.fields.iter().any(|x| x.applies_to(kind)))
                .cloned()
                .map(|s| view! { <SectionView section=s binding=binding/> })
                .collect_view()
        })
    };

    let actions = move || {
        if !can_act() {
            return None;
        }
        let lang = lang.get();
        Some(match step.get() {
            Step::Choose => view! {
                <div class="review-actions" data-testid="review-actions">
                    <button type="button" class="btn btn-danger" data-testid="return-button"
                        on:click=move |_| { action_error.set(None); step.set(Step::Return) }>
                        {lang.pick("Trả lại", "Return")}
                    </button>
                    <button type="button" class="btn btn-primary" data-testid="accept-button"
                        on:click=move |_| { action_error.set(None); step.set(Step::Accept) }>
                        {lang.pick("Tiếp nhận", "Accept")}
                    </button>
                </div>
            }.into_any(),
            Step::Return => view! {
                <div class="review-sheet" role="dialog" aria-labelledby="return-title">
                    <label id="return-title" for="return-reason-input" class="sheet-title">
                        {lang.pick("Lý do trả lại", "Reason for returning")}<span class="required" aria-hidden="true">" *"</span>
                    </label>
                    <textarea
                        id="return-reason-input"
                        class="field-text"
                        rows="4"
                        maxlength=MAX_REASON_CHARS
                        data-testid="return-reason-input"
                        placeholder=lang.pick("Ví dụ: Thiếu số liệu mục II.3, đề nghị bổ sung.", "E.g. figures for II.3 are missing.")
                        prop:value=move || reason.get()
                        on:input=move |ev| { reason.set(event_target_value(&ev)); reason_error.set(None); }
                        aria-invalid=move || reason_error.with(|e| e.is_some()).to_string()
                    ></textarea>
                    <p class="sheet-counter muted">{move || format!("{}/{MAX_REASON_CHARS}", reason.with(|r| r.trim().chars().count()))}</p>
                    {move || reason_error.get().map(|e| view! { <p class="field-error" data-testid="return-reason-error" role="alert">{e}</p> })}
                    <div class="review-actions">
                        <button type="button" class="btn btn-secondary" data-testid="cancel-return"
                            on:click=move |_| { reason_error.set(None); step.set(Step::Choose) }>
                            {lang.pick("Hủy", "Cancel")}
                        </button>
                        <button type="button" class="btn btn-danger-solid" data-testid="confirm-return"
                            disabled=move || busy.get() on:click=confirm_return>
                            {lang.pick("Xác nhận trả lại", "Confirm return")}
                        </button>
                    </div>
                </div>
            }.into_any(),
            Step::Accept => view! {
                <div class="review-sheet" role="dialog">
                    <p class="sheet-title">
                        {lang.pick(
                            "Tiếp nhận báo cáo này? Sau khi tiếp nhận, đơn vị không sửa được nữa.",
                            "Accept this report? Once accepted, the unit can no longer change it.",
                        )}
                    </p>
                    <div class="review-actions">
                        <button type="button" class="btn btn-secondary" data-testid="cancel-accept"
                            on:click=move |_| step.set(Step::Choose)>
                            {lang.pick("Hủy", "Cancel")}
                        </button>
                        <button type="button" class="btn btn-primary" data-testid="confirm-accept"
                            disabled=move || busy.get() on:click=move |_| record(MutationOp::Accept)>
                            {lang.pick("Xác nhận tiếp nhận", "Confirm")}
                        </button>
                    </div>
                </div>
            }.into_any(),
        })
    };

    let report_id = key.with_value(|k| k.id());
    let on_server = Memo::new(move |_| local.with(|l| l.as_ref().is_some_and(|l| l.report.version > 0)));
    view! {
        <h1 data-testid="review-unit">{unit_name}</h1>
        <p class="muted">
            {move || lang.get().pick(
                format!("Báo cáo {}", period.label_vi().to_lowercase()),
                format!("Report — {}", period.label_en()),
            )}
            " · " {period.window_label()}
        </p>
        {move || load_error.get().map(|e| view! { <p class="banner banner-error" role="alert">{e}</p> })}
        {move || (loaded.get() && local.with(|l| l.is_none())).then(|| view! {
            <p class="card empty" data-testid="no-data">
                <T
                    vi="Báo cáo này chưa có trên máy. Hãy kết nối mạng để đồng bộ."
                    en="This report is not on this phone yet. Connect to sync."
                />
            </p>
        })}
        {move || (loaded.get() && local.with(|l| l.is_some()) && form.with(|f| f.is_none())).then(|| view! {
            <p class="banner banner-error" role="alert">
                <T
                    vi="Chưa có mẫu báo cáo trên máy. Hãy kết nối mạng một lần để tải về."
                    en="The report form is not on this phone yet. Connect once to download it."
                />
            </p>
        })}
        {header}
        {facts}
        {banners}
        {move || action_error.get().map(|e| view! { <p class="banner banner-error" data-testid="action-error" role="alert">{e}</p> })}
        {sections}
        <Show when=move || on_server.get()>
            <RevisionHistory
                start_open=true
                report_id=report_id.clone()
                form=Signal::derive(move || form.get())
                version=Signal::derive(move || local.with(|l| l.as_ref().map(|l| l.report.version).unwrap_or(0)))
            />
        </Show>
        <div class="review-footer" class:hidden=move || !can_act()>{actions}</div>
    }
}
