//! Screens that load on demand.
//!
//! A commune official's first visit must be small (BENCHMARKS.md, "First load"),
//! so the main wasm module holds only what the sign-in and "Nhiệm vụ của tôi" need:
//! the router, the sync engine, storage and the task list. Every other screen sits
//! in the split module of its group, cut out of the build by `wasm_split_cli`
//! (`scripts/build-app.sh`) at the markers `#[wasm_split(group, …)]` leaves, and
//! fetched the first time one of its screens opens. The service worker
//! (`public/sw.js`) fetches the groups in the background once the first screen is
//! up, so every screen also opens offline.
//!
//! Leptos's own lazy routes abort the whole app when a module cannot be fetched;
//! these are `fallible`, so a failed fetch on a weak connection shows "Thử lại"
//! on that screen while the rest of the app — and the outbox — keep running.

use futures::FutureExt;
use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;
use leptos_router::components::{Route, Routes};
use leptos_router::path;

use danvan_core::api::Role;

use crate::i18n::T;
use crate::pages;
use crate::split::in_module;

/// The split modules, one per group of screens opened together. A group is one
/// download: small enough not to hold up the screen asked for, large enough that
/// a 2G connection does not pay one round trip per screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// The reporter's own work: the reports list and the editor.
    Reporting,
    /// The plan's text and the unit's implementation plan.
    Plan,
    /// The signed-in account and enrolment from a sheet.
    Account,
    Review,
    /// Dashboards and the consolidation.
    Overview,
    Admin,
}

/// Which group's routes serve an address. The main module knows only these
/// prefixes; each group's own `<Routes>` (below) matches the whole address, with
/// its parameters, once the group is loaded.
const PREFIXES: &[(&str, Group)] = &[
    ("/bao-cao", Group::Reporting),
    ("/ke-hoach-don-vi", Group::Plan),
    ("/ke-hoach", Group::Plan),
    ("/tai-khoan", Group::Account),
    ("/kich-hoat", Group::Account),
    ("/duyet", Group::Review),
    ("/tong-quan", Group::Overview),
    ("/tong-hop", Group::Overview),
    ("/quan-tri", Group::Admin),
];

impl Group {
    pub fn for_path(path: &str) -> Option<Group> {
        PREFIXES.iter().find_map(|&(prefix, group)| {
            let rest = path.strip_prefix(prefix)?;
            (rest.is_empty() || rest.starts_with('/')).then_some(group)
        })
    }

    /// The module's name: `#[wasm_split(name, …)]` below, `split_<name>.wasm`,
    /// and the key of the service worker's `MODULES`.
    pub fn name(self) -> &'static str {
        match self {
            Group::Reporting => "reporting",
            Group::Plan => "plan",
            Group::Account => "account",
            Group::Review => "review",
            Group::Overview => "overview",
            Group::Admin => "admin",
        }
    }

    /// The groups whose screens a role reaches (its tabs in
    /// `components/bottom_nav.rs` and the links from them): what the phone keeps
    /// for offline use. Signed out, only the account group (enrolment).
    pub fn for_role(role: Option<Role>) -> &'static [Group] {
        match role {
            Some(Role::Reporter) => &[Group::Reporting, Group::Plan, Group::Account],
            Some(Role::Reviewer | Role::Aggregator) => {
                &[Group::Reporting, Group::Plan, Group::Account, Group::Review, Group::Overview]
            }
            Some(Role::Admin) => &[Group::Overview, Group::Plan, Group::Account, Group::Admin],
            None => &[Group::Account],
        }
    }
}

/// A split module could not be fetched (offline before the service worker had
/// it, or the connection dropped mid-download). Not cached: the next try fetches again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the screen's code could not be downloaded")]
pub struct ScreenLoadError;

impl From<SplitLoaderError> for ScreenLoadError {
    fn from(_: SplitLoaderError) -> Self {
        ScreenLoadError
    }
}

