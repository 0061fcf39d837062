-- danvan, initial schema (SQLite). Timestamps are UTC, RFC 3339 text.
-- A PostgreSQL backend will get its own migrations directory with the same tables.

CREATE TABLE units (
    id       TEXT PRIMARY KEY NOT NULL,
    code     TEXT NOT NULL,
    name     TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('province', 'department', 'district', 'commune')),
    parent   TEXT REFERENCES units(id),
    -- Order of the seed file, so lists come back the way the data lists them.
    position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX units_parent ON units(parent);

CREATE TABLE plans (
    id     TEXT PRIMARY KEY NOT NULL,
    number TEXT NOT NULL,
    -- The whole danvan_core::Plan as JSON.
    data   TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('reporter', 'reviewer', 'aggregator', 'admin')),
    unit_id       TEXT NOT NULL REFERENCES units(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX users_unit ON users(unit_id);

CREATE TABLE sessions (
    -- SHA-256 (hex) of the bearer token; the token itself is never stored.
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- One row. `epoch` is a random id made when the database is created: a client that
-- sees another epoch knows the database was replaced (restored from a backup) and
-- must resynchronise from scratch. `last_change_seq` is the global change counter
-- the sync pull cursor follows.
CREATE TABLE sync_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    epoch           TEXT NOT NULL,
    last_change_seq INTEGER NOT NULL DEFAULT 0
);
