//! A backup file of the work that exists only on this device: reports with unsent
//! edits or open conflicts, and their photos. For a phone about to be wiped, or a
//! browser that may evict data (Safari, not installed). Importing it back records
//! the differences as new edits, so it merges like any other offline work.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use danvan_core::client::LocalReport;
use danvan_core::report::{diff, AttachmentRef};
use danvan_core::sync::MutationOp;

use super::{EditError, LocalDb, StorageError};

pub const BACKUP_FORMAT: &str = "danvan-backup";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    pub format: String,
    pub version: u32,
    pub created_at: DateTime<Utc>,
    pub user_id: i64,
    /// Each report as this device shows it (the person's version).
    pub reports: Vec<LocalReport>,
    pub photos: Vec<BackupPhoto>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupPhoto {
    pub attachment: AttachmentRef,
    pub mime: String,
    /// The bytes, base64.
    pub data: String,
}

impl LocalDb {
    /// Everything unsent or in conflict, with the photos those reports carry.
    pub async fn export_unsent(&self, user_id: i64, now: DateTime<Utc>) -> Result<Backup, StorageError> {
        let conflicts = self.load_conflicts().await?;
        let mut reports: Vec<LocalReport> = self
            .load_reports()
            .await?
            .into_iter()
            .filter(|r| r.has_unsent() || conflicts.iter().any(|c| c.report_id == r.report.id()))
            .collect();
        for c in &conflicts {
            if !reports.iter().any(|r| r.report.id() == c.report_id) {
                reports.push(LocalReport {
                    report: c.mine.clone(),
                    base: c.base.clone(),
                    last_mutation: None,
                    saved_at: None,
                    error: None,
                });
            }
        }
        // A conflict's own version is what the person typed: put it in the backup.
        for r in &mut reports {
            if let Some(c) = conflicts.iter().find(|c| c.report_id == r.report.id()) {
                r.report.values = c.mine.values.clone();
            }
        }
        let mut photos = Vec::new();
        for r in &reports {
            for a in &r.report.attachments {
                if let Some(blob) = self.load_blob(&a.id).await? {
                    let bytes = crate::web::blob_bytes(&blob).await.map_err(StorageError::Other)?;
                    photos.push(BackupPhoto { attachment: a.clone(), mime: blob.type_(), data: base64_encode(&bytes) });
                }
            }
        }
        Ok(Backup { format: BACKUP_FORMAT.into(), version: 1, created_at: now, user_id, reports, photos })
    }

    /// Records what the backup has and this device does not, as new edits. Returns
    /// how many reports changed.
    pub async fn import_backup(&self, backup: &Backup, now: DateTime<Utc>) -> Result<usize, EditError> {
        let mut changed = 0;
        for saved in &backup.reports {
            let key = &saved.report.key;
            let current = self.load_report(&key.id()).await?;
            let current_values = current.as_ref().map(|c| c.report.values.clone()).unwrap_or_default();
            let editable = current.as_ref().is_none_or(|c| c.report.status.is_editable());
            if !editable {
                // Locked on this device (submitted/accepted since): the import
                // cannot change it; say so rather than drop it silently.
                return Err(EditError::Refused(danvan_core::sync::Rejection {
                    code: "not_editable",
                    message: format!(
                        "Báo cáo {} đã gửi hoặc đã được tiếp nhận, không nhập vào được",
                        key.period.label_vi()
                    ),
                }));
            }
            let set = diff(&current_values, &saved.report.values);
            if !set.is_empty() {
                let op = MutationOp::Save { form_id: String::new(), set, attach: vec![], detach: vec![] };
                self.record_edit(key, op, now).await?;
                changed += 1;
            }
            for a in &saved.report.attachments {
                let have = current.as_ref().is_some_and(|c| c.report.attachments.iter().any(|x| x.id == a.id));
                if have {
                    continue;
                }
                let Some(photo) = backup.photos.iter().find(|p| p.attachment.id == a.id) else { continue };
                let bytes = base64_decode(&photo.data)
                    .ok_or_else(|| EditError::Storage(StorageError::Corrupt("ảnh trong tệp sao lưu hỏng".into())))?;
                let blob = crate::web::bytes_to_blob(&bytes, &photo.mime).map_err(StorageError::Other)?;
                self.attach_blob(key, a.clone(), &blob, now).await?;
            }
        }
        Ok(changed)
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
