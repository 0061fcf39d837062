//! "Lịch sử chỉnh sửa": who changed a report, when, and what — from the server's
//! revisions, kept in the `meta` store (`cache:revisions:<report id>`) so the last
//! answer still shows offline, dated.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use danvan_core::ReportForm;

use crate::api::{self, ApiError, Revision, RevisionsResponse};
use crate::hooks::use_online;
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;
use crate::storage::LocalDb;

/// "dd/mm/yyyy HH:MM" in Vietnam time, whatever the phone's zone.
pub fn vn_date_time(t: DateTime<Utc>) -> String {
    use chrono::Timelike;
    let local = t.with_timezone(&danvan_core::time::vn_offset());
    format!("{} {:02}:{:02}", danvan_core::time::format_date(local.date_naive()), local.hour(), local.minute())
}

/// The op of a revision in words.
pub fn op_label(op: &str, lang: Lang) -> &'static str {
    match op {
        "save" => lang.pick("Lưu nháp", "Saved"),
        "submit" => lang.pick("Gửi", "Submitted"),
        "return" => lang.pick("Trả lại", "Returned"),
        "accept" => lang.pick("Tiếp nhận", "Accepted"),
        _ => lang.pick("Thay đổi", "Changed"),
    }
}

/// No answer from the server: say what is shown instead.
fn unreachable_text(kept: bool, lang: Lang) -> String {
    if kept {
        lang.pick(
            "Không kết nối được máy chủ: đang xem lịch sử đã lưu trên máy.",
            "The server cannot be reached: showing the history kept on this phone.",
        )
    } else {
        lang.pick("Cần kết nối mạng để xem lịch sử lần đầu.", "Connect once to see the history.")
    }
    .to_string()
}

fn cache_key(report_id: &str) -> String {
    format!("cache:revisions:{report_id}")
}

/// What is on screen: the revisions and when they were fetched.
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    revisions: Vec<Revision>,
    fetched_at: DateTime<Utc>,
    /// From the phone's cache (offline, or the server could not be reached).
    cached: bool,
}

/// Texts longer than this are folded behind "Xem đủ".
const FOLD_CHARS: usize = 140;
/// A revision lists this many changed fields, the rest behind "Xem thêm".
const FIELDS_SHOWN: usize = 6;

/// The history of one report behind a "Lịch sử chỉnh sửa" toggle: closed at first
/// in the editor (on 2G nothing is fetched until asked for), open on the review
/// page (`start_open`). `version` is the report's server version: when it moves
/// while open, the list is fetched again.
#[component]
pub fn RevisionHistory(
    report_id: String,
    #[prop(into)] form: Signal<Option<ReportForm>>,
    #[prop(into)] version: Signal<u64>,
    #[prop(optional)] start_open: bool,
) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let online = use_online().is_online;
    let open = RwSignal::new(start_open);
    let shown = RwSignal::new(None::<Shown>);
    let loading = RwSignal::new(false);
    // Asked for again while a fetch was running: fetch once more after it.
    let again = StoredValue::new(false);
    let message = RwSignal::new(None::<String>);
    let report_id = StoredValue::new(report_id);

    let load = move || {
        leptos::task::spawn_local(async move {
            if loading.try_get_untracked() != Some(false) {
                again.try_set_value(true);
                return;
            }
            loading.try_set(true);
            loop {
                again.try_set_value(false);
                let id = report_id.get_value();
                let session = state.session.try_get_untracked().flatten();
                let user_id = session.as_ref().map(|s| s.user.id).unwrap_or_default();
                let db = LocalDb::shared().await.ok();
                // What this phone kept, at once (2G answers take seconds).
                if shown.try_with_untracked(|s| s.is_none()) == Some(true) {
                    if let Some(db) = &db {
                        if let Ok(Some(c)) = db.get_cached::<RevisionsResponse>(&cache_key(&id), user_id).await {
                            shown.try_set(Some(Shown {
                                revisions: c.value.revisions,
                                fetched_at: c.fetched_at,
                                cached: true,
                            }));
                        }
                    }
                }
                let lang = lang.try_get_untracked().unwrap_or(Lang::Vi);
                let is_online = online.try_get_untracked().unwrap_or(false);
                let outcome = match (&session, is_online) {
                    (Some(s), true) => Some(api::report_revisions(&s.token, &id).await),
                    _ => None,
                };
                match outcome {
                    Some(Ok(answer)) => {
                        let now = Utc::now();
                        if let Some(db) = &db {
                            // Best effort: a full disk must not hide the answer.
                            let _ = db.put_cached(&cache_key(&id), user_id, &answer, now).await;
                        }
                        shown.try_set(Some(Shown { revisions: answer.revisions, fetched_at: now, cached: false }));
                        message.try_set(None);
                    }
                    Some(Err(ApiError::Server { status: 404, .. })) => {
                        shown.try_set(Some(Shown { revisions: Vec::new(), fetched_at: Utc::now(), cached: false }));
                        message.try_set(Some(
                            lang.pick(
                                "Báo cáo chưa lên máy chủ lần nào nên chưa có lịch sử.",
                                "The report has not reached the server yet, so it has no history.",
                            )
                            .to_string(),
                        ));
                    }
                    Some(Err(e)) => {
                        let kept = shown.try_with_untracked(|s| s.is_some()) == Some(true);
                        shown.try_update(|s| {
                            if let Some(s) = s {
                                s.cached = true;
                            }
                        });
                        message.try_set(Some(match e {
                            ApiError::Network => unreachable_text(kept, lang),
                            other => other.to_string(),
                        }));
                    }
                    None => {
                        let kept = shown.try_with_untracked(|s| s.is_some()).unwrap_or(false);
                        message.try_set(Some(unreachable_text(kept, lang)));
                    }
                }
                if !again.try_get_value().unwrap_or(false) {
                    break;
                }
            }
            loading.try_set(false);
        });
    };

    // Fetch on opening, again when the report's version moves or the connection
    // returns while open.
    Effect::new(move |_| {
        let is_open = open.get();
        let _ = version.get();
        let _ = online.get();
        if is_open {
            load();
        }
    });

    let entries = move || {
        let lang = lang.get();
        let form = form.get();
        shown.get().map(|s| {
            let mut list = s.revisions.clone();
            // Newest first: the last change is what a reviewer looks for.
            list.sort_by(|a, b| b.version.cmp(&a.version));
            let empty = list.is_empty();
            view! {
                {s.cached.then(|| view! {
                    <p class="muted history-stamp" data-testid="history-cached">
                        {format!("{} {}", lang.pick("Số liệu lúc", "Data from"), vn_date_time(s.fetched_at))}
                    </p>
                })}
                {empty.then(|| view! { <p class="muted"><T vi="Chưa có thay đổi nào." en="No changes yet."/></p> })}
                <ol class="history-list">
                    {list.into_iter().map(|r| view! { <RevisionEntry revision=r form=form.clone() lang=lang/> }).collect_view()}
                </ol>
            }
        })
    };

    view! {
        <section class="card history" data-testid="history">
            <button
                type="button"
                class="history-toggle"
                data-testid="history-toggle"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                <span><T vi="Lịch sử chỉnh sửa" en="Edit history"/></span>
                <span aria-hidden="true">{move || if open.get() { "▲" } else { "▼" }}</span>
            </button>
            <Show when=move || open.get()>
                {move || loading.get().then(|| view! {
                    <p class="muted" role="status"><T vi="Đang tải lịch sử…" en="Loading the history…"/></p>
                })}
                {move || message.get().map(|m| view! { <p class="banner banner-warn" data-testid="history-message">{m}</p> })}
                {entries}
            </Show>
        </section>
    }
}

