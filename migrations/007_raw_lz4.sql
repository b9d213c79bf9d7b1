-- Raw messages are compressed with lz4 rather than PostgreSQL's default
-- pglz: pglz compressed at about 40 MB/s and was the largest single cost
-- of a first sync (a 227 MB mailbox: 5.9 s of 20 s in the INSERT of
-- message_raw; 0.8 s with lz4). Rows written before keep their pglz
-- compression and read as before. A server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE message_raw ALTER COLUMN raw SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available: raw messages stay compressed with pglz';
END $$;
