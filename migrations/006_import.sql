-- Historic mail imported from files (mailtrail import), and the results
-- of the completeness check (mailtrail verify).

-- Which rep's mailbox an imported message belongs to, and the file it came
-- from. Kept apart from message_locations, whose key is an IMAP position
-- (folder, UIDVALIDITY, UID): a file path and an index are not a stable
-- identity (Maildir renames files as flags change, an export is moved or
-- re-exported), so an import is keyed by what it says, "this message was
-- in this rep's mailbox", and importing the same mail again adds no row.
CREATE TABLE message_imports (
    rep         text NOT NULL,
    message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    folder      text NOT NULL CHECK (folder IN ('INBOX', 'Sent')),
    source      text NOT NULL,   -- the file, as given on the command line
    position    bigint NOT NULL, -- 1-based index of the message in source
    imported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (rep, message_id)
);
CREATE INDEX IF NOT EXISTS message_imports_message ON message_imports (message_id);

-- The last completeness check of each rep's folder: UIDs on the server
-- that mailtrail should hold (at or below the folder's cursor) but does
-- not are gaps. Replaced on every check.
CREATE TABLE verify_results (
    rep             text NOT NULL,
    folder          text NOT NULL,
    checked_at      timestamptz NOT NULL DEFAULT now(),
    uidvalidity     bigint NOT NULL DEFAULT 0,
    server_messages bigint NOT NULL DEFAULT 0,
    stored          bigint NOT NULL DEFAULT 0,
    gaps            bigint NOT NULL DEFAULT 0,  -- on the server, below the cursor, not stored
    pending         bigint NOT NULL DEFAULT 0,  -- above the cursor: the next sync fetches them
    gone            bigint NOT NULL DEFAULT 0,  -- stored, no longer on the server (informational)
    gap_uids        bigint[] NOT NULL DEFAULT '{}', -- the first gaps, for the operator
    error           text,                       -- the check could not run
    PRIMARY KEY (rep, folder)
);
