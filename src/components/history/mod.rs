//! "Lịch sử chỉnh sửa": who changed a report, when, and what — from the server's
//! revisions, kept in the `meta` store (`cache:revisions:<report id>`) so the last
//! answer still shows offline, dated.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use danvan_core::ReportForm;

use crate::api::{self, ApiError, Revision};
use crate::hooks::{use_cached_query_with_options, Query, UseCachedQueryOptions};
use crate::i18n::{use_lang, Lang, T};
use crate::state::AppState;

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
    let open = RwSignal::new(start_open);
    let report_id = StoredValue::new(report_id);
    // Fetched on opening, again when the report's version moves or the
    // connection returns while open.
    let query = Memo::new(move |_| {
        let (user_id, token) = state.session.with(|s| s.as_ref().map(|s| (s.user.id, s.token.clone())))?;
        let id = report_id.get_value();
        Some(Query { cache_key: cache_key(&id), user_id, token, args: (id, version.get()) })
    });
    let history = use_cached_query_with_options(
        query,
        |q: Query<(String, u64)>| async move { api::report_revisions(&q.token, &q.args.0, None).await },
        UseCachedQueryOptions { enabled: open.into(), ..Default::default() },
    );
    let shown = Memo::new(move |_| history.loaded.with(|l| l.shown().cloned()));
    // Older pages, fetched one at a time on request (online only) and forgotten
    // when the newest page changes: a long-edited report opens on 2G with its
    // last changes, the rest behind "Xem thay đổi cũ hơn".
    let older = RwSignal::new(Vec::<Revision>::new());
    let earlier = RwSignal::new(None::<u64>);
    let older_error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let next = shown.with(|s| s.as_ref().and_then(|s| s.value.earlier));
        older.set(Vec::new());
        earlier.set(next);
        older_error.set(None);
    });
    let load_older = Action::new_local(move |before: &u64| {
        let before = *before;
        async move {
            let token = state.session.try_with_untracked(|s| s.as_ref().map(|s| s.token.clone())).flatten();
            let Some(token) = token else { return };
            match api::report_revisions(&token, &report_id.get_value(), Some(before)).await {
                Ok(page) => {
                    older.try_update(|o| {
                        let mut page = page.revisions;
                        page.append(o);
                        *o = page;
                    });
                    earlier.try_set(page.earlier);
                    older_error.try_set(None);
                }
                Err(e) => {
                    older_error.try_set(Some(match e {
                        ApiError::Network => lang
                            .get_untracked()
                            .pick("Cần kết nối mạng để xem các thay đổi cũ hơn.", "Connect to see older changes.")
                            .to_string(),
                        other => other.to_string(),
                    }));
                }
            }
        }
    });
    let message = move || {
        let lang = lang.get();
        let kept = shown.with(|s| s.is_some());
        Some(match history.error.get()? {
            ApiError::Server { status: 404, .. } => lang
                .pick(
                    "Báo cáo chưa lên máy chủ lần nào nên chưa có lịch sử.",
                    "The report has not reached the server yet, so it has no history.",
                )
                .to_string(),
            ApiError::Network => unreachable_text(kept, lang),
            other => other.to_string(),
        })
    };
    let loading = move || history.loading.get() && shown.with(|s| s.is_none());

    let entries = move || {
        let lang = lang.get();
        let form = form.get();
        shown.get().map(|s| {
            let mut list = older.get();
            list.extend(s.value.revisions.iter().cloned());
            // Newest first: the last change is what a reviewer looks for.
            list.sort_by(|a, b| b.version.cmp(&a.version));
            let empty = list.is_empty();
            view! {
                {s.source.is_kept().then(|| view! {
                    <p class="muted history-stamp" data-testid="history-cached">
                        {format!("{} {}", lang.pick("Số liệu lúc", "Data from"), vn_date_time(s.fetched_at))}
                    </p>
                })}
                {empty.then(|| view! { <p class="muted"><T vi="Chưa có thay đổi nào." en="No changes yet."/></p> })}
                <ol class="history-list">
                    {list.into_iter().map(|r| view! { <RevisionEntry revision=r form=form.clone() lang=lang/> }).collect_view()}
                </ol>
                {move || earlier.get().map(|before| view! {
                    <button
                        type="button"
                        class="btn btn-secondary"
                        data-testid="history-older"
                        disabled=move || load_older.pending().get()
                        on:click=move |_| { load_older.dispatch_local(before); }
                    >
                        {move || if load_older.pending().get() {
                            lang.pick("Đang tải…", "Loading…")
                        } else {
                            lang.pick("Xem thay đổi cũ hơn", "Show older changes")
                        }}
                    </button>
                })}
                {move || older_error.get().map(|e| view! { <p class="banner banner-warn" data-testid="history-older-error">{e}</p> })}
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
                {move || loading().then(|| view! {
                    <p class="muted" role="status"><T vi="Đang tải lịch sử…" en="Loading the history…"/></p>
                })}
                {move || message().map(|m| view! { <p class="banner banner-warn" data-testid="history-message">{m}</p> })}
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
