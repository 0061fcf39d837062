use chrono::Utc;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::i18n::{use_lang, LangSwitch, T};
use crate::state::{sign_out, write_unsent_backup, AppState};
use crate::storage::{Backup, LocalDb};
use crate::sync::{refresh_counts, request_sync};
use crate::web;

#[component]
pub fn AccountPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let sign_out = Action::new_local(move |_: &()| sign_out(state));
    let backup_message = RwSignal::new(None::<(bool, String)>);
    let persisted = LocalResource::new(web::request_persistent_storage);

    let export = move |_| {
        leptos::task::spawn_local(async move {
            let result = write_unsent_backup(state).await;
            backup_message.try_set(Some(match result {
                Ok(n) => (true, format!("Đã xuất {n} báo cáo chưa gửi ra tệp sao lưu.")),
                Err(e) => (false, e),
            }));
        });
    };
    let import = move |ev: leptos::ev::Event| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
        input.set_value("");
        leptos::task::spawn_local(async move {
            let result = async {
                let bytes = web::blob_bytes(file.as_ref()).await?;
                let text = String::from_utf8(bytes).map_err(|_| "Tệp không phải văn bản UTF-8".to_string())?;
                let backup: Backup =
                    serde_json::from_str(&text).map_err(|_| "Tệp không phải tệp sao lưu của ứng dụng".to_string())?;
                if backup.format != crate::storage::BACKUP_FORMAT {
                    return Err("Tệp không phải tệp sao lưu của ứng dụng".to_string());
                }
                let db = LocalDb::shared().await.map_err(|e| e.to_string())?;
                db.import_backup(&backup, Utc::now()).await.map_err(|e| e.to_string())
            }
            .await;
            backup_message.try_set(Some(match result {
                Ok(n) => (true, format!("Đã nhập lại {n} báo cáo từ tệp sao lưu; sẽ gửi khi có mạng.")),
                Err(e) => (false, e),
            }));
            refresh_counts(state).await;
            request_sync(std::time::Duration::ZERO);
            state.sync.generation.try_update(|g| *g = g.wrapping_add(1));
        });
    };

    view! {
        <main class="page">
            <h1><T vi="Tài khoản" en="Account"/></h1>
            {move || state.session.get().map(|s| view! {
                <dl class="card facts">
                    <dt><T vi="Họ và tên" en="Name"/></dt><dd>{s.user.display_name.clone()}</dd>
                    <dt><T vi="Tên đăng nhập" en="Username"/></dt><dd>{s.user.username.clone()}</dd>
                    <dt><T vi="Đơn vị" en="Unit"/></dt><dd>{s.user.unit_name.clone()}</dd>
                    <dt><T vi="Vai trò" en="Role"/></dt><dd>{move || lang.get().pick(s.user.role.label_vi(), s.user.role.label_en())}</dd>
                </dl>
            })}

            <section class="card">
                <h2><T vi="Dữ liệu trên máy" en="Data on this phone"/></h2>
                <p data-testid="storage-persisted">
                    {move || match persisted.get() {
                        Some(true) => lang.get().pick(
                            "Trình duyệt đã cam kết giữ dữ liệu của ứng dụng.",
                            "The browser keeps this app's data persistently.",
                        ),
                        Some(false) => lang.get().pick(
                            "Trình duyệt có thể xóa dữ liệu khi máy thiếu bộ nhớ. Hãy cài ứng dụng lên màn hình chính và gửi báo cáo sớm.",
                            "The browser may clear data when storage is low. Install the app and send reports early.",
                        ),
                        None => "",
                    }}
                </p>
                {web::eviction_risk().then(|| view! {
                    <p class="banner banner-warn" role="alert">
                        <T
                            vi="Safari có thể xóa dữ liệu của trang web sau 7 ngày không mở. Hãy thêm ứng dụng vào Màn hình chính."
                            en="Safari may erase a website's data after 7 days without a visit. Add the app to the Home Screen."
                        />
                    </p>
                })}
                <p>
                    {move || {
                        let n = state.sync.unsent.get();
                        if n > 0 {
                            lang.get().pick(format!("{n} mục chỉ có trên máy này, chưa gửi."), format!("{n} items exist only on this phone."))
                        } else {
                            lang.get().pick("Mọi thay đổi đã được gửi lên máy chủ.".to_string(), "Everything has been sent.".to_string())
                        }
                    }}
                </p>
                <button class="btn btn-secondary" data-testid="backup-export" on:click=export>
                    <T vi="Xuất tệp sao lưu phần chưa gửi" en="Export unsent work to a file"/>
                </button>
                <label class="btn btn-secondary file-button">
                    <input type="file" accept="application/json,.json" data-testid="backup-import" on:change=import/>
                    <T vi="Nhập lại từ tệp sao lưu" en="Import a backup file"/>
                </label>
                {move || backup_message.get().map(|(ok, m)| view! {
                    <p class=if ok { "form-hint ok" } else { "form-error" } data-testid="backup-message" role="status">{m}</p>
                })}
            </section>

            <MyDevices/>
            <ChangePassword/>

            {move || (state.sync.unsent.get() > 0).then(|| view! {
                <p class="banner banner-warn" data-testid="signout-warning">
                    <T
                        vi="Còn mục chưa gửi: sau khi đăng xuất, chỉ bạn đăng nhập lại trên máy này mới gửi được."
                        en="Unsent items remain: after signing out only you, signing in again on this phone, can send them."
                    />
                </p>
            })}
            <button class="btn btn-secondary" data-testid="sign-out" on:click=move |_| { sign_out.dispatch_local(()); }>
                <T vi="Đăng xuất" en="Sign out"/>
            </button>
            <p class="center"><LangSwitch/></p>
        </main>
    }
}

