//! Reads that look at the database as a whole rather than at one feature — row
//! counts, outcomes of sync, applied migrations — and the few operator actions that
//! go with them (cutting off a lost phone, holding the write lock for a maintenance
//! window). They are what a `danvan-server stats` command would print, and what the
//! integration tests check a request's effects with: the tests never carry SQL of
//! their own, so they run unchanged on both backends.
//!
//! The tests at the bottom of this file check what only SQL can see — the schema's
//! own guarantees (the append-only audit log, SQLite's journal mode, the table list
//! below) — on SQLite and, when `DANVAN_TEST_POSTGRES` names a server, PostgreSQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::accounts::append_audit;
use super::{on_pool, on_tx, Actor, NewAudit, Store, StoreError, Tx};

/// Every table of the schema, the same on both backends (`migrations/sqlite`,
/// `migrations/postgres`), in the order the migrations create them. The
/// migrator's own `_sqlx_migrations` is read by [`Store::migrations`] instead. A
/// test below compares this list with the schema, so a new table cannot be
/// forgotten here.
pub const TABLES: [&str; 18] = [
    "units",
    "plans",
    "users",
    "sync_state",
    "forms",
    "reports",
    "report_revisions",
    "clients",
    "mutation_results",
    "attachments",
    "implementation_plans",
    "movement_models",
    "devices",
    "enrolment_codes",
    "audit_log",
    "plan_versions",
    "catalog_packages",
    "login_failures",
];

/// One migration recorded as applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub description: String,
    /// False when it failed halfway (the migrator then refuses to start).
    pub success: bool,
}

/// The database's write lock, held until [`WriteLock::release`] (or drop): every
/// writer — requests of every server process, commands — waits for it, readers do
/// not. See [`Store::hold_write_lock`].
pub struct WriteLock {
    tx: Tx,
}

impl WriteLock {
    /// Lets the waiting writers go; nothing was written under the lock.
    pub async fn release(self) -> Result<(), StoreError> {
        match self.tx {
            Tx::Sqlite(t, _) => t.rollback().await?,
            Tx::Postgres(t, _) => t.rollback().await?,
        }
        Ok(())
    }
}

