-- Placeholder on branch issue6b only: tern refuses a gap in the numbering,
-- and 003 belongs to another branch. Delete this file when merging.
SELECT 1;
