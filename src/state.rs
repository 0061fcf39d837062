//! App-wide state and the actions that move it: boot from IndexedDB, sign in,
//! refresh from the server, sign out.

use chrono::{DateTime, Utc};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use leptos::prelude::*;

use danvan_core::api::LoginResponse;

use crate::api::{self, ApiError};
use crate::split::in_module;
use crate::storage::{LocalDb, Session, Snapshot, StorageError};
use crate::sync::SyncSignals;
use crate::web;

#[derive(Clone, Debug, PartialEq)]
pub enum RefreshStatus {
    /// Nothing attempted yet in this page.
    Idle,
    Refreshing,
    /// The last attempt reached the server.
    Done,
    /// The server could not be reached; local data is shown.
    Unreachable,
    /// The server refused the token: sign in again (local data is kept).
    SessionExpired(String),
    Failed(String),
}

/// Signals shared by every page. Created once at the root, so they live as long as
/// the page.
#[derive(Clone, Copy)]
pub struct AppState {
    /// False until IndexedDB has been read once; screens wait for it rather than
    /// flashing the login form at a signed-in official.
    pub booted: RwSignal<bool>,
    pub session: RwSignal<Option<Session>>,
    pub snapshot: RwSignal<Option<Snapshot>>,
    pub refresh: RwSignal<RefreshStatus>,
    /// A storage failure the person must know about (private mode, disk full).
    pub storage_error: RwSignal<Option<String>>,
    pub sync: SyncSignals,
    /// What the last sign-out left on this phone, said on the sign-in screen.
    pub signed_out: RwSignal<Option<crate::storage::Forgotten>>,
}

impl AppState {
    pub fn new() -> AppState {
        AppState {
            booted: RwSignal::new(false),
            session: RwSignal::new(None),
            snapshot: RwSignal::new(None),
            refresh: RwSignal::new(RefreshStatus::Idle),
            storage_error: RwSignal::new(None),
            sync: SyncSignals::new(),
            signed_out: RwSignal::new(None),
        }
    }

    pub fn fetched_at(&self) -> Option<DateTime<Utc>> {
        self.snapshot.with(|s| s.as_ref().map(|s| s.fetched_at))
    }

    fn report_storage(&self, e: &StorageError) {
        self.storage_error.try_set(Some(e.to_string()));
    }
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new()
    }
}

/// Reads the session and the cached snapshot from IndexedDB, then refreshes from the
/// server if the browser thinks it is online.
pub async fn boot(state: AppState, online: bool) {
    load_local(&state).await;
    state.booted.try_set(true);
    if online && state.session.try_get_untracked().flatten().is_some() {
        refresh(state).await;
    }
}

async fn load_local(state: &AppState) {
    let db = match LocalDb::shared().await {
        Ok(db) => db,
        Err(e) => return state.report_storage(&e),
    };
    // The session first: whatever happens to the cached data, the official stays
    // signed in (offline, signing in again is impossible).
    let session = match db.load_session().await {
        Ok(s) => s,
        Err(e) => return state.report_storage(&e),
    };
    let unit = session.as_ref().map(|s| s.user.unit_id.clone());
    if let Some(s) = &session {
        if let Err(e) = db.ensure_sync_meta(s.user.id, web::random_hex(16)).await {
            state.report_storage(&e);
        }
    }
    state.session.try_set(session);
    match db.load_snapshot().await {
        // Only another unit's cache (a shared phone whose refresh never completed
        // for the new official) is hidden; "Nhiệm vụ của tôi" must be mine.
        Ok(snapshot) => {
            state.snapshot.try_set(snapshot.filter(|s| Some(&s.tasks.unit.id) == unit.as_ref()));
        }
        // Unreadable cache (e.g. written by another app version): say so, show
        // nothing stale, and let the next refresh replace it.
        Err(e) => state.report_storage(&e),
    }
}

