-- Uploads are limited per unit (bytes) and per report (count) when they are
-- stored (crates/server/src/store/attachments.rs, `put_attachment`): both sums
-- read this index instead of the table with its bytes.
CREATE INDEX attachments_unit ON attachments(unit_id, size);
