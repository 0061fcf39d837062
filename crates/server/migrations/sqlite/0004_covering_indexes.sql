-- Covering indexes for the dashboard and the consolidation (measured in
-- BENCHMARKS.md, "Dashboard and consolidation"): a report row is ~3 KB, so reading
-- the few columns these need straight from the table touches one page per report;
-- from these indexes, a few dozen reports per page.
DROP INDEX IF EXISTS reports_plan_period;
-- Dashboard: status and first submission of every report of a period.
CREATE INDEX reports_period_summary ON reports(plan_id, period, unit_id, status, first_submitted_at, return_reason);
-- Consolidation: which reports are accepted, and their figures (~0.5 KB) for the
-- units summed without their narratives.
CREATE INDEX reports_period_figures ON reports(plan_id, period, status, unit_id, figures);
