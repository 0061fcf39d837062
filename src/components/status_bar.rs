use futures::FutureExt;
use leptos::prelude::*;

use danvan_core::time::format_vn_time_since;

use crate::i18n::{use_lang, T};
use crate::screens::ScreenLoadError;
use crate::split::in_module;
use crate::state::{refresh, AppState, RefreshStatus};
use crate::sync::request_sync;

/// The line at the top of every screen: are we online, and how fresh is what is
/// shown. Officials decide whether to trust a deadline from this line.
#[component]
pub fn StatusBar(is_online: Signal<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let fetched = move || state.fetched_at().map(|t| format_vn_time_since(t, chrono::Utc::now()));
    let detail = move || {
        let lang = lang.get();
        match state.refresh.get() {
            RefreshStatus::Refreshing => lang.pick("Đang cập nhật…", "Updating…").to_string(),
            RefreshStatus::Unreachable => match fetched() {
                Some(t) => {
                    format!("{} {t}", lang.pick("Mất kết nối máy chủ · dữ liệu lúc", "Server unreachable · data from"))
                }
                None => lang.pick("Mất kết nối máy chủ", "Server unreachable").to_string(),
            },
            RefreshStatus::Failed(m) | RefreshStatus::SessionExpired(m) => m,
            RefreshStatus::Idle | RefreshStatus::Done => match fetched() {
                Some(t) => format!("{} {t}", lang.pick("Cập nhật lúc", "Updated at")),
                None => lang.pick("Chưa có dữ liệu trên máy", "No data on this phone yet").to_string(),
            },
        }
    };
    let on_refresh = move |_| {
        leptos::task::spawn_local(refresh(state));
        request_sync(std::time::Duration::ZERO);
    };
    let sync = state.sync;
    // "N mục chưa gửi" is the number an official must see before closing the app
    // in a village: these exist on this phone only.
    let sync_line = move || {
        let lang = lang.get();
        let mut parts = Vec::new();
        if let Some((done, total)) = sync.progress.get() {
            parts.push(format!("{} {done}/{total}", lang.pick("Đang đồng bộ", "Syncing")));
        }
        let unsent = sync.unsent.get();
        if unsent > 0 {
            parts.push(format!("{unsent} {}", lang.pick("mục chưa gửi", "unsent")));
        } else if let Some(t) = sync.last_synced.get() {
            parts.push(format!(
                "{} {}",
                lang.pick("Đã đồng bộ", "Synced"),
                format_vn_time_since(t, chrono::Utc::now())
            ));
        }
        let conflicts = sync.conflicts.get();
        if conflicts > 0 {
            parts.push(format!("{conflicts} {}", lang.pick("xung đột cần xử lý", "conflicts to settle")));
        }
        parts.join(" · ")
    };
    view! {
        <div class="status-bar" data-online=move || is_online.get().to_string()>
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-text" data-testid="online-status">
                {move || match is_online.get() {
                    true => lang.get().pick("Trực tuyến", "Online"),
                    false => lang.get().pick("Ngoại tuyến", "Offline"),
                }}
            </span>
            <span class="status-detail" data-testid="refresh-status">{detail}</span>
            <button
                class="status-refresh"
                on:click=on_refresh
                disabled=move || !is_online.get() || state.refresh.get() == RefreshStatus::Refreshing
                aria-label="Làm mới dữ liệu"
                title="Làm mới"
            >
                <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none"
                    stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                    <path d="M21 12a9 9 0 1 1-2.64-6.36M21 3v6h-6"/>
                </svg>
            </button>
        </div>
        <div class="sync-line" data-testid="sync-status" data-unsent=move || sync.unsent.get().to_string()
            data-syncing=move || sync.progress.get().is_some().to_string()>
            <span data-testid="unsent-count">{sync_line}</span>
        </div>
        {move || sync.error.get().map(|m| view! { <div class="banner banner-error" role="alert" data-testid="sync-error">{m}</div> })}
        {move || state.storage_error.get().map(|m| view! { <div class="banner banner-error" role="alert">{m}</div> })}
        {move || match state.refresh.get() {
            RefreshStatus::SessionExpired(message) => Some(view! { <LazySignedOutNotice message/> }),
            _ => None,
        }}
    }
}

/// The signed-out notice is rare, so its code (with the backup file's) is part of
/// the account module (src/screens.rs). Until that module is here — or if it
/// cannot be fetched — the server's message shows on its own.
#[component]
fn LazySignedOutNotice(message: String) -> impl IntoView {
    let loaded = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        // This entry point's own loader: once it resolves, the call below
        // completes at once.
        if preload_signed_out_notice().await.is_ok() {
            loaded.try_set(true);
        }
    });
    move || {
        let full = loaded.get().then(|| signed_out_notice(message.clone()).now_or_never()).flatten();
        match full {
            Some(Ok(view)) => view,
            _ => view! {
                <div class="banner banner-warn signed-out" role="alert" data-testid="signed-out">
                    <p data-testid="signed-out-message">{message.clone()}</p>
                </div>
            }
            .into_any(),
        }
    }
}

in_module! {
    account, preload(preload_signed_out_notice);
    fn signed_out_notice(message: String) -> Result<AnyView, ScreenLoadError> {
        Ok(view! { <SignedOutNotice message/> }.into_any())
    }
}

/// The server no longer accepts this device: signed out by an administrator or
/// from another device, account disabled, or expired. Says why (the server's
/// message), reminds that unsent work is still on the phone, offers the backup
/// file at once and a way to sign in again — never drops anything by itself.
#[component]
fn SignedOutNotice(message: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let unsent = state.sync.unsent;
    let result = RwSignal::new(None::<Result<usize, String>>);
    let export = move |_| {
        leptos::task::spawn_local(async move {
            let r = crate::state::write_unsent_backup(state).await;
            result.try_set(Some(r));
        });
    };
    // Signing in again clears only this phone's session: the outbox stays, and the
    // same official signing in sends it (storage refuses another official).
    let sign_in_again = move |_| {
        leptos::task::spawn_local(crate::state::sign_out(state));
    };
    view! {
        <div class="banner banner-warn signed-out" role="alert" data-testid="signed-out">
            <p data-testid="signed-out-message">{message}</p>
            {move || {
                let n = unsent.get();
                (n > 0).then(|| view! {
                    <p data-testid="signed-out-unsent">
                        {move || lang.get().pick(
                            format!("{n} mục chưa gửi vẫn còn trên máy này. Hãy lưu tệp sao lưu trước khi làm gì khác."),
                            format!("{n} unsent items are still on this phone. Save a backup file first."),
                        )}
                    </p>
                })
            }}
            <div class="banner-actions">
                <button class="btn btn-primary" data-testid="signed-out-backup" on:click=export>
                    <T vi="Lưu tệp sao lưu" en="Save a backup file"/>
                </button>
                <button class="btn btn-secondary" data-testid="signed-out-sign-in" on:click=sign_in_again>
                    <T vi="Đăng nhập lại" en="Sign in again"/>
                </button>
            </div>
            {move || result.get().map(|r| match r {
                Ok(n) => view! {
                    <p class="form-hint ok" role="status" data-testid="signed-out-backup-done">
                        {format!("Đã lưu {n} báo cáo chưa gửi vào tệp sao lưu.")}
                    </p>
                }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
            })}
        </div>
    }
}
