//! `use_autosave`: the report editor's writes.
//!
//! Every change is written to IndexedDB at once (one strict transaction: the
//! report, its outbox entry, the mutation counter) and "Đã lưu trên máy" appears
//! only when that transaction has committed. Changes typed while a write is in
//! progress are written together by the next one, so there is never more than one
//! write in flight and nothing waits on a timer that a closing tab would skip.

use std::time::Duration;

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use danvan_core::client::LocalReport;
use danvan_core::sync::MutationOp;
use danvan_core::{ReportKey, Values};

use crate::state::AppState;
use crate::storage::{EditError, LocalDb};
use crate::sync::{refresh_counts, request_sync};
use crate::web;

/// What the editor's footer says.
#[derive(Clone, Debug, PartialEq)]
pub enum SaveState {
    Idle,
    Saving,
    /// Everything typed so far is committed on the phone.
    Saved(DateTime<Utc>),
    Failed(String),
}

impl SaveState {
    /// `data-state` of the footer line (the tests and the autosave bench wait on it).
    pub fn as_str(&self) -> &'static str {
        match self {
            SaveState::Idle => "idle",
            SaveState::Saving => "saving",
            SaveState::Saved(_) => "saved",
            SaveState::Failed(_) => "failed",
        }
    }
}

/// The report on screen and the way to change it.
#[derive(Clone, Copy)]
pub struct UseAutosaveReturn {
    /// The values on screen: what is committed plus what is being written.
    pub values: RwSignal<Values>,
    /// The report as last committed on the phone.
    pub local: RwSignal<Option<LocalReport>>,
    pub save_state: RwSignal<SaveState>,
    key: StoredValue<ReportKey>,
    state: AppState,
    /// Typed but not yet committed, and when the oldest of it was typed.
    pending: StoredValue<Values>,
    first_change_at: StoredValue<Option<f64>>,
    writing: StoredValue<bool>,
    /// How many changes were made on this screen (see [`UseAutosaveReturn::edit_mark`]).
    edits: StoredValue<u64>,
}

pub fn use_autosave(key: StoredValue<ReportKey>) -> UseAutosaveReturn {
    UseAutosaveReturn {
        values: RwSignal::new(Values::new()),
        local: RwSignal::new(None),
        save_state: RwSignal::new(SaveState::Idle),
        key,
        state: expect_context::<AppState>(),
        pending: StoredValue::new(Values::new()),
        first_change_at: StoredValue::new(None),
        writing: StoredValue::new(false),
        edits: StoredValue::new(0),
    }
}

impl UseAutosaveReturn {
    /// One field changed ("" clears it).
    pub fn change(self, field: String, value: String) {
        self.apply(Values::from([(field, value)]));
    }

    /// Several fields changed at once (filled from the units below): on screen at
    /// once, written in one transaction, synced like any save.
    pub fn apply(self, changes: Values) {
        self.values.update(|v| {
            for (field, value) in &changes {
                if value.is_empty() {
                    v.remove(field);
                } else {
                    v.insert(field.clone(), value.clone());
                }
            }
        });
        self.pending.update_value(|p| p.extend(changes));
        self.edits.update_value(|n| *n += 1);
        self.first_change_at.update_value(|t| {
            t.get_or_insert_with(web::now_ms);
        });
        self.save_state.set(SaveState::Saving);
        leptos::task::spawn_local(self.flush());
    }

    /// Nothing typed is waiting or being written.
    pub fn is_settled(self) -> bool {
        !self.writing.try_get_value().unwrap_or(false) && self.pending.try_with_value(Values::is_empty).unwrap_or(true)
    }

    /// Marks the start of a read of the report from the phone, for
    /// [`UseAutosaveReturn::show_loaded`].
    pub fn edit_mark(self) -> u64 {
        self.edits.try_get_value().unwrap_or(0)
    }