impl Store {
    /// Rows per table, for every table of [`TABLES`], read in one statement (one
    /// consistent snapshot on both backends).
    pub async fn row_counts(&self) -> Result<BTreeMap<&'static str, i64>, StoreError> {
        // COUNT(*) is BIGINT on PostgreSQL, INTEGER on SQLite: i64 on both. The
        // table names are the constants above, never input.
        let sql = TABLES
            .iter()
            .map(|t| format!("SELECT '{t}' AS name, COUNT(*) AS n FROM {t}"))
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        let rows: Vec<(String, i64)> = on_pool!(&self.pool, db => sqlx::query_as(&sql).fetch_all(db).await?);
        rows.into_iter()
            .map(|(name, n)| {
                let table =
                    TABLES.iter().find(|t| **t == name).ok_or_else(|| StoreError::Corrupt(format!("bảng {name:?}")))?;
                Ok((*table, n))
            })
            .collect()
    }

    /// Reports per status (`draft`, `submitted`, `returned`, `accepted`); a status
    /// no report has is absent.
    pub async fn report_status_counts(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        let rows: Vec<(String, i64)> = on_pool!(&self.pool, db => {
            sqlx::query_as("SELECT status, COUNT(*) FROM reports GROUP BY status").fetch_all(db).await?
        });
        Ok(rows.into_iter().collect())
    }

    /// Stored answers to mutations by outcome (`applied`, `conflict`, `rejected`):
    /// how sync is going. Refused mutations are the ones worth a look.
    pub async fn mutation_outcomes(&self) -> Result<BTreeMap<String, i64>, StoreError> {
        // `result` is a serialized `MutationResult`, externally tagged: the outcome
        // is its first key. Matched by prefix so the count stays in the database.
        let rows: Vec<(String, i64)> = on_pool!(&self.pool, db => {
            sqlx::query_as(
                r#"SELECT CASE WHEN result LIKE '{"applied":%' THEN 'applied'
                               WHEN result LIKE '{"conflict":%' THEN 'conflict'
                               WHEN result LIKE '{"rejected":%' THEN 'rejected'
                               ELSE 'other' END AS outcome,
                          COUNT(*) AS n
                   FROM mutation_results GROUP BY 1"#,
            )
            .fetch_all(db)
            .await?
        });
        Ok(rows.into_iter().collect())
    }

    /// The version of its plan a stored report was last checked against
    /// (`NewRevision::plan_version`), None for an unknown report: which rules a
    /// filed report answered to when someone asks after a correction of the plan.
    pub async fn report_plan_version(&self, report_id: &str) -> Result<Option<i64>, StoreError> {
        Ok(on_pool!(&self.pool, db => {
            sqlx::query_scalar("SELECT plan_version FROM reports WHERE id = $1")
                .bind(report_id)
                .fetch_optional(db)
                .await?
        }))
    }

    /// The migrations recorded as applied, oldest first: the schema version an
    /// operator checks after an upgrade.
    pub async fn migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let rows: Vec<(i64, String, bool)> = on_pool!(&self.pool, db => {
            sqlx::query_as("SELECT version, description, success FROM _sqlx_migrations ORDER BY version")
                .fetch_all(db)
                .await?
        });
        Ok(rows
            .into_iter()
            .map(|(version, description, success)| AppliedMigration { version, description, success })
            .collect())
    }

    /// Cuts a sync client (a lost or handed-on phone) off: its pushes and pulls are
    /// refused from now on, whoever signs in on it. Audited. Returns false when the
    /// client is unknown or was already revoked.
    pub async fn revoke_client(&self, client_id: &str, actor: &Actor, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.begin_immediate().await?;
        // `revoked` is BOOLEAN on PostgreSQL and 0/1 on SQLite: TRUE / NOT read
        // the same on both.
        let owner: Option<(String, String)> = on_tx!(&mut tx, db => sqlx::query_as(
            "UPDATE clients SET revoked = TRUE WHERE client_id = $1 AND NOT revoked
             RETURNING (SELECT username FROM users WHERE users.id = user_id),
                       (SELECT unit_id FROM users WHERE users.id = user_id)",
        )
        .bind(client_id)
        .fetch_optional(&mut *db)
        .await?);
        let Some((username, unit_id)) = owner else { return Ok(false) };
        let audit = NewAudit {
            action: "client.revoke",
            target: Some(&username),
            unit_id: Some(&unit_id),
            detail: Some(client_id.to_string()),
        };
        append_audit(&mut tx, actor, &audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Takes the database's one write lock — what every writer takes first
    /// (`Store::begin_immediate`) — and holds it until the guard is released: a
    /// maintenance window in which requests that write wait, then get 503 with
    /// Retry-After once the lock wait times out (SQLite's busy timeout,
    /// PostgreSQL's lock_timeout), while reads carry on.
    pub async fn hold_write_lock(&self) -> Result<WriteLock, StoreError> {
        Ok(WriteLock { tx: self.begin_immediate().await? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::str::FromStr;

    use sqlx::migrate::MigrateDatabase;
    use sqlx::Connection;

    use crate::store::{Backend, Pool};

    /// The database URLs to check the schema on: a SQLite file in `dir`, and a
    /// fresh PostgreSQL database when `DANVAN_TEST_POSTGRES` names a server
    /// (`scripts/with-postgres.sh`), as the integration tests do.
    async fn urls(dir: &std::path::Path) -> Vec<String> {
        let mut urls = vec![format!("sqlite://{}", dir.join("t.db").display())];
        if let Some(server) = std::env::var("DANVAN_TEST_POSTGRES").ok().filter(|v| !v.trim().is_empty()) {
            let (base, _) = server.rsplit_once('/').expect("DANVAN_TEST_POSTGRES ends with /database");
            let url = format!("{base}/t_inspect_{}", crate::auth::random_hex(6));
            sqlx::Postgres::create_database(&url).await.unwrap();
            urls.push(url);
        }
        eprintln!("checked on {}", urls.iter().map(|u| crate::store::redact_url(u)).collect::<Vec<_>>().join(", "));
        urls
    }

    #[tokio::test]
    async fn tables_is_the_schema_and_row_counts_cover_it() {
        let dir = tempfile::tempdir().unwrap();
        for url in urls(dir.path()).await {
            let store = Store::open(&url).await.unwrap();
            let mut schema: Vec<String> = on_pool!(&store.pool, db, D => {
                let sql = match store.backend() {
                    Backend::Sqlite => {
                        "SELECT name FROM sqlite_master WHERE type = 'table'
                           AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'"
                    }
                    Backend::Postgres => {
                        "SELECT CAST(table_name AS TEXT) FROM information_schema.tables
                         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
                           AND table_name <> '_sqlx_migrations'"
                    }
                };
                sqlx::query_scalar(sql).fetch_all(db).await.unwrap()
            });
            schema.sort();
            let mut listed: Vec<&str> = TABLES.to_vec();
            listed.sort();
            assert_eq!(schema, listed, "{url}");

            let counts = store.row_counts().await.unwrap();
            assert_eq!(counts.keys().copied().collect::<Vec<_>>(), listed);
            assert!(counts.values().all(|n| *n == 0), "a fresh database: {counts:?}");
            store.ensure_epoch("e").await.unwrap();
            assert_eq!(store.row_counts().await.unwrap()["sync_state"], 1);
            let migrations = store.migrations().await.unwrap();
            assert!(!migrations.is_empty() && migrations.iter().all(|m| m.success), "{migrations:?}");
            store.close().await;
        }
    }

    /// The audit log is append-only in the schema itself (triggers:
    /// migrations/sqlite/0005_accounts.sql, migrations/postgres/0001_schema.sql), so
    /// not even SQL typed at the database changes what was recorded. No store method
    /// edits the log, so this is checked with SQL of its own, here, on both engines.
    #[tokio::test]
    async fn the_audit_log_refuses_changes_on_both_backends() {
        let dir = tempfile::tempdir().unwrap();
        for url in urls(dir.path()).await {
            let store = Store::open(&url).await.unwrap();
            let audit = NewAudit { action: "admin.create", target: Some("quantri"), unit_id: None, detail: None };
            store.audit(&Actor::cli(), &audit, Utc::now()).await.unwrap();
            let mut refusals = vec!["UPDATE audit_log SET actor = 'someone'", "DELETE FROM audit_log"];
            if store.backend() == Backend::Postgres {
                refusals.push("TRUNCATE audit_log");
            }
            for sql in refusals {
                let res = on_pool!(&store.pool, db => sqlx::query(sql).execute(db).await.map(|_| ()));
                let err = res.expect_err(sql);
                assert!(err.to_string().contains("append-only"), "{url}: {sql}: {err}");
            }
            let entries = store.audit_entries(&crate::store::DataScope::All, None, 10).await.unwrap();
            assert_eq!(entries.len(), 1, "{url}");
            assert_eq!((entries[0].actor.as_str(), entries[0].action.as_str()), ("cli", "admin.create"));
            store.close().await;
        }
    }

    /// WAL: readers are not blocked by the writer (reads keep working while a push
    /// holds the write lock). A property of the file, which keeps it once set;
    /// checked on a fresh connection after the store closed.
    #[tokio::test]
    async fn a_sqlite_database_is_left_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("nested/danvan.db").display());
        let store = Store::open(&url).await.unwrap();
        assert!(matches!(store.pool, Pool::Sqlite(_)));
        store.close().await;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut conn).await.unwrap();
        assert_eq!(mode, "wal");
        conn.close().await.unwrap();
    }

    /// Revisions written when they still held a copy of the report keep their
    /// status through the migration that drops the copy
    /// (migrations/sqlite/0008_revisions_without_copy.sql,
    /// migrations/postgres/0003_revisions_without_copy.sql): the old rows are
    /// written with the old schema's SQL, then the store opens the database.
    #[tokio::test]
    async fn revisions_keep_their_status_when_the_copy_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        for url in urls(dir.path()).await {
            let backend = Backend::of_url(&url).unwrap();
            let (all, first_new) = match backend {
                Backend::Sqlite => (&crate::store::sqlite::MIGRATOR, 8),
                Backend::Postgres => (&crate::store::postgres::MIGRATOR, 3),
            };
            let before = sqlx::migrate::Migrator {
                migrations: all.migrations.iter().filter(|m| m.version < first_new).cloned().collect::<Vec<_>>().into(),
                ..sqlx::migrate::Migrator::DEFAULT
            };
            // Only the revisions matter here: foreign keys are not checked while
            // the old rows are planted (SQLite: off; PostgreSQL: replica role).
            let old_rows = [(1, "draft", r#"{"save":{"set":{"a":"1"}}}"#), (2, "submitted", r#""submit""#)];
            let insert = "INSERT INTO report_revisions (report_id, version, client_id, mutation_id, user_id, op, data, created_at)
                          VALUES ('r', $1, 'c', $1, 1, $2, $3, '2024-03-01T00:00:00Z')";
            match backend {
                Backend::Sqlite => {
                    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
                        .unwrap()
                        .create_if_missing(true)
                        .foreign_keys(false);
                    let mut conn = sqlx::SqliteConnection::connect_with(&options).await.unwrap();
                    before.run(&mut conn).await.unwrap();
                    for (version, status, op) in old_rows {
                        let data = format!(r#"{{"status":"{status}","values":{{"a":"1"}}}}"#);
                        sqlx::query(insert).bind(version).bind(op).bind(data).execute(&mut conn).await.unwrap();
                    }
                    conn.close().await.unwrap();
                }
                Backend::Postgres => {
                    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
                    before.run(&mut conn).await.unwrap();
                    sqlx::query("SET session_replication_role = replica").execute(&mut conn).await.unwrap();
                    for (version, status, op) in old_rows {
                        let data = format!(r#"{{"status":"{status}","values":{{"a":"1"}}}}"#);
                        sqlx::query(insert).bind(version as i64).bind(op).bind(data).execute(&mut conn).await.unwrap();
                    }
                    conn.close().await.unwrap();
                }
            }
            let store = Store::open(&url).await.unwrap();
            let statuses: Vec<(i64, String)> = on_pool!(&store.pool, db => {
                sqlx::query_as("SELECT version, status FROM report_revisions ORDER BY version").fetch_all(db).await.unwrap()
            });
            assert_eq!(statuses, [(1, "draft".to_string()), (2, "submitted".to_string())], "{url}");
            store.close().await;
        }
    }
}
