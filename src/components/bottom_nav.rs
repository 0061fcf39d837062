use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::T;

/// Navigation at the bottom of the screen, where a thumb reaches on a phone held in
/// one hand. Icons are inline SVG: cheap phones often lack emoji fonts.
#[component]
pub fn BottomNav() -> impl IntoView {
    view! {
        <nav class="bottom-nav" aria-label="Điều hướng chính">
            <A href="/" exact=true>
                <Icon path="M9 11l3 3 8-8M20 12v7a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h9"/>
                <span><T vi="Nhiệm vụ" en="Tasks"/></span>
            </A>
            <A href="/bao-cao">
                <Icon path="M12 20h9M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"/>
                <span><T vi="Báo cáo" en="Reports"/></span>
            </A>
            <A href="/ke-hoach">
                <Icon path="M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9zM14 3v6h6M8 13h8M8 17h8"/>
                <span><T vi="Kế hoạch" en="Plan"/></span>
            </A>
            <A href="/tai-khoan">
                <Icon path="M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z"/>
                <span><T vi="Tài khoản" en="Account"/></span>
            </A>
        </nav>
    }
}

#[component]
fn Icon(path: &'static str) -> impl IntoView {
    view! {
        <svg class="nav-icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true"
            fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d=path/>
        </svg>
    }
}