    /// Shows what the phone holds (loaded, or changed by sync) as read since `mark`,
    /// unless the person changed something since: a read that started before a
    /// keystroke's write holds the report without it, and showing it would undo
    /// the keystroke on screen (and the next one would be typed into the old text).
    pub fn show_loaded(self, mark: u64, report: Option<LocalReport>) {
        if self.edit_mark() != mark || !self.is_settled() {
            return;
        }
        let values = report.as_ref().map(|r| r.report.values.clone()).unwrap_or_default();
        // Unchanged (the usual case after a sync): no signal is set, nothing redrawn.
        if self.values.try_with_untracked(|v| *v != values) == Some(true) {
            self.values.try_set(values);
        }
        if self.local.try_with_untracked(|l| *l != report) == Some(true) {
            self.local.try_set(report);
        }
    }

    /// Writes everything pending, one transaction at a time; returns when it is
    /// written (or failed). A call while a write runs returns at once: that
    /// write's loop takes the new changes.
    pub async fn flush(self) {
        if self.writing.try_get_value().unwrap_or(true) {
            return;
        }
        self.writing.set_value(true);
        let busy = web::BusyGuard::new();
        let mut new_entry = false;
        loop {
            let changes = self.pending.try_update_value(std::mem::take).unwrap_or_default();
            if changes.is_empty() {
                break;
            }
            let started = self.first_change_at.try_update_value(Option::take).flatten();
            let op = MutationOp::Save { form_id: String::new(), set: changes.clone(), attach: vec![], detach: vec![] };
            let result = match LocalDb::shared().await {
                Ok(db) => db.record_edit(&self.key.get_value(), op, Utc::now()).await,
                Err(e) => Err(EditError::Storage(e)),
            };
            match result {
                Ok(saved) => {
                    if let Some(t0) = started {
                        record_save_latency(web::now_ms() - t0);
                    }
                    let before = self.local.try_with_untracked(|l| l.as_ref().and_then(|l| l.last_mutation)).flatten();
                    new_entry |= saved.last_mutation != before;
                    self.local.try_set(Some(saved));
                    // "Saved" only when everything typed so far is committed.
                    if self.pending.with_value(Values::is_empty) {
                        self.save_state.try_set(SaveState::Saved(Utc::now()));
                    }
                }
                Err(e) => {
                    // Nothing was written (the transaction rolled back): keep the
                    // changes pending, under anything typed since.
                    self.pending.update_value(|p| {
                        for (k, v) in changes {
                            p.entry(k).or_insert(v);
                        }
                    });
                    self.save_state.try_set(SaveState::Failed(e.to_string()));
                    break;
                }
            }
        }
        self.writing.set_value(false);
        drop(busy);
        request_sync(Duration::from_secs(10));
        // The status bar's "chưa gửi" count moves only when a write opened a new
        // outbox entry; a change folded into the open one leaves it as it is, and
        // reading it again (a transaction of its own) would sit between two
        // keystrokes on a slow phone.
        if new_entry {
            refresh_counts(self.state).await;
        }
    }

    /// A change made elsewhere (a photo, a submit, a settled conflict) is committed.
    pub fn saved(self, report: LocalReport) {
        self.local.try_set(Some(report));
        self.save_state.try_set(SaveState::Saved(Utc::now()));
    }

    pub fn failed(self, message: String) {
        self.save_state.try_set(SaveState::Failed(message));
    }
}

/// Keeps the last autosave latencies on `window.danvanSaveTimings` for the
/// benchmark (bench/autosave.mjs) — a few numbers, no cost worth a flag.
fn record_save_latency(ms: f64) {
    let Some(w) = web_sys::window() else { return };
    let key = wasm_bindgen::JsValue::from_str("danvanSaveTimings");
    let array = match js_sys::Reflect::get(&w, &key).ok().filter(js_sys::Array::is_array) {
        // The array itself, not `Array::from` (a copy the bench would never see).
        Some(a) => wasm_bindgen::JsCast::unchecked_into::<js_sys::Array>(a),
        None => {
            let a = js_sys::Array::new();
            let _ = js_sys::Reflect::set(&w, &key, &a);
            a
        }
    };
    if array.length() < 10_000 {
        array.push(&wasm_bindgen::JsValue::from_f64(ms));
    }
}
