use crate::i18n::{use_lang, LangSwitch, T};
use leptos::prelude::*;

use crate::state::{sign_out, AppState};

#[component]
pub fn AccountPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let lang = use_lang();
    let sign_out = Action::new_local(move |_: &()| sign_out(state));
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
            <button class="btn btn-secondary" on:click=move |_| { sign_out.dispatch_local(()); }>
                <T vi="Đăng xuất" en="Sign out"/>
            </button>
            <p class="center"><LangSwitch/></p>
        </main>
    }
}
