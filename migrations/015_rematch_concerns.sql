-- What a person's write of a customer (the API) can move, to be turned
-- into rematch_queue rows by the daemon: finding the messages that name a
-- domain or an address reads every stored message's addresses (seconds on
-- a large store), too long to hold a request and the customer's row for.
-- Written in the write's transaction, so nothing is lost if it commits.
CREATE TABLE rematch_concerns (
    id         bigserial PRIMARY KEY,
    concern    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
