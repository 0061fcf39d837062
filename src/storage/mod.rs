//! The device's copy of everything the app shows, in IndexedDB.
//!
//! The UI renders from here, never straight from a network response: a fetch is
//! written to IndexedDB first and read back, so what an official sees online is
//! exactly what they will see after a reload in a commune with no signal.

mod backup;
mod cache;
mod error;
mod records;
mod reports;

pub use backup::{Backup, BACKUP_FORMAT};
pub use cache::{consolidation_cache_key, dashboard_cache_key, Cached};
pub use error::StorageError;
pub use records::{Session, Snapshot};
pub use reports::{EditError, Forgotten};

use std::cell::RefCell;

use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::{TransactionDurability, TransactionMode, TransactionOptions};

use danvan_core::api::TasksResponse;
use danvan_core::{OrgUnit, Plan};

/// Bumped whenever a store is added; `upgrade` creates what is missing.
/// 2: forms, reports, outbox, conflicts, blobs, uploads.
pub const SCHEMA_VERSION: u32 = 2;
pub const DEFAULT_DB_NAME: &str = "danvan";

const META: &str = "meta";
const PLANS: &str = "plans";
const UNITS: &str = "units";
const STORES: [&str; 3] = [META, PLANS, UNITS];
const FORMS: &str = "forms";
const REPORTS: &str = "reports";
/// Unsent mutations, keyed by mutation id (so in sending order).
const OUTBOX: &str = "outbox";
const CONFLICTS: &str = "conflicts";
/// Photo bytes (Blob), keyed by attachment id.
const BLOBS: &str = "blobs";
/// Photos not yet uploaded: attachment id → (reference, report id).
const UPLOADS: &str = "uploads";
const ALL_STORES: [&str; 9] = [META, PLANS, UNITS, FORMS, REPORTS, OUTBOX, CONFLICTS, BLOBS, UPLOADS];

const KEY_SESSION: &str = "session";
const KEY_TASKS: &str = "tasks";
const KEY_FETCHED_AT: &str = "fetched_at";
const KEY_CATALOG_VERSION: &str = "catalog_version";

thread_local! {
    // One connection per page, shared by every caller; IndexedDB connections are
    // cheap to keep and slow-ish to open on low-end phones.
    static SHARED: RefCell<Option<LocalDb>> = const { RefCell::new(None) };
}

/// A handle on the app's IndexedDB database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LocalDb {
    pub(crate) db: Database,
    /// Which connection this is, so a watcher only forgets its own.
    connection: u32,
}

