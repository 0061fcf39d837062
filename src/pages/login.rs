use crate::i18n::{use_lang, LangSwitch, T};
use leptos::prelude::*;

use crate::state::{sign_in, AppState};
use crate::storage::Forgotten;

#[component]
pub fn LoginPage(is_online: Signal<bool>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let submit = Action::new_local(move |(u, p): &(String, String)| sign_in(state, u.clone(), p.clone()));
    let pending = submit.pending();
    let error = move || submit.value().get().and_then(|r| r.err());

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (u, p) = (username.get_untracked(), password.get_untracked());
        if u.trim().is_empty() || p.is_empty() {
            return;
        }
        submit.dispatch_local((u, p));
    };

    view! {
        <main class="page login-page">
            <header class="login-header">
                <div class="emblem" aria-hidden="true">"★"</div>
                <h1><T vi="Công tác dân vận" en="Mass mobilisation work"/></h1>
                <p class="muted">"Kế hoạch 413/KH-UBND · UBND tỉnh Kon Tum"</p>
            </header>
            {move || state.signed_out.get().map(|left| match left {
                Forgotten::All => view! {
                    <p class="banner banner-ok" role="status" data-testid="signed-out-cleared">
                        <T
                            vi="Đã đăng xuất. Báo cáo, ảnh và số liệu của tài khoản vừa rồi đã được xoá khỏi máy này."
                            en="Signed out. The reports, photos and figures of that account were removed from this phone."
                        />
                    </p>
                }.into_any(),
                Forgotten::KeptUnsent(n) => view! {
                    <p class="banner banner-warn" role="status" data-testid="signed-out-kept">
                        {move || lang.get().pick(
                            format!("Đã đăng xuất. {n} mục chưa gửi được giữ lại trên máy này: chỉ tài khoản vừa rồi đăng nhập lại mới gửi được."),
                            format!("Signed out. {n} unsent items stay on this phone: only that account, signing in again, can send them."),
                        )}
                    </p>
                }.into_any(),
            })}
            <form class="card form" on:submit=on_submit>
                <label for="username"><T vi="Tên đăng nhập" en="Username"/></label>
                <input
                    id="username"
                    name="username"
                    autocomplete="username"
                    autocapitalize="none"
                    required
                    prop:value=move || username.get()
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <label for="password"><T vi="Mật khẩu" en="Password"/></label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
                {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                {move || (!is_online.get()).then(|| view! {
                    <p class="form-hint"><T
                        vi="Máy đang ngoại tuyến. Lần đăng nhập đầu tiên cần có mạng; sau đó ứng dụng dùng được khi không có mạng."
                        en="This phone is offline. The first sign-in needs a connection; after that the app works without one."
                    /></p>
                })}
                <button class="btn btn-primary" type="submit" disabled=move || pending.get()>
                    {move || match pending.get() {
                        true => lang.get().pick("Đang đăng nhập…", "Signing in…"),
                        false => lang.get().pick("Đăng nhập", "Sign in"),
                    }}
                </button>
            </form>
            <p class="center">
                <a href="/kich-hoat" data-testid="enrol-link"><T vi="Có phiếu kích hoạt? Kích hoạt tài khoản" en="Have an activation sheet? Activate your account"/></a>
            </p>
            <p class="center"><LangSwitch/></p>
        </main>
    }
}
