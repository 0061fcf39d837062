//! A phone running the app, in memory: the stores of `src/storage/reports.rs`
//! (meta, reports, outbox, conflicts) and the sync engine of `src/sync.rs`, each
//! step calling the same `danvan_core::client` rule the app calls. Nothing here
//! decides anything the app does not: where the app opens one IndexedDB
//! transaction, this takes the device's lock once, so the edits of the person
//! (`person.rs`, another task) interleave with a sync exactly where they can in the
//! browser — between two transactions, never inside one.
//!
//! Left out: photos (`upload_photos`; none are attached here), the Web Lock (one
//! sync task per device already), the catalog refresh, and the scheduler's timings
//! (the harness syncs at random moments instead).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use danvan_core::client::{self, Conflict, LocalReport, Side, SyncMeta};
use danvan_core::sync::{
    Mutation, MutationOp, MutationOutcome, MutationResult, PullRequest, PullResponse, PushRequest, PushResponse,
    Rejection, MAX_PUSH_MUTATIONS, SYNC_SCHEMA_VERSION,
};
use danvan_core::{Report, ReportForm, ReportKey};

use crate::rng::Rng;

/// `src/sync.rs`: most push rounds per sync.
const MAX_ROUNDS: usize = 20;

/// `src/api.rs`'s `ApiError`, as `error_for` maps statuses.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    Network,
    Unauthorized(String),
    Server { status: u16, code: String, message: String },
    Decode,
}

/// `src/sync.rs`'s `SyncError` (storage errors cannot happen in memory).
#[derive(Clone, Debug, PartialEq)]
pub enum SyncError {
    Api(ApiError),
    Gap(u64),
}

impl From<ApiError> for SyncError {
    fn from(e: ApiError) -> SyncError {
        SyncError::Api(e)
    }
}

impl SyncError {
    /// What the app does not show as an error: no connection (the status bar says
    /// "offline"), or a 503 it retries with the same outbox.
    pub fn is_expected_under_faults(&self) -> bool {
        matches!(self, SyncError::Api(ApiError::Network) | SyncError::Api(ApiError::Server { status: 503, .. }))
    }
}

/// The IndexedDB stores of one browser profile.
#[derive(Clone, Debug)]
pub struct Local {
    pub meta: SyncMeta,
    pub reports: BTreeMap<String, LocalReport>,
    pub outbox: BTreeMap<u64, Mutation>,
    pub conflicts: BTreeMap<String, Conflict>,
}

/// A mutation the server answered `Applied`, as the device saw the answer.
#[derive(Clone, Debug)]
pub struct Ack {
    pub client_id: String,
    pub mutation_id: u64,
    pub report_id: String,
    pub version: u64,
    pub op: MutationOp,
}

/// The harness's bookkeeping about a device (not part of the app's state).
#[derive(Clone, Debug, Default)]
pub struct DeviceLog {
    pub acks: Vec<Ack>,
    /// Every HTTP status this device received.
    pub statuses: BTreeMap<u16, u64>,
    /// Rejected outcomes by code.
    pub rejections: BTreeMap<String, u64>,
    pub conflicts_answered: u64,
    pub conflicts_settled_themselves: u64,
    pub conflicts_resolved: u64,
    pub edits: u64,
    pub edits_refused: u64,
    /// Saves of a month outside the plan (`person::OUTSIDE_PLAN`).
    pub outside_saves: u64,
    pub syncs: u64,
    pub gap_restarts: u64,
    /// Sync errors the app would show (anything but no connection or a 503).
    pub errors: Vec<String>,
}

pub struct Device {
    pub name: String,
    token: String,
    base: String,
    http: reqwest::Client,
    form: Arc<ReportForm>,
    local: Mutex<Local>,
    pub log: Mutex<DeviceLog>,
    /// Makes the client ids (`web::random_hex` in the app).
    ids: Mutex<Rng>,
}

