-- Stripe Radar's word on payments. Each payment keeps its charge's outcome (NULL until a charge
-- is seen): the risk level (normal, elevated, highest, not_assessed), the score (0-99), what Radar
-- did (authorized, manual_review, blocked, issuer_declined…) and Stripe's message to the seller.
ALTER TABLE payments ADD COLUMN risk_level TEXT;
ALTER TABLE payments ADD COLUMN risk_score INTEGER;
ALTER TABLE payments ADD COLUMN outcome_type TEXT;
ALTER TABLE payments ADD COLUMN seller_message TEXT;

-- An issuer's early fraud warning about a charge: it flags the payment (joined by
-- payment_intent_id, whichever arrives first). actionable: neither refunded in full nor disputed.
CREATE TABLE early_fraud_warnings (
    id                TEXT    PRIMARY KEY NOT NULL,
    charge_id         TEXT    NOT NULL,
    payment_intent_id TEXT,
    customer_id       TEXT,
    fraud_type        TEXT    NOT NULL,
    actionable        BOOLEAN NOT NULL,
    created           INTEGER NOT NULL,
    synced_at         INTEGER NOT NULL
);
CREATE INDEX early_fraud_warnings_payment_intent ON early_fraud_warnings (payment_intent_id);

-- Radar's reviews (review.opened / review.closed): why one opened, and whether and why it closed.
CREATE TABLE reviews (
    id                TEXT    PRIMARY KEY NOT NULL,
    charge_id         TEXT,
    payment_intent_id TEXT,
    is_open           BOOLEAN NOT NULL,
    opened_reason     TEXT    NOT NULL,
    reason            TEXT    NOT NULL,
    closed_reason     TEXT,
    created           INTEGER NOT NULL,
    synced_at         INTEGER NOT NULL
);
CREATE INDEX reviews_created ON reviews (created);
