use leptos::prelude::*;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;

use crate::components::{BottomNav, StatusBar};
use crate::hooks::use_online;
use crate::i18n::{provide_lang, T};
use crate::pages::{LoginPage, TasksPage};
use crate::screens::{not_found, LazyScreens};
use crate::state::{boot, refresh, AppState};
use crate::sync::{refresh_counts, request_sync, start_scheduler};

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    provide_lang();
    let is_online = use_online().is_online;

    leptos::task::spawn_local(async move {
        boot(state, is_online.get_untracked()).await;
        refresh_counts(state).await;
        // Sync starts once the session is known (the scheduler's first round).
        start_scheduler(state, is_online);
        // Ask the browser to keep our data under storage pressure; reports typed
        // offline may exist nowhere else.
        crate::web::request_persistent_storage().await;
    });

    // Coming back online is the moment to catch up with the server.
    Effect::new(move |was_online: Option<bool>| {
        let now_online = is_online.get();
        if now_online && was_online == Some(false) && state.booted.get_untracked() {
            leptos::task::spawn_local(refresh(state));
            request_sync(std::time::Duration::ZERO);
        }
        now_online
    });
    // Back to the app (phone unlocked, tab switched): sync what happened meanwhile.
    let visibility = window_event_listener(leptos::ev::visibilitychange, move |_| {
        if document().visibility_state() == web_sys::VisibilityState::Visible {
            request_sync(std::time::Duration::ZERO);
        }
    });
    on_cleanup(move || visibility.remove());

    // Once the first screen is up, the service worker fetches the modules of this
    // role's other screens in the background (src/screens.rs); again after a
    // sign-in, since the role decides which.
    Effect::new(move |_| {
        let role = state.session.with(|s| s.as_ref().map(|s| s.user.role));
        if state.booted.get() {
            leptos::task::spawn_local(async move {
                gloo_timers::future::TimeoutFuture::new(1_000).await;
                crate::screens::keep_offline(role).await;
            });
        }
    });

    let signed_in = move || state.session.with(|s| s.is_some());

    view! {
        <Router>
            <Show
                when=move || state.booted.get()
                fallback=|| view! { <p class="boot" role="status"><T vi="Đang mở dữ liệu trên máy…" en="Opening the data on this phone…"/></p> }
            >
                <Show when=signed_in fallback=move || view! { <SignedOut is_online=is_online/> }>
                    <StatusBar is_online=is_online/>
                    <FlatRoutes fallback=not_found>
                        <Route path=path!("/") view=TasksPage/>
                        // Every other screen, loaded on demand (src/screens.rs).
                        <Route path=path!("/*any") view=LazyScreens/>
                    </FlatRoutes>
                    <BottomNav/>
                </Show>
            </Show>
        </Router>
    }
}

/// Signed out: the enrolment page for a link from an enrolment sheet, the sign-in
/// form for everything else.
#[component]
fn SignedOut(is_online: Signal<bool>) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let enrolling = move || location.pathname.get().starts_with(danvan_core::account::ENROLMENT_PATH);
    move || {
        if enrolling() {
            view! { <LazyScreens/> }.into_any()
        } else {
            view! { <LoginPage is_online=is_online/> }.into_any()
        }
    }
}
