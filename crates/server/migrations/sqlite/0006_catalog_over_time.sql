-- danvan, plans, forms and unit trees as runtime data, across years and reforms.
-- See crates/server/src/catalog/ and docs/catalog.md.

-- Units change over time: a closed unit keeps its row (reports and accounts point at
-- it) with the last day it existed and the units that took over (JSON array of ids).
-- `designation` tells xã / phường / thị trấn / đặc khu apart among commune-level
-- units (NULL: read from the name).
ALTER TABLE units ADD COLUMN designation TEXT;
ALTER TABLE units ADD COLUMN valid_from TEXT;
ALTER TABLE units ADD COLUMN valid_to TEXT;
ALTER TABLE units ADD COLUMN successors TEXT NOT NULL DEFAULT '[]';

-- Every version of every plan with its report form, drafts included. `plans` and
-- `forms` keep serving the current published version (reports refer to them);
-- this table is the history and the workbench. At most one draft per plan, always
-- numbered after the last published version. A published row never changes.
CREATE TABLE plan_versions (
    plan_id      TEXT NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    -- danvan_core::Plan and danvan_core::ReportForm as JSON.
    plan         TEXT NOT NULL,
    form         TEXT,
    created_at   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    published_at TEXT,
    published_by TEXT,
    PRIMARY KEY (plan_id, version)
);
CREATE UNIQUE INDEX plan_versions_one_draft ON plan_versions(plan_id) WHERE status = 'draft';
-- The versions already published before this table existed.
INSERT INTO plan_versions (plan_id, version, status, plan, form, created_at, created_by, published_at, published_by)
SELECT p.id, 1, 'published', p.data, (SELECT f.data FROM forms f WHERE f.plan_id = p.id),
       strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'seed', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'seed'
  FROM plans p;

-- The plan version a report was last written against (its form is that version's).
ALTER TABLE reports ADD COLUMN plan_version INTEGER NOT NULL DEFAULT 1;

-- Bumped by every change to units, plans or forms: phones compare it at each sync
-- and download the catalog again when it moved.
ALTER TABLE sync_state ADD COLUMN catalog_version INTEGER NOT NULL DEFAULT 1;

-- Data packages applied to this database (the shipped trees and plans, by name, so
-- each is applied once and an administrator's later changes are never overwritten).
CREATE TABLE catalog_packages (
    name       TEXT PRIMARY KEY NOT NULL,
    sha256     TEXT NOT NULL,
    applied_at TEXT NOT NULL
);
