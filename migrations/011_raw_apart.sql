-- Raw messages are written on a connection of their own while the rest of
-- a batch is saved (timeline.RawWriter), and committed just before it: the
-- foreign key to messages made each row wait for the message's still
-- uncommitted transaction. Messages are never deleted; raw rows left by a
-- failed batch are removed by timeline.DeleteOrphanRaw.
ALTER TABLE message_raw DROP CONSTRAINT IF EXISTS message_raw_message_id_fkey;
