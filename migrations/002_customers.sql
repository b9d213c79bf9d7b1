-- Customer records over time: contacts learned from mail, merges with
-- their audit and the redirects they leave, duplicate candidates, and the
-- queues that re-run matching over stored messages.

-- A contact the pipeline learned from mail at a customer's domain (the
-- address of someone who wrote from acme.com) rather than one listed by a
-- person or an import. A learned contact records the person's name; it is
-- not evidence on its own, so a more specific customer domain imported
-- later (au.acme.com) still wins for that address.
ALTER TABLE contacts ADD COLUMN learned boolean NOT NULL DEFAULT false;
UPDATE contacts k SET learned = true
FROM customers c WHERE c.id = k.customer_id AND c.auto_key LIKE 'domain:%';

CREATE INDEX customers_lower_name ON customers (lower(name));

-- One row per merge: who merged which customer into which, when, and
-- exactly what moved (JSON of ids), so that a person can see and undo it
-- by hand. merged_customer is the merged record as it was.
CREATE TABLE customer_merges (
    id              bigserial PRIMARY KEY,
    kept_id         bigint NOT NULL,
    merged_id       bigint NOT NULL UNIQUE, -- a customer is merged away once
    merged_by       text NOT NULL,
    merged_at       timestamptz NOT NULL DEFAULT now(),
    merged_customer jsonb NOT NULL,
    moved           jsonb NOT NULL
);
CREATE INDEX customer_merges_kept ON customer_merges (kept_id);

-- A merged customer's id keeps answering: old_id redirects to new_id (kept
-- pointing at a live customer when new_id is merged in turn). auto_key is
-- the merged customer's key from mail, so that mail from that buyer finds
-- the kept customer instead of creating the old one again.
CREATE TABLE customer_redirects (
    old_id   bigint PRIMARY KEY,
    new_id   bigint NOT NULL REFERENCES customers (id),
    auto_key text UNIQUE,
    merge_id bigint NOT NULL REFERENCES customer_merges (id)
);
CREATE INDEX customer_redirects_new ON customer_redirects (new_id);

-- Pairs of customers that may be one company, with a score in [0, 1] and
-- the reasons ([{"reason": "same_domain", "detail": "acme.com"}, ...]).
-- Rebuilt by each scan; a merge removes its pairs by cascade.
CREATE TABLE duplicate_candidates (
    customer_a bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    customer_b bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    score      real NOT NULL,
    reasons    jsonb NOT NULL,
    found_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_a, customer_b),
    CHECK (customer_a < customer_b)
);
CREATE INDEX duplicate_candidates_b ON duplicate_candidates (customer_b);
CREATE INDEX duplicate_candidates_score ON duplicate_candidates (score DESC, customer_a, customer_b);

-- Messages to match again (after an import, a merge, a reply that releases
-- pending mail, or a change of the matching config), written in the
-- transaction that made them stale and drained by the daemon.
CREATE TABLE rematch_queue (
    message_id bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    reason     text NOT NULL,
    queued_at  timestamptz NOT NULL DEFAULT now()
);

-- With matching.require_reply, mail from a new buyer waits here, by the
-- buyer's key ('domain:<d>' or 'email:<a>'), until a rep writes to them.
CREATE TABLE pending_replies (
    key        text NOT NULL,
    message_id bigint NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    PRIMARY KEY (key, message_id)
);
CREATE INDEX pending_replies_message ON pending_replies (message_id);

-- Work the daemon owes the customer records: a duplicate scan after
-- customers changed, and the fingerprint of the matching config (company
-- domains, reps, suppliers, free-mail list) that stored messages were
-- matched with; a different one re-matches everything.
CREATE TABLE matching_state (
    id                 integer PRIMARY KEY CHECK (id = 1),
    duplicates_dirty   boolean NOT NULL DEFAULT true,
    config_fingerprint text NOT NULL DEFAULT ''
);
INSERT INTO matching_state (id) VALUES (1);
