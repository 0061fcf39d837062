//! Persistence: every SQL statement of the server lives under this module.
//!
//! Two backends behind one [`Store`]: SQLite, embedded, the default
//! (`sqlite://data/danvan.db`), and PostgreSQL for deployments that want a
//! replicated engine or several server processes (`postgres://…`). What differs
//! between them lives in one module each — `sqlite.rs` and `postgres.rs`: opening
//! and pool settings, migrations (`migrations/sqlite`, `migrations/postgres`), how a
//! writer takes the write lock, the few SQL fragments that have no common spelling
//! (a JSON array of ids as a table, JSON aggregates), and which errors are worth a
//! retry. Everything else is written once: the feature modules (`accounts.rs`,
//! `catalog.rs`, `review.rs`, `sync.rs`, `attachments.rs`) keep SQL that both
//! engines read the same way — `$1` placeholders, `ON CONFLICT … DO UPDATE`,
//! `RETURNING`, text timestamps, `CAST(… AS BIGINT)` where PostgreSQL would widen —
//! and run it through [`on_pool!`] / [`on_tx!`], which compile each body once per
//! backend with that backend's own sqlx types (no `sqlx::Any` conversions on the hot
//! path).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use danvan_core::api::Role;
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool, Transaction};

mod accounts;
mod attachments;
mod catalog;
mod inspect;
mod postgres;
mod review;
mod sqlite;
mod sync;
mod throttle;

pub use accounts::{
    AccountFields, Actor, CodeState, DeviceOwner, NewAudit, NewCode, NewDevice, NewUser, TokenLookup, User,
    UserWithHash,
};
pub use attachments::{AttachmentMeta, NewAttachment, Stored, UploadLimits};
pub use catalog::PlanVersion;
pub use inspect::{AppliedMigration, WriteLock};
pub use review::{ImplementationPlanRow, ModelRow};
pub(crate) use sqlite::MIGRATOR as SQLITE_MIGRATOR;
pub use sync::{Client, DataScope, NewRevision, PullPage, Revision, StoredResult, WriteTx};

/// How long a request waits for a connection or for the write lock before 503.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Which engine a database URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `sqlite:…` or `postgres://…` / `postgresql://…`; anything else is refused.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// The connection pool of one backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// An open transaction of one backend; a writer's also holds this process's
/// write gate ([`Store::begin_immediate`]) until it ends.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>, #[allow(dead_code)] Option<WriteGuard>),
    Postgres(Transaction<'static, Postgres>, #[allow(dead_code)] Option<WriteGuard>),
}

/// This process's turn to write.
pub(crate) type WriteGuard = tokio::sync::OwnedMutexGuard<()>;

/// What the one SQL text cannot say the same way on both engines: each backend
/// module implements it with its own SQL (`sqlite.rs`, `postgres.rs`).
pub(crate) trait Dialect {
    /// A table of the text values in the JSON array bound as parameter `param`
    /// (`$2`): `unit_id IN (<this>)`. One parameter instead of one per unit — a
    /// province has hundreds of communes.
    fn json_text_values(param: &str) -> String;
    /// Like [`Dialect::json_text_values`] for a JSON array of integers.
    fn json_int_values(param: &str) -> String;
    /// One text holding a JSON array with one element per row of `FROM …` — rows
    /// cross sqlx's driver one by one, which for ~10,000 small rows costs more than
    /// the engine's own work (`examples/dashboard_bench.rs`). `items` are SQL
    /// expressions, each element is the array of them.
    fn json_rows(items: &[&str]) -> String;
    /// Like [`Dialect::json_rows`] with single values instead of arrays.
    fn json_values(item: &str) -> String;
    /// The texts of `expr` over the rows, joined with commas (NULL for no row).
    fn join_rows(expr: &str) -> String;
    /// `expr` (text) as a JSON string literal.
    fn json_quote(expr: &str) -> String;
    /// Foreign keys checked at commit instead of per statement, for the rest of
    /// the transaction.
    const DEFER_FOREIGN_KEYS: &'static str;
}

