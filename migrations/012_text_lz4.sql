-- The text of messages (and the other values long enough to be
-- compressed) is compressed with lz4 too, as the raw messages are since
-- 007: pglz_compress, on the bodies of plain mail, was the largest single
-- function in PostgreSQL's profile of a sync (perf, 4,000 messages).
-- Rows written before keep pglz and read as before. A server built
-- without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE messages
        ALTER COLUMN body SET COMPRESSION lz4,
        ALTER COLUMN attachments SET COMPRESSION lz4,
        ALTER COLUMN to_addrs SET COMPRESSION lz4,
        ALTER COLUMN cc_addrs SET COMPRESSION lz4,
        ALTER COLUMN bcc_addrs SET COMPRESSION lz4,
        ALTER COLUMN refs SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 not available: message text stays compressed with pglz';
END $$;
