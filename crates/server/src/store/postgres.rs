//! The PostgreSQL backend: one database shared by any number of server processes.
//!
//! Writers serialise on one row lock — `sync_state`, taken `FOR UPDATE` as the
//! first statement of every write transaction — which is what SQLite's
//! `BEGIN IMMEDIATE` gives the embedded backend: a writer's reads stay true until it
//! commits, and the change counter it advances is read and written under the lock,
//! so change numbers are issued in commit order in every process and a pull
//! (`change_seq > cursor`) can never skip a change that commits later with a
//! smaller number. Readers are never blocked (MVCC).

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool, Postgres, Transaction};

use super::{Dialect, StoreError, StoreOptions, BUSY_TIMEOUT, SERVER_APPLICATION};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub(super) async fn open(url: &str, settings: &StoreOptions) -> Result<PgPool, StoreError> {
    let open_err = |source| StoreError::Open { url: redact(url), source };
    let options: PgConnectOptions = url.parse().map_err(open_err)?;
    let options = options.application_name(settings.application_name);
    // Writers queue on the lock inside the database; a statement stuck longer
    // than this is a fault, not a queue (the request gets 503 and is retried).
    let options = options.options([("lock_timeout", "5s"), ("statement_timeout", "60s")]);
    PgPoolOptions::new()
        .max_connections(settings.max_connections.max(2))
        .acquire_timeout(BUSY_TIMEOUT)
        .idle_timeout(Duration::from_secs(300))
        .connect_with(options)
        .await
        .map_err(open_err)
}

/// A URL without its password, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Addresses (or "local") of the other sessions of serving processes on this
/// database.
pub(super) async fn other_servers(pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(host(client_addr), 'local') FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()
          GROUP BY 1 ORDER BY 1",
    )
    .bind(SERVER_APPLICATION)
    .fetch_all(pool)
    .await
}

/// `REPEATABLE READ, READ ONLY`: every statement of the transaction sees the same
/// snapshot, as a SQLite read transaction in WAL mode does.
pub(super) async fn begin_snapshot(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await
}

/// See the module's comment: the one write lock, as `BEGIN IMMEDIATE`.
pub(super) async fn begin_immediate(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    tx.execute("SELECT 1 FROM sync_state WHERE id = 1 FOR UPDATE").await?;
    Ok(tx)
}

/// serialization_failure, deadlock_detected, lock_not_available (lock_timeout),
/// query_canceled (statement_timeout), too_many_connections, cannot_connect_now,
/// admin_shutdown / crash_shutdown (a restart or failover).
pub(super) fn is_transient_code(db: &dyn sqlx::error::DatabaseError) -> bool {
    db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some()
        && db.code().is_some_and(|c| {
            matches!(&*c, "40001" | "40P01" | "55P03" | "57014" | "53300" | "57P03" | "57P01" | "57P02")
        })
}

/// PostgreSQL's spelling of [`Dialect`].
pub(crate) struct Sql;

impl Dialect for Sql {
    fn json_text_values(param: &str) -> String {
        format!("SELECT jsonb_array_elements_text(CAST({param} AS jsonb))")
    }

    fn json_int_values(param: &str) -> String {
        format!("SELECT CAST(jsonb_array_elements_text(CAST({param} AS jsonb)) AS BIGINT)")
    }

    fn json_rows(items: &[&str]) -> String {
        format!("CAST(COALESCE(json_agg(json_build_array({})), '[]') AS TEXT)", items.join(", "))
    }

    fn json_values(item: &str) -> String {
        format!("CAST(COALESCE(json_agg({item}), '[]') AS TEXT)")
    }

    fn join_rows(expr: &str) -> String {
        format!("string_agg({expr}, ',')")
    }

    fn json_quote(expr: &str) -> String {
        format!("CAST(to_json({expr}) AS TEXT)")
    }

    /// The deferrable ones: `units.parent` (migrations/postgres).
    const DEFER_FOREIGN_KEYS: &'static str = "SET CONSTRAINTS ALL DEFERRED";
}
