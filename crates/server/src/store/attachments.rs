//! SQL of attachment bytes.

use chrono::{DateTime, Utc};

use super::{on_pool, on_tx, ts, Cols, DbRow, Store, StoreError};

/// An attachment as stored, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentMeta {
    pub id: String,
    pub report_id: String,
    pub unit_id: String,
    pub mime: String,
    pub size: u64,
    pub sha256: String,
}

pub struct NewAttachment<'a> {
    pub id: &'a str,
    pub report_id: &'a str,
    pub unit_id: &'a str,
    pub mime: &'a str,
    pub sha256: &'a str,
    pub data: &'a [u8],
    pub uploaded_by: i64,
    pub at: DateTime<Utc>,
}

/// How much one unit may keep (`serve::Limits::unit_attachment_bytes`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadLimits {
    /// Bytes of every attachment of the unit together.
    pub unit_bytes: u64,
    /// Uploads kept for one report: its attachments and the ones replaced or
    /// removed since, until the orphan sweep takes those.
    pub per_report: u64,
}

/// What storing an upload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    Created,
    /// The same id was already stored with the same SHA-256 for the same report (a
    /// retry).
    AlreadyThere,
    /// The id is taken by other bytes, or by the same bytes for another report.
    Different,
    /// Storing it would take the unit over [`UploadLimits::unit_bytes`].
    UnitFull,
    /// The report already has [`UploadLimits::per_report`] uploads.
    ReportFull,
}

fn meta_from_row(r: &impl Cols) -> Result<AttachmentMeta, StoreError> {
    let size: i64 = r.int("size")?;
    Ok(AttachmentMeta {
        id: r.text("id")?,
        report_id: r.text("report_id")?,
        unit_id: r.text("unit_id")?,
        mime: r.text("mime")?,
        size: u64::try_from(size).map_err(|_| StoreError::Corrupt(format!("kích thước tệp {size}")))?,
        sha256: r.text("sha256")?,
    })
}

impl Store {
    /// Stores the bytes unless the id exists (an existing id is compared by hash)
    /// or the unit or the report is full. The limits are checked by the insert
    /// itself, so concurrent uploads cannot together go past them.
    pub async fn put_attachment(&self, a: &NewAttachment<'_>, limits: UploadLimits) -> Result<Stored, StoreError> {
        let _turn = self.write_turn().await?;
        let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let done = on_pool!(&self.pool, db => sqlx::query(
            "INSERT INTO attachments (id, report_id, unit_id, mime, size, sha256, data, uploaded_by, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
             WHERE (SELECT COALESCE(SUM(size), 0) FROM attachments WHERE unit_id = $3) + $5 <= $10
               AND (SELECT COUNT(*) FROM attachments WHERE report_id = $2) < $11
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(a.id)
        .bind(a.report_id)
        .bind(a.unit_id)
        .bind(a.mime)
        .bind(a.data.len() as i64)
        .bind(a.sha256)
        .bind(a.data)
        .bind(a.uploaded_by)
        .bind(ts(a.at))
        .bind(to_i64(limits.unit_bytes))
        .bind(to_i64(limits.per_report))
        .execute(db)
        .await?.rows_affected());
        if done == 1 {
            return Ok(Stored::Created);
        }
        let existing: Option<(String, String)> = on_pool!(&self.pool, db => sqlx::query_as("SELECT sha256, report_id FROM attachments WHERE id = $1")
                .bind(a.id)
                .fetch_optional(db)
                .await?);
        // The same bytes for the same report: a retry. Anything else keeps the first
        // upload (and the unit that decides who reads it) untouched.
        Ok(match existing {
            Some((sha, report_id)) if sha == a.sha256 && report_id == a.report_id => Stored::AlreadyThere,
            Some(_) => Stored::Different,
            None => {
                let per_report: i64 = on_pool!(&self.pool, db => sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE report_id = $1")
                    .bind(a.report_id)
                    .fetch_one(db)
                    .await?);
                if per_report >= to_i64(limits.per_report) {
                    Stored::ReportFull
                } else {
                    Stored::UnitFull
                }
            }
        })
    }

    /// Deletes the uploads older than `before` that their report does not name
    /// (a photo removed or replaced, a report never sent): the bytes of an upload
    /// arrive before the report that names them, so only old ones can be judged.
    /// Each report's check and delete run under the write lock, so a push that
    /// attaches one of them meanwhile is never left without its bytes.
    pub async fn purge_orphan_attachments(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(&self.pool, db => sqlx::query_as(
            "SELECT id, report_id FROM attachments WHERE created_at < $1 ORDER BY report_id",
        )
        .bind(ts(before))
        .fetch_all(db)
        .await?);
        let mut by_report: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for (id, report_id) in rows {
            by_report.entry(report_id).or_default().push(id);
        }
        let mut purged = 0;
        for (report_id, ids) in by_report {
            let mut tx = self.begin_immediate().await?;
            let data: Option<String> = on_tx!(&mut tx, db => sqlx::query_scalar("SELECT data FROM reports WHERE id = $1")
                .bind(&report_id)
                .fetch_optional(&mut *db)
                .await?);
            let named: Vec<String> = match data {
                Some(d) => super::sync::from_json::<danvan_core::Report>("báo cáo", &d)?
                    .attachments
                    .into_iter()
                    .map(|a| a.id)
                    .collect(),
                None => Vec::new(),
            };
            for id in ids.iter().filter(|id| !named.contains(id)) {
                purged += on_tx!(&mut tx, db => sqlx::query("DELETE FROM attachments WHERE id = $1")
                    .bind(id)
                    .execute(&mut *db)
                    .await?.rows_affected());
            }
            tx.commit().await?;
        }
        Ok(purged)
    }

    pub async fn attachment_meta(&self, id: &str) -> Result<Option<AttachmentMeta>, StoreError> {
        let row = on_pool!(&self.pool, db => sqlx::query("SELECT id, report_id, unit_id, mime, size, sha256 FROM attachments WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?.map(DbRow::from));
        row.as_ref().map(meta_from_row).transpose()
    }

    pub async fn attachment_data(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            on_pool!(&self.pool, db => sqlx::query_scalar("SELECT data FROM attachments WHERE id = $1").bind(id).fetch_optional(db).await?),
        )
    }
}