thread_local! {
    static CONNECTIONS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl LocalDb {
    /// The app's database, opened once per page.
    pub async fn shared() -> Result<LocalDb, StorageError> {
        if let Some(db) = SHARED.with(|s| s.borrow().clone()) {
            return Ok(db);
        }
        let db = LocalDb::open(DEFAULT_DB_NAME).await?;
        SHARED.with(|s| *s.borrow_mut() = Some(db.clone()));
        Ok(db)
    }

    /// Opens (creating or upgrading) a database by name. Tests use their own names.
    pub async fn open(name: &str) -> Result<LocalDb, StorageError> {
        let db = Database::open(name)
            .with_version(SCHEMA_VERSION)
            .with_on_upgrade_needed(|_event, db| {
                let existing: Vec<String> = db.object_store_names().collect();
                for store in ALL_STORES {
                    if !existing.iter().any(|s| s == store) {
                        db.create_object_store(store).build()?;
                    }
                }
                Ok(())
            })
            .await
            .map_err(StorageError::from_open)?;
        let connection = CONNECTIONS.with(|c| {
            c.set(c.get().wrapping_add(1));
            c.get()
        });
        watch_connection(&db, connection);
        Ok(LocalDb { db, connection })
    }

    /// Closes this connection, as leaving the page does. Dropping a handle does not:
    /// the connection stays open until garbage collection and would block `delete`.
    pub fn close(self) {
        self.db.close();
    }

    /// Deletes a database (tests, and "erase this device" later).
    pub async fn delete(self) -> Result<(), StorageError> {
        self.db.delete().map_err(StorageError::from_open)?.await?;
        Ok(())
    }

    pub(crate) fn write_tx(
        &self,
        stores: &[&str],
    ) -> Result<indexed_db_futures::transaction::Transaction<'_>, StorageError> {
        // "strict" so that a commit reported to the user has reached the disk; these
        // are official records, and phones lose power.
        Ok(self
            .db
            .transaction(stores)
            .with_mode(TransactionMode::Readwrite)
            .with_options(TransactionOptions::new().with_durability(TransactionDurability::Strict))
            .build()?)
    }

    pub async fn save_session(&self, session: &Session) -> Result<(), StorageError> {
        let tx = self.write_tx(&[META])?;
        tx.object_store(META)?.put(encode(session)?).with_key(KEY_SESSION.to_string()).primitive()?.await?;
        commit(tx).await?;
        Ok(())
    }

    pub async fn load_session(&self) -> Result<Option<Session>, StorageError> {
        let tx = self.db.transaction(META).build()?;
        let text: Option<String> = tx.object_store(META)?.get(KEY_SESSION).primitive()?.await?;
        text.as_deref().map(decode).transpose()
    }

    /// Signing out forgets who is signed in, not the cached plan: the next person on a
    /// shared commune phone still has it offline.
    pub async fn clear_session(&self) -> Result<(), StorageError> {
        let tx = self.write_tx(&[META])?;
        tx.object_store(META)?.delete(KEY_SESSION).await?;
        commit(tx).await?;
        Ok(())
    }

    /// Replaces the cached plans, units and tasks in one transaction, so a reload never
    /// sees half of a refresh.
    pub async fn save_snapshot(&self, snapshot: &Snapshot) -> Result<(), StorageError> {
        let tx = self.write_tx(&STORES)?;
        {
            // Keyed by position, not id: `get_all` returns records in key order, and the
            // server's order (units by their place in the tree, not alphabetically by id)
            // is what the screens show online, so it must come back the same offline.
            let plans = tx.object_store(PLANS)?;
            plans.clear()?.await?;
            for (i, plan) in snapshot.plans.iter().enumerate() {
                plans.put(encode(plan)?).with_key(i as u32).primitive()?.await?;
            }
            let units = tx.object_store(UNITS)?;
            units.clear()?.await?;
            for (i, unit) in snapshot.units.iter().enumerate() {
                units.put(encode(unit)?).with_key(i as u32).primitive()?.await?;
            }
            let meta = tx.object_store(META)?;
            meta.put(encode(&snapshot.tasks)?).with_key(KEY_TASKS.to_string()).primitive()?.await?;
            meta.put(encode(&snapshot.fetched_at)?).with_key(KEY_FETCHED_AT.to_string()).primitive()?.await?;
            meta.put(encode(&snapshot.catalog_version)?).with_key(KEY_CATALOG_VERSION.to_string()).primitive()?.await?;
        }
        commit(tx).await?;
        Ok(())
    }

    /// Forgets the cached plans, units and tasks (another official's, on a shared phone).
    pub async fn clear_snapshot(&self) -> Result<(), StorageError> {
        let tx = self.write_tx(&STORES)?;
        tx.object_store(PLANS)?.clear()?.await?;
        tx.object_store(UNITS)?.clear()?.await?;
        let meta = tx.object_store(META)?;
        meta.delete(KEY_TASKS).await?;
        meta.delete(KEY_FETCHED_AT).await?;
        meta.delete(KEY_CATALOG_VERSION).await?;
        commit(tx).await?;
        Ok(())
    }

    /// The cached snapshot, or None before the first successful fetch.
    pub async fn load_snapshot(&self) -> Result<Option<Snapshot>, StorageError> {
        let tx = self.db.transaction(&STORES[..]).build()?;
        let meta = tx.object_store(META)?;
        let tasks: Option<String> = meta.get(KEY_TASKS).primitive()?.await?;
        let fetched_at: Option<String> = meta.get(KEY_FETCHED_AT).primitive()?.await?;
        // Absent in a cache written before catalog versions existed: 0, refreshed
        // at the next sync.
        let catalog_version: Option<String> = meta.get(KEY_CATALOG_VERSION).primitive()?.await?;
        let (Some(tasks), Some(fetched_at)) = (tasks, fetched_at) else {
            return Ok(None);
        };
        let tasks: TasksResponse = decode(&tasks)?;
        let fetched_at: chrono::DateTime<chrono::Utc> = decode(&fetched_at)?;
        let plans: Vec<Plan> = decode_all(tx.object_store(PLANS)?.get_all().primitive()?.await?)?;
        let units: Vec<OrgUnit> = decode_all(tx.object_store(UNITS)?.get_all().primitive()?.await?)?;
        let catalog_version = catalog_version.map(|v| decode(&v)).transpose()?.unwrap_or(0);
        Ok(Some(Snapshot { plans, units, tasks, fetched_at, catalog_version }))
    }
}

/// Commits, naming the cause when the browser aborts: `commit()` alone reports an
/// abort without its reason, and a full disk (QuotaExceededError) must reach the
/// person as such — with the guarantee that nothing of the transaction was written.
pub(crate) async fn commit(tx: indexed_db_futures::transaction::Transaction<'_>) -> Result<(), StorageError> {
    use indexed_db_futures::internals::SystemRepr;
    use wasm_bindgen::JsCast;
    let raw: web_sys::IdbTransaction = tx.as_sys().clone().unchecked_into();
    match tx.commit().await {
        Ok(()) => Ok(()),
        Err(e) => Err(match raw.error() {
            Some(d) if d.name() == "QuotaExceededError" => StorageError::QuotaExceeded,
            Some(d) => StorageError::Other(format!("{}: {}", d.name(), d.message())),
            None => e.into(),
        }),
    }
}

// Records are stored as JSON text. The app already carries serde_json for the API,
// and one (de)serialiser instead of two (JSON and serde-wasm-bindgen) for every
// type keeps the download within its budget on 2G; IndexedDB stores strings as
// cheaply as objects.
pub(crate) fn encode<T: serde::Serialize>(value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::Other(e.to_string()))
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StorageError> {
    // A record this version cannot read (written by a newer app, or damaged) is an
    // error shown to the person, never a silent None that would look like data loss.
    serde_json::from_str(text).map_err(|e| StorageError::Corrupt(e.to_string()))
}

pub(crate) fn decode_all<T: serde::de::DeserializeOwned>(
    texts: impl IntoIterator<Item = Result<String, indexed_db_futures::error::Error>>,
) -> Result<Vec<T>, StorageError> {
    texts.into_iter().map(|t| decode(&t?)).collect()
}

/// Lets go of a connection when another tab opens a newer schema (`versionchange`)
/// or the browser drops it (`close`: storage cleared, disk error). Holding on would
/// block the other tab's upgrade forever and leave this page failing on a dead
/// connection; instead the next `LocalDb::shared()` reopens (and, if this page's app
/// is older than the data, reports it).
fn watch_connection(db: &Database, connection: u32) {
    let Ok(mut changes) = db.version_changes() else { return };
    let db = db.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = futures::future::poll_fn(|cx| changes.poll_recv(cx)).await;
        db.close();
        SHARED.with(|s| {
            let mut shared = s.borrow_mut();
            if shared.as_ref().is_some_and(|d| d.connection == connection) {
                *shared = None;
            }
        });
    });
}
