//! `use_cached_query`: a server answer a screen can also show offline.
//!
//! Online, the answer comes from the server and is kept on the phone
//! (`src/storage/cache.rs`) with the time it was fetched. Offline, when the server
//! cannot be reached, or when it refuses, the kept copy is shown with that time
//! and a word on why it is not fresh. A 2G answer can take many seconds, so the
//! kept copy may also be shown while the fresh one is on its way.
//!
//! Every screen that reads such an answer goes through here: the dashboard and the
//! consolidation, the III.1 implementation plans and the "Dân vận khéo" models, a
//! report's history, and the editor's "fill in from the units below"
//! ([`fetch_or_kept`], a one-shot read).

use std::future::Future;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::ApiError;
use crate::hooks::use_online;
use crate::state::{AppState, RefreshStatus};
use crate::storage::LocalDb;

/// What to ask, as whom, and where its answer is kept.
#[derive(Clone, Debug, PartialEq)]
pub struct Query<A> {
    /// The `meta` key of the kept copy (`cache:<kind>:…`).
    pub cache_key: String,
    /// Only this official's copies are shown (a shared phone).
    pub user_id: i64,
    pub token: String,
    /// What the fetch needs besides the token.
    pub args: A,
}

/// Where the answer on screen comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Fresh from the server.
    Server,
    /// The phone's copy, while the server's answer is on its way.
    KeptWhileUpdating,
    /// The phone's copy: offline, or the server could not be reached.
    KeptOffline,
    /// The phone's copy: the server refused (its error is shown apart).
    KeptRefused,
}

impl Source {
    /// Not fresh from the server.
    pub fn is_kept(self) -> bool {
        self != Source::Server
    }
}

/// An answer on screen and when it was fetched.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown<T> {
    pub value: T,
    pub fetched_at: DateTime<Utc>,
    pub source: Source,
}

impl<T> Shown<T> {
    /// Where the answer comes from, without it.
    pub fn about(&self) -> Shown<()> {
        Shown { value: (), fetched_at: self.fetched_at, source: self.source }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Loaded<T> {
    Loading,
    Shown(Shown<T>),
    /// Nothing kept on the phone and nothing from the server: offline, or `error`.
    Nothing {
        offline: bool,
        error: Option<ApiError>,
    },
}

impl<T> Loaded<T> {
    pub fn shown(&self) -> Option<&Shown<T>> {
        match self {
            Loaded::Shown(s) => Some(s),
            _ => None,
        }
    }
}

/// When the kept copy appears while the server is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowKept {
    /// At once (a list the official came to act on).
    AtOnce,
    /// Only if the server has not answered after this many milliseconds: figures
    /// that change under the reader's eyes would look wrong on a good connection.
    After(u32),
}

#[derive(Clone, Copy)]
pub struct UseCachedQueryOptions {
    pub show_kept: ShowKept,
    /// While false nothing is fetched (a closed history).
    pub enabled: Signal<bool>,
}

impl Default for UseCachedQueryOptions {
    fn default() -> Self {
        Self { show_kept: ShowKept::AtOnce, enabled: Signal::stored(true) }
    }
}

/// The signals a screen renders from, and a way to ask again.
pub struct UseCachedQueryReturn<T: Send + Sync + 'static> {
    pub loaded: Signal<Loaded<T>>,
    /// The last attempt's failure (cleared by an answer), including `Network`.
    pub error: Signal<Option<ApiError>>,
    /// A request is on its way.
    pub loading: Signal<bool>,
    reload: RwSignal<u32>,
}

impl<T: Send + Sync + 'static> Clone for UseCachedQueryReturn<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for UseCachedQueryReturn<T> {}

impl<T: Send + Sync + 'static> UseCachedQueryReturn<T> {
    /// Asks the server again (after a change made on this screen).
    pub fn refetch(&self) {
        self.reload.update(|n| *n = n.wrapping_add(1));
    }
}

/// [`use_cached_query_with_options`] with the kept copy shown at once.
pub fn use_cached_query<A, T, F, Fut>(query: Memo<Option<Query<A>>>, fetch: F) -> UseCachedQueryReturn<T>
where
    A: Clone + PartialEq + Send + Sync + 'static,
    T: Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn(Query<A>) -> Fut + Copy + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    use_cached_query_with_options(query, fetch, UseCachedQueryOptions::default())
}

