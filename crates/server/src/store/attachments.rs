//! SQL of attachment bytes.

use chrono::{DateTime, Utc};

use super::{on_pool, ts, Cols, DbRow, Store, StoreError};

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

/// What storing an upload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    Created,
    /// The same id was already stored with the same SHA-256 for the same report (a
    /// retry).
    AlreadyThere,
    /// The id is taken by other bytes, or by the same bytes for another report.
    Different,
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
    /// Stores the bytes unless the id exists; an existing id is compared by hash.
    pub async fn put_attachment(&self, a: &NewAttachment<'_>) -> Result<Stored, StoreError> {
        let done = on_pool!(&self.pool, db => sqlx::query(
            "INSERT INTO attachments (id, report_id, unit_id, mime, size, sha256, data, uploaded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
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
        .execute(db)
        .await?.rows_affected());
        if done == 1 {
            return Ok(Stored::Created);
        }
        let (sha, report_id): (String, String) = on_pool!(&self.pool, db => sqlx::query_as("SELECT sha256, report_id FROM attachments WHERE id = $1")
                .bind(a.id)
                .fetch_one(db)
                .await?);
        // The same bytes for the same report: a retry. Anything else keeps the first
        // upload (and the unit that decides who reads it) untouched.
        Ok(if sha == a.sha256 && report_id == a.report_id { Stored::AlreadyThere } else { Stored::Different })
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