impl Device {
    /// A signed-in device with an empty database (`ensure_sync_meta`).
    pub fn new(name: String, user_id: i64, token: String, base: String, form: Arc<ReportForm>, mut ids: Rng) -> Device {
        let http = reqwest::Client::builder()
            .timeout(crate::proxy::DEVICE_TIMEOUT)
            // Every request on a connection of its own: the proxy answers one per
            // connection.
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let client_id = format!("chaos-{}", ids.hex());
        let local = Local {
            meta: SyncMeta::new(client_id, user_id),
            reports: BTreeMap::new(),
            outbox: BTreeMap::new(),
            conflicts: BTreeMap::new(),
        };
        Device {
            name,
            token,
            base,
            http,
            form,
            local: Mutex::new(local),
            log: Mutex::new(DeviceLog::default()),
            ids: Mutex::new(ids),
        }
    }

    /// A copy of the device's stores (for the person's choices and the checks).
    pub fn snapshot(&self) -> Local {
        self.local.lock().unwrap().clone()
    }

    pub fn form(&self) -> &ReportForm {
        &self.form
    }

    fn new_client_id(&self) -> String {
        format!("chaos-{}", self.ids.lock().unwrap().hex())
    }

    // --- src/storage/reports.rs, one lock per IndexedDB transaction -------------

    /// `LocalDb::record_edit`: the report, its outbox entry and the counter together.
    pub fn record_edit(
        &self,
        key: &ReportKey,
        mut op: MutationOp,
        now: DateTime<Utc>,
    ) -> Result<LocalReport, Rejection> {
        let mut db = self.local.lock().unwrap();
        let form = &self.form;
        if let MutationOp::Save { form_id, .. } = &mut op {
            *form_id = form.id.clone();
        }
        let id = key.id();
        let local = db.reports.get(&id).cloned();
        let open = local.as_ref().and_then(|l| l.last_mutation).and_then(|m| db.outbox.get(&m).cloned());
        let recorded =
            client::record_edit(local, || Report::new(key.clone(), &form.id), open, op, form, &db.meta, now)?;
        db.reports.insert(id, recorded.local.clone());
        db.outbox.insert(recorded.entry.id, recorded.entry.clone());
        if recorded.took_new_id {
            db.meta.next_mutation_id = recorded.entry.id + 1;
        }
        Ok(recorded.local)
    }

    /// `LocalDb::take_outbox_batch`: the oldest entries, marked as sent for good.
    pub fn take_outbox_batch(&self) -> (SyncMeta, Vec<Mutation>) {
        let mut db = self.local.lock().unwrap();
        let oldest: Vec<Mutation> = db.outbox.values().take(MAX_PUSH_MUTATIONS).cloned().collect();
        let batch = client::push_batch(oldest);
        db.meta.mark_sent(&batch);
        (db.meta.clone(), batch)
    }

    /// `LocalDb::take_push_outcomes`: each answered entry leaves the outbox with
    /// its outcome applied; conflicts that settle themselves are merged at once.
    pub fn take_push_outcomes(&self, sent: &[Mutation], outcomes: &[MutationOutcome]) {
        let mut guard = self.local.lock().unwrap();
        let db = &mut *guard;
        let mut settled = 0;
        for outcome in outcomes {
            let Some(entry) = sent.iter().find(|m| m.id == outcome.id) else { continue };
            if entry.key.plan_id != self.form.plan_id {
                continue;
            }
            let id = entry.key.id();
            let local = db.reports.get(&id).cloned();
            let conflict = db.conflicts.get(&id).cloned();
            let (mut local, mut conflict) = client::take_outcome(local, conflict, entry, &outcome.result, &self.form);
            if let Some(c) = conflict.as_ref().filter(|c| c.settles_itself()) {
                let (merged, save) = client::resolve(c, &BTreeMap::new(), db.meta.next_mutation_id, Utc::now());
                if let Some(save) = save {
                    db.meta.next_mutation_id = save.id + 1;
                    db.outbox.insert(save.id, save);
                }
                local = Some(merged);
                conflict = None;
                db.conflicts.remove(&id);
                settled += 1;
            }
            if let Some(local) = local {
                db.reports.insert(id.clone(), local);
            }
            if let Some(conflict) = conflict {
                db.conflicts.insert(id, conflict);
            }
            db.outbox.remove(&entry.id);
        }
        drop(guard);
        self.log.lock().unwrap().conflicts_settled_themselves += settled;
    }

