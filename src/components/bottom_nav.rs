use leptos::prelude::*;
use leptos_router::components::A;

use danvan_core::api::Role;

use crate::i18n::T;
use crate::state::AppState;

/// Navigation at the bottom of the screen, where a thumb reaches on a phone held in
/// one hand. Icons are inline SVG: cheap phones often lack emoji fonts.
///
/// The tabs follow the official's role: a commune files reports; a district
/// reviewer also reviews and watches its communes; Sở Nội vụ does both for the
/// province and, being a department itself, also files its own reports; the
/// administrator files nothing but manages the accounts ("Quản trị"). At most
/// five tabs, so each stays wide enough for a thumb on a 360-px screen.
#[component]
pub fn BottomNav() -> impl IntoView {
    let state = expect_context::<AppState>();
    let role = Memo::new(move |_| state.session.with(|s| s.as_ref().map(|s| s.user.role)));
    let tabs = move || {
        let tabs: &[Tab] = match role.get() {
            Some(Role::Reviewer | Role::Aggregator) => {
                &[Tab::Tasks, Tab::Reports, Tab::Review, Tab::Overview, Tab::Account]
            }
            Some(Role::Admin) => &[Tab::Tasks, Tab::Overview, Tab::Plan, Tab::Admin, Tab::Account],
            Some(Role::Reporter) | None => &[Tab::Tasks, Tab::Reports, Tab::Plan, Tab::Account],
        };
        tabs.iter().map(|t| t.view()).collect_view()
    };
    view! {
        <nav class="bottom-nav" aria-label="Điều hướng chính" data-tabs=move || role.get().map_or(4, tab_count)>
            {tabs}
        </nav>
    }
}

fn tab_count(role: Role) -> usize {
    match role {
        Role::Reviewer | Role::Aggregator | Role::Admin => 5,
        _ => 4,
    }
}

#[derive(Clone, Copy)]
enum Tab {
    Tasks,
    Reports,
    Review,
    Overview,
    Plan,
    Admin,
    Account,
}

impl Tab {
    fn view(self) -> AnyView {
        match self {
            Tab::Tasks => view! {
                <A href="/" exact=true>
                    <Icon path="M9 11l3 3 8-8M20 12v7a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h9"/>
                    <span><T vi="Nhiệm vụ" en="Tasks"/></span>
                </A>
            }
            .into_any(),
            Tab::Reports => view! {
                <A href="/bao-cao">
                    <Icon path="M12 20h9M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"/>
                    <span><T vi="Báo cáo" en="Reports"/></span>
                </A>
            }
            .into_any(),
            Tab::Review => view! {
                <A href="/duyet">
                    <Icon path="M9 5H7a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V7a2 2 0 0 0-2-2h-2M9 5a2 2 0 0 0 2 2h2a2 2 0 0 0 2-2M9 5a2 2 0 0 1 2-2h2a2 2 0 0 1 2 2M9 14l2 2 4-4"/>
                    <span><T vi="Duyệt" en="Review"/></span>
                </A>
            }
            .into_any(),
            Tab::Overview => view! {
                <A href="/tong-quan">
                    <Icon path="M3 3v18h18M8 17v-6M13 17V7M18 17v-4"/>
                    <span><T vi="Tổng quan" en="Overview"/></span>
                </A>
            }
            .into_any(),
            Tab::Plan => view! {
                <A href="/ke-hoach">
                    <Icon path="M14 3H6a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V9zM14 3v6h6M8 13h8M8 17h8"/>
                    <span><T vi="Kế hoạch" en="Plan"/></span>
                </A>
            }
            .into_any(),
            Tab::Admin => view! {
                <A href="/quan-tri" attr:data-testid="nav-admin">
                    <Icon path="M12 2l8 3v6c0 5-3.4 9.4-8 11-4.6-1.6-8-6-8-11V5zM9 12l2 2 4-4"/>
                    <span><T vi="Quản trị" en="Admin"/></span>
                </A>
            }
            .into_any(),
            Tab::Account => view! {
                <A href="/tai-khoan">
                    <Icon path="M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z"/>
                    <span><T vi="Tài khoản" en="Account"/></span>
                </A>
            }
            .into_any(),
        }
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
