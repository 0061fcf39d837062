//! Reports, the outbox, conflicts and photos in IndexedDB.
//!
//! Every operation that changes what an official typed is ONE readwrite transaction
//! with strict durability over every store it touches: the report, its outbox entry
//! and the mutation counter are written together or not at all, and the caller is
//! told "saved" only after the commit. Nothing is awaited inside a transaction but
//! IndexedDB requests (awaiting anything else lets the transaction auto-commit).
//! The decisions themselves (folding edits, taking answers) are the pure functions
//! of `danvan_core::client`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use wasm_bindgen::JsValue;

use danvan_core::client::{self, Conflict, LocalReport, Side, SyncMeta};
use danvan_core::report::AttachmentRef;
use danvan_core::sync::{Mutation, MutationOp, MutationOutcome, PullResponse, Rejection, MAX_PUSH_MUTATIONS};
use danvan_core::{Report, ReportForm, ReportKey};

use super::{
    commit, decode, decode_all, encode, LocalDb, StorageError, ALL_STORES, BLOBS, CONFLICTS, FORMS, META, OUTBOX,
    REPORTS, UPLOADS,
};

const KEY_SYNC: &str = "sync";
/// Photos the server refused for good: attachment id → its reason.
const KEY_REFUSED_UPLOADS: &str = "refused_uploads";

/// What a sign-out left on the phone ([`LocalDb::forget_signed_out_user`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forgotten {
    /// Nothing of the official who left.
    All,
    /// Their unsent edits, photos and open conflicts (this many) were kept.
    KeptUnsent(u32),
}

thread_local! {
    static FORM_CACHE: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<ReportForm>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Why an edit was not recorded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The edit itself is not allowed (report locked, field unknown, …).
    #[error("{}", .0.message)]
    Refused(Rejection),
    #[error("Chưa có mẫu báo cáo trên máy. Hãy kết nối mạng một lần để tải về.")]
    NoForm,
    #[error("Chưa đăng nhập trên máy này.")]
    NoSyncState,
}

impl From<indexed_db_futures::error::Error> for EditError {
    fn from(e: indexed_db_futures::error::Error) -> EditError {
        EditError::Storage(e.into())
    }
}

/// A JSON record by text key, inside the caller's transaction.
async fn get_json<T: serde::de::DeserializeOwned>(
    store: &ObjectStore<'_>,
    key: &str,
) -> Result<Option<T>, StorageError> {
    let text: Option<String> = store.get(key).primitive()?.await?;
    text.as_deref().map(decode).transpose()
}

async fn put_json<T: serde::Serialize>(store: &ObjectStore<'_>, key: String, value: &T) -> Result<(), StorageError> {
    store.put(encode(value)?).with_key(key).primitive()?.await?;
    Ok(())
}

fn outbox_key(id: u64) -> f64 {
    // IndexedDB keys are doubles; a BigInt is not a valid key.
    id as f64
}

impl LocalDb {
    pub async fn save_form(&self, form: &ReportForm) -> Result<(), StorageError> {
        let tx = self.write_tx(&[FORMS])?;
        tx.object_store(FORMS)?.put(encode(form)?).with_key(form.plan_id.clone()).primitive()?.await?;
        commit(tx).await?;
        self.cache_form(form.clone());
        Ok(())
    }

    /// The parsed form, kept in memory after its first read: parsing ~10 KB of JSON
    /// on every keystroke's save was a third of the autosave time on a slow phone.
    /// Forms change with a new plan, not during an edit; another tab storing a
    /// newer one is seen after a reload (and the server still validates).
    fn cached_form(&self, plan_id: &str) -> Option<std::rc::Rc<ReportForm>> {
        let key = format!("{}/{plan_id}", self.db.name());
        FORM_CACHE.with(|c| c.borrow().get(&key).cloned())
    }

    fn cache_form(&self, form: ReportForm) {
        let key = format!("{}/{}", self.db.name(), form.plan_id);
        FORM_CACHE.with(|c| c.borrow_mut().insert(key, std::rc::Rc::new(form)));
    }

    pub async fn load_form(&self, plan_id: &str) -> Result<Option<ReportForm>, StorageError> {
        let tx = self.db.transaction(FORMS).build()?;
        get_json(&tx.object_store(FORMS)?, plan_id).await
    }

