-- The access rule's inputs beside the subscription's status, and Stripe's active entitlements.
--
-- past_due_since: when the first payment that is still failing was attempted (the earliest open
-- invoice's first attempt), read from Stripe on every sync of a past-due subscription; NULL once
-- it is paid up. The past-due grace is measured from it.
ALTER TABLE subscriptions ADD COLUMN past_due_since BIGINT;

-- A customer's active entitlements as Stripe last listed them (rewritten whole on every
-- `entitlements.active_entitlement_summary.updated`): one row per feature lookup key.
CREATE TABLE stripe_entitlements (
    customer_id TEXT    NOT NULL,
    lookup_key  TEXT    NOT NULL,
    feature_id  TEXT    NOT NULL,
    synced_at   BIGINT  NOT NULL,
    PRIMARY KEY (customer_id, lookup_key)
);
