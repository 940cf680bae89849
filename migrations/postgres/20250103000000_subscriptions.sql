-- Subscriptions as Stripe last reported them (rewritten from a fresh retrieve on every event),
-- and the MRR movements their changes imply. Money in minor units, times in unix seconds (UTC).
CREATE TABLE subscriptions (
    id                   TEXT    PRIMARY KEY NOT NULL,
    customer_id          TEXT    NOT NULL,
    status               TEXT    NOT NULL,
    price_id             TEXT    NOT NULL,
    lookup_key           TEXT,
    quantity             BIGINT NOT NULL,
    unit_amount          BIGINT NOT NULL,
    currency             TEXT    NOT NULL,
    billing_interval     TEXT,
    interval_count       BIGINT NOT NULL,
    current_period_start BIGINT NOT NULL,
    current_period_end   BIGINT NOT NULL,
    cancel_at_period_end BOOLEAN NOT NULL,
    cancel_at            BIGINT,
    canceled_at          BIGINT,
    ended_at             BIGINT,
    trial_end            BIGINT,
    created              BIGINT NOT NULL,
    mrr                  BIGINT NOT NULL,
    synced_at            BIGINT NOT NULL
);
CREATE INDEX subscriptions_customer ON subscriptions (customer_id);
CREATE INDEX subscriptions_status ON subscriptions (status);

-- One row per change in a subscription's MRR; unique per (event, subscription) so a replayed
-- event never counts twice.
CREATE TABLE mrr_movements (
    cause_key       TEXT    PRIMARY KEY NOT NULL,
    customer_id     TEXT    NOT NULL,
    subscription_id TEXT    NOT NULL,
    kind            TEXT    NOT NULL
                    CHECK (kind IN ('new', 'expansion', 'contraction', 'churn', 'reactivation')),
    mrr_before      BIGINT NOT NULL,
    mrr_after       BIGINT NOT NULL,
    delta           BIGINT NOT NULL,
    currency        TEXT    NOT NULL,
    occurred_at     BIGINT NOT NULL
);
CREATE INDEX mrr_movements_occurred ON mrr_movements (occurred_at);
CREATE INDEX mrr_movements_customer ON mrr_movements (customer_id);
