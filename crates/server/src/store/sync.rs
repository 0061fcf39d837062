//! SQL of report sync: clients, mutation results, reports, revisions, pulls.
//! The push algorithm itself (what to do with a mutation) is `crate::sync`; this
//! module only reads and writes rows.
//!
//! The SQL is one text for both backends (see `store/mod.rs`); the write lock that
//! makes change numbers follow commit order is each backend's `begin_immediate`.

use chrono::{DateTime, Utc};
use danvan_core::sync::{MutationOp, MutationResult};
use danvan_core::{Report, ReportStatus};

use super::{on_pool, on_tx, parse_ts, ts, Cols, DbRow, Dialect, Store, StoreError, Tx};

/// A device's sync registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub user_id: i64,
    pub last_mutation_id: u64,
    pub revoked: bool,
}

/// What was answered to a mutation, for replays.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredResult {
    pub content_hash: String,
    pub result: MutationResult,
}

/// Which reports a pull may return.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataScope {
    All,
    Units(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct PullPage {
    /// The cursor the page was read from: the requested one, or 0 when the requested
    /// one lies beyond the server's counter (then the caller must report a reset).
    pub from: u64,
    pub last_change_seq: u64,
    /// (change_seq, report), in change_seq order.
    pub rows: Vec<(u64, Report)>,
    pub has_more: bool,
}

/// One entry of a report's history, with the author's display name. A revision
/// keeps the operation and the status it left, not a copy of the report: the
/// values at any version are the saves' `set`s applied in order
/// (`danvan_core::report::apply_set`), which is what the history shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Revision {
    pub version: u64,
    pub client_id: String,
    pub mutation_id: u64,
    pub user: String,
    pub op: MutationOp,
    /// The report's status after this change.
    pub status: ReportStatus,
    pub created_at: DateTime<Utc>,
}

/// Data of an applied change, written as a revision.
pub struct NewRevision<'a> {
    pub client_id: &'a str,
    pub mutation_id: u64,
    pub user_id: i64,
    pub op: &'a MutationOp,
    pub at: DateTime<Utc>,
    /// The version of the report's plan a reporter's change was checked against
    /// (`reports.plan_version`); 0 for a reviewer's, which leaves it as filed.
    pub plan_version: u32,
}

/// Ids, versions and counters are u64 in the API and INTEGER (i64) in SQL. The push
/// handler refuses ids beyond i64::MAX, so this only fails on a corrupt database.
fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("số {n} quá lớn")))
}

fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("số âm {n}")))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn from_json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    user_id: i64,
    last_mutation_id: i64,
    revoked: bool,
}

impl ClientRow {
    fn into_client(self) -> Result<Client, StoreError> {
        Ok(Client {
            client_id: self.client_id,
            user_id: self.user_id,
            last_mutation_id: to_u64(self.last_mutation_id)?,
            revoked: self.revoked,
        })
    }
}

const CLIENT: &str = "SELECT client_id, user_id, last_mutation_id, revoked FROM clients WHERE client_id = $1";

