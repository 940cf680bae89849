-- Usage-based billing (issue 13).

-- API keys for the SaaS's own backend: `tg_<mode>_<key_id>_<secret>`. Only the secret's SHA-256
-- is kept (the key is shown once, at creation); `key_id` finds the row without a scan.
-- A platform key reports usage for any customer; a customer key only for its `user_id`.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id       TEXT    NOT NULL UNIQUE,
    secret_hash  TEXT    NOT NULL,
    mode         TEXT    NOT NULL CHECK (mode IN ('live', 'test')),
    user_id      INTEGER REFERENCES users (id),
    label        TEXT    NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- The usage outbox: one row per reported event, `identifier` unique so a retried report counts
-- once; the worker sends each row to Stripe as a meter event with the same identifier.
CREATE TABLE usage_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    identifier      TEXT    NOT NULL UNIQUE,
    user_id         INTEGER NOT NULL REFERENCES users (id),
    customer_id     TEXT    NOT NULL,
    meter           TEXT    NOT NULL,
    event_name      TEXT    NOT NULL,
    value           INTEGER NOT NULL,
    occurred_at     INTEGER NOT NULL,
    recorded_at     INTEGER NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    claimed_until   INTEGER,
    sent_at         INTEGER
);
CREATE INDEX usage_events_due ON usage_events (status, next_attempt_at);
CREATE INDEX usage_events_totals ON usage_events (customer_id, meter, occurred_at);

-- A customer's own spend cap on chargeable usage per period (minor units of the plan's currency).
CREATE TABLE usage_spend_caps (
    user_id    INTEGER PRIMARY KEY NOT NULL REFERENCES users (id),
    cap_amount INTEGER NOT NULL CHECK (cap_amount >= 0),
    updated_at INTEGER NOT NULL
);

-- The last comparison of local totals with Stripe's meter event summaries, per customer, meter
-- and period; `difference` = local - stripe.
CREATE TABLE usage_reconciliation (
    customer_id  TEXT    NOT NULL,
    meter        TEXT    NOT NULL,
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL,
    local_total  INTEGER NOT NULL,
    stripe_total INTEGER NOT NULL,
    difference   INTEGER NOT NULL,
    checked_at   INTEGER NOT NULL,
    PRIMARY KEY (customer_id, meter, period_start)
);
