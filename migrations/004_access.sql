-- Access and handover: API tokens with roles, an audit trail of customer
-- ownership changes, and the indexes that answer "which customers may this
-- rep see" and "whose customers are these" without scanning events.

-- Tokens created by `mailtrail tokens create`. Only the SHA-256 of the
-- token is kept: tokens are 32 random bytes, so a plain hash is enough
-- (no password stretching needed) and the value is shown once.
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL UNIQUE,
    role         text NOT NULL CHECK (role IN ('admin', 'manager', 'rep')),
    rep          text,                      -- the rep's email, for role 'rep'
    token_hash   bytea NOT NULL UNIQUE,     -- sha256 of the token
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,               -- updated at most once a minute
    CHECK ((role = 'rep') = (rep IS NOT NULL))
);

-- One row per customer whose owner changed: by a handover transfer, the
-- API (PATCH) or the command line. Never updated or deleted.
CREATE TABLE owner_changes (
    id          bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    old_owner   text,
    new_owner   text,
    via         text NOT NULL,              -- handover, api, cli
    actor       text NOT NULL DEFAULT '',   -- token name or OS user
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS owner_changes_customer ON owner_changes (customer_id, changed_at);

-- "Customers this rep corresponded with" (rep visibility, handover).
CREATE INDEX IF NOT EXISTS events_rep_customer ON events (rep, customer_id);
-- "Customers this rep owns".
CREATE INDEX IF NOT EXISTS customers_owner ON customers (owner);
