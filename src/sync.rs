//! The sync engine: push the outbox, then pull changes, under a Web Lock so one
//! tab syncs at a time. Runs on start, when the connection returns, when the app
//! becomes visible, shortly after each local edit, and on a timer that backs off
//! while the server cannot be reached.

use std::cell::RefCell;
use std::time::Duration;

use chrono::Utc;
use futures::channel::mpsc;
use futures::future::LocalBoxFuture;
use futures::{FutureExt, StreamExt};
use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;

use danvan_core::sync::{PullRequest, PushRequest, SYNC_SCHEMA_VERSION};

use crate::api::{self, ApiError};
use crate::split::in_module;
use crate::state::{AppState, RefreshStatus};
use crate::storage::{LocalDb, StorageError};
use crate::web;

/// What the status bar shows about sync.
#[derive(Clone, Copy)]
pub struct SyncSignals {
    /// (sent, total) while a push is running.
    pub progress: RwSignal<Option<(u32, u32)>>,
    /// Mutations and photos that exist only on this device.
    pub unsent: RwSignal<u32>,
    pub conflicts: RwSignal<u32>,
    pub last_synced: RwSignal<Option<chrono::DateTime<Utc>>>,
    pub error: RwSignal<Option<String>>,
    /// Bumped whenever sync changed local reports, so open screens re-read them.
    pub generation: RwSignal<u32>,
}

impl SyncSignals {
    pub fn new() -> SyncSignals {
        SyncSignals {
            progress: RwSignal::new(None),
            unsent: RwSignal::new(0),
            conflicts: RwSignal::new(0),
            last_synced: RwSignal::new(None),
            error: RwSignal::new(None),
            generation: RwSignal::new(0),
        }
    }
}

impl Default for SyncSignals {
    fn default() -> Self {
        SyncSignals::new()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("Máy chủ không nhận thứ tự thay đổi (thiếu mục {0}). Hãy xuất tệp sao lưu và báo quản trị.")]
    Gap(u64),
}

/// Most push rounds per sync (100 mutations each): a backlog larger than that
/// continues on the next trigger instead of holding the lock for minutes.
const MAX_ROUNDS: usize = 20;
const LOCK_NAME: &str = "danvan-sync";

/// Reads the counts the status bar shows from IndexedDB.
pub async fn refresh_counts(state: AppState) {
    let Ok(db) = LocalDb::shared().await else { return };
    if let Ok(n) = db.unsent_count().await {
        state.sync.unsent.try_set(n);
    }
    if let Ok(n) = db.conflict_count().await {
        state.sync.conflicts.try_set(n);
    }
    if let Ok(Some(meta)) = db.load_sync_meta().await {
        state.sync.last_synced.try_set(meta.last_synced_at);
    }
}

/// One full sync (push, then pull) unless another tab is already syncing.
pub async fn sync_now(state: AppState) -> Result<(), SyncError> {
    let Some(Some(session)) = state.session.try_get_untracked() else { return Ok(()) };
    let token = session.token.clone();
    let rounds = async move { sync_rounds(state, token).await?.await };
    let outcome = web::with_lock_if_available(LOCK_NAME, rounds).await;
    state.sync.progress.try_set(None);
    refresh_counts(state).await;
    state.sync.generation.try_update(|g| *g = g.wrapping_add(1));
    match outcome {
        // Another tab holds the lock and is syncing the same database.
        None => Ok(()),
        Some(Ok(())) => {
            state.sync.error.try_set(None);
            Ok(())
        }
        Some(Err(e)) => {
            let shown = match &e {
                SyncError::Api(ApiError::Network) => None,
                // The server no longer accepts this device (signed out by an
                // administrator, account disabled, expired): one notice for it, with
                // the backup at hand (components/status_bar.rs); unsent work stays.
                SyncError::Api(ApiError::Unauthorized(m)) => {
                    state.refresh.try_set(RefreshStatus::SessionExpired(m.clone()));
                    None
                }
                other => Some(other.to_string()),
            };
            state.sync.error.try_set(shown);
            Err(e)
        }
    }
}

