-- Invoices as Stripe last reported them. Money in minor units, times in unix seconds (UTC).
CREATE TABLE invoices (
    id                   TEXT    PRIMARY KEY NOT NULL,
    customer_id          TEXT    NOT NULL,
    subscription_id      TEXT,
    number               TEXT,
    status               TEXT    NOT NULL,
    amount_due           INTEGER NOT NULL,
    amount_paid          INTEGER NOT NULL,
    amount_remaining     INTEGER NOT NULL,
    currency             TEXT    NOT NULL,
    attempt_count        INTEGER NOT NULL,
    next_payment_attempt INTEGER,
    hosted_invoice_url   TEXT,
    invoice_pdf          TEXT,
    period_start         INTEGER NOT NULL,
    period_end           INTEGER NOT NULL,
    created              INTEGER NOT NULL,
    synced_at            INTEGER NOT NULL
);
CREATE INDEX invoices_customer ON invoices (customer_id, created);

-- The email outbox; cause_key makes each email at-most-once per cause. Without SMTP_URL the
-- rows are the dev mailbox (/admin/mail).
CREATE TABLE emails (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    cause_key   TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    to_address  TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'stored', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    sent_at     INTEGER
);
CREATE INDEX emails_status ON emails (status, created_at);
