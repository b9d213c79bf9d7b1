-- Threads, the inquiry -> quote link, manual corrections of a kind, quote
-- details, and the indexes that the follow-up lists and the reports need.

-- A conversation. When two threads turn out to be one (a message refers to
-- both), the younger is merged into the older and keeps a pointer to it, so
-- that an id a client holds still resolves.
CREATE TABLE threads (
    id          bigserial PRIMARY KEY,
    merged_into bigint REFERENCES threads (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every Message-ID seen, as a message's own or in its In-Reply-To or
-- References, with the thread it belongs to: a reply that arrives before
-- its parent registers the parent's id, and the parent joins on arrival.
CREATE TABLE thread_refs (
    msgid     text PRIMARY KEY,
    thread_id bigint NOT NULL REFERENCES threads (id)
);
CREATE INDEX thread_refs_thread ON thread_refs (thread_id);

ALTER TABLE messages
    ADD COLUMN thread_id   bigint REFERENCES threads (id),
    -- The subject without reply/forward prefixes, folded (timeline.SubjectKey),
    -- and whether it had such a prefix: the fallback for clients that drop
    -- References groups a reply with a message of the same key.
    ADD COLUMN subject_key text NOT NULL DEFAULT '',
    ADD COLUMN is_reply    boolean NOT NULL DEFAULT false;
CREATE INDEX messages_thread ON messages (thread_id);
CREATE INDEX messages_subject_key ON messages (subject_key, sent_at) WHERE subject_key <> '';

ALTER TABLE events
    -- A copy of messages.thread_id, kept equal by the thread code.
    ADD COLUMN thread_id      bigint,
    -- For an inquiry: the quote that answers it (same thread first, else
    -- the next quote to the same customer) and the first outbound event to
    -- the customer after it, with their times (copied for the reports).
    ADD COLUMN quote_event_id bigint REFERENCES events (id) ON DELETE SET NULL,
    ADD COLUMN quoted_at      timestamptz,
    ADD COLUMN reply_event_id bigint REFERENCES events (id) ON DELETE SET NULL,
    ADD COLUMN replied_at     timestamptz,
    -- A person's correction of the kind: it wins over the rules and
    -- survives `mailtrail reclassify`; rule/confidence keep what the rules say.
    ADD COLUMN kind_manual    text CHECK (kind_manual IN ('inquiry', 'quote', 'email')),
    ADD COLUMN kind_manual_by text,
    ADD COLUMN kind_manual_at timestamptz,
    -- What a quote states: quotation / PI number, currency (ISO 4217) and total.
    ADD COLUMN quote_ref      text,
    ADD COLUMN currency       text,
    ADD COLUMN amount         numeric;

CREATE INDEX events_thread ON events (thread_id, occurred_at, id);
CREATE INDEX events_customer_out ON events (customer_id, occurred_at, id) WHERE direction = 'out';
CREATE INDEX events_customer_quote ON events (customer_id, occurred_at, id) WHERE kind = 'quote';
CREATE INDEX events_customer_inquiry ON events (customer_id, occurred_at) WHERE kind = 'inquiry';
CREATE INDEX events_rep_customer ON events (rep, customer_id);
-- Funnel: an index-only scan over the inquiries of the period (rep included).
CREATE INDEX events_inquiry_time ON events (occurred_at)
    INCLUDE (rep, replied_at, quoted_at) WHERE kind = 'inquiry';
-- Unanswered inquiries, and each customer's newest open (unquoted) inquiry.
CREATE INDEX events_inquiry_unanswered ON events (occurred_at) INCLUDE (rep, customer_id)
    WHERE kind = 'inquiry' AND replied_at IS NULL;
CREATE INDEX events_inquiry_open ON events (customer_id, occurred_at) WHERE kind = 'inquiry' AND quote_event_id IS NULL;
-- Churn: inbound events per customer over the last months.
CREATE INDEX events_in_time ON events (occurred_at) INCLUDE (customer_id) WHERE direction = 'in';
CREATE INDEX events_manual ON events (rule) WHERE kind_manual IS NOT NULL;
CREATE INDEX customers_owner ON customers (owner);
