-- Inquiry links that a backfill changed and left to recompute (see
-- timeline.Relinks.Defer): per customer, the span of the new quotes and
-- outbound events, and the threads of the quotes. Going back in time, each
-- batch of older mail re-linked every older inquiry of its customers, and
-- again with the next batch; now a backfill's turn recomputes them once.
-- Written in the batch's transaction, so a crash never loses one.
CREATE TABLE pending_links (
    customer_id bigint PRIMARY KEY,
    min_at      timestamptz NOT NULL,
    max_at      timestamptz NOT NULL,
    threads     bigint[] NOT NULL DEFAULT '{}'
);