    pub async fn load_sync_meta(&self) -> Result<Option<SyncMeta>, StorageError> {
        let tx = self.db.transaction(META).build()?;
        get_json(&tx.object_store(META)?, KEY_SYNC).await
    }

    /// The sync state for `user_id`, made on first use. A different official on a
    /// shared phone starts over (new client id, the previous one's reports
    /// forgotten) — but never while the previous one has unsent work.
    pub async fn ensure_sync_meta(&self, user_id: i64, new_client_id: String) -> Result<SyncMeta, StorageError> {
        let tx = self.write_tx(&[META, REPORTS, OUTBOX, CONFLICTS, BLOBS, UPLOADS])?;
        let meta_store = tx.object_store(META)?;
        let existing: Option<SyncMeta> = get_json(&meta_store, KEY_SYNC).await?;
        if let Some(meta) = existing.as_ref().filter(|m| m.user_id == user_id) {
            return Ok(meta.clone());
        }
        if existing.is_some() {
            let unsent = tx.object_store(OUTBOX)?.count().primitive()?.await?;
            if unsent > 0 {
                return Err(StorageError::OtherUsersWork(unsent));
            }
            for store in [REPORTS, CONFLICTS, BLOBS, UPLOADS] {
                tx.object_store(store)?.clear()?.await?;
            }
        }
        let meta = SyncMeta::new(new_client_id, user_id);
        put_json(&meta_store, KEY_SYNC.to_string(), &meta).await?;
        commit(tx).await?;
        Ok(meta)
    }

    /// After a sign-out on a shared phone: forgets what the official who left
    /// had here — reports, photos, conflicts, the unit's task list, the kept
    /// dashboards and histories — so the next person sees none of it. Only when
    /// nothing of theirs is unsent: otherwise their reports and photos stay (for
    /// them to send on their next sign-in) and the count says why.
    pub async fn forget_signed_out_user(&self) -> Result<Forgotten, StorageError> {
        let tx = self.write_tx(&ALL_STORES)?;
        let meta = tx.object_store(META)?;
        super::cache::forget_all(&meta).await?;
        let unsent = tx.object_store(OUTBOX)?.count().primitive()?.await?
            + tx.object_store(UPLOADS)?.count().primitive()?.await?
            + tx.object_store(CONFLICTS)?.count().primitive()?.await?;
        if unsent > 0 {
            commit(tx).await?;
            return Ok(Forgotten::KeptUnsent(unsent));
        }
        for store in [REPORTS, CONFLICTS, BLOBS, UPLOADS, super::PLANS, super::UNITS] {
            tx.object_store(store)?.clear()?.await?;
        }
        for key in [KEY_SYNC, KEY_REFUSED_UPLOADS, super::KEY_TASKS, super::KEY_FETCHED_AT, super::KEY_CATALOG_VERSION]
        {
            meta.delete(key).await?;
        }
        commit(tx).await?;
        Ok(Forgotten::All)
    }

    pub async fn load_report(&self, id: &str) -> Result<Option<LocalReport>, StorageError> {
        let tx = self.db.transaction(REPORTS).build()?;
        get_json(&tx.object_store(REPORTS)?, id).await
    }

    pub async fn load_reports(&self) -> Result<Vec<LocalReport>, StorageError> {
        let tx = self.db.transaction(REPORTS).build()?;
        decode_all(tx.object_store(REPORTS)?.get_all().primitive()?.await?)
    }

    pub async fn load_conflicts(&self) -> Result<Vec<Conflict>, StorageError> {
        let tx = self.db.transaction(CONFLICTS).build()?;
        decode_all(tx.object_store(CONFLICTS)?.get_all().primitive()?.await?)
    }

    pub async fn load_conflict(&self, report_id: &str) -> Result<Option<Conflict>, StorageError> {
        let tx = self.db.transaction(CONFLICTS).build()?;
        get_json(&tx.object_store(CONFLICTS)?, report_id).await
    }

    /// How many reports wait for the official to settle a conflict. Counted
    /// without reading them: the status bar needs only the number.
    pub async fn conflict_count(&self) -> Result<u32, StorageError> {
        let tx = self.db.transaction(CONFLICTS).build()?;
        Ok(tx.object_store(CONFLICTS)?.count().primitive()?.await?)
    }