    /// `LocalDb::take_pull`: one page in, the cursor moved, in one transaction.
    pub fn take_pull(&self, page: &PullResponse, now: DateTime<Utc>) {
        let mut guard = self.local.lock().unwrap();
        let db = &mut *guard;
        for server in &page.changes {
            let id = server.id();
            let local = db.reports.get(&id).cloned();
            let conflict = db.conflicts.get(&id).cloned();
            let (mut local, conflict) = client::take_pulled(local, conflict, server.clone());
            if let Some((resent, entry)) = client::resend_after_restore(&local, server, db.meta.next_mutation_id, now) {
                db.meta.next_mutation_id = entry.id + 1;
                db.outbox.insert(entry.id, entry);
                local = resent;
            }
            db.reports.insert(id.clone(), local);
            if let Some(conflict) = conflict {
                db.conflicts.insert(id, conflict);
            }
        }
        db.meta.cursor = page.cursor;
        db.meta.epoch = Some(page.epoch.clone());
        if !page.has_more {
            db.meta.last_synced_at = Some(now);
        }
    }

    /// `LocalDb::restart_sync`: a new client id, the outbox renumbered from 1.
    pub fn restart_sync(&self, new_client_id: String, epoch: &str) {
        let mut guard = self.local.lock().unwrap();
        let db = &mut *guard;
        let entries: Vec<Mutation> = std::mem::take(&mut db.outbox).into_values().collect();
        let mut renumbered = BTreeMap::new();
        for (i, old) in entries.into_iter().enumerate() {
            let id = i as u64 + 1;
            renumbered.insert(old.id, id);
            db.outbox.insert(id, Mutation::new(id, old.key, old.base_version, old.op));
        }
        for local in db.reports.values_mut() {
            if let Some(old) = local.last_mutation {
                local.last_mutation = renumbered.get(&old).copied();
            }
        }
        db.meta.client_id = new_client_id;
        db.meta.next_mutation_id = renumbered.len() as u64 + 1;
        db.meta.sent_upto = 0;
        db.meta.cursor = 0;
        db.meta.epoch = Some(epoch.to_string());
    }

    /// `LocalDb::resolve_conflict`: the person's choices, the resulting save queued.
    pub fn resolve_conflict(&self, report_id: &str, choices: &BTreeMap<String, Side>, now: DateTime<Utc>) -> bool {
        let mut db = self.local.lock().unwrap();
        let Some(conflict) = db.conflicts.get(report_id).cloned() else { return false };
        let (local, entry) = client::resolve(&conflict, choices, db.meta.next_mutation_id, now);
        if let Some(entry) = entry {
            db.meta.next_mutation_id = entry.id + 1;
            db.outbox.insert(entry.id, entry);
        }
        // A refused save of a report the server never had leaves nothing behind.
        if local.is_blank() {
            db.reports.remove(report_id);
        } else {
            db.reports.insert(report_id.to_string(), local);
        }
        db.conflicts.remove(report_id);
        drop(db);
        self.log.lock().unwrap().conflicts_resolved += 1;
        true
    }

    pub fn outbox_len(&self) -> usize {
        self.local.lock().unwrap().outbox.len()
    }

    // --- src/api.rs ---------------------------------------------------------------

