use leptos::prelude::*;

use crate::state::{sign_out, AppState};

#[component]
pub fn AccountPage() -> impl IntoView {
    let state = expect_context::<AppState>();
    let sign_out = Action::new_local(move |_: &()| sign_out(state));
    view! {
        <main class="page">
            <h1>"Tài khoản"</h1>
            {move || state.session.get().map(|s| view! {
                <dl class="card facts">
                    <dt>"Họ và tên"</dt><dd>{s.user.display_name.clone()}</dd>
                    <dt>"Tên đăng nhập"</dt><dd>{s.user.username.clone()}</dd>
                    <dt>"Đơn vị"</dt><dd>{s.user.unit_name.clone()}</dd>
                    <dt>"Vai trò"</dt><dd>{s.user.role.label_vi()}</dd>
                </dl>
            })}
            <button class="btn btn-secondary" on:click=move |_| { sign_out.dispatch_local(()); }>
                "Đăng xuất"
            </button>
        </main>
    }
}