/// "Không tìm thấy trang": an address no screen serves.
pub fn not_found() -> impl IntoView {
    view! { <main class="page"><p class="card empty"><T vi="Không tìm thấy trang." en="Page not found."/></p></main> }
}

// One entry point per group, returning the group's routes. `in_module!` moves
// each function body, and all code only it reaches, into the group's module;
// code several groups share goes into chunks that load with whichever group
// needs them first.

in_module! {
    reporting, preload(preload_reporting);
    fn reporting_routes() -> Result<AnyView, ScreenLoadError> {
        Ok(view! {
            <Routes fallback=not_found>
                <Route path=path!("/bao-cao") view=pages::ReportsPage/>
                <Route path=path!("/bao-cao/:period") view=pages::ReportPage/>
            </Routes>
        }
        .into_any())
    }
}

in_module! {
    plan, preload(preload_plan);
    fn plan_routes() -> Result<AnyView, ScreenLoadError> {
        Ok(view! {
            <Routes fallback=not_found>
                <Route path=path!("/ke-hoach") view=pages::PlanPage/>
                <Route path=path!("/ke-hoach/:item") view=pages::PlanItemPage/>
                <Route path=path!("/ke-hoach-don-vi") view=pages::ObligationsPage/>
            </Routes>
        }
        .into_any())
    }
}

in_module! {
    account, preload(preload_account);
    fn account_routes() -> Result<AnyView, ScreenLoadError> {
        Ok(view! {
            <Routes fallback=not_found>
                <Route path=path!("/tai-khoan") view=pages::AccountPage/>
                <Route path=path!("/kich-hoat") view=pages::EnrolPage/>
            </Routes>
        }
        .into_any())
    }
}

in_module! {
    review, preload(preload_review);
    fn review_routes() -> Result<AnyView, ScreenLoadError> {
        Ok(view! {
            <Routes fallback=not_found>
                <Route path=path!("/duyet") view=pages::ReviewPage/>
                <Route path=path!("/duyet/:report_id") view=pages::ReviewReportPage/>
            </Routes>
        }
        .into_any())
    }
}

in_module! {
    overview, preload(preload_overview);
    fn overview_routes() -> Result<AnyView, ScreenLoadError> {
        Ok(view! {
            <Routes fallback=not_found>
                <Route path=path!("/tong-quan") view=pages::DashboardPage/>
                <Route path=path!("/tong-quan/:unit") view=pages::DashboardPage/>
                <Route path=path!("/tong-hop/:unit/:period") view=pages::ConsolidationPage/>
            </Routes>
        }
        .into_any())
    }
}

in_module! {
    admin, preload(preload_admin);
    fn admin_routes() -> Result<AnyView, ScreenLoadError> {
        Ok(view! {
            <Routes fallback=not_found>
                <Route path=path!("/quan-tri") view=pages::AdminAccountsPage/>
                <Route path=path!("/quan-tri/tao") view=pages::AdminCreatePage/>
                <Route path=path!("/quan-tri/tai-khoan/:id") view=pages::AdminAccountPage/>
                <Route path=path!("/quan-tri/nhap") view=pages::AdminImportPage/>
                <Route path=path!("/quan-tri/phieu") view=pages::EnrolmentSheetsPage/>
                <Route path=path!("/quan-tri/nhat-ky") view=pages::AdminAuditPage/>
                <Route path=path!("/quan-tri/don-vi") view=pages::AdminUnitsPage/>
                <Route path=path!("/quan-tri/ke-hoach") view=pages::AdminPlansPage/>
                <Route path=path!("/quan-tri/ke-hoach/:id") view=pages::AdminPlanEditorPage/>
            </Routes>
        }
        .into_any())
    }
}

/// Has the service worker download the modules of the signed-in role's screens,
/// once the first screen is up: after that every screen opens offline.
pub async fn keep_offline(role: Option<Role>) {
    let mut names: Vec<&str> = Group::for_role(role).iter().map(|g| g.name()).collect();
    if role.is_some() {
        // The push and pull rounds (src/sync.rs).
        names.push("sync");
    }
    if let Err(e) = crate::web::precache_modules(&names).await {
        leptos::logging::warn!("service worker: {e}");
    }
}