fn token(state: &AppState) -> Option<String> {
    state.session.try_get_untracked().flatten().map(|s| s.token)
}

/// The official's own signed-in browsers: a lost phone can be signed out from the
/// office computer, and the other way round. Online only.
#[component]
fn MyDevices() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let reload = RwSignal::new(0u32);
    let devices = LocalResource::new(move || {
        reload.track();
        async move {
            let t = token(&state).ok_or_else(|| "Chưa đăng nhập.".to_string())?;
            crate::api::my_devices(&t).await.map_err(|e| e.to_string())
        }
    });
    let confirming = RwSignal::new(None::<i64>);
    let message = RwSignal::new(None::<(bool, String)>);
    let end = move |id: i64| {
        leptos::task::spawn_local(async move {
            let Some(t) = token(&state) else { return };
            let r = crate::api::end_my_device(&t, id).await;
            confirming.try_set(None);
            message.try_set(Some(match r {
                Ok(()) => (true, "Đã đăng xuất thiết bị đó.".to_string()),
                Err(e) => (false, e.to_string()),
            }));
            reload.try_update(|n| *n += 1);
        });
    };
    let end_others = move |_| {
        leptos::task::spawn_local(async move {
            let Some(t) = token(&state) else { return };
            let r = crate::api::sign_out_elsewhere(&t).await;
            message.try_set(Some(match r {
                Ok(n) => (true, format!("Đã đăng xuất {n} thiết bị khác.")),
                Err(e) => (false, e.to_string()),
            }));
            reload.try_update(|n| *n += 1);
        });
    };
    let when = |t: chrono::DateTime<Utc>| danvan_core::time::format_vn_datetime(t);
    view! {
        <section class="card" data-testid="my-devices">
            <h2><T vi="Thiết bị đang đăng nhập" en="Signed-in devices"/></h2>
            <Suspense fallback=move || view! { <p class="muted"><T vi="Đang tải…" en="Loading…"/></p> }>
                {move || devices.get().map(|r| match r {
                    Err(e) => view! { <p class="muted">{format!("Cần có mạng để xem thiết bị ({e})")}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="device-list">
                            {list.devices.into_iter().filter(|d| d.ended_at.is_none()).map(|d| {
                                let id = d.id;
                                view! {
                                    <li data-testid="my-device">
                                        <strong>{d.name.clone()}</strong>
                                        {d.current.then(|| view! { " " <span class="chip"><T vi="máy này" en="this device"/></span> })}
                                        <br/>
                                        <small class="muted">
                                            {format!("Đăng nhập {} · dùng lần cuối {}", when(d.first_seen_at), when(d.last_seen_at))}
                                            {d.last_sync_at.map(|t| format!(" · đồng bộ {}", when(t)))}
                                        </small>
                                        {(!d.current).then(|| view! {
                                            <div>
                                                {move || if confirming.get() == Some(id) {
                                                    view! {
                                                        <button class="btn btn-secondary" on:click=move |_| end(id)>
                                                            <T vi="Xác nhận đăng xuất" en="Confirm sign-out"/>
                                                        </button>
                                                    }.into_any()
                                                } else {
                                                    view! {
                                                        <button class="btn btn-secondary" on:click=move |_| confirming.set(Some(id))>
                                                            <T vi="Đăng xuất thiết bị này" en="Sign this device out"/>
                                                        </button>
                                                    }.into_any()
                                                }}
                                            </div>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Suspense>
            <button class="btn btn-secondary" on:click=end_others>
                <T vi="Đăng xuất mọi thiết bị khác" en="Sign out every other device"/>
            </button>
            {move || message.get().map(|(ok, m)| view! {
                <p class=if ok { "form-hint ok" } else { "form-error" } role="status">{m}</p>
            })}
            {move || { let _ = lang.get(); }}
        </section>
    }
}

/// A new password under the same policy as enrolment (other devices are signed out).
#[component]
fn ChangePassword() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let username = move || state.session.with(|s| s.as_ref().map(|s| s.user.username.clone())).unwrap_or_default();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (c, n) = (current.get_untracked(), new.get_untracked());
        if let Err(e) = danvan_core::account::check_password_shape(&username(), &n) {
            message.set(Some((false, e.to_string())));
            return;
        }
        leptos::task::spawn_local(async move {
            let Some(t) = token(&state) else { return };
            let r = crate::api::change_password(&t, &c, &n).await;
            if r.is_ok() {
                current.try_set(String::new());
                new.try_set(String::new());
            }
            message.try_set(Some(match r {
                Ok(()) => (true, "Đã đổi mật khẩu; các thiết bị khác đã được đăng xuất.".to_string()),
                Err(e) => (false, e.to_string()),
            }));
        });
    };
    view! {
        <details class="card">
            <summary><T vi="Đổi mật khẩu" en="Change password"/></summary>
            <form class="form" on:submit=submit>
                <label for="current-password"><T vi="Mật khẩu hiện tại" en="Current password"/></label>
                <input id="current-password" type="password" autocomplete="current-password"
                    prop:value=move || current.get() on:input=move |ev| current.set(event_target_value(&ev))/>
                <label for="changed-password"><T vi="Mật khẩu mới (ít nhất 8 ký tự)" en="New password (at least 8 characters)"/></label>
                <input id="changed-password" type="password" autocomplete="new-password"
                    prop:value=move || new.get() on:input=move |ev| new.set(event_target_value(&ev))/>
                <button class="btn btn-primary" type="submit">{move || lang.get().pick("Đổi mật khẩu", "Change password")}</button>
                {move || message.get().map(|(ok, m)| view! {
                    <p class=if ok { "form-hint ok" } else { "form-error" } role="status">{m}</p>
                })}
            </form>
        </details>
    }
}
