-- Counters the revenue page reads instead of counting a million rows: subscriptions per status,
-- and per UTC day the invoices Stripe tried to charge and how many of those got paid.
-- Triggers append signed deltas (insert-only, so concurrent writers never fight over one hot
-- counter row); `admin_counters` holds the folded totals (see server/admin/counters.rs).
-- Names: 'subscriptions.<status>' (bucket 0), 'invoices.attempted' and 'invoices.paid'
-- (bucket: UTC midnight of the invoice's `created`).

CREATE TABLE admin_counters (
    name   TEXT   NOT NULL,
    bucket BIGINT NOT NULL,
    value  BIGINT NOT NULL,
    PRIMARY KEY (name, bucket)
);

CREATE TABLE admin_counter_deltas (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name   TEXT   NOT NULL,
    bucket BIGINT NOT NULL,
    delta  BIGINT NOT NULL
);
CREATE INDEX admin_counter_deltas_name ON admin_counter_deltas (name, bucket);

-- The data already there.
INSERT INTO admin_counters (name, bucket, value)
SELECT 'subscriptions.' || status, 0, COUNT(*) FROM subscriptions GROUP BY status;
INSERT INTO admin_counters (name, bucket, value)
SELECT 'invoices.attempted', created - created % 86400, COUNT(*) FROM invoices
WHERE attempt_count > 0 AND amount_due > 0 GROUP BY created - created % 86400;
INSERT INTO admin_counters (name, bucket, value)
SELECT 'invoices.paid', created - created % 86400, COUNT(*) FROM invoices
WHERE attempt_count > 0 AND amount_due > 0 AND status = 'paid' GROUP BY created - created % 86400;

CREATE FUNCTION admin_counters_subscription() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO admin_counter_deltas (name, bucket, delta) VALUES ('subscriptions.' || OLD.status, 0, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO admin_counter_deltas (name, bucket, delta) VALUES ('subscriptions.' || NEW.status, 0, 1);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER admin_counters_subscription_insert AFTER INSERT OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION admin_counters_subscription();
CREATE TRIGGER admin_counters_subscription_update AFTER UPDATE OF status ON subscriptions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION admin_counters_subscription();

CREATE FUNCTION admin_counters_invoice() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.attempt_count > 0 AND OLD.amount_due > 0 THEN
        INSERT INTO admin_counter_deltas (name, bucket, delta)
        VALUES ('invoices.attempted', OLD.created - OLD.created % 86400, -1);
        IF OLD.status = 'paid' THEN
            INSERT INTO admin_counter_deltas (name, bucket, delta)
            VALUES ('invoices.paid', OLD.created - OLD.created % 86400, -1);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.attempt_count > 0 AND NEW.amount_due > 0 THEN
        INSERT INTO admin_counter_deltas (name, bucket, delta)
        VALUES ('invoices.attempted', NEW.created - NEW.created % 86400, 1);
        IF NEW.status = 'paid' THEN
            INSERT INTO admin_counter_deltas (name, bucket, delta)
            VALUES ('invoices.paid', NEW.created - NEW.created % 86400, 1);
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER admin_counters_invoice_insert AFTER INSERT OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION admin_counters_invoice();
CREATE TRIGGER admin_counters_invoice_update AFTER UPDATE OF status, attempt_count, amount_due, created ON invoices
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.attempt_count IS DISTINCT FROM NEW.attempt_count
          OR OLD.amount_due IS DISTINCT FROM NEW.amount_due OR OLD.created IS DISTINCT FROM NEW.created)
    EXECUTE FUNCTION admin_counters_invoice();
