-- Placeholder on branch issue4 only: tern refuses a gap in the numbering,
-- and 002 belongs to another branch. Delete this file when merging.
SELECT 1;
