-- A revision keeps the operation that made it and the status it left, no longer a
-- full copy of the report: the values at any version are the saves' `set`s applied
-- in order (src/store/sync.rs `Store::revisions`, src/routes/reports.rs), and the
-- copy doubled what every save wrote to disk.
ALTER TABLE report_revisions ADD COLUMN status TEXT NOT NULL DEFAULT 'draft';
UPDATE report_revisions SET status = (data::json)->>'status';
ALTER TABLE report_revisions DROP COLUMN data;
ALTER TABLE report_revisions ALTER COLUMN status DROP DEFAULT;
