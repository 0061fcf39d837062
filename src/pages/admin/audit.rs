//! `/quan-tri/nhat-ky`: the audit log of account administration, newest first,
//! a page at a time ("Tải thêm"), and the whole log as CSV for the records.

use leptos::prelude::*;

use danvan_core::account::{audit_action_label, AuditEntry};

use super::{error_view, save_download, vn_time_seconds, AdminOnly, Ctx, OfflineBanner};
use crate::admin_api;
use crate::i18n::{Lang, T};

/// Lines per page: a screenful on a desktop, light enough for 2G.
const PAGE: u32 = 50;

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    view! { <AdminOnly><Audit/></AdminOnly> }
}

#[component]
fn Audit() -> impl IntoView {
    let ctx = Ctx::new();
    let lang = ctx.lang;
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let loaded = RwSignal::new(false);
    let loading = RwSignal::new(false);
    let more = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let csv_message = RwSignal::new(None::<(bool, String)>);

    let load = move |before: Option<i64>| {
        if !ctx.is_online_now() {
            error.set(Some(ctx.offline()));
            return;
        }
        let Some(token) = ctx.token_now() else { return };
        loading.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let result = admin_api::audit(&token, before, PAGE).await;
            loading.try_set(false);
            match result {
                Ok(r) => {
                    let n = r.entries.len() as u32;
                    entries.try_update(|e| {
                        if before.is_none() {
                            e.clear();
                        }
                        e.extend(r.entries);
                    });
                    more.try_set(n == PAGE);
                    loaded.try_set(true);
                }
                Err(e) => {
                    error.try_set(Some(ctx.failure(&e)));
                }
            }
        });
    };
    // First page as soon as there is a connection (now, or when it comes back).
    Effect::new(move |_| {
        if ctx.online.get() && !loaded.get_untracked() && !loading.get_untracked() {
            load(None);
        }
    });
    let load_more = move |_| {
        if let Some(last) = entries.with_untracked(|e| e.last().map(|e| e.id)) {
            load(Some(last));
        }
    };
    let csv = move |_| {
        csv_message.set(None);
        if !ctx.is_online_now() {
            csv_message.set(Some((false, ctx.offline())));
            return;
        }
        let Some(token) = ctx.token_now() else { return };
        leptos::task::spawn_local(async move {
            let message = match admin_api::download(&token, "audit.csv").await {
                Ok(d) => match save_download(d, "nhat-ky-quan-tri.csv") {
                    Ok(name) => (true, format!("{} {name}", ctx.pick("Đã tải về:", "Downloaded:"))),
                    Err(e) => (false, e),
                },
                Err(e) => (false, ctx.failure(&e)),
            };
            csv_message.try_set(Some(message));
        });
    };

    let table = move || {
        let l = lang.get();
        if !loaded.get() {
            return match (loading.get(), error.get()) {
                (true, _) => super::loading_view(l),
                (false, Some(_)) => ().into_any(),
                // Offline: the banner above says it.
                (false, None) if !ctx.online.get() => ().into_any(),
                (false, None) => super::loading_view(l),
            };
        }
        let list = entries.get();
        if list.is_empty() {
            return view! { <p class="card empty" data-testid="audit-empty">{l.pick("Nhật ký chưa có dòng nào.", "The log is empty.")}</p> }
                .into_any();
        }
        let rows = list.into_iter().map(|e| view! { <Row entry=e lang=l/> }).collect_view();
        view! {
            <table class="admin-table audit-table">
                <thead>
                    <tr>
                        <th scope="col">{l.pick("Thời điểm", "Time")}</th>
                        <th scope="col">{l.pick("Người thực hiện", "By")}</th>
                        <th scope="col">{l.pick("Thao tác", "Action")}</th>
                        <th scope="col">{l.pick("Đối tượng", "Target")}</th>
                        <th scope="col">{l.pick("Chi tiết", "Detail")}</th>
                        <th scope="col">{l.pick("Địa chỉ", "Address")}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };

    view! {
        <main class="page admin-page" data-testid="admin-audit-page">
            <a class="back-link" href="/quan-tri"><T vi="← Quản trị tài khoản" en="← Accounts"/></a>
            <h1><T vi="Nhật ký quản trị" en="Audit log"/></h1>
            <OfflineBanner online=ctx.online/>
            <p class="muted"><T
                vi="Mọi thao tác với tài khoản: ai làm, lúc nào (giờ Việt Nam), từ địa chỉ nào."
                en="Every change to accounts: who, when (Vietnam time), from which address."
            /></p>
            <div class="admin-buttons">
                <button type="button" class="btn btn-secondary" data-testid="audit-csv" on:click=csv>
                    <T vi="Tải CSV" en="Download CSV"/>
                </button>
            </div>
            {move || csv_message.get().map(|(ok, m)| view! {
                <p class=if ok { "muted" } else { "form-error" } role="status" data-testid="download-message">{m}</p>
            })}
            {move || error.get().map(error_view)}
            {table}
            {move || (loaded.get() && more.get()).then(|| view! {
                <button type="button" class="btn btn-secondary" data-testid="audit-more"
                    disabled=move || loading.get() on:click=load_more>
                    {move || if loading.get() { lang.get().pick("Đang tải…", "Loading…") } else { lang.get().pick("Tải thêm", "Load more") }}
                </button>
            })}
        </main>
    }
}

#[component]
fn Row(entry: AuditEntry, lang: Lang) -> impl IntoView {
    let dash = || "—".to_string();
    let label = match lang {
        Lang::Vi => audit_action_label(&entry.action).to_string(),
        Lang::En => entry.action.clone(),
    };
    view! {
        <tr data-testid="audit-row" data-action=entry.action.clone()>
            <td class="cell-time" data-label=lang.pick("Thời điểm", "Time")>{vn_time_seconds(entry.at)}</td>
            <td class="cell-actor" data-label=lang.pick("Người thực hiện", "By")>{entry.actor.clone()}</td>
            <td class="cell-action" data-label=lang.pick("Thao tác", "Action")><strong>{label}</strong></td>
            <td class="cell-target" data-label=lang.pick("Đối tượng", "Target")>{entry.target.clone().unwrap_or_else(dash)}</td>
            <td class="cell-detail" data-label=lang.pick("Chi tiết", "Detail")>{entry.detail.clone().unwrap_or_else(dash)}</td>
            <td class="cell-address" data-label=lang.pick("Địa chỉ", "Address")>{entry.address.clone().unwrap_or_else(dash)}</td>
        </tr>
    }
}