    /// Unsent mutations and unsent photos: what exists only on this device.
    pub async fn unsent_count(&self) -> Result<u32, StorageError> {
        let tx = self.db.transaction(&[OUTBOX, UPLOADS][..]).build()?;
        let a = tx.object_store(OUTBOX)?.count().primitive()?.await?;
        let b = tx.object_store(UPLOADS)?.count().primitive()?.await?;
        Ok(a + b)
    }

    /// Records one edit: the report, its outbox entry and the counter in one strict
    /// transaction. Returns the report as committed.
    pub async fn record_edit(
        &self,
        key: &ReportKey,
        op: MutationOp,
        now: DateTime<Utc>,
    ) -> Result<LocalReport, EditError> {
        self.record_edit_with(key, op, now, None).await
    }

    /// Attaches a photo: the bytes, the pending upload and the report's edit in
    /// the same transaction, so a photo is never in the report without its bytes
    /// (or the reverse).
    pub async fn attach_blob(
        &self,
        key: &ReportKey,
        attachment: AttachmentRef,
        blob: &web_sys::Blob,
        now: DateTime<Utc>,
    ) -> Result<LocalReport, EditError> {
        let op = MutationOp::Save {
            form_id: String::new(),
            set: Default::default(),
            attach: vec![attachment.clone()],
            detach: vec![],
        };
        self.record_edit_with(key, op, now, Some((attachment, blob))).await
    }

    async fn record_edit_with(
        &self,
        key: &ReportKey,
        mut op: MutationOp,
        now: DateTime<Utc>,
        blob: Option<(AttachmentRef, &web_sys::Blob)>,
    ) -> Result<LocalReport, EditError> {
        let tx = self.write_tx(&[META, FORMS, REPORTS, OUTBOX, BLOBS, UPLOADS])?;
        // Each await is a round trip to the browser's storage, paid in full on a slow
        // phone between two keystrokes: the two reads go out together, and the writes
        // are queued without waiting for each (the transaction applies them in order,
        // and any that fails aborts it, so `commit` fails).
        let meta_store = tx.object_store(META)?;
        let reports = tx.object_store(REPORTS)?;
        let id = key.id();
        let (meta_text, local_text): (Option<String>, Option<String>) =
            futures::try_join!(meta_store.get(KEY_SYNC).primitive()?, reports.get(id.as_str()).primitive()?)?;
        let mut meta: SyncMeta = meta_text.as_deref().map(decode).transpose()?.ok_or(EditError::NoSyncState)?;
        let local: Option<LocalReport> = local_text.as_deref().map(decode).transpose()?;
        let form = match self.cached_form(&key.plan_id) {
            Some(form) => form,
            None => {
                let form: ReportForm =
                    get_json(&tx.object_store(FORMS)?, key.plan_id.as_str()).await?.ok_or(EditError::NoForm)?;
                self.cache_form(form.clone());
                std::rc::Rc::new(form)
            }
        };
        if let MutationOp::Save { form_id, .. } = &mut op {
            *form_id = form.id.clone();
        }
        let outbox = tx.object_store(OUTBOX)?;
        let open = match local.as_ref().and_then(|l| l.last_mutation) {
            Some(m) => {
                let text: Option<String> = outbox.get(outbox_key(m)).primitive()?.await?;
                text.as_deref().map(decode::<Mutation>).transpose()?
            }
            None => None,
        };
        let recorded = client::record_edit(local, || Report::new(key.clone(), &form.id), open, op, &form, &meta, now)
            .map_err(EditError::Refused)?;
        // Issued now; the request futures are dropped (only their listeners go).
        let _ = reports.put(encode(&recorded.local)?).with_key(id.clone()).primitive()?;
        let _ = outbox.put(encode(&recorded.entry)?).with_key(outbox_key(recorded.entry.id)).primitive()?;
        if recorded.took_new_id {
            meta.next_mutation_id = recorded.entry.id + 1;
            let _ = meta_store.put(encode(&meta)?).with_key(KEY_SYNC.to_string()).primitive()?;
        }
        if let Some((attachment, blob)) = blob {
            let _ =
                tx.object_store(BLOBS)?.put(JsValue::from(blob.clone())).with_key(attachment.id.clone()).primitive()?;
            let _ = tx
                .object_store(UPLOADS)?
                .put(encode(&(attachment.clone(), id))?)
                .with_key(attachment.id)
                .primitive()?;
        }
        commit(tx).await?;
        Ok(recorded.local)
    }