impl From<SplitLoaderError> for SyncError {
    /// The sync module could not be downloaded: as good as no connection.
    fn from(_: SplitLoaderError) -> Self {
        SyncError::Api(ApiError::Network)
    }
}

in_module! {
    sync;
    /// The push and pull rounds are a module of their own (the way screens are,
    /// src/screens.rs): a phone's first screen does not wait for them, and they
    /// load right after it, from the service worker's cache once it has them.
    fn sync_rounds(state: AppState, token: String) -> Result<LocalBoxFuture<'static, Result<(), SyncError>>, SyncError> {
        Ok(run(state, token).boxed_local())
    }
}

async fn run(state: AppState, token: String) -> Result<(), SyncError> {
    let _busy = web::BusyGuard::new();
    let db = LocalDb::shared().await?;
    let mut catalog_version = 0;
    for _ in 0..2 {
        push_all(&state, &db, &token).await?;
        catalog_version = pull_all(&db, &token).await?.max(catalog_version);
        // Edits made while syncing, or entries renumbered by an epoch reset.
        if db.load_outbox().await?.is_empty() {
            break;
        }
    }
    // The server's units, plans or forms changed since this phone fetched them (a
    // new year's plan, a reformed tree): fetch them again. Until that succeeds the
    // phone keeps working with what it has.
    let known = state.snapshot.try_with_untracked(|s| s.as_ref().map(|s| s.catalog_version)).flatten();
    if catalog_version != 0 && known.is_some_and(|k| k != catalog_version) {
        crate::state::refresh(state.clone()).await;
    }
    Ok(())
}