#[component]
fn RevisionEntry(revision: Revision, form: Option<ReportForm>, lang: Lang) -> impl IntoView {
    let chip = match revision.op.as_str() {
        "accept" => "chip chip-ok",
        "return" => "chip chip-late",
        "submit" => "chip chip-soon",
        _ => "chip chip-neutral",
    };
    // The changed fields in form order, then any the form no longer has.
    let mut changes: Vec<(String, String)> = Vec::new();
    if let Some(f) = &form {
        for field in f.fields() {
            if let Some(v) = revision.changes.get(&field.id) {
                changes.push((lang.pick(field.label.clone(), field.label_en.clone()), v.clone()));
            }
        }
    }
    for (k, v) in &revision.changes {
        if form.as_ref().and_then(|f| f.field(k)).is_none() {
            changes.push((k.clone(), v.clone()));
        }
    }
    let rest = changes.split_off(changes.len().min(FIELDS_SHOWN));
    let more = rest.len();
    view! {
        <li class="revision" data-testid="revision" data-op=revision.op.clone() data-version=revision.version>
            <div class="revision-head">
                <span class=chip>{op_label(&revision.op, lang)}</span>
                <span class="revision-who">{revision.user.clone()}</span>
            </div>
            <p class="muted revision-when">{vn_date_time(revision.created_at)}</p>
            {revision.reason.clone().filter(|r| !r.is_empty()).map(|r| view! {
                <p class="revision-reason" data-testid="revision-reason">
                    <strong>{lang.pick("Lý do: ", "Reason: ")}</strong>{r}
                </p>
            })}
            {(!changes.is_empty()).then(|| view! {
                <dl class="revision-changes">{changes.into_iter().map(|c| change_row(c, lang)).collect_view()}</dl>
            })}
            {(more > 0).then(|| view! {
                <details class="revision-more">
                    <summary>{format!("{} {more} {}", lang.pick("Xem thêm", "Show"), lang.pick("mục", "more"))}</summary>
                    <dl class="revision-changes">{rest.into_iter().map(|c| change_row(c, lang)).collect_view()}</dl>
                </details>
            })}
        </li>
    }
}

fn change_row((label, value): (String, String), lang: Lang) -> impl IntoView {
    let value_view = if value.is_empty() {
        view! { <span class="muted">{lang.pick("(đã xóa)", "(cleared)")}</span> }.into_any()
    } else if value.chars().count() > FOLD_CHARS {
        let head: String = value.chars().take(FOLD_CHARS).collect();
        view! {
            <details class="fold">
                <summary>{format!("{head}…")}</summary>
                <p class="fold-full">{value}</p>
            </details>
        }
        .into_any()
    } else {
        view! { <span class="change-value">{value}</span> }.into_any()
    };
    view! {
        <dt>{label}</dt>
        <dd>{value_view}</dd>
    }
}
