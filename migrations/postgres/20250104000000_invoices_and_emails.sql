-- Invoices as Stripe last reported them. Money in minor units, times in unix seconds (UTC).
CREATE TABLE invoices (
    id                   TEXT    PRIMARY KEY NOT NULL,
    customer_id          TEXT    NOT NULL,
    subscription_id      TEXT,
    number               TEXT,
    status               TEXT    NOT NULL,
    amount_due           BIGINT NOT NULL,
    amount_paid          BIGINT NOT NULL,
    amount_remaining     BIGINT NOT NULL,
    currency             TEXT    NOT NULL,
    attempt_count        BIGINT NOT NULL,
    next_payment_attempt BIGINT,
    hosted_invoice_url   TEXT,
    invoice_pdf          TEXT,
    period_start         BIGINT NOT NULL,
    period_end           BIGINT NOT NULL,
    created              BIGINT NOT NULL,
    synced_at            BIGINT NOT NULL
);
CREATE INDEX invoices_customer ON invoices (customer_id, created);

-- The email outbox; cause_key makes each email at-most-once per cause. Without SMTP_URL the
-- rows are the dev mailbox (/admin/mail).
CREATE TABLE emails (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cause_key   TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    to_address  TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'stored', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  BIGINT NOT NULL,
    sent_at     BIGINT
);
CREATE INDEX emails_status ON emails (status, created_at);
