-- The first schema: customers, captured messages with where they were
-- found, timeline events and the search outbox. PostgreSQL is the source of
-- truth; Meilisearch is rebuilt from events + messages at any time.

CREATE TABLE customers (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL,
    grade        text CHECK (grade IN ('A', 'B', 'C', 'D', 'E')),
    owner        text,                       -- a rep's email
    phone        text NOT NULL DEFAULT '',
    country      text NOT NULL DEFAULT '',
    auto_created boolean NOT NULL DEFAULT false,
    -- 'domain:<d>' or 'email:<a>' for customers created from mail, so that
    -- two workers meeting the same new buyer create it once.
    auto_key     text UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- A domain may sit on two customers (duplicate rows); the matcher prefers
-- the lowest id.
CREATE TABLE customer_domains (
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    domain      text NOT NULL, -- lower-case, punycode
    PRIMARY KEY (customer_id, domain)
);
CREATE INDEX customer_domains_domain ON customer_domains (domain);

CREATE TABLE contacts (
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    email       text NOT NULL, -- normalized: lower-case, punycode domain
    name        text NOT NULL DEFAULT '',
    PRIMARY KEY (customer_id, email)
);
CREATE INDEX contacts_email ON contacts (email);

-- One row per message however many folders hold it.
CREATE TABLE messages (
    id          bigserial PRIMARY KEY,
    -- 'mid:<Message-ID>' or, when there is none, 'sha256:<hash of date,
    -- from, subject and body>' (copies differ in trace headers).
    dedup_key   text NOT NULL UNIQUE,
    -- Hash of date, from, subject and body: tells a second copy of the same
    -- message (same hash) from another message that reuses its Message-ID
    -- (stored apart under 'mid:<id>#<hash>', so that neither is lost).
    content_hash text NOT NULL DEFAULT '',
    message_id  text,
    subject     text NOT NULL DEFAULT '',
    sent_at     timestamptz,
    from_addrs  jsonb NOT NULL DEFAULT '[]',
    to_addrs    jsonb NOT NULL DEFAULT '[]',
    cc_addrs    jsonb NOT NULL DEFAULT '[]',
    bcc_addrs   jsonb NOT NULL DEFAULT '[]',
    in_reply_to text[] NOT NULL DEFAULT '{}',
    refs        text[] NOT NULL DEFAULT '{}',
    body        text NOT NULL DEFAULT '',
    attachments jsonb NOT NULL DEFAULT '[]',
    size        integer NOT NULL,
    direction   text CHECK (direction IN ('in', 'out')),
    malformed   boolean NOT NULL DEFAULT false,
    problems    text[] NOT NULL DEFAULT '{}',
    -- Why the message is on no timeline: internal, supplier, auto_reply,
    -- bounce, bulk, calendar, suspicious, unmatched. NULL when it is.
    noise       text,
    noise_rule  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_message_id ON messages (message_id);

-- The raw bytes, kept apart so that scans of messages stay small.
CREATE TABLE message_raw (
    message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    raw        bytea NOT NULL
);

-- Where each message was found. A changed UIDVALIDITY adds new rows and no
-- new message.
CREATE TABLE message_locations (
    rep         text NOT NULL,
    folder      text NOT NULL,
    uidvalidity bigint NOT NULL,
    uid         bigint NOT NULL,
    message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (rep, folder, uidvalidity, uid)
);
CREATE INDEX message_locations_message ON message_locations (message_id);

-- Sync state per rep and folder, committed with the messages it covers.
CREATE TABLE folders (
    rep          text NOT NULL,
    folder       text NOT NULL,
    uidvalidity  bigint NOT NULL,
    last_uid     bigint NOT NULL DEFAULT 0,
    last_sync_at timestamptz,
    PRIMARY KEY (rep, folder)
);

-- The last outcome of each mailbox, for status and the API.
CREATE TABLE mailboxes (
    rep          text PRIMARY KEY,
    last_ok_at   timestamptz,
    last_error   text,
    last_error_at timestamptz
);

CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    message_id  bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    customer_id bigint NOT NULL REFERENCES customers (id),
    kind        text NOT NULL CHECK (kind IN ('inquiry', 'quote', 'email')),
    direction   text NOT NULL CHECK (direction IN ('in', 'out')),
    rep         text NOT NULL,
    occurred_at timestamptz NOT NULL,
    rule        text NOT NULL DEFAULT '',
    confidence  real NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id, customer_id)
);
CREATE INDEX events_customer_time ON events (customer_id, occurred_at DESC, id DESC);
CREATE INDEX events_rep_time ON events (rep, occurred_at DESC);

-- Written in the same transaction as the event; drained by the indexer.
CREATE TABLE search_outbox (
    id         bigserial PRIMARY KEY,
    event_id   bigint NOT NULL,
    op         text NOT NULL DEFAULT 'upsert' CHECK (op IN ('upsert', 'delete')),
    created_at timestamptz NOT NULL DEFAULT now()
);
