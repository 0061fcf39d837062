-- Failed sign-ins and enrolment codes by key ("u:<username>" or "a:<address>"):
-- every server process on this database counts the same failures (src/throttle.rs).
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures(key, at);
