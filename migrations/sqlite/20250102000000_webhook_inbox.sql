-- The webhook inbox: one row per Stripe event (unique on its id), stored before Stripe gets its
-- 2xx and applied later by the worker. Times are unix seconds (UTC).
CREATE TABLE webhook_events (
    id              TEXT    PRIMARY KEY NOT NULL,
    event_type      TEXT    NOT NULL,
    object_type     TEXT    NOT NULL,
    object_id       TEXT,
    livemode        BOOLEAN NOT NULL DEFAULT FALSE,
    stripe_created  INTEGER NOT NULL,
    payload         TEXT    NOT NULL,
    source          TEXT    NOT NULL CHECK (source IN ('webhook', 'reconcile')),
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'retrying', 'processed', 'ignored', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    processed_at    INTEGER
);
-- The worker's queue: due events, oldest Stripe time first.
CREATE INDEX webhook_events_due ON webhook_events (status, next_attempt_at);
CREATE INDEX webhook_events_object ON webhook_events (object_id, stripe_created);
