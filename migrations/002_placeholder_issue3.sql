-- Placeholder so that this branch (issue 5, migration 004) applies on its
-- own: tern needs contiguous versions. DELETE THIS FILE when merging the
-- branch of issue 3, which owns migration 002.
SELECT 1;