/// Runs `$body` once per backend with `$c` bound to the pool (`&SqlitePool` /
/// `&PgPool`); with `, $d` also binds `$d` as the backend's [`Dialect`] type.
macro_rules! on_pool {
    ($pool:expr, $c:ident => $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($c) => $body,
            $crate::store::Pool::Postgres($c) => $body,
        }
    };
    ($pool:expr, $c:ident, $d:ident => $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($c) => {
                #[allow(dead_code)]
                type $d = $crate::store::sqlite::Sql;
                $body
            }
            $crate::store::Pool::Postgres($c) => {
                #[allow(dead_code)]
                type $d = $crate::store::postgres::Sql;
                $body
            }
        }
    };
}

/// Runs `$body` once per backend with `$c` bound to the connection of `$tx`, a
/// `&mut Tx`: `&mut SqliteConnection` / `&mut PgConnection`, used as `&mut *$c`.
macro_rules! on_tx {
    ($tx:expr, $c:ident => $body:expr) => {
        match &mut *$tx {
            $crate::store::Tx::Sqlite(t, ..) => {
                let $c = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t, ..) => {
                let $c = &mut **t;
                $body
            }
        }
    };
    ($tx:expr, $c:ident, $d:ident => $body:expr) => {
        match &mut *$tx {
            $crate::store::Tx::Sqlite(t, ..) => {
                #[allow(dead_code)]
                type $d = $crate::store::sqlite::Sql;
                let $c = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t, ..) => {
                #[allow(dead_code)]
                type $d = $crate::store::postgres::Sql;
                let $c = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use {on_pool, on_tx};

/// Typed reads of a result row's columns, the same on both backends' row types:
/// row-to-struct helpers take `&impl Cols` and are written once.
pub(crate) trait Cols {
    fn text(&self, col: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, col: &str) -> Result<i64, sqlx::Error>;
    fn bytes(&self, col: &str) -> Result<Vec<u8>, sqlx::Error>;
    /// A boolean column or expression (SQLite: 0/1).
    fn flag(&self, col: &str) -> Result<bool, sqlx::Error>;
}

macro_rules! impl_cols {
    ($row:ty) => {
        impl Cols for $row {
            fn text(&self, col: &str) -> Result<String, sqlx::Error> {
                sqlx::Row::try_get(self, col)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
                sqlx::Row::try_get(self, col)
            }
            fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
                sqlx::Row::try_get(self, col)
            }
            fn bytes(&self, col: &str) -> Result<Vec<u8>, sqlx::Error> {
                sqlx::Row::try_get(self, col)
            }
            fn flag(&self, col: &str) -> Result<bool, sqlx::Error> {
                sqlx::Row::try_get(self, col)
            }
        }
    };
}
impl_cols!(sqlx::sqlite::SqliteRow);
impl_cols!(sqlx::postgres::PgRow);

/// A result row of either backend, so a row read in [`on_pool!`] can leave it.
pub(crate) enum DbRow {
    Sqlite(sqlx::sqlite::SqliteRow),
    Postgres(sqlx::postgres::PgRow),
}

impl From<sqlx::sqlite::SqliteRow> for DbRow {
    fn from(r: sqlx::sqlite::SqliteRow) -> Self {
        DbRow::Sqlite(r)
    }
}

impl From<sqlx::postgres::PgRow> for DbRow {
    fn from(r: sqlx::postgres::PgRow) -> Self {
        DbRow::Postgres(r)
    }
}

macro_rules! delegate {
    ($self:ident, $f:ident, $col:ident) => {
        match $self {
            DbRow::Sqlite(r) => r.$f($col),
            DbRow::Postgres(r) => r.$f($col),
        }
    };
}

impl Cols for DbRow {
    fn text(&self, col: &str) -> Result<String, sqlx::Error> {
        delegate!(self, text, col)
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, sqlx::Error> {
        delegate!(self, opt_text, col)
    }
    fn int(&self, col: &str) -> Result<i64, sqlx::Error> {
        delegate!(self, int, col)
    }
    fn bytes(&self, col: &str) -> Result<Vec<u8>, sqlx::Error> {
        delegate!(self, bytes, col)
    }
    fn flag(&self, col: &str) -> Result<bool, sqlx::Error> {
        delegate!(self, flag, col)
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(t, _) => t.commit().await,
            Tx::Postgres(t, _) => t.commit().await,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Writers of this process queue here, before they take a pooled connection:
    /// a writer waiting for the database's write lock would otherwise sit on a
    /// connection, and at a deadline the waiting writers would hold them all and
    /// starve every read.
    write_gate: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("không mở được cơ sở dữ liệu {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("DANVAN_DATABASE_URL không được hỗ trợ: {0} (dùng sqlite://… hoặc postgres://…)")]
    UnsupportedUrl(String),
    #[error("không tạo được thư mục {dir}: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("không áp dụng được migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("lỗi cơ sở dữ liệu: {0}")]
    Db(#[from] sqlx::Error),
    #[error("dữ liệu trong cơ sở dữ liệu không đọc được: {0}")]
    Corrupt(String),
}

/// Timestamps are stored as RFC 3339 UTC text with whole seconds, e.g.
/// `2024-03-14T09:30:00Z` (fixed width, so they also sort as text).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("thời điểm {s:?}: {e}")))
}

pub fn role_str(role: Role) -> &'static str {
    match role {
        Role::Reporter => "reporter",
        Role::Reviewer => "reviewer",
        Role::Aggregator => "aggregator",
        Role::Admin => "admin",
    }
}

pub(crate) fn parse_role(s: &str) -> Result<Role, StoreError> {
    Ok(match s {
        "reporter" => Role::Reporter,
        "reviewer" => Role::Reviewer,
        "aggregator" => Role::Aggregator,
        "admin" => Role::Admin,
        other => return Err(StoreError::Corrupt(format!("vai trò {other:?}"))),
    })
}

impl Store {
    /// Opens (creating a missing SQLite file with its directory) and migrates the
    /// database named by `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Self::open_with(url, StoreOptions::default()).await
    }

    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
        let pool = match Backend::of_url(url) {
            Some(Backend::Sqlite) => Pool::Sqlite(sqlite::open(url).await?),
            Some(Backend::Postgres) => Pool::Postgres(postgres::open(url, &options).await?),
            None => return Err(StoreError::UnsupportedUrl(redact_url(url))),
        };
        let store = Store { pool, write_gate: Arc::default() };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Idempotent: applied migrations are recorded in `_sqlx_migrations`.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(p) => sqlite::MIGRATOR.run(p).await?,
            Pool::Postgres(p) => postgres::MIGRATOR.run(p).await?,
        }
        Ok(())
    }

    pub async fn close(&self) {
        on_pool!(&self.pool, p => p.close().await)
    }

    pub fn is_closed(&self) -> bool {
        on_pool!(&self.pool, p => p.is_closed())
    }

    /// A read transaction: one consistent snapshot of every table.
    pub(crate) async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?, None),
            Pool::Postgres(p) => Tx::Postgres(postgres::begin_snapshot(p).await?, None),
        })
    }

    /// A write transaction holding the database's one write lock from its first
    /// statement to its commit: writers run one after the other (across every
    /// server process, on PostgreSQL), so what a writer reads stays true until it
    /// commits and change numbers are issued in commit order.
    ///
    /// Within this process writers first wait for the write gate, holding no
    /// connection, as long as the database would let them wait for its lock
    /// ([`BUSY_TIMEOUT`]); then the same "try again" (503) as a lock wait that
    /// timed out.
    pub(crate) async fn begin_immediate(&self) -> Result<Tx, sqlx::Error> {
        let gate = self.wait_write_gate().await?;
        Ok(match &self.pool {
            Pool::Sqlite(p) => Tx::Sqlite(sqlite::begin_immediate(p).await?, Some(gate)),
            Pool::Postgres(p) => Tx::Postgres(postgres::begin_immediate(p).await?, Some(gate)),
        })
    }

    async fn wait_write_gate(&self) -> Result<WriteGuard, sqlx::Error> {
        tokio::time::timeout(BUSY_TIMEOUT, self.write_gate.clone().lock_owned())
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)
    }

    /// A single-statement write's turn, taken before its connection: on SQLite
    /// every write takes the one database lock, so it queues at the write gate
    /// like a transaction does; PostgreSQL locks rows, so there it need not.
    pub(crate) async fn write_turn(&self) -> Result<Option<WriteGuard>, sqlx::Error> {
        match self.pool {
            Pool::Sqlite(_) => Ok(Some(self.wait_write_gate().await?)),
            Pool::Postgres(_) => Ok(None),
        }
    }

    /// A best-effort write's turn (a device's last-seen time): None while other
    /// writers hold or wait for the gate — the write is skipped, not queued, so
    /// the request it rides on is not slowed; a later request makes it.
    pub(crate) fn write_turn_if_free(&self) -> Option<Option<WriteGuard>> {
        match self.pool {
            Pool::Sqlite(_) => self.write_gate.clone().try_lock_owned().ok().map(Some),
            Pool::Postgres(_) => Some(None),
        }
    }

    /// The serving processes connected to this database other than this one, by
    /// address (PostgreSQL; on SQLite the database lock of `backup.rs` already
    /// keeps a command and a server apart, so none are listed).
    pub async fn other_servers(&self) -> Result<Vec<String>, sqlx::Error> {
        match &self.pool {
            Pool::Sqlite(_) => Ok(Vec::new()),
            Pool::Postgres(p) => postgres::other_servers(p).await,
        }
    }

    /// The database's epoch, made (randomly, by the caller) the first time.
    pub async fn ensure_epoch(&self, fresh_epoch: &str) -> Result<String, sqlx::Error> {
        on_pool!(&self.pool, db => {
            sqlx::query("INSERT INTO sync_state (id, epoch, last_change_seq) VALUES (1, $1, 0) ON CONFLICT (id) DO NOTHING")
                .bind(fresh_epoch)
                .execute(db)
                .await?;
            sqlx::query_scalar("SELECT epoch FROM sync_state WHERE id = 1").fetch_one(db).await
        })
    }

    /// The epoch as it is now (another process, or `danvan-server new-epoch`, may
    /// have renewed it since this one started).
    pub async fn epoch(&self) -> Result<String, sqlx::Error> {
        on_pool!(&self.pool, db => sqlx::query_scalar("SELECT epoch FROM sync_state WHERE id = 1").fetch_one(db).await)
    }

    /// Gives the database a new epoch: run after restoring it from a backup, so
    /// every device notices, resynchronises from scratch and sends back what the
    /// backup lacks (a restored database otherwise keeps the backup's epoch).
    pub async fn renew_epoch(&self, fresh_epoch: &str) -> Result<(), sqlx::Error> {
        on_pool!(&self.pool, db => {
            sqlx::query("UPDATE sync_state SET epoch = $1 WHERE id = 1").bind(fresh_epoch).execute(db).await?;
        });
        Ok(())
    }
}

