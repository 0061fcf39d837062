-- danvan, reports and their sync (SQLite). See DESIGN.md "Sync" and src/sync.rs.
-- Timestamps are UTC, RFC 3339 text written by `store::ts`.

-- Report forms (data, like plans). The whole danvan_core::ReportForm as JSON: the
-- server validates with exactly the definition the phones download.
CREATE TABLE forms (
    id      TEXT PRIMARY KEY NOT NULL,
    plan_id TEXT NOT NULL REFERENCES plans(id),
    data    TEXT NOT NULL
);
CREATE INDEX forms_plan ON forms(plan_id);

-- The current state of every report. `id` is `ReportKey::id()` (plan~unit~period),
-- deterministic so two phones starting the same month's report offline start the
-- same row. The columns next to `data` are copies of fields inside it, kept for
-- filtering and constraints; `data` (the full danvan_core::Report) is what is served.
CREATE TABLE reports (
    id         TEXT PRIMARY KEY NOT NULL,
    plan_id    TEXT NOT NULL REFERENCES plans(id),
    unit_id    TEXT NOT NULL REFERENCES units(id),
    period     TEXT NOT NULL,
    form_id    TEXT NOT NULL REFERENCES forms(id),
    status     TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'accepted')),
    data       TEXT NOT NULL,
    -- Bumped by one per applied mutation: the base a device's edit must match.
    version    INTEGER NOT NULL CHECK (version >= 1),
    -- The global change counter (sync_state.last_change_seq) at this report's last
    -- change: pulls return rows with change_seq > cursor, in this order. UNIQUE makes
    -- a double-issued number fail loudly instead of hiding a change from a pull.
    change_seq INTEGER NOT NULL UNIQUE,
    updated_at TEXT NOT NULL,
    updated_by INTEGER NOT NULL REFERENCES users(id),
    UNIQUE (plan_id, unit_id, period)
);
CREATE INDEX reports_unit ON reports(unit_id);
-- change_seq needs no index of its own: its UNIQUE constraint is one, and pulls
-- (`WHERE change_seq > ? ORDER BY change_seq`) use it.

-- Append-only history: one row per applied mutation with the report as it was
-- afterwards. Official reports need an audit trail (who changed what, from which
-- device), and the push conflict check asks "did another device change this report
-- after the version this edit was based on?".
CREATE TABLE report_revisions (
    report_id   TEXT NOT NULL REFERENCES reports(id),
    version     INTEGER NOT NULL,
    client_id   TEXT NOT NULL,
    mutation_id INTEGER NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    -- The danvan_core::MutationOp as JSON.
    op          TEXT NOT NULL,
    -- The full report after the change.
    data        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (report_id, version)
);

-- One row per device installation (client id made on the device). Exactly-once:
-- `last_mutation_id` moves in the same transaction as the mutation it records, so a
-- retried push after a lost response is answered from `mutation_results` instead of
-- being applied twice. A client belongs to the user who first pushed with it;
-- `revoked` lets an administrator cut off a lost phone.
CREATE TABLE clients (
    client_id        TEXT PRIMARY KEY NOT NULL,
    user_id          INTEGER NOT NULL REFERENCES users(id),
    last_mutation_id INTEGER NOT NULL DEFAULT 0,
    revoked          INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    last_seen_at     TEXT NOT NULL
);
CREATE INDEX clients_user ON clients(user_id);

-- The answer given to each mutation (a danvan_core::MutationResult as JSON), so a
-- replay gets the same answer. `content_hash` tells a genuine retry from a client
-- that reused an id for different content.
CREATE TABLE mutation_results (
    client_id    TEXT NOT NULL REFERENCES clients(client_id),
    mutation_id  INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (client_id, mutation_id)
);

-- Photos and documents attached as evidence. The bytes arrive separately from the
-- report (`PUT /api/attachments/{id}`), possibly before the report itself reaches
-- the server, so there is no foreign key to `reports`; `unit_id` (from the report
-- id) decides who may read them. Kept in the database so a backup is one file.
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY NOT NULL,
    report_id   TEXT NOT NULL,
    unit_id     TEXT NOT NULL REFERENCES units(id),
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    -- SHA-256 of `data`, lowercase hex; checked on upload, makes retries idempotent.
    sha256      TEXT NOT NULL,
    data        BLOB NOT NULL,
    uploaded_by INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL
);
CREATE INDEX attachments_report ON attachments(report_id);
