//! `/kich-hoat#ma=CODE`: an official opens the link (or scans the QR code) of the
//! enrolment sheet the administrator printed, sees whose account it opens, chooses
//! a password and is signed in — no password ever typed by the administrator.

use danvan_core::account::{
    check_password_shape, code_from_fragment, format_enrolment_code, normalize_enrolment_code, EnrolmentInfo,
    MIN_PASSWORD_LEN,
};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::i18n::{use_lang, T};
use crate::state::{start_session, AppState};

#[component]
pub fn EnrolPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let navigate = use_navigate();
    // The code arrives in the fragment; take it out of the address bar and history
    // at once so it does not linger on a shared phone.
    let from_link = window().location().hash().ok().and_then(|h| code_from_fragment(&h));
    if from_link.is_some() {
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/kich-hoat"));
        }
    }
    let typed = RwSignal::new(from_link.as_deref().map(format_enrolment_code).unwrap_or_default());
    let code = Memo::new(move |_| normalize_enrolment_code(&typed.get()));
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());

    let lookup = Action::new_local(move |code: &String| {
        let code = code.clone();
        async move { api::enrolment_info(&code).await.map_err(|e| e.to_string()) }
    });
    if let Some(c) = from_link {
        lookup.dispatch_local(c);
    }
    let info = move || lookup.value().get().and_then(|r| r.ok());
    let lookup_error = move || lookup.value().get().and_then(|r| r.err());

    let enrol = Action::new_local(move |(code, password): &(String, String)| {
        let (code, password) = (code.clone(), password.clone());
        let navigate = navigate.clone();
        async move {
            let response = api::enrol(&code, &password).await.map_err(|e| e.to_string())?;
            // Leave this page before the session appears: the signed-in app then
            // opens on the tasks, not on an enrolment form for someone else.
            navigate("/", Default::default());
            start_session(state, response).await
        }
    });

    let username = move || info().map(|i| i.username).unwrap_or_default();
    let shape = move || check_password_shape(&username(), &password.get());
    let matches = move || !confirm.get().is_empty() && confirm.get() == password.get();
    let can_submit = move || info().is_some() && shape().is_ok() && matches() && !enrol.pending().get();

    let on_lookup = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let Some(c) = code.get_untracked() {
            lookup.dispatch_local(c);
        }
    };
    let on_enrol = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let (Some(c), true) = (code.get_untracked(), can_submit()) {
            enrol.dispatch_local((c, password.get_untracked()));
        }
    };

    view! {
        <main class="page login-page">
            <header class="login-header">
                <div class="emblem" aria-hidden="true">"★"</div>
                <h1><T vi="Kích hoạt tài khoản" en="Activate your account"/></h1>
                <p class="muted"><T
                    vi="Nhập mã trên phiếu kích hoạt quản trị viên đã phát, rồi đặt mật khẩu của riêng bạn."
                    en="Enter the code from the sheet your administrator gave you, then choose your own password."
                /></p>
            </header>
            {move || state.session.get().map(|s| view! {
                <p class="banner banner-warn" role="alert">
                    {format!("Máy này đang đăng nhập với tài khoản {}. Kích hoạt tài khoản khác sẽ đăng nhập bằng tài khoản đó.", s.user.username)}
                </p>
            })}
            <form class="card form" on:submit=on_lookup>
                <label for="enrol-code"><T vi="Mã kích hoạt" en="Activation code"/></label>
                <input
                    id="enrol-code"
                    data-testid="enrol-code"
                    autocomplete="one-time-code"
                    autocapitalize="characters"
                    placeholder="XXXX-XXXX-XXXX"
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                />
                {move || (info().is_none()).then(|| view! {
                    <button class="btn btn-secondary" type="submit" disabled=move || code.get().is_none() || lookup.pending().get()>
                        <T vi="Kiểm tra mã" en="Check the code"/>
                    </button>
                })}
                {move || lookup_error().map(|e| view! { <p class="form-error" role="alert" data-testid="enrol-error">{e}</p> })}
            </form>
            {move || info().map(|i: EnrolmentInfo| view! {
                <form class="card form" on:submit=on_enrol>
                    <dl class="facts" data-testid="enrol-account">
                        <dt><T vi="Họ và tên" en="Name"/></dt><dd>{i.display_name.clone()}</dd>
                        <dt><T vi="Tên đăng nhập" en="Username"/></dt><dd data-testid="enrol-username">{i.username.clone()}</dd>
                        <dt><T vi="Đơn vị" en="Unit"/></dt><dd>{i.unit_name.clone()}</dd>
                    </dl>
                    <label for="new-password"><T vi="Mật khẩu mới" en="New password"/></label>
                    <input id="new-password" data-testid="enrol-password" type="password" autocomplete="new-password"
                        prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
                    <label for="confirm-password"><T vi="Nhập lại mật khẩu" en="Repeat the password"/></label>
                    <input id="confirm-password" data-testid="enrol-confirm" type="password" autocomplete="new-password"
                        prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev))/>
                    <ul class="password-rules">
                        <li class={move || if password.get().chars().count() >= MIN_PASSWORD_LEN { "ok" } else { "" }}>
                            <T vi="Ít nhất 8 ký tự (có thể là một câu ngắn, có dấu)" en="At least 8 characters (a short phrase is fine)"/>
                        </li>
                        <li><T vi="Không chứa tên đăng nhập, không dùng mật khẩu phổ biến" en="Not containing the username, not a common password"/></li>
                        <li class={move || if matches() { "ok" } else { "" }}><T vi="Hai lần nhập giống nhau" en="Both entries match"/></li>
                    </ul>
                    {move || {
                        let p = password.get();
                        (!p.is_empty()).then(|| shape().err()).flatten().map(|e| view! {
                            <p class="form-hint">{move || lang.get().pick(e.to_string(), e.message_en().to_string())}</p>
                        })
                    }}
                    {move || enrol.value().get().and_then(|r| r.err()).map(|e| view! {
                        <p class="form-error" role="alert" data-testid="enrol-error">{e}</p>
                    })}
                    <button class="btn btn-primary" type="submit" data-testid="enrol-submit" disabled=move || !can_submit()>
                        {move || match enrol.pending().get() {
                            true => lang.get().pick("Đang kích hoạt…", "Activating…"),
                            false => lang.get().pick("Đặt mật khẩu và đăng nhập", "Set the password and sign in"),
                        }}
                    </button>
                </form>
            })}
            <p class="center"><a href="/"><T vi="Đã có mật khẩu? Đăng nhập" en="Have a password? Sign in"/></a></p>
        </main>
    }
}
