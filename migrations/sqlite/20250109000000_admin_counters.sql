-- Counters the revenue page reads instead of counting a million rows: subscriptions per status,
-- and per UTC day the invoices Stripe tried to charge and how many of those got paid.
-- Triggers append signed deltas (insert-only, so concurrent writers never fight over one hot
-- counter row); `admin_counters` holds the folded totals (see server/admin/counters.rs).
-- Names: 'subscriptions.<status>' (bucket 0), 'invoices.attempted' and 'invoices.paid'
-- (bucket: UTC midnight of the invoice's `created`).

CREATE TABLE admin_counters (
    name   TEXT    NOT NULL,
    bucket INTEGER NOT NULL,
    value  INTEGER NOT NULL,
    PRIMARY KEY (name, bucket)
);

CREATE TABLE admin_counter_deltas (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name   TEXT    NOT NULL,
    bucket INTEGER NOT NULL,
    delta  INTEGER NOT NULL
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

CREATE TRIGGER admin_counters_subscription_insert AFTER INSERT ON subscriptions
BEGIN
    INSERT INTO admin_counter_deltas (name, bucket, delta) VALUES ('subscriptions.' || NEW.status, 0, 1);
END;

CREATE TRIGGER admin_counters_subscription_update AFTER UPDATE OF status ON subscriptions
WHEN OLD.status IS NOT NEW.status
BEGIN
    INSERT INTO admin_counter_deltas (name, bucket, delta) VALUES ('subscriptions.' || OLD.status, 0, -1);
    INSERT INTO admin_counter_deltas (name, bucket, delta) VALUES ('subscriptions.' || NEW.status, 0, 1);
END;

CREATE TRIGGER admin_counters_subscription_delete AFTER DELETE ON subscriptions
BEGIN
    INSERT INTO admin_counter_deltas (name, bucket, delta) VALUES ('subscriptions.' || OLD.status, 0, -1);
END;

CREATE TRIGGER admin_counters_invoice_insert AFTER INSERT ON invoices
WHEN NEW.attempt_count > 0 AND NEW.amount_due > 0
BEGIN
    INSERT INTO admin_counter_deltas (name, bucket, delta)
    VALUES ('invoices.attempted', NEW.created - NEW.created % 86400, 1);
    INSERT INTO admin_counter_deltas (name, bucket, delta)
    SELECT 'invoices.paid', NEW.created - NEW.created % 86400, 1 WHERE NEW.status = 'paid';
END;

CREATE TRIGGER admin_counters_invoice_update AFTER UPDATE OF status, attempt_count, amount_due, created ON invoices
WHEN OLD.status IS NOT NEW.status OR OLD.attempt_count IS NOT NEW.attempt_count
  OR OLD.amount_due IS NOT NEW.amount_due OR OLD.created IS NOT NEW.created
BEGIN
    INSERT INTO admin_counter_deltas (name, bucket, delta)
    SELECT 'invoices.attempted', OLD.created - OLD.created % 86400, -1
    WHERE OLD.attempt_count > 0 AND OLD.amount_due > 0;
    INSERT INTO admin_counter_deltas (name, bucket, delta)
    SELECT 'invoices.paid', OLD.created - OLD.created % 86400, -1
    WHERE OLD.attempt_count > 0 AND OLD.amount_due > 0 AND OLD.status = 'paid';
    INSERT INTO admin_counter_deltas (name, bucket, delta)
    SELECT 'invoices.attempted', NEW.created - NEW.created % 86400, 1
    WHERE NEW.attempt_count > 0 AND NEW.amount_due > 0;
    INSERT INTO admin_counter_deltas (name, bucket, delta)
    SELECT 'invoices.paid', NEW.created - NEW.created % 86400, 1
    WHERE NEW.attempt_count > 0 AND NEW.amount_due > 0 AND NEW.status = 'paid';
END;

CREATE TRIGGER admin_counters_invoice_delete AFTER DELETE ON invoices
WHEN OLD.attempt_count > 0 AND OLD.amount_due > 0
BEGIN
    INSERT INTO admin_counter_deltas (name, bucket, delta)
    VALUES ('invoices.attempted', OLD.created - OLD.created % 86400, -1);
    INSERT INTO admin_counter_deltas (name, bucket, delta)
    SELECT 'invoices.paid', OLD.created - OLD.created % 86400, -1 WHERE OLD.status = 'paid';
END;
