//! The embedded backend: one SQLite file in WAL mode.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

use super::{Dialect, StoreError, BUSY_TIMEOUT};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub(super) async fn open(url: &str) -> Result<SqlitePool, StoreError> {
    let open_err = |source| StoreError::Open { url: url.to_string(), source };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(open_err)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL: a report acknowledged to a phone must survive a power cut.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let file = options.get_filename().to_path_buf();
    if !is_in_memory(&file) {
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| StoreError::CreateDir { dir: dir.display().to_string(), source })?;
        }
    }
    SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(BUSY_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(open_err)
}

fn is_in_memory(file: &Path) -> bool {
    let s = file.to_string_lossy();
    s == ":memory:" || s.starts_with("file:sqlx-in-memory")
}

/// `BEGIN IMMEDIATE` takes SQLite's write lock at once. A deferred `BEGIN` would
/// read first and then fail with SQLITE_BUSY when upgrading to a writer while
/// another writer holds the lock; taking it up front makes concurrent writers wait
/// (busy timeout) and run one after the other instead.
pub(super) async fn begin_immediate(pool: &SqlitePool) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

/// SQLITE_BUSY / SQLITE_LOCKED, any extended code.
pub(super) fn is_transient_code(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && db.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

/// SQLite's spelling of [`Dialect`].
pub(crate) struct Sql;

impl Dialect for Sql {
    fn json_text_values(param: &str) -> String {
        format!("SELECT value FROM json_each({param})")
    }

    fn json_int_values(param: &str) -> String {
        format!("SELECT value FROM json_each({param})")
    }

    fn json_rows(items: &[&str]) -> String {
        format!("json_group_array(json_array({}))", items.join(", "))
    }

    fn json_values(item: &str) -> String {
        format!("json_group_array({item})")
    }

    fn join_rows(expr: &str) -> String {
        format!("group_concat({expr})")
    }

    fn json_quote(expr: &str) -> String {
        format!("json_quote({expr})")
    }

    const DEFER_FOREIGN_KEYS: &'static str = "PRAGMA defer_foreign_keys = ON";
}
