use leptos::prelude::*;
use leptos_router::components::A;

/// Navigation at the bottom of the screen, where a thumb reaches on a phone held in
/// one hand.
#[component]
pub fn BottomNav() -> impl IntoView {
    view! {
        <nav class="bottom-nav" aria-label="Điều hướng chính">
            <A href="/" exact=true>
                <span class="nav-icon" aria-hidden="true">"☑"</span>
                <span>"Nhiệm vụ"</span>
            </A>
            <A href="/ke-hoach">
                <span class="nav-icon" aria-hidden="true">"📄"</span>
                <span>"Kế hoạch"</span>
            </A>
            <A href="/tai-khoan">
                <span class="nav-icon" aria-hidden="true">"👤"</span>
                <span>"Tài khoản"</span>
            </A>
        </nav>
    }
}