/// Loads `fetch(query)` whenever the query changes, the connection returns, the
/// app's refresh finishes or [`UseCachedQueryReturn::refetch`] is called; keeps each
/// answer under `query.cache_key` and falls back to it as the module doc says.
/// `None` as the query means "not known yet" (the plan and units still on their
/// way after sign-in) or "nothing to ask".
pub fn use_cached_query_with_options<A, T, F, Fut>(
    query: Memo<Option<Query<A>>>,
    fetch: F,
    options: UseCachedQueryOptions,
) -> UseCachedQueryReturn<T>
where
    A: Clone + PartialEq + Send + Sync + 'static,
    T: Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static,
    F: Fn(Query<A>) -> Fut + Copy + 'static,
    Fut: Future<Output = Result<T, ApiError>> + 'static,
{
    let state = expect_context::<AppState>();
    let is_online = use_online().is_online;
    let UseCachedQueryOptions { show_kept, enabled } = options;
    let loaded = RwSignal::new(Loaded::<T>::Loading);
    let error = RwSignal::new(None::<ApiError>);
    let loading = RwSignal::new(false);
    let reload = RwSignal::new(0u32);
    // Which load is current (answers arriving late are dropped), and for which key.
    let generation = StoredValue::new(0u32);
    let last_key = StoredValue::new(None::<String>);

    // The connection came back: ask again.
    Effect::new(move |was: Option<bool>| {
        let now = is_online.get();
        if now && was == Some(false) {
            reload.update(|n| *n = n.wrapping_add(1));
        }
        now
    });
    // The app's refresh finished: ask again unless a load is running anyway; and
    // stop waiting for a first refresh that failed.
    Effect::new(move |was: Option<RefreshStatus>| {
        let now = state.refresh.get();
        if was == Some(RefreshStatus::Refreshing) && now != RefreshStatus::Refreshing {
            let waiting = query.with_untracked(|q| q.is_none());
            if waiting || (now == RefreshStatus::Done && !loading.get_untracked()) {
                reload.update(|n| *n = n.wrapping_add(1));
            }
        }
        now
    });

    Effect::new(move |_| {
        let _ = reload.get();
        if !enabled.get() {
            return;
        }
        let Some(query) = query.get() else {
            let first_refresh = state.refresh.get_untracked() == RefreshStatus::Refreshing;
            loaded.set(if first_refresh {
                Loaded::Loading
            } else {
                Loaded::Nothing { offline: !is_online.get_untracked(), error: None }
            });
            return;
        };
        let same_key = last_key.with_value(|k| k.as_deref() == Some(query.cache_key.as_str()));
        last_key.set_value(Some(query.cache_key.clone()));
        if !same_key {
            // Another unit or period: never show the previous one's answer meanwhile.
            loaded.set(Loaded::Loading);
            error.set(None);
        }
        let gen = generation.get_value().wrapping_add(1);
        generation.set_value(gen);
        let current = move || generation.try_get_value() == Some(gen);
        let online = is_online.get_untracked();
        loading.set(true);
        leptos::task::spawn_local(async move {
            let nothing_shown = move || loaded.try_with_untracked(|l| matches!(l, Loaded::Loading)) == Some(true);
            let (key, user_id) = (query.cache_key.clone(), query.user_id);
            let outcome = if !online {
                Err(ApiError::Network)
            } else {
                let request = Box::pin(fetch(query));
                let wait = match show_kept {
                    ShowKept::AtOnce => 0,
                    ShowKept::After(ms) => ms,
                };
                let slow = gloo_timers::future::TimeoutFuture::new(wait);
                match futures::future::select(request, slow).await {
                    futures::future::Either::Left((result, _)) => result,
                    futures::future::Either::Right(((), request)) => {
                        if nothing_shown() {
                            if let Some((value, fetched_at)) = read_kept::<T>(&key, user_id).await {
                                // Only over "loading": an answer already on screen stays.
                                if current() && nothing_shown() {
                                    let source = Source::KeptWhileUpdating;
                                    loaded.try_set(Loaded::Shown(Shown { value, fetched_at, source }));
                                }
                            }
                        }
                        request.await
                    }
                }
            };
            if !current() {
                return;
            }
            let next = match outcome {
                Ok(value) => {
                    let fetched_at = Utc::now();
                    keep(&key, user_id, &value, fetched_at).await;
                    error.try_set(None);
                    Some(Loaded::Shown(Shown { value, fetched_at, source: Source::Server }))
                }
                Err(e) => {
                    let source = if e == ApiError::Network { Source::KeptOffline } else { Source::KeptRefused };
                    let marked = loaded
                        .try_update(|l| match l {
                            Loaded::Shown(s) => {
                                s.source = source;
                                true
                            }
                            _ => false,
                        })
                        .unwrap_or(false);
                    let next = if marked {
                        None
                    } else {
                        Some(match read_kept::<T>(&key, user_id).await {
                            Some((value, fetched_at)) => Loaded::Shown(Shown { value, fetched_at, source }),
                            None => Loaded::Nothing {
                                offline: e == ApiError::Network,
                                error: (e != ApiError::Network).then(|| e.clone()),
                            },
                        })
                    };
                    error.try_set(Some(e));
                    next
                }
            };
            if current() {
                if let Some(next) = next {
                    loaded.try_set(next);
                }
                loading.try_set(false);
            }
        });
    });
    UseCachedQueryReturn { loaded: loaded.into(), error: error.into(), loading: loading.into(), reload }
}

/// A one-shot read: the server's answer when `fetch` is given (online) and it
/// answers, kept for later; else the phone's copy. A refusal is returned as is:
/// an answer the server would not give now is not taken from the phone.
pub async fn fetch_or_kept<T, Fut>(cache_key: &str, user_id: i64, fetch: Option<Fut>) -> Result<Shown<T>, ApiError>
where
    T: Serialize + DeserializeOwned,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let failure = match fetch {
        Some(request) => match request.await {
            Ok(value) => {
                let fetched_at = Utc::now();
                keep(cache_key, user_id, &value, fetched_at).await;
                return Ok(Shown { value, fetched_at, source: Source::Server });
            }
            Err(ApiError::Network) => ApiError::Network,
            Err(refused) => return Err(refused),
        },
        None => ApiError::Network,
    };
    match read_kept(cache_key, user_id).await {
        Some((value, fetched_at)) => Ok(Shown { value, fetched_at, source: Source::KeptOffline }),
        None => Err(failure),
    }
}

async fn read_kept<T: DeserializeOwned>(key: &str, user_id: i64) -> Option<(T, DateTime<Utc>)> {
    let db = LocalDb::shared().await.ok()?;
    let kept = db.get_cached::<T>(key, user_id).await.ok().flatten()?;
    Some((kept.value, kept.fetched_at))
}

/// Best effort: a cache that cannot be written (a full disk) only costs the
/// offline view; the fresh answer is still shown.
async fn keep<T: Serialize>(key: &str, user_id: i64, value: &T, at: DateTime<Utc>) {
    if let Ok(db) = LocalDb::shared().await {
        let _ = db.put_cached(key, user_id, value, at).await;
    }
}
