//! Persistence. Every SQL statement of the server lives in this module so a second
//! backend can be added in one place.
//!
//! PostgreSQL seam: today `Store` wraps a `SqlitePool`. To add PostgreSQL, turn the
//! pool into `enum Backend { Sqlite(SqlitePool), Postgres(PgPool) }` (or use
//! `sqlx::Any`), give it its own `migrations/postgres` directory, and keep the
//! method signatures below unchanged; handlers only ever see these methods and the
//! plain data types they return. The SQL used here is deliberately portable
//! (`ON CONFLICT ... DO UPDATE`, `RETURNING`, RFC 3339 text timestamps) except for
//! the placeholders (`?` vs `$1`) and two places documented in `sync.rs`:
//! `BEGIN IMMEDIATE` and `json_each`.
//!
//! Layout: users, sessions and the catalog here; report sync in `sync.rs`;
//! attachment bytes in `attachments.rs`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use danvan_core::api::Role;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

mod accounts;
mod attachments;
mod catalog;
mod review;
mod sync;

pub use accounts::{
    AccountFields, Actor, CodeState, DeviceOwner, NewAudit, NewCode, NewDevice, NewUser, TokenLookup, User,
    UserWithHash,
};
pub use attachments::{AttachmentMeta, NewAttachment, Stored};
pub use catalog::PlanVersion;
pub use review::{ImplementationPlanRow, ModelRow};
pub use sync::{Client, DataScope, NewRevision, PullPage, Revision, StoredResult, WriteTx};

/// How long a connection waits on a locked database before SQLITE_BUSY (→ 503).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("không mở được cơ sở dữ liệu {url}: {source}")]
    Open { url: String, source: sqlx::Error },
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
    /// Opens (creating if missing, with its directory) and migrates the database.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
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
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(BUSY_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        let store = Store { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Idempotent: applied migrations are recorded in `_sqlx_migrations`.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations").run(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn is_closed(&self) -> bool {
        self.pool.is_closed()
    }

    /// The database's epoch, made (randomly, by the caller) the first time.
    pub async fn ensure_epoch(&self, fresh_epoch: &str) -> Result<String, sqlx::Error> {
        sqlx::query("INSERT INTO sync_state (id, epoch, last_change_seq) VALUES (1, ?, 0) ON CONFLICT (id) DO NOTHING")
            .bind(fresh_epoch)
            .execute(&self.pool)
            .await?;
        sqlx::query_scalar("SELECT epoch FROM sync_state WHERE id = 1").fetch_one(&self.pool).await
    }

    /// Gives the database a new epoch: run after restoring it from a backup, so
    /// every device notices, resynchronises from scratch and sends back what the
    /// backup lacks (a restored database otherwise keeps the backup's epoch).
    pub async fn renew_epoch(&self, fresh_epoch: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sync_state SET epoch = ? WHERE id = 1").bind(fresh_epoch).execute(&self.pool).await?;
        Ok(())
    }
}

fn is_in_memory(file: &Path) -> bool {
    let s = file.to_string_lossy();
    s == ":memory:" || s.starts_with("file:sqlx-in-memory")
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
    use super::*;

    use danvan_core::{OrgUnit, UnitKind};

    fn unit(id: &str, kind: UnitKind, parent: Option<&str>) -> OrgUnit {
        OrgUnit::new(id, id, id, kind, parent)
    }

    #[tokio::test]
    async fn roundtrip_in_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/dir/t.db", dir.path().display());
        let store = Store::open(&url).await.unwrap();
        assert!(dir.path().join("nested/dir/t.db").exists());
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
    fn timestamps_are_fixed_width_rfc3339() {
        let t = DateTime::parse_from_rfc3339("2024-03-14T09:30:00.123456Z").unwrap().with_timezone(&Utc);
        assert_eq!(ts(t), "2024-03-14T09:30:00Z");
        assert_eq!(parse_ts("2024-03-14T09:30:00Z").unwrap().timestamp(), t.timestamp());
    }
}
