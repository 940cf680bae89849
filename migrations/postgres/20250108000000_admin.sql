-- Admin: daily revenue snapshots (so /admin never scans every movement) and the audit log.
-- Money in minor units, times in unix seconds (UTC); `day` is the UTC midnight starting the day.

-- One row per (day, currency) from the first movement to yesterday: the day's movements by kind
-- and the running totals at its end. Rebuilt from `mrr_movements` when a late movement lands.
CREATE TABLE mrr_daily_snapshots (
    day                BIGINT NOT NULL,
    currency           TEXT   NOT NULL,
    mrr                BIGINT NOT NULL,
    paying             BIGINT NOT NULL,
    new_mrr            BIGINT NOT NULL,
    expansion_mrr      BIGINT NOT NULL,
    contraction_mrr    BIGINT NOT NULL,
    churn_mrr          BIGINT NOT NULL,
    reactivation_mrr   BIGINT NOT NULL,
    new_count          BIGINT NOT NULL,
    churn_count        BIGINT NOT NULL,
    reactivation_count BIGINT NOT NULL,
    -- Churned that day with the subscription left unpaid (classified when the day is snapshotted).
    involuntary_churn_count BIGINT  NOT NULL,
    computed_at        BIGINT NOT NULL,
    PRIMARY KEY (day, currency)
);

-- A movement dated on or before a snapshotted day makes that day and later ones stale.
CREATE FUNCTION mrr_movements_stale_snapshots() RETURNS trigger AS $$
BEGIN
    DELETE FROM mrr_daily_snapshots WHERE day >= NEW.occurred_at - (NEW.occurred_at % 86400);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER mrr_movements_stale_snapshots AFTER INSERT ON mrr_movements
    FOR EACH ROW EXECUTE FUNCTION mrr_movements_stale_snapshots();

-- Every money or state operation an admin performs: who, when, from where, before and after.
CREATE TABLE audit_log (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    actor_user_id BIGINT,
    actor_email   TEXT   NOT NULL,
    action        TEXT   NOT NULL,
    subject_type  TEXT   NOT NULL,
    subject_id    TEXT   NOT NULL,
    customer_id   TEXT,
    ip            TEXT,
    before_state  TEXT,
    after_state   TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX audit_log_customer ON audit_log (customer_id, created_at);
CREATE INDEX audit_log_created ON audit_log (created_at);

-- Indexes the revenue page reads through without touching the tables: attempted invoices by
-- time (payment success rate), churn by time and the unpaid invoices of a subscription
-- (involuntary churn), events by receipt (delivery health).
CREATE INDEX admin_invoices_attempted ON invoices (created, status) WHERE attempt_count > 0 AND amount_due > 0;
CREATE INDEX admin_invoices_subscription ON invoices (subscription_id, status, attempt_count);
CREATE INDEX admin_mrr_movements_kind ON mrr_movements (kind, occurred_at);
CREATE INDEX admin_webhook_events_received ON webhook_events (received_at);