/// Settings of the connection pool (`DANVAN_DATABASE_POOL`).
#[derive(Clone, Copy, Debug)]
pub struct StoreOptions {
    /// PostgreSQL connections per process; SQLite keeps its own fixed pool.
    pub max_connections: u32,
    /// What the process is, as PostgreSQL shows it (`application_name`):
    /// [`SERVER_APPLICATION`] for a serving process, so a command that must run
    /// alone can see whether one is still connected ([`Store::other_servers`]).
    pub application_name: &'static str,
}

/// `application_name` of a serving `danvan-server` process.
pub const SERVER_APPLICATION: &str = "danvan-server";

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { max_connections: 16, application_name: "danvan-tool" }
    }
}

/// `url` without its password, for messages and logs.
pub fn redact_url(url: &str) -> String {
    postgres::redact(url)
}

/// A database error worth a retry (503 with Retry-After): the write lock or a
/// connection not had in time, or the engine's own "try again" codes.
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => sqlite::is_transient_code(db.as_ref()) || postgres::is_transient_code(db.as_ref()),
        // Only PostgreSQL talks over a socket: the database restarting or failing
        // over. The phone retries; nothing was committed without an answer.
        sqlx::Error::Io(_) => true,
        _ => false,
    }
}

impl From<StoreError> for crate::error::AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Db(e) => e.into(),
            other => crate::error::AppError::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    use danvan_core::{OrgUnit, UnitKind};

    fn unit(id: &str, kind: UnitKind, parent: Option<&str>) -> OrgUnit {
        OrgUnit::new(id, id, id, kind, parent)
    }

    /// A fresh database: a SQLite file in `dir`, or a new PostgreSQL database when
    /// `DANVAN_TEST_POSTGRES` names a server (`scripts/with-postgres.sh`).
    async fn fresh_database(dir: &Path, name: &str) -> String {
        match std::env::var("DANVAN_TEST_POSTGRES").ok().filter(|v| !v.is_empty()) {
            None => format!("sqlite://{}/nested/dir/{name}.db", dir.display()),
            Some(server) => {
                use sqlx::migrate::MigrateDatabase;
                let (base, _) = server.rsplit_once('/').unwrap();
                let unique = format!("u_{name}_{}", crate::auth::random_hex(6));
                let url = format!("{base}/{unique}");
                Postgres::create_database(&url).await.unwrap();
                url
            }
        }
    }

    #[tokio::test]
    async fn roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        let url = fresh_database(dir.path(), "roundtrip").await;
        let store = Store::open(&url).await.unwrap();
        if store.backend() == Backend::Sqlite {
            assert!(dir.path().join("nested/dir/roundtrip.db").exists(), "the file and its directories are made");
        }
        // Child listed before its parent: deferred foreign keys accept it.
        let units = vec![unit("p.d", UnitKind::District, Some("p")), unit("p", UnitKind::Province, None)];
        let epoch = store.ensure_epoch("first").await.unwrap();
        let audit = NewAudit { action: "units.import", target: None, unit_id: None, detail: None };
        let v1 = store.save_units(&units, &Actor::cli(), &audit, Utc::now()).await.unwrap();
        let v2 = store.save_units(&units, &Actor::cli(), &audit, Utc::now()).await.unwrap();
        assert_eq!(v2, v1 + 1, "every change moves the catalog version");
        assert_eq!(store.catalog_version().await.unwrap(), v2);
        assert_eq!(store.units().await.unwrap(), units);
        // History round-trips: dates, successors, designation.
        let mut closed = unit("p.d.c", UnitKind::Commune, Some("p.d"));
        closed.valid_to = chrono::NaiveDate::from_ymd_opt(2025, 6, 30);
        closed.successors = vec!["p.w".into()];
        let mut ward = unit("p.w", UnitKind::Commune, Some("p"));
        ward.valid_from = chrono::NaiveDate::from_ymd_opt(2025, 7, 1);
        ward.designation = Some(danvan_core::unit::Designation::Ward);
        let with_history = [units.clone(), vec![closed, ward]].concat();
        store.save_units(&with_history, &Actor::cli(), &audit, Utc::now()).await.unwrap();
        assert_eq!(store.units().await.unwrap(), with_history);
        assert_eq!(store.ensure_epoch("second").await.unwrap(), epoch);
        store.renew_epoch("after-restore").await.unwrap();
        assert_eq!(store.ensure_epoch("third").await.unwrap(), "after-restore");

        let now = Utc::now();
        let new =
            NewUser { username: "a", display_name: "A", password_hash: "h", role: Role::Reviewer, unit_id: "p.d" };
        assert!(store.create_user_if_absent(&new, now).await.unwrap());
        assert!(!store.create_user_if_absent(&new, now).await.unwrap());
        let u = store.user_by_username("a").await.unwrap().unwrap();
        assert_eq!(u.user.role, Role::Reviewer);
        let device = |token: &'static str, expires_at| NewDevice {
            token_hash: token,
            name: "Chrome trên Android",
            app_version: Some("0.1.0"),
            expires_at,
            address: None,
        };
        let d1 = store.create_device(u.user.id, &device("t1", now + chrono::Duration::days(1)), now).await.unwrap();
        store.create_device(u.user.id, &device("t0", now - chrono::Duration::days(1)), now).await.unwrap();
        assert!(
            matches!(store.token_lookup("t1", now).await.unwrap(), TokenLookup::Active { user, .. } if user.username == "a")
        );
        assert!(
            matches!(store.token_lookup("t0", now).await.unwrap(), TokenLookup::Invalid),
            "past its absolute expiry"
        );
        assert!(matches!(store.token_lookup("nope", now).await.unwrap(), TokenLookup::Invalid));
        assert!(store.end_device(d1, "logout", None, now).await.unwrap());
        assert!(!store.end_device(d1, "logout", None, now).await.unwrap(), "once");
        assert!(
            matches!(store.token_lookup("t1", now).await.unwrap(), TokenLookup::Ended { reason } if reason == "logout")
        );
        // Idle: not seen for longer than the idle expiry.
        let later = now + crate::auth::idle_expiry() + chrono::Duration::seconds(1);
        store.create_device(u.user.id, &device("t2", later + chrono::Duration::days(1)), now).await.unwrap();
        assert!(matches!(store.token_lookup("t2", later).await.unwrap(), TokenLookup::Invalid));

        // A user in an unknown unit violates the foreign key.
        let bad = NewUser { unit_id: "nowhere", username: "b", ..new };
        assert!(store.create_user_if_absent(&bad, now).await.is_err());
        store.close().await;
    }

    #[test]
    fn urls_name_their_backend_and_lose_their_password_in_messages() {
        assert_eq!(Backend::of_url("sqlite://data/danvan.db"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(Backend::of_url("postgres://u:p@h/db"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("postgresql://h/db"), Some(Backend::Postgres));
        assert_eq!(Backend::of_url("mysql://h/db"), None);
        let shown = redact_url("postgres://danvan:bí-mật@db.example.vn:5432/danvan?sslmode=require");
        assert!(!shown.contains("bí-mật") && !shown.contains("b%C3%AD"), "{shown}");
        assert!(shown.contains("danvan:***@db.example.vn:5432/danvan?sslmode=require"), "{shown}");
        assert_eq!(redact_url("sqlite://data/danvan.db"), "sqlite://data/danvan.db");
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_without_its_password() {
        let err = Store::open("mysql://root:hunter2@db/x").await.unwrap_err();
        assert!(matches!(&err, StoreError::UnsupportedUrl(u) if !u.contains("hunter2")), "{err}");
    }

    #[test]
    fn timestamps_are_fixed_width_rfc3339() {
        let t = DateTime::parse_from_rfc3339("2024-03-14T09:30:00.123456Z").unwrap().with_timezone(&Utc);
        assert_eq!(ts(t), "2024-03-14T09:30:00Z");
        assert_eq!(parse_ts("2024-03-14T09:30:00Z").unwrap().timestamp(), t.timestamp());
    }
}