/// Fetches plans, units and tasks, stores them, and shows what was stored.
pub async fn refresh(state: AppState) {
    let Some(Some(session)) = state.session.try_get_untracked() else { return };
    if state.refresh.try_get_untracked() == Some(RefreshStatus::Refreshing) {
        return;
    }
    state.refresh.try_set(RefreshStatus::Refreshing);
    let outcome = fetch_and_store(&state, &session.token).await;
    let status = match outcome {
        Ok(Some(snapshot)) => {
            state.snapshot.try_set(Some(snapshot));
            state.storage_error.try_set(None);
            RefreshStatus::Done
        }
        // Someone signed out or in meanwhile; their own refresh reports.
        Ok(None) => return,
        Err(RefreshError::Api(ApiError::Network)) => RefreshStatus::Unreachable,
        Err(RefreshError::Api(ApiError::Unauthorized(m))) => RefreshStatus::SessionExpired(m),
        Err(RefreshError::Api(e)) => RefreshStatus::Failed(e.to_string()),
        Err(RefreshError::Storage(e)) => {
            state.report_storage(&e);
            RefreshStatus::Failed(e.to_string())
        }
    };
    state.refresh.try_set(status);
}

#[derive(Debug, thiserror::Error)]
enum RefreshError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// None when the session changed while the requests were in flight: the answer
/// belongs to the previous official and must not be stored as the new one's.
///
/// The task list shows as soon as plans, units and tasks are stored; the report
/// forms (for drafting offline) come after, through the sync module, so that the
/// first screen of a first visit does not wait for the forms' code.
async fn fetch_and_store(state: &AppState, token: &str) -> Result<Option<Snapshot>, RefreshError> {
    let (plans, units, tasks) =
        futures::future::try_join3(api::plans(token), api::units(token), api::tasks(token)).await?;
    let still_current = state.session.try_with_untracked(|s| s.as_ref().is_some_and(|s| s.token == token));
    if still_current != Some(true) {
        return Ok(None);
    }
    let catalog_version = plans.catalog_version;
    let snapshot = Snapshot { plans: plans.plans, units: units.units, tasks, fetched_at: Utc::now(), catalog_version };
    let db = LocalDb::shared().await?;
    // The administrator moved this account to the unit that took over its closed
    // one (a merger): the session follows, or the cache would be hidden as another
    // unit's at the next start.
    if snapshot.tasks.unit.id != session_unit(state) {
        if let Some(Some(mut session)) = state.session.try_get_untracked() {
            session.user.unit_id = snapshot.tasks.unit.id.clone();
            session.user.unit_name = snapshot.tasks.unit.name.clone();
            db.save_session(&session).await?;
            state.session.try_set(Some(session));
        }
    }
    db.save_snapshot(&snapshot).await?;
    // Render what IndexedDB now holds, so online and offline show the same thing.
    let stored = db.load_snapshot().await?.unwrap_or(snapshot);
    state.snapshot.try_set(Some(stored.clone()));
    // Let the task list render first: Leptos updates the page in microtasks, a
    // timer runs after them. Only then does the sync module start downloading.
    gloo_timers::future::TimeoutFuture::new(0).await;
    let plan_ids: Vec<String> = stored.plans.iter().map(|p| p.id.clone()).collect();
    store_forms(token.to_string(), plan_ids).await?.await?;
    Ok(Some(stored))
}

impl From<leptos::wasm_split::SplitLoaderError> for RefreshError {
    /// The sync module could not be downloaded: as good as no connection.
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        RefreshError::Api(ApiError::Network)
    }
}

in_module! {
    sync;
    /// Fetches and stores the report form of each plan. Part of the sync module
    /// (src/sync.rs): only the editor reads forms.
    fn store_forms(
        token: String,
        plan_ids: Vec<String>,
    ) -> Result<LocalBoxFuture<'static, Result<(), RefreshError>>, RefreshError> {
        Ok(async move {
            let forms = futures::future::try_join_all(plan_ids.iter().map(|id| api::form(&token, id))).await?;
            let db = LocalDb::shared().await?;
            for f in &forms {
                db.save_form(&f.form).await?;
            }
            Ok(())
        }
        .boxed_local())
    }
}

