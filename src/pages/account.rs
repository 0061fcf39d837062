use chrono::{Datelike, Utc};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::i18n::{use_lang, LangSwitch, T};
use crate::state::{sign_out, AppState};
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
            let Some(Some(session)) = state.session.try_get_untracked() else { return };
            let result = async {
                let db = LocalDb::shared().await.map_err(|e| e.to_string())?;
                let backup = db.export_unsent(session.user.id, Utc::now()).await.map_err(|e| e.to_string())?;
                let json = serde_json::to_string(&backup).map_err(|e| e.to_string())?;
                let d = danvan_core::time::vn_date(Utc::now());
                let stamp = format!("{:04}{:02}{:02}", d.year(), d.month(), d.day());
                web::download_text(&format!("danvan-sao-luu-{stamp}.json"), "application/json", &json)?;
                Ok::<_, String>(backup.reports.len())
            }
            .await;
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

            {move || (state.sync.unsent.get() > 0).then(|| view! {
                <p class="banner banner-warn" data-testid="signout-warning">
                    <T
                        vi="Còn mục chưa gửi: sau khi đăng xuất, chỉ bạn đăng nhập lại trên máy này mới gửi được."
                        en="Unsent items remain: after signing out only you, signing in again on this phone, can send them."
                    />
                </p>
            })}
            <button class="btn btn-secondary" on:click=move |_| { sign_out.dispatch_local(()); }>
                <T vi="Đăng xuất" en="Sign out"/>
            </button>
            <p class="center"><LangSwitch/></p>
        </main>
    }
}
