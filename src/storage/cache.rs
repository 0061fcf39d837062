//! Server answers kept for reading offline (the dashboard, consolidations), in the
//! `meta` store under `cache:<kind>:<plan>:<unit>:<period>`.
//!
//! A cache entry is disposable: it remembers who fetched it and when, an entry of
//! another official (a shared phone) or one this version cannot read counts as
//! absent, and only the most recent [`MAX_ENTRIES`] are kept so a reviewer who
//! browses many units and periods does not fill a cheap phone's storage.

use chrono::{DateTime, Utc};
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{commit, decode, encode, LocalDb, StorageError, META};

/// The list of cache keys with their fetch times, for eviction.
const KEY_INDEX: &str = "cache:index";
/// How many answers are kept (each a few kilobytes).
pub const MAX_ENTRIES: usize = 40;

/// A cached answer and when it was fetched.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cached<T> {
    pub fetched_at: DateTime<Utc>,
    /// Who fetched it: another official's answer is never shown.
    pub user_id: i64,
    pub value: T,
}

pub fn dashboard_cache_key(plan_id: &str, unit_id: &str, period: &str) -> String {
    format!("cache:dashboard:{plan_id}:{unit_id}:{period}")
}

pub fn consolidation_cache_key(plan_id: &str, unit_id: &str, period: &str) -> String {
    format!("cache:consolidation:{plan_id}:{unit_id}:{period}")
}

impl LocalDb {
    /// Stores `value` under `key` (a key from [`dashboard_cache_key`] and the like),
    /// forgetting the oldest entries beyond [`MAX_ENTRIES`].
    pub async fn put_cached<T: Serialize>(
        &self,
        key: &str,
        user_id: i64,
        value: &T,
        fetched_at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        let record = encode(&CachedRef { fetched_at, user_id, value })?;
        // A cache need not survive a power cut: default durability, not strict.
        let tx = self.db.transaction(META).with_mode(TransactionMode::Readwrite).build()?;
        {
            let store = tx.object_store(META)?;
            let text: Option<String> = store.get(KEY_INDEX).primitive()?.await?;
            // An unreadable index is rebuilt from scratch (the entries it lost
            // stay until overwritten; they are small).
            let mut index: Vec<(String, DateTime<Utc>)> =
                text.as_deref().and_then(|t| decode(t).ok()).unwrap_or_default();
            index.retain(|(k, _)| k != key);
            index.push((key.to_string(), fetched_at));
            index.sort_by(|a, b| b.1.cmp(&a.1));
            let evicted: Vec<(String, DateTime<Utc>)> =
                if index.len() > MAX_ENTRIES { index.split_off(MAX_ENTRIES) } else { Vec::new() };
            for (old, _) in &evicted {
                store.delete(old.as_str()).await?;
            }
            store.put(record).with_key(key.to_string()).primitive()?.await?;
            store.put(encode(&index)?).with_key(KEY_INDEX.to_string()).primitive()?.await?;
        }
        commit(tx).await?;
        Ok(())
    }

    /// The entry under `key` if `user_id` fetched it and this version can read it.
    pub async fn get_cached<T: DeserializeOwned>(
        &self,
        key: &str,
        user_id: i64,
    ) -> Result<Option<Cached<T>>, StorageError> {
        let tx = self.db.transaction(META).build()?;
        let text: Option<String> = tx.object_store(META)?.get(key).primitive()?.await?;
        Ok(text.as_deref().and_then(|t| decode::<Cached<T>>(t).ok()).filter(|c| c.user_id == user_id))
    }
}

/// Deletes every cached answer (a sign-out on a shared phone), inside the
/// caller's transaction on `meta`.
pub(super) async fn forget_all(meta: &indexed_db_futures::object_store::ObjectStore<'_>) -> Result<(), StorageError> {
    let text: Option<String> = meta.get(KEY_INDEX).primitive()?.await?;
    let index: Vec<(String, DateTime<Utc>)> = text.as_deref().and_then(|t| decode(t).ok()).unwrap_or_default();
    for (key, _) in &index {
        meta.delete(key.as_str()).await?;
    }
    meta.delete(KEY_INDEX).await?;
    Ok(())
}

/// [`Cached`] borrowing its value, to store without cloning it.
#[derive(Serialize)]
struct CachedRef<'a, T> {
    fetched_at: DateTime<Utc>,
    user_id: i64,
    value: &'a T,
}