    /// The next push: the oldest unsent entries (`client::push_batch`), marked as
    /// sent for good, so an edit made meanwhile or after a lost answer goes into a
    /// new entry instead of changing one the server may already have applied.
    pub async fn take_outbox_batch(&self) -> Result<(SyncMeta, Vec<Mutation>), StorageError> {
        let tx = self.write_tx(&[META, OUTBOX])?;
        let meta_store = tx.object_store(META)?;
        let Some(mut meta) = get_json::<SyncMeta>(&meta_store, KEY_SYNC).await? else {
            return Err(StorageError::Other("chưa có trạng thái đồng bộ".into()));
        };
        let oldest: Vec<Mutation> =
            decode_all(tx.object_store(OUTBOX)?.get_all().with_limit(MAX_PUSH_MUTATIONS as u32).primitive()?.await?)?;
        let batch = client::push_batch(oldest);
        meta.mark_sent(&batch);
        put_json(&meta_store, KEY_SYNC.to_string(), &meta).await?;
        commit(tx).await?;
        Ok((meta, batch))
    }

    /// Takes in the server's answers: each acknowledged entry is removed in the
    /// same transaction that applies its outcome (an entry is deleted only with
    /// its acknowledgement).
    pub async fn take_push_outcomes(
        &self,
        sent: &[Mutation],
        outcomes: &[MutationOutcome],
    ) -> Result<(), StorageError> {
        let tx = self.write_tx(&[META, FORMS, REPORTS, OUTBOX, CONFLICTS])?;
        let reports = tx.object_store(REPORTS)?;
        let conflicts = tx.object_store(CONFLICTS)?;
        let outbox = tx.object_store(OUTBOX)?;
        let forms = tx.object_store(FORMS)?;
        let meta_store = tx.object_store(META)?;
        let mut meta: Option<SyncMeta> = get_json(&meta_store, KEY_SYNC).await?;
        let mut form_cache: BTreeMap<String, Option<ReportForm>> = BTreeMap::new();
        for outcome in outcomes {
            let Some(entry) = sent.iter().find(|m| m.id == outcome.id) else { continue };
            if !form_cache.contains_key(&entry.key.plan_id) {
                let form = get_json(&forms, entry.key.plan_id.as_str()).await?;
                form_cache.insert(entry.key.plan_id.clone(), form);
            }
            let Some(Some(form)) = form_cache.get(&entry.key.plan_id) else { continue };
            let id = entry.key.id();
            let local: Option<LocalReport> = get_json(&reports, id.as_str()).await?;
            let conflict: Option<Conflict> = get_json(&conflicts, id.as_str()).await?;
            let (mut local, mut conflict) = client::take_outcome(local, conflict, entry, &outcome.result, form);
            // Different fields changed on each side (or the server went back to an
            // older copy): nothing to ask the person, queue the merge at once.
            if let (Some(c), Some(m)) = (conflict.as_ref().filter(|c| c.settles_itself()), meta.as_mut()) {
                let (merged, save) = client::resolve(c, &BTreeMap::new(), m.next_mutation_id, Utc::now());
                if let Some(save) = save {
                    outbox.put(encode(&save)?).with_key(outbox_key(save.id)).primitive()?.await?;
                    m.next_mutation_id = save.id + 1;
                }
                local = Some(merged);
                conflict = None;
                conflicts.delete(id.as_str()).await?;
            }
            if let Some(local) = local {
                put_json(&reports, id.clone(), &local).await?;
            }
            if let Some(conflict) = conflict {
                put_json(&conflicts, id.clone(), &conflict).await?;
            }
            outbox.delete(outbox_key(entry.id)).await?;
        }
        if let Some(meta) = meta {
            put_json(&meta_store, KEY_SYNC.to_string(), &meta).await?;
        }
        commit(tx).await?;
        Ok(())
    }

