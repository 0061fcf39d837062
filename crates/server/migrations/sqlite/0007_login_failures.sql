-- Failed sign-ins and enrolment codes by key ("u:<username>" or "a:<address>"),
-- for login throttling shared by every server process of one database
-- (src/throttle.rs). One SQLite process keeps its counters in memory; the table is
-- here so both backends have the same schema.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures(key, at);
