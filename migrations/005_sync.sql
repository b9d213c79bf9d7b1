-- The sync engine of issue 6: two cursors per folder (new mail upwards,
-- backfill newest-first downwards), what the server last said about each
-- folder, and per mailbox the retry and parking state.

-- A folder's cursors. last_uid (001) is the new-mail cursor: every UID at
-- or below it that the backfill has covered is stored. backfill_uid is the
-- backfill cursor: while backfill_done is false, the UIDs from backfill_uid
-- to last_uid are stored and those below wait, fetched newest first. Rows
-- written before this migration were synced oldest first and are complete.
ALTER TABLE folders
    ADD COLUMN role            text NOT NULL DEFAULT '',      -- inbox, sent, archive, other
    ADD COLUMN backfill_uid    bigint NOT NULL DEFAULT 0,
    ADD COLUMN backfill_done   boolean NOT NULL DEFAULT true,
    -- The since date the backfill stopped at (NULL: the whole folder). A
    -- config that reaches further back restarts the backfill below it.
    ADD COLUMN backfill_since  date,
    -- What the last STATUS (or EXAMINE) said, for the backlog in the API.
    ADD COLUMN server_messages bigint,
    ADD COLUMN server_uidnext  bigint,
    -- Messages on the server older than the since date (not wanted).
    ADD COLUMN before_since    bigint NOT NULL DEFAULT 0,
    ADD COLUMN status_at       timestamptz;

-- Mailbox state. A temporary failure counts in failures and sets
-- next_attempt_at (exponential backoff with jitter); a permanent one parks
-- the mailbox: parked_at and parked_reason are set and config_hash holds a
-- salted hash of the rep's IMAP settings (secret included) at that moment.
-- It is retried when that hash changes or an operator clears parked_at.
ALTER TABLE mailboxes
    ADD COLUMN imap_host          text NOT NULL DEFAULT '',
    ADD COLUMN imap_username      text NOT NULL DEFAULT '',
    ADD COLUMN last_attempt_at    timestamptz,
    ADD COLUMN last_error_advice  text,
    ADD COLUMN failures           integer NOT NULL DEFAULT 0,
    ADD COLUMN next_attempt_at    timestamptz,
    ADD COLUMN parked_at          timestamptz,
    ADD COLUMN parked_reason      text,
    ADD COLUMN config_hash        text NOT NULL DEFAULT '',
    ADD COLUMN retry_requested_at timestamptz;