/// Uploads the photos waiting to go. A photo the server refuses for good is set
/// aside with its reason (`LocalDb::refuse_upload`) and the rest carry on; no
/// connection, an expired session or a busy server stop the round, to be retried.
async fn upload_photos(db: &LocalDb, token: &str) -> Result<(), SyncError> {
    for (attachment, report_id) in db.pending_uploads().await? {
        let Some(blob) = db.load_blob(&attachment.id).await? else {
            // The bytes are gone (storage cleared under us): nothing to send.
            db.mark_uploaded(&attachment.id).await?;
            continue;
        };
        match api::upload_attachment(token, &attachment, &report_id, &blob).await {
            Ok(()) => db.mark_uploaded(&attachment.id).await?,
            Err(ApiError::Server { status, message, .. }) if refused_for_good(status) => {
                db.refuse_upload(&attachment, &message).await?
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A client error that sending the same bytes again cannot change (not a
/// timeout, not "too many requests", not a sign-in to renew).
fn refused_for_good(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 408 | 429)
}

async fn push_all(state: &AppState, db: &LocalDb, token: &str) -> Result<(), SyncError> {
    // Photos first: a report that names a photo should find its bytes on the server.
    upload_photos(db, token).await?;
    let total = db.load_outbox().await?.len() as u32;
    let mut sent = 0;
    let mut gap_restarts = 0;
    for _ in 0..MAX_ROUNDS {
        let (meta, batch) = db.take_outbox_batch().await?;
        if batch.is_empty() {
            return Ok(());
        }
        state.sync.progress.try_set(Some((sent, total.max(sent + batch.len() as u32))));
        let request = PushRequest {
            client_id: meta.client_id.clone(),
            epoch: meta.epoch.clone(),
            schema_version: SYNC_SCHEMA_VERSION,
            mutations: batch.clone(),
        };
        let response = match api::push(token, &request).await {
            Ok(r) => r,
            Err(ApiError::Server { status: 409, code, .. }) if code == "epoch_mismatch" => {
                // The server's database was replaced: pull (which renumbers this
                // device's outbox under a new client id), then push again.
                pull_all(db, token).await?;
                continue;
            }
            // The entries stay marked as sent (the server may have applied
            // them before the answer was lost): they go again unchanged, with the
            // same ids, and later edits queue behind them.
            Err(e) => return Err(e.into()),
        };
        db.take_push_outcomes(&batch, &response.results).await?;
        sent += response.results.len() as u32;
        state.sync.progress.try_set(Some((sent, total.max(sent))));
        if response.results.is_empty() {
            // Nothing taken: the server expects an id this device no longer has
            // (its database was restored to an older copy under the same epoch).
            // Continue under a new client id, unsent entries renumbered from 1;
            // anything the server moved meanwhile comes back as a conflict.
            if gap_restarts > 0 {
                return Err(SyncError::Gap(response.last_mutation_id + 1));
            }
            gap_restarts += 1;
            db.restart_sync(web::random_hex(16), &response.epoch).await?;
        }
    }
    Ok(())
}

/// Pulls every page; returns the server's catalog version (0 if it did not say).
async fn pull_all(db: &LocalDb, token: &str) -> Result<i64, SyncError> {
    let mut catalog_version = 0;
    // Bounded: a huge backlog continues on the next sync.
    for _ in 0..50 {
        let Some(meta) = db.load_sync_meta().await? else { return Ok(catalog_version) };
        let request = PullRequest { client_id: meta.client_id.clone(), cursor: meta.cursor, epoch: meta.epoch.clone() };
        let page = api::pull(token, &request).await?;
        catalog_version = page.catalog_version;
        if page.reset && meta.epoch.is_some() {
            db.restart_sync(web::random_hex(16), &page.epoch).await?;
        }
        db.take_pull(&page, Utc::now()).await?;
        if !page.has_more {
            return Ok(catalog_version);
        }
    }
    Ok(catalog_version)
}

thread_local! {
    static KICK: RefCell<Option<mpsc::UnboundedSender<Duration>>> = const { RefCell::new(None) };
}

/// Asks the scheduler to sync after `delay` (sooner requests win).
pub fn request_sync(delay: Duration) {
    KICK.with(|k| {
        if let Some(tx) = k.borrow().as_ref() {
            let _ = tx.unbounded_send(delay);
        }
    });
}

/// Waits between syncs: 10 s after an edit, 5 min when all is sent, backing off
/// from 30 s to 10 min while the server cannot be reached. A request for an
/// earlier sync always wins over the timer.
pub fn start_scheduler(state: AppState, is_online: Signal<bool>) {
    let (tx, mut rx) = mpsc::unbounded::<Duration>();
    KICK.with(|k| *k.borrow_mut() = Some(tx));
    leptos::task::spawn_local(async move {
        let mut failures: u32 = 0;
        // When the next sync is due, in `web::now_ms()` time.
        let mut due_at = web::now_ms();
        loop {
            let remaining = (due_at - web::now_ms()).max(0.0);
            let timer = gloo_timers::future::sleep(Duration::from_millis(remaining as u64)).fuse();
            futures::pin_mut!(timer);
            futures::select! {
                _ = timer => {},
                kick = rx.next() => match kick {
                    Some(delay) => {
                        due_at = due_at.min(web::now_ms() + delay.as_millis() as f64);
                        continue;
                    }
                    None => return,
                },
            }
            let online = is_online.try_get_untracked().unwrap_or(false);
            let signed_in = state.session.try_with_untracked(|s| s.is_some()).unwrap_or(false);
            let wait = if !online || !signed_in {
                // The `online` event and sign-in kick the loop; this is a fallback.
                Duration::from_secs(60)
            } else {
                match sync_now(state).await {
                    Ok(()) => {
                        failures = 0;
                        let unsent = state.sync.unsent.try_get_untracked().unwrap_or(0);
                        if unsent > 0 {
                            Duration::from_secs(30)
                        } else {
                            Duration::from_secs(300)
                        }
                    }
                    Err(_) => {
                        failures = failures.saturating_add(1);
                        Duration::from_secs((15u64 << failures.min(6)).min(600))
                    }
                }
            };
            due_at = web::now_ms() + wait.as_millis() as f64;
        }
    });
}