    async fn post<B: serde::Serialize>(&self, path: &str, body: &B) -> Result<(u16, String), ApiError> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|_| ApiError::Network)?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(|_| ApiError::Network)?;
        *self.log.lock().unwrap().statuses.entry(status).or_default() += 1;
        Ok((status, text))
    }

    /// `api::push`: a 403 that carries a push answer is an answer.
    async fn push(&self, body: &PushRequest) -> Result<PushResponse, ApiError> {
        let (status, text) = self.post("/api/sync/push", body).await?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text).map_err(|_| ApiError::Decode);
        }
        if status == 403 {
            if let Ok(response) = serde_json::from_str::<PushResponse>(&text) {
                return Ok(response);
            }
        }
        Err(error_for(status, &text))
    }

    async fn pull(&self, body: &PullRequest) -> Result<PullResponse, ApiError> {
        let (status, text) = self.post("/api/sync/pull", body).await?;
        if (200..300).contains(&status) {
            return serde_json::from_str(&text).map_err(|_| ApiError::Decode);
        }
        Err(error_for(status, &text))
    }

    // --- src/sync.rs ---------------------------------------------------------------

    /// `sync_now` / `run`: push, then pull, twice if edits came in meanwhile.
    pub async fn sync_now(&self) -> Result<(), SyncError> {
        self.log.lock().unwrap().syncs += 1;
        for _ in 0..2 {
            self.push_all().await?;
            self.pull_all().await?;
            if self.outbox_len() == 0 {
                break;
            }
        }
        Ok(())
    }

    async fn push_all(&self) -> Result<(), SyncError> {
        let mut gap_restarts = 0;
        for _ in 0..MAX_ROUNDS {
            let (meta, batch) = self.take_outbox_batch();
            if batch.is_empty() {
                return Ok(());
            }
            let request = PushRequest {
                client_id: meta.client_id.clone(),
                epoch: meta.epoch.clone(),
                schema_version: SYNC_SCHEMA_VERSION,
                mutations: batch.clone(),
            };
            let response = match self.push(&request).await {
                Ok(r) => r,
                Err(ApiError::Server { status: 409, code, .. }) if code == "epoch_mismatch" => {
                    self.pull_all().await?;
                    continue;
                }
                // The entries stay marked as sent and go again unchanged.
                Err(e) => return Err(e.into()),
            };
            self.note_answers(&request, &response);
            self.take_push_outcomes(&batch, &response.results);
            if response.results.is_empty() {
                if gap_restarts > 0 {
                    return Err(SyncError::Gap(response.last_mutation_id + 1));
                }
                gap_restarts += 1;
                self.log.lock().unwrap().gap_restarts += 1;
                self.restart_sync(self.new_client_id(), &response.epoch);
            }
        }
        Ok(())
    }

    async fn pull_all(&self) -> Result<(), SyncError> {
        for _ in 0..50 {
            let meta = self.local.lock().unwrap().meta.clone();
            let request =
                PullRequest { client_id: meta.client_id.clone(), cursor: meta.cursor, epoch: meta.epoch.clone() };
            let page = self.pull(&request).await?;
            if page.reset && meta.epoch.is_some() {
                self.restart_sync(self.new_client_id(), &page.epoch);
            }
            self.take_pull(&page, Utc::now());
            if !page.has_more {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The harness's record of an answer: which mutations were acknowledged as
    /// applied (checked against the server's history at the end), and which refused.
    fn note_answers(&self, request: &PushRequest, response: &PushResponse) {
        let mut log = self.log.lock().unwrap();
        for outcome in &response.results {
            let Some(entry) = request.mutations.iter().find(|m| m.id == outcome.id) else { continue };
            match &outcome.result {
                MutationResult::Applied { version } => log.acks.push(Ack {
                    client_id: request.client_id.clone(),
                    mutation_id: entry.id,
                    report_id: entry.key.id(),
                    version: *version,
                    op: entry.op.clone(),
                }),
                MutationResult::Conflict { .. } => log.conflicts_answered += 1,
                MutationResult::Rejected { code, .. } => *log.rejections.entry(code.clone()).or_default() += 1,
            }
        }
    }
}

/// `api::error_for`: a body without the API's error shape came from something
/// other than the server (a proxy, a captive portal): as good as no connection.
fn error_for(status: u16, text: &str) -> ApiError {
    let detail = serde_json::from_str::<danvan_core::api::ErrorBody>(text).ok().map(|b| b.error);
    match (status, detail) {
        (401, d) => ApiError::Unauthorized(d.map(|d| d.message).unwrap_or_default()),
        (_, Some(d)) => ApiError::Server { status, code: d.code, message: d.message },
        (_, None) => ApiError::Network,
    }
}