thread_local! {
    /// Groups whose module is instantiated; their screens render at once.
    static LOADED: std::cell::RefCell<Vec<Group>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn is_loaded(group: Group) -> bool {
    LOADED.with(|loaded| loaded.borrow().contains(&group))
}

/// Fetches (and instantiates) a group's module without showing anything.
pub async fn preload(group: Group) -> Result<(), ScreenLoadError> {
    if is_loaded(group) {
        return Ok(());
    }
    match group {
        Group::Reporting => preload_reporting().await?,
        Group::Plan => preload_plan().await?,
        Group::Account => preload_account().await?,
        Group::Review => preload_review().await?,
        Group::Overview => preload_overview().await?,
        Group::Admin => preload_admin().await?,
    }
    LOADED.with(|loaded| loaded.borrow_mut().push(group));
    Ok(())
}

/// Builds the routes of a group that is loaded: its entry point then completes
/// at once. `None` only if it was not loaded after all.
fn render(group: Group) -> Option<Result<AnyView, ScreenLoadError>> {
    match group {
        Group::Reporting => reporting_routes().now_or_never(),
        Group::Plan => plan_routes().now_or_never(),
        Group::Account => account_routes().now_or_never(),
        Group::Review => review_routes().now_or_never(),
        Group::Overview => overview_routes().now_or_never(),
        Group::Admin => admin_routes().now_or_never(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Loading,
    Ready,
    Failed,
}

/// Every address but the task list: the routes of the group it belongs to once
/// that group's module is here, "Đang tải…" while it is fetched, "Thử lại" if
/// the fetch failed, "Không tìm thấy trang" for an address of no group.
#[component]
pub fn LazyScreens() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let group = Memo::new(move |_| location.pathname.with(|p| Group::for_path(p)));
    move || match group.get() {
        Some(group) => view! { <LazyGroup group=group/> }.into_any(),
        None => not_found().into_any(),
    }
}

/// One group's routes, built inside this component's reactive scope so route
/// parameters and contexts work as usual.
#[component]
fn LazyGroup(group: Group) -> impl IntoView {
    // Loaded before: build it in the same frame, without a "loading" flash.
    let status = RwSignal::new(if is_loaded(group) { Status::Ready } else { Status::Loading });
    let load = move || {
        status.set(Status::Loading);
        leptos::task::spawn_local(async move {
            let (outcome, ()) = futures::join!(preload(group), crate::web::load_deferred_styles());
            // The page may have been left while the module was downloading.
            status.try_set(if outcome.is_ok() { Status::Ready } else { Status::Failed });
        });
    };
    if status.get_untracked() == Status::Loading {
        load();
    }

    move || match status.get() {
        Status::Loading => view! {
            <main class="page">
                <p class="boot" role="status" data-testid="screen-loading">
                    <T vi="Đang tải màn hình…" en="Loading this screen…"/>
                </p>
            </main>
        }
        .into_any(),
        Status::Ready => match render(group) {
            Some(Ok(view)) => view,
            _ => failed_view(load),
        },
        Status::Failed => failed_view(load),
    }
}

fn failed_view(retry: impl Fn() + Copy + Send + Sync + 'static) -> AnyView {
    view! {
        <main class="page">
            <section class="card" role="alert" data-testid="screen-load-failed">
                <p>
                    <T
                        vi="Không tải được màn hình này: mạng yếu hoặc đang mất kết nối. Dữ liệu đã nhập vẫn an toàn trên máy."
                        en="This screen could not be downloaded: the connection is weak or down. What you entered is safe on this phone."
                    />
                </p>
                <button class="btn" type="button" data-testid="screen-retry" on:click=move |_| retry()>
                    <T vi="Thử lại" en="Try again"/>
                </button>
            </section>
        </main>
    }
    .into_any()
}
