-- Usage-based billing (issue 13).

-- API keys for the SaaS's own backend: `tg_<mode>_<key_id>_<secret>`. Only the secret's SHA-256
-- is kept (the key is shown once, at creation); `key_id` finds the row without a scan.
-- A platform key reports usage for any customer; a customer key only for its `user_id`.
CREATE TABLE api_keys (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_id       TEXT    NOT NULL UNIQUE,
    secret_hash  TEXT    NOT NULL,
    mode         TEXT    NOT NULL CHECK (mode IN ('live', 'test')),
    user_id      BIGINT REFERENCES users (id),
    label        TEXT    NOT NULL,
    created_by   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

-- The usage outbox: one row per reported event, `identifier` unique so a retried report counts
-- once; the worker sends each row to Stripe as a meter event with the same identifier.
CREATE TABLE usage_events (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    identifier      TEXT    NOT NULL UNIQUE,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    customer_id     TEXT    NOT NULL,
    meter           TEXT    NOT NULL,
    event_name      TEXT    NOT NULL,
    value           BIGINT NOT NULL,
    occurred_at     BIGINT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    claimed_by      TEXT,
    claimed_until   BIGINT,
    sent_at         BIGINT
);
CREATE INDEX usage_events_due ON usage_events (status, next_attempt_at);
CREATE INDEX usage_events_totals ON usage_events (customer_id, meter, occurred_at);

-- A customer's own spend cap on chargeable usage per period (minor units of the plan's currency).
CREATE TABLE usage_spend_caps (
    user_id    BIGINT PRIMARY KEY NOT NULL REFERENCES users (id),
    cap_amount BIGINT NOT NULL CHECK (cap_amount >= 0),
    updated_at BIGINT NOT NULL
);

-- The last comparison of local totals with Stripe's meter event summaries, per customer, meter
-- and period; `difference` = local - stripe.
CREATE TABLE usage_reconciliation (
    customer_id  TEXT    NOT NULL,
    meter        TEXT    NOT NULL,
    period_start BIGINT NOT NULL,
    period_end   BIGINT NOT NULL,
    local_total  BIGINT NOT NULL,
    stripe_total BIGINT NOT NULL,
    difference   BIGINT NOT NULL,
    checked_at   BIGINT NOT NULL,
    PRIMARY KEY (customer_id, meter, period_start)
);