fn session_unit(state: &AppState) -> String {
    state.session.try_with_untracked(|s| s.as_ref().map(|s| s.user.unit_id.clone())).flatten().unwrap_or_default()
}

/// Signs in, stores the session, then loads the user's data.
pub async fn sign_in(state: AppState, username: String, password: String) -> Result<(), String> {
    let response = api::login(&username, &password).await.map_err(|e| e.to_string())?;
    start_session(state, response).await
}

/// Keeps a fresh sign-in (from the password or an enrolment code) on this phone
/// and loads the official's data.
pub async fn start_session(state: AppState, response: LoginResponse) -> Result<(), String> {
    let session = Session::from(response);
    let db = LocalDb::shared().await.map_err(|e| e.to_string())?;
    // Refused while another official's unsent work is on this phone: it would be
    // sent under the wrong name, or lost.
    db.ensure_sync_meta(session.user.id, web::random_hex(16)).await.map_err(|e| e.to_string())?;
    // An official of another unit on a shared phone must not see the previous
    // one's cache, not even if this first refresh fails.
    let cached_unit = state.snapshot.try_with_untracked(|s| s.as_ref().map(|s| s.tasks.unit.id.clone())).flatten();
    if cached_unit.is_some_and(|u| u != session.user.unit_id) {
        db.clear_snapshot().await.map_err(|e| e.to_string())?;
        state.snapshot.try_set(None);
    }
    db.save_session(&session).await.map_err(|e| e.to_string())?;
    state.session.try_set(Some(session));
    state.refresh.try_set(RefreshStatus::Idle);
    refresh(state).await;
    // The first sync (and the download of its module) after the task list is
    // shown: on 2G it would otherwise compete with the first screen's data.
    crate::sync::request_sync(std::time::Duration::ZERO);
    Ok(())
}

/// Signs out on this device; the server session is revoked when reachable.
pub async fn sign_out(state: AppState) {
    let Some(Some(session)) = state.session.try_get_untracked() else { return };
    if let Ok(db) = LocalDb::shared().await {
        if let Err(e) = db.clear_session().await {
            state.report_storage(&e);
            return;
        }
    }
    state.session.try_set(None);
    // A shared phone: the next person must not find this official's reports,
    // photos or dashboards — unless some are unsent, which only this official
    // can still send (the sign-in screen says which it was).
    if let Ok(db) = LocalDb::shared().await {
        match db.forget_signed_out_user().await {
            Ok(forgotten) => {
                if forgotten == crate::storage::Forgotten::All {
                    state.snapshot.try_set(None);
                }
                state.signed_out.try_set(Some(forgotten));
                crate::sync::refresh_counts(state).await;
            }
            Err(e) => state.report_storage(&e),
        }
    }
    // Best effort: offline, the token simply expires.
    let _ = api::logout(&session.token).await;
}

/// Writes what exists only on this phone (unsent reports and their photos) to a
/// JSON file the browser downloads; returns how many reports. Offered on the
/// account screen and whenever the server stops accepting this device; both are
/// in the account module (src/screens.rs).
pub async fn write_unsent_backup(state: AppState) -> Result<usize, String> {
    use chrono::Datelike;
    let Some(Some(session)) = state.session.try_get_untracked() else {
        return Err("Chưa đăng nhập trên máy này.".into());
    };
    let db = LocalDb::shared().await.map_err(|e| e.to_string())?;
    let backup = db.export_unsent(session.user.id, Utc::now()).await.map_err(|e| e.to_string())?;
    let json = serde_json::to_string(&backup).map_err(|e| e.to_string())?;
    let d = danvan_core::time::vn_date(Utc::now());
    let stamp = format!("{:04}{:02}{:02}", d.year(), d.month(), d.day());
    web::download_text(&format!("danvan-sao-luu-{stamp}.json"), "application/json", &json)?;
    Ok(backup.reports.len())
}