    /// Takes in one pull page and moves the cursor, in one transaction.
    pub async fn take_pull(&self, page: &PullResponse, now: DateTime<Utc>) -> Result<(), StorageError> {
        let tx = self.write_tx(&[META, REPORTS, CONFLICTS, OUTBOX])?;
        let reports = tx.object_store(REPORTS)?;
        let conflicts = tx.object_store(CONFLICTS)?;
        let outbox = tx.object_store(OUTBOX)?;
        let meta_store = tx.object_store(META)?;
        let mut meta: Option<SyncMeta> = get_json(&meta_store, KEY_SYNC).await?;
        for server in &page.changes {
            let id = server.id();
            let local: Option<LocalReport> = get_json(&reports, id.as_str()).await?;
            let conflict: Option<Conflict> = get_json(&conflicts, id.as_str()).await?;
            let (mut local, conflict) = client::take_pulled(local, conflict, server.clone());
            if let Some(m) = meta.as_mut() {
                if let Some((resent, entry)) = client::resend_after_restore(&local, server, m.next_mutation_id, now) {
                    outbox.put(encode(&entry)?).with_key(outbox_key(entry.id)).primitive()?.await?;
                    m.next_mutation_id = entry.id + 1;
                    local = resent;
                }
            }
            put_json(&reports, id.clone(), &local).await?;
            if let Some(conflict) = conflict {
                put_json(&conflicts, id, &conflict).await?;
            }
        }
        if let Some(mut meta) = meta {
            meta.cursor = page.cursor;
            meta.epoch = Some(page.epoch.clone());
            if !page.has_more {
                meta.last_synced_at = Some(now);
            }
            put_json(&meta_store, KEY_SYNC.to_string(), &meta).await?;
        }
        commit(tx).await?;
        Ok(())
    }

    /// The server's database was replaced (restored from a backup): this device
    /// continues under a new client id, its unsent entries renumbered from 1 in
    /// order, and pulls everything again. Unsent work is kept; edits the restored
    /// server no longer has come back as conflicts or new saves when pushed.
    pub async fn restart_sync(&self, new_client_id: String, epoch: &str) -> Result<(), StorageError> {
        let tx = self.write_tx(&[META, REPORTS, OUTBOX])?;
        let outbox = tx.object_store(OUTBOX)?;
        let entries: Vec<Mutation> = decode_all(outbox.get_all().primitive()?.await?)?;
        outbox.clear()?.await?;
        let reports = tx.object_store(REPORTS)?;
        let mut renumbered = BTreeMap::new();
        for (i, old) in entries.into_iter().enumerate() {
            let id = i as u64 + 1;
            renumbered.insert(old.id, id);
            let entry = Mutation::new(id, old.key, old.base_version, old.op);
            outbox.put(encode(&entry)?).with_key(outbox_key(id)).primitive()?.await?;
        }
        let all: Vec<LocalReport> = decode_all(reports.get_all().primitive()?.await?)?;
        for mut local in all {
            if let Some(old) = local.last_mutation {
                local.last_mutation = renumbered.get(&old).copied();
                put_json(&reports, local.report.id(), &local).await?;
            }
        }
        let meta_store = tx.object_store(META)?;
        if let Some(mut meta) = get_json::<SyncMeta>(&meta_store, KEY_SYNC).await? {
            meta.client_id = new_client_id;
            meta.next_mutation_id = renumbered.len() as u64 + 1;
            // Nothing has been sent under the new client id.
            meta.sent_upto = 0;
            meta.cursor = 0;
            meta.epoch = Some(epoch.to_string());
            put_json(&meta_store, KEY_SYNC.to_string(), &meta).await?;
        }
        commit(tx).await?;
        Ok(())
    }

