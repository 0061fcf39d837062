-- danvan, review, dashboard and consolidation (issue 4).

-- Copies of fields inside `reports.data`, kept so the dashboard and the
-- consolidation of 10,000 units read a few small columns instead of parsing every
-- report's JSON: the first submission's server time (timeliness) and the report's
-- count fields as a JSON object {field: number} (sums).
ALTER TABLE reports ADD COLUMN first_submitted_at TEXT;
ALTER TABLE reports ADD COLUMN figures TEXT;
ALTER TABLE reports ADD COLUMN return_reason TEXT;
UPDATE reports SET first_submitted_at = json_extract(data, '$.submitted_at')
 WHERE status IN ('submitted', 'returned', 'accepted');
UPDATE reports SET return_reason = json_extract(data, '$.return_reason') WHERE status = 'returned';
-- `figures` of older rows is filled at start-up (it needs the form): see
-- Store::backfill_figures.
CREATE INDEX reports_plan_period ON reports(plan_id, period);

-- III.1: each unit's own implementation plan (one per unit and plan), with the
-- document itself optionally attached.
CREATE TABLE implementation_plans (
    plan_id     TEXT NOT NULL REFERENCES plans(id),
    unit_id     TEXT NOT NULL REFERENCES units(id),
    doc_number  TEXT NOT NULL,
    issued_on   TEXT NOT NULL,
    file_name   TEXT,
    file_mime   TEXT,
    file_data   BLOB,
    recorded_by INTEGER NOT NULL REFERENCES users(id),
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (plan_id, unit_id)
);

-- The "Dân vận khéo" register: a unit registers a model, a unit above recognises
-- and commends it. Dates are the dates of the decisions (YYYY-MM-DD).
CREATE TABLE movement_models (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id       TEXT NOT NULL REFERENCES plans(id),
    unit_id       TEXT NOT NULL REFERENCES units(id),
    name          TEXT NOT NULL,
    field         TEXT NOT NULL CHECK (field IN ('economy', 'culture_society', 'defence_security', 'political_system')),
    description   TEXT NOT NULL DEFAULT '',
    registered_on TEXT NOT NULL,
    recognised_on TEXT,
    recognised_by INTEGER REFERENCES users(id),
    commended_on  TEXT,
    commendation  TEXT,
    commended_by  INTEGER REFERENCES users(id),
    created_by    INTEGER NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX movement_models_plan_unit ON movement_models(plan_id, unit_id);
