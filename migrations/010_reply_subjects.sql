-- Threading by subject looks forward in time for the nearest later reply
-- with the same subject key (timeline.bySubjectOrNewSQL). Over the index
-- of all messages it stepped past every non-reply of that subject in the
-- window (a first sync goes newest first, so this is its common case):
-- replies get an index of their own.
CREATE INDEX IF NOT EXISTS messages_subject_key_reply ON messages (subject_key, sent_at)
    WHERE subject_key <> '' AND is_reply;
