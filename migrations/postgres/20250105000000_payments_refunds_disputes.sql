-- Money that moved outside subscriptions' projections: payment attempts, refunds, disputes,
-- one-time entitlements, customers as Stripe knows them, and the catalog's prices as last seen.
-- Money in minor units with its currency, times in unix seconds (UTC).

-- Why an event was stored but not acted on (unknown customer, object gone, …).
ALTER TABLE webhook_events ADD COLUMN note TEXT;

CREATE TABLE payments (
    id              TEXT    PRIMARY KEY NOT NULL,  -- the PaymentIntent id
    customer_id     TEXT,
    amount          BIGINT  NOT NULL,
    currency        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    failure_code    TEXT,
    failure_message TEXT,
    invoice_id      TEXT,
    created         BIGINT  NOT NULL,
    synced_at       BIGINT  NOT NULL
);
CREATE INDEX payments_status ON payments (status, created);
CREATE INDEX payments_customer ON payments (customer_id, created);

CREATE TABLE refunds (
    id                TEXT    PRIMARY KEY NOT NULL,
    charge_id         TEXT,
    payment_intent_id TEXT,
    amount            BIGINT  NOT NULL,
    currency          TEXT    NOT NULL,
    reason            TEXT,
    status            TEXT    NOT NULL,
    created           BIGINT  NOT NULL,
    synced_at         BIGINT  NOT NULL
);
CREATE INDEX refunds_payment_intent ON refunds (payment_intent_id);

CREATE TABLE disputes (
    id                TEXT    PRIMARY KEY NOT NULL,
    charge_id         TEXT    NOT NULL,
    payment_intent_id TEXT,
    customer_id       TEXT,
    amount            BIGINT  NOT NULL,
    currency          TEXT    NOT NULL,
    reason            TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    evidence_due_by   BIGINT,
    created           BIGINT  NOT NULL,
    synced_at         BIGINT  NOT NULL
);
CREATE INDEX disputes_status ON disputes (status, created);

-- A one-time purchase's grant: one row per paying source (PaymentIntent, or the Checkout
-- Session when nothing was charged); revoked, never deleted, when fully refunded.
CREATE TABLE entitlements (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grant_key           TEXT    NOT NULL,
    source_id           TEXT    NOT NULL UNIQUE,
    checkout_session_id TEXT,
    payment_intent_id   TEXT,
    granted_at          BIGINT  NOT NULL,
    revoked_at          BIGINT,
    revoke_reason       TEXT
);
CREATE INDEX entitlements_user ON entitlements (user_id, grant_key);
CREATE INDEX entitlements_payment_intent ON entitlements (payment_intent_id);

-- Stripe customers as last retrieved; user_id is NULL for customers that are not ours.
CREATE TABLE customers (
    id          TEXT    PRIMARY KEY NOT NULL,
    user_id     BIGINT,
    email       TEXT,
    pm_brand    TEXT,
    pm_last4    TEXT,
    pm_exp_month BIGINT,
    pm_exp_year BIGINT,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    synced_at   BIGINT  NOT NULL
);
CREATE INDEX customers_user ON customers (user_id);

-- Prices as Stripe reports them (product/price events), to spot drift from catalog.toml.
CREATE TABLE catalog_prices (
    id          TEXT    PRIMARY KEY NOT NULL,
    product_id  TEXT    NOT NULL,
    lookup_key  TEXT,
    unit_amount BIGINT,
    currency    TEXT    NOT NULL,
    recurring_interval TEXT,
    active      BOOLEAN NOT NULL,
    synced_at   BIGINT  NOT NULL
);
CREATE INDEX catalog_prices_lookup_key ON catalog_prices (lookup_key);
