use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::{BottomNav, StatusBar};
use crate::hooks::use_online;
use crate::i18n::{provide_lang, T};
use crate::pages::{AccountPage, LoginPage, PlanItemPage, PlanPage, ReportPage, ReportsPage, TasksPage};
use crate::pages::{ConsolidationPage, DashboardPage, EnrolPage};
use crate::pages::{ObligationsPage, ReviewPage, ReviewReportPage};
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

    let signed_in = move || state.session.with(|s| s.is_some());

    view! {
        <Router>
            <Show
                when=move || state.booted.get()
                fallback=|| view! { <p class="boot" role="status"><T vi="Đang mở dữ liệu trên máy…" en="Opening the data on this phone…"/></p> }
            >
                <Show when=signed_in fallback=move || view! { <SignedOut is_online=is_online/> }>
                    <StatusBar is_online=is_online/>
                    <Routes fallback=|| view! { <main class="page"><p class="card empty"><T vi="Không tìm thấy trang." en="Page not found."/></p></main> }>
                        <Route path=path!("/") view=TasksPage/>
                        <Route path=path!("/kich-hoat") view=EnrolPage/>
                        <Route path=path!("/ke-hoach") view=PlanPage/>
                        <Route path=path!("/ke-hoach/:item") view=PlanItemPage/>
                        <Route path=path!("/bao-cao") view=ReportsPage/>
                        <Route path=path!("/bao-cao/:period") view=ReportPage/>
                        <Route path=path!("/tai-khoan") view=AccountPage/>
                        <Route path=path!("/duyet") view=ReviewPage/>
                        <Route path=path!("/duyet/:report_id") view=ReviewReportPage/>
                        <Route path=path!("/ke-hoach-don-vi") view=ObligationsPage/>
                        <Route path=path!("/tong-quan") view=DashboardPage/>
                        <Route path=path!("/tong-quan/:unit") view=DashboardPage/>
                        <Route path=path!("/tong-hop/:unit/:period") view=ConsolidationPage/>
                        <Route path=path!("/quan-tri") view=crate::pages::AdminAccountsPage/>
                        <Route path=path!("/quan-tri/tao") view=crate::pages::AdminCreatePage/>
                        <Route path=path!("/quan-tri/tai-khoan/:id") view=crate::pages::AdminAccountPage/>
                        <Route path=path!("/quan-tri/nhap") view=crate::pages::AdminImportPage/>
                        <Route path=path!("/quan-tri/phieu") view=crate::pages::EnrolmentSheetsPage/>
                        <Route path=path!("/quan-tri/nhat-ky") view=crate::pages::AdminAuditPage/>
                        <Route path=path!("/quan-tri/don-vi") view=crate::pages::AdminUnitsPage/>
                        <Route path=path!("/quan-tri/ke-hoach") view=crate::pages::AdminPlansPage/>
                        <Route path=path!("/quan-tri/ke-hoach/:id") view=crate::pages::AdminPlanEditorPage/>
                    </Routes>
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
            view! { <EnrolPage/> }.into_any()
        } else {
            view! { <LoginPage is_online=is_online/> }.into_any()
        }
    }
}