impl Store {
    pub async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let row: Option<ClientRow> =
            on_pool!(&self.pool, db => sqlx::query_as(CLIENT).bind(client_id).fetch_optional(db).await?);
        row.map(ClientRow::into_client).transpose()
    }

    /// A push's write transaction, holding the write lock from the start
    /// ([`Store::begin_immediate`]): concurrent pushes wait and run one after the
    /// other, and the change counter is read and advanced under the lock.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        let mut tx = self.begin_immediate().await?;
        // Read once under the lock: the counter this push will advance, and the
        // catalog version, which another server process may have moved since this
        // one loaded its catalog.
        let (last_change_seq, catalog_version): (i64, i64) = on_tx!(&mut tx, db => {
            sqlx::query_as("SELECT last_change_seq, catalog_version FROM sync_state WHERE id = 1")
                .fetch_one(&mut *db)
                .await?
        });
        Ok(WriteTx { tx, last_change_seq, change_seq: None, catalog_version })
    }

    /// Changes after `cursor` in `scope`, at most `limit` of them and at most
    /// `max_bytes` of report JSON (but always one, however large), read in one
    /// snapshot (a single read transaction: one consistent view of every table).
    ///
    /// Restarts from 0 (`from` = 0) when `cursor` lies beyond the counter: the
    /// client's state cannot come from this database.
    pub async fn pull(
        &self,
        cursor: u64,
        scope: &DataScope,
        limit: usize,
        max_bytes: usize,
    ) -> Result<PullPage, StoreError> {
        let mut tx = self.begin_read().await?;
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        let (last_change_seq, from, rows) = on_tx!(&mut tx, db, D => {
            let last: i64 =
                sqlx::query_scalar("SELECT last_change_seq FROM sync_state WHERE id = 1").fetch_one(&mut *db).await?;
            let last_change_seq = to_u64(last)?;
            let from = if cursor > last_change_seq { 0 } else { cursor };
            let rows: Vec<(i64, String)> = match scope {
                DataScope::All => {
                    sqlx::query_as("SELECT change_seq, data FROM reports WHERE change_seq > $1 ORDER BY change_seq LIMIT $2")
                        .bind(to_i64(from)?)
                        .bind(fetch)
                        .fetch_all(&mut *db)
                        .await?
                }
                DataScope::Units(ids) => {
                    let sql = format!(
                        "SELECT change_seq, data FROM reports
                         WHERE change_seq > $1 AND unit_id IN ({})
                         ORDER BY change_seq LIMIT $3",
                        D::json_text_values("$2")
                    );
                    sqlx::query_as(&sql).bind(to_i64(from)?).bind(json(ids)?).bind(fetch).fetch_all(&mut *db).await?
                }
            };
            (last_change_seq, from, rows)
        });
        tx.commit().await?;
        let mut bytes = 0;
        let taken = rows
            .iter()
            .take(limit)
            .take_while(|(_, data)| {
                bytes += data.len();
                bytes <= max_bytes
            })
            .count()
            .max(1)
            .min(rows.len());
        let has_more = rows.len() > taken;
        let rows = rows
            .iter()
            .take(taken)
            .map(|(seq, data)| Ok((to_u64(*seq)?, from_json("báo cáo", data)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(PullPage { from, last_change_seq, rows, has_more })
    }

    /// A stored report (None if the server has not seen it).
    pub async fn report(&self, id: &str) -> Result<Option<Report>, StoreError> {
        let data: Option<String> = on_pool!(&self.pool, db => {
            sqlx::query_scalar("SELECT data FROM reports WHERE id = $1").bind(id).fetch_optional(db).await?
        });
        data.map(|d| from_json("báo cáo", &d)).transpose()
    }

    /// A report's history, oldest first.
    pub async fn revisions(&self, report_id: &str, before: Option<u64>) -> Result<Vec<Revision>, StoreError> {
        let before = before.map_or(i64::MAX, |b| i64::try_from(b).unwrap_or(i64::MAX));
        let rows: Vec<RevisionRow> = on_pool!(&self.pool, db => {
            sqlx::query_as(
                "SELECT r.version, r.client_id, r.mutation_id, u.display_name, r.op, r.status, r.created_at
                 FROM report_revisions r JOIN users u ON u.id = r.user_id
                 WHERE r.report_id = $1 AND r.version < $2 ORDER BY r.version",
            )
            .bind(report_id)
            .bind(before)
            .fetch_all(db)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(Revision {
                    version: to_u64(r.version)?,
                    client_id: r.client_id,
                    mutation_id: to_u64(r.mutation_id)?,
                    user: r.display_name,
                    op: from_json("thao tác", &r.op)?,
                    status: ReportStatus::parse(&r.status)
                        .ok_or_else(|| StoreError::Corrupt(format!("trạng thái «{}»", r.status)))?,
                    created_at: parse_ts(&r.created_at)?,
                })
            })
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct RevisionRow {
    version: i64,
    client_id: String,
    mutation_id: i64,
    display_name: String,
    op: String,
    status: String,
    created_at: String,
}

/// Where a push began inside a group's transaction ([`WriteTx::savepoint`]).
#[must_use]
pub struct Savepoint {
    change_seq: Option<i64>,
}

/// A push's (or a group of pushes') write transaction. Dropped without
/// [`WriteTx::commit`], it rolls back.
pub struct WriteTx {
    tx: Tx,
    /// The counter as committed when the transaction began.
    last_change_seq: i64,
    catalog_version: i64,
    /// The change counter as issued so far in this transaction (read once, written
    /// back once at commit: fewer statements per mutation, and the write lock held
    /// since the transaction began means no one else can issue a number meanwhile).
    change_seq: Option<i64>,
}

impl WriteTx {
    /// `sync_state.catalog_version` as read under the write lock.
    pub fn catalog_version(&self) -> i64 {
        self.catalog_version
    }

    /// The client, registered to `user_id` first if it is new.
    pub async fn ensure_client(
        &mut self,
        client_id: &str,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Client, StoreError> {
        // Known clients (every push but a phone's first) cost one statement.
        let known: Option<ClientRow> =
            on_tx!(&mut self.tx, db => sqlx::query_as(CLIENT).bind(client_id).fetch_optional(&mut *db).await?);
        if let Some(row) = known {
            return row.into_client();
        }
        let row: ClientRow = on_tx!(&mut self.tx, db => sqlx::query_as(
            "INSERT INTO clients (client_id, user_id, last_mutation_id, revoked, created_at, last_seen_at)
             VALUES ($1, $2, 0, FALSE, $3, $4)
             RETURNING client_id, user_id, last_mutation_id, revoked",
        )
        .bind(client_id)
        .bind(user_id)
        .bind(ts(now))
        .bind(ts(now))
        .fetch_one(&mut *db)
        .await?);
        row.into_client()
    }

    pub async fn stored_result(
        &mut self,
        client_id: &str,
        mutation_id: u64,
    ) -> Result<Option<StoredResult>, StoreError> {
        let row = on_tx!(&mut self.tx, db => sqlx::query("SELECT content_hash, result FROM mutation_results WHERE client_id = $1 AND mutation_id = $2")
                .bind(client_id)
                .bind(to_i64(mutation_id)?)
                .fetch_optional(&mut *db)
                .await?.map(DbRow::from));
        row.map(|r| {
            Ok(StoredResult {
                content_hash: r.text("content_hash")?,
                result: from_json("kết quả thao tác", &r.text("result")?)?,
            })
        })
        .transpose()
    }

    pub async fn report(&mut self, id: &str) -> Result<Option<Report>, StoreError> {
        let data: Option<String> = on_tx!(&mut self.tx, db => sqlx::query_scalar("SELECT data FROM reports WHERE id = $1").bind(id).fetch_optional(&mut *db).await?);
        data.map(|d| from_json("báo cáo", &d)).transpose()
    }

    /// Whether a client other than `client_id` changed the report after `version`.
    pub async fn changed_by_others_since(
        &mut self,
        report_id: &str,
        version: u64,
        client_id: &str,
    ) -> Result<bool, StoreError> {
        let found: Option<i64> = on_tx!(&mut self.tx, db => sqlx::query_scalar(
            "SELECT version FROM report_revisions WHERE report_id = $1 AND version > $2 AND client_id <> $3 LIMIT 1",
        )
        .bind(report_id)
        .bind(to_i64(version)?)
        .bind(client_id)
        .fetch_optional(&mut *db)
        .await?);
        Ok(found.is_some())
    }

    /// Writes the changed report (its `version`, `updated_at` already set by the
    /// caller) under the next change number, and its revision. Returns the change
    /// number.
    /// `figures` are the report's count fields (`danvan_core::aggregate::figures`),
    /// kept beside the JSON for the dashboard and the consolidation.
    pub async fn save_report(
        &mut self,
        report: &Report,
        figures: &std::collections::BTreeMap<String, u64>,
        rev: &NewRevision<'_>,
    ) -> Result<u64, StoreError> {
        // Inside the write lock, so the counter cannot be issued twice.
        let current = self.change_seq.unwrap_or(self.last_change_seq);
        let seq = current + 1;
        self.change_seq = Some(seq);
        let id = report.id();
        let data = json(report)?;
        let version = to_i64(report.version)?;
        let at = ts(rev.at);
        on_tx!(&mut self.tx, db => { sqlx::query(
            "INSERT INTO reports (id, plan_id, unit_id, period, form_id, status, data, version, change_seq,
                                  updated_at, updated_by, first_submitted_at, figures, return_reason, plan_version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (id) DO UPDATE SET form_id = excluded.form_id, status = excluded.status,
               data = excluded.data, version = excluded.version, change_seq = excluded.change_seq,
               updated_at = excluded.updated_at, updated_by = excluded.updated_by,
               first_submitted_at = excluded.first_submitted_at, figures = excluded.figures,
               return_reason = excluded.return_reason,
               plan_version = CASE WHEN excluded.plan_version > 0 THEN excluded.plan_version ELSE reports.plan_version END",
        )
        .bind(&id)
        .bind(&report.key.plan_id)
        .bind(&report.key.unit_id)
        .bind(report.key.period.key())
        .bind(&report.form_id)
        .bind(report.status.as_str())
        .bind(&data)
        .bind(version)
        .bind(seq)
        .bind(&at)
        .bind(rev.user_id)
        .bind(report.first_submitted_at.map(ts))
        .bind(json(figures)?)
        .bind(report.return_reason.as_deref().filter(|_| report.status == danvan_core::ReportStatus::Returned))
        .bind(i64::from(rev.plan_version))
        .execute(&mut *db)
        .await?; });
        on_tx!(&mut self.tx, db => { sqlx::query(
            "INSERT INTO report_revisions (report_id, version, client_id, mutation_id, user_id, op, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(version)
        .bind(rev.client_id)
        .bind(to_i64(rev.mutation_id)?)
        .bind(rev.user_id)
        .bind(json(rev.op)?)
        .bind(report.status.as_str())
        .bind(&at)
        .execute(&mut *db)
        .await?; });
        to_u64(seq)
    }

    /// Stores the answer to a mutation. The caller moves the client's
    /// `last_mutation_id` past it (`set_last_mutation_id`) in the same transaction.
    pub async fn record_result(
        &mut self,
        client_id: &str,
        mutation_id: u64,
        content_hash: &str,
        result: &MutationResult,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(&mut self.tx, db => { sqlx::query(
            "INSERT INTO mutation_results (client_id, mutation_id, content_hash, result, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(client_id)
        .bind(to_i64(mutation_id)?)
        .bind(content_hash)
        .bind(json(result)?)
        .bind(ts(now))
        .execute(&mut *db)
        .await?; });
        Ok(())
    }

    /// Moves the client's `last_mutation_id`: the results up to it are recorded in
    /// this same transaction, so the two always change together.
    pub async fn set_last_mutation_id(
        &mut self,
        client_id: &str,
        mutation_id: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(&mut self.tx, db => { sqlx::query("UPDATE clients SET last_mutation_id = $1, last_seen_at = $2 WHERE client_id = $3")
            .bind(to_i64(mutation_id)?)
            .bind(ts(now))
            .bind(client_id)
            .execute(&mut *db)
            .await?; });
        Ok(())
    }

    /// Marks where one push of a group begins (see `crate::push_queue`): a push
    /// that fails is undone back to here and the others still commit.
    pub async fn savepoint(&mut self) -> Result<Savepoint, StoreError> {
        on_tx!(&mut self.tx, db => { sqlx::query("SAVEPOINT push").execute(&mut *db).await?; });
        Ok(Savepoint { change_seq: self.change_seq })
    }

    /// Keeps what was done since the savepoint.
    pub async fn release(&mut self, _savepoint: Savepoint) -> Result<(), StoreError> {
        on_tx!(&mut self.tx, db => { sqlx::query("RELEASE SAVEPOINT push").execute(&mut *db).await?; });
        Ok(())
    }

    /// Undoes what was done since the savepoint, change numbers included.
    pub async fn rollback_to(&mut self, savepoint: Savepoint) -> Result<(), StoreError> {
        on_tx!(&mut self.tx, db => {
            sqlx::query("ROLLBACK TO SAVEPOINT push").execute(&mut *db).await?;
            sqlx::query("RELEASE SAVEPOINT push").execute(&mut *db).await?;
        });
        self.change_seq = savepoint.change_seq;
        Ok(())
    }

    /// When these devices last synced (the device list shows it), written with
    /// the pushes they made instead of one more write transaction each.
    pub async fn touch_devices(&mut self, ids: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        on_tx!(&mut self.tx, db, D => {
            let sql = format!(
                "UPDATE devices SET last_sync_at = $1, last_seen_at = $1 WHERE id IN ({})",
                D::json_int_values("$2")
            );
            sqlx::query(&sql).bind(ts(now)).bind(json(&ids)?).execute(&mut *db).await?;
        });
        Ok(())
    }

    pub async fn commit(mut self) -> Result<(), StoreError> {
        if let Some(seq) = self.change_seq {
            on_tx!(&mut self.tx, db => { sqlx::query("UPDATE sync_state SET last_change_seq = $1 WHERE id = 1")
                .bind(seq)
                .execute(&mut *db)
                .await?; });
        }
        self.tx.commit().await?;
        Ok(())
    }
}