    /// Settles a conflict with the person's choices; queues the resulting save.
    /// Returns the report as it now is on this phone, or None when nothing is left
    /// of it (a refused save of a report the server never had: the blank copy goes).
    pub async fn resolve_conflict(
        &self,
        report_id: &str,
        choices: &BTreeMap<String, Side>,
        now: DateTime<Utc>,
    ) -> Result<Option<LocalReport>, StorageError> {
        let tx = self.write_tx(&[META, REPORTS, OUTBOX, CONFLICTS])?;
        let conflicts = tx.object_store(CONFLICTS)?;
        let Some(conflict) = get_json::<Conflict>(&conflicts, report_id).await? else {
            return Err(StorageError::Other("xung đột đã được xử lý".into()));
        };
        let meta_store = tx.object_store(META)?;
        let mut meta: SyncMeta =
            get_json(&meta_store, KEY_SYNC).await?.ok_or_else(|| StorageError::Other("chưa đăng nhập".into()))?;
        let (local, entry) = client::resolve(&conflict, choices, meta.next_mutation_id, now);
        if let Some(entry) = entry {
            tx.object_store(OUTBOX)?.put(encode(&entry)?).with_key(outbox_key(entry.id)).primitive()?.await?;
            meta.next_mutation_id = entry.id + 1;
            put_json(&meta_store, KEY_SYNC.to_string(), &meta).await?;
        }
        let reports = tx.object_store(REPORTS)?;
        if local.is_blank() {
            reports.delete(report_id).await?;
        } else {
            reports.put(encode(&local)?).with_key(report_id.to_string()).primitive()?.await?;
        }
        conflicts.delete(report_id).await?;
        commit(tx).await?;
        Ok((!local.is_blank()).then_some(local))
    }

    /// Photos still to upload, with the report each belongs to.
    pub async fn pending_uploads(&self) -> Result<Vec<(AttachmentRef, String)>, StorageError> {
        let tx = self.db.transaction(UPLOADS).build()?;
        decode_all(tx.object_store(UPLOADS)?.get_all().primitive()?.await?)
    }

    pub async fn load_blob(&self, id: &str) -> Result<Option<web_sys::Blob>, StorageError> {
        use wasm_bindgen::JsCast;
        let tx = self.db.transaction(BLOBS).build()?;
        let value: Option<JsValue> = tx.object_store(BLOBS)?.get(id).primitive()?.await?;
        Ok(value.and_then(|v| v.dyn_into::<web_sys::Blob>().ok()))
    }

    pub async fn mark_uploaded(&self, id: &str) -> Result<(), StorageError> {
        let tx = self.write_tx(&[UPLOADS])?;
        tx.object_store(UPLOADS)?.delete(id).await?;
        commit(tx).await?;
        Ok(())
    }

    /// The server will never take this photo (too large, a type it refuses, the
    /// unit's space used up, …): it stops waiting to upload, so the rest of the
    /// outbox goes, and the photo shows why (`refused_uploads`). It stays on this
    /// phone and in the report; the official can attach another.
    pub async fn refuse_upload(&self, attachment: &AttachmentRef, reason: &str) -> Result<(), StorageError> {
        let tx = self.write_tx(&[UPLOADS, META])?;
        tx.object_store(UPLOADS)?.delete(attachment.id.as_str()).await?;
        let meta = tx.object_store(META)?;
        let mut refused: BTreeMap<String, String> = get_json(&meta, KEY_REFUSED_UPLOADS).await?.unwrap_or_default();
        refused.insert(attachment.id.clone(), reason.to_string());
        put_json(&meta, KEY_REFUSED_UPLOADS.to_string(), &refused).await?;
        commit(tx).await?;
        Ok(())
    }

    /// The photos the server refused for good: attachment id → why.
    pub async fn refused_uploads(&self) -> Result<BTreeMap<String, String>, StorageError> {
        let tx = self.db.transaction(META).build()?;
        Ok(get_json(&tx.object_store(META)?, KEY_REFUSED_UPLOADS).await?.unwrap_or_default())
    }

    /// Keeps a photo downloaded from the server (another device's) for offline viewing.
    pub async fn save_blob(&self, id: &str, blob: &web_sys::Blob) -> Result<(), StorageError> {
        let tx = self.write_tx(&[BLOBS])?;
        tx.object_store(BLOBS)?.put(JsValue::from(blob.clone())).with_key(id.to_string()).primitive()?.await?;
        commit(tx).await?;
        Ok(())
    }

    /// Unsent entries, for the backup file.
    pub async fn load_outbox(&self) -> Result<Vec<Mutation>, StorageError> {
        let tx = self.db.transaction(OUTBOX).build()?;
        decode_all(tx.object_store(OUTBOX)?.get_all().primitive()?.await?)
    }
}
