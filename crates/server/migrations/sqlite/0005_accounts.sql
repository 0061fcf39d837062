-- danvan, accounts administration: contact details, disabling, enrolment codes,
-- devices (one per sign-in) and the audit log.

ALTER TABLE users ADD COLUMN phone TEXT;
ALTER TABLE users ADD COLUMN email TEXT;
-- Set when the account is disabled; its reports and history stay.
ALTER TABLE users ADD COLUMN disabled_at TEXT;
-- `password_hash` is '' until the official sets a password through an enrolment
-- code: an empty string is not a PHC hash, so no password ever matches it.

-- One row per sign-in of one browser. Replaces `sessions`: the token is still only
-- stored as its SHA-256. Ended devices are kept (with why) so the phone is told
-- "signed out by the administrator" rather than "session expired", and so the
-- administrator sees the history.
CREATE TABLE devices (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    -- From the user agent at sign-in ("Chrome trên Android").
    name         TEXT NOT NULL,
    app_version  TEXT,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    last_sync_at TEXT,
    -- Absolute expiry; the idle expiry is `last_seen_at` + auth::IDLE_EXPIRY.
    expires_at   TEXT NOT NULL,
    ended_at     TEXT,
    -- logout | user | admin | disabled | password
    ended_reason TEXT
);
CREATE INDEX devices_user ON devices(user_id);
INSERT INTO devices (token_hash, user_id, name, created_at, last_seen_at, expires_at)
    SELECT token_hash, user_id, 'Thiết bị', created_at, created_at, expires_at FROM sessions;
DROP TABLE sessions;

-- One-time codes that let an official set a password. Only the SHA-256 is stored:
-- the code itself is shown once, to the administrator who prints the sheet.
CREATE TABLE enrolment_codes (
    code_hash  TEXT PRIMARY KEY NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    -- A newer code for the same account, a disabled account: no longer valid.
    revoked_at TEXT
);
CREATE INDEX enrolment_codes_user ON enrolment_codes(user_id);

-- Administrative actions: who (NULL actor_id for `danvan-server` commands), when,
-- what, from which address. Append-only: the triggers refuse changes.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER REFERENCES users(id),
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT,
    detail   TEXT,
    address  TEXT,
    -- The unit the action concerns: an administrator of a district reads its own.
    unit_id  TEXT
);
CREATE INDEX audit_log_unit ON audit_log(unit_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
