-- Several instances on one database: work is claimed before it is done.
-- An inbox event or an email is taken by one instance (claimed_by) until claimed_until (unix
-- seconds); when that instance dies, the claim runs out and another takes the row.
-- An event's lane (its customer, else its object) keeps one customer's events on one instance
-- at a time, so they are applied in order.
ALTER TABLE webhook_events ADD COLUMN lane TEXT;
ALTER TABLE webhook_events ADD COLUMN claimed_by TEXT;
ALTER TABLE webhook_events ADD COLUMN claimed_until BIGINT;
CREATE INDEX webhook_events_lane ON webhook_events (lane, claimed_until);
ALTER TABLE emails ADD COLUMN claimed_by TEXT;
ALTER TABLE emails ADD COLUMN claimed_until BIGINT;

-- Named leases: the periodic jobs (reconcile, retention, session sweep) run on the one instance
-- holding the lease, renewed while it lives.
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY NOT NULL,
    holder     TEXT    NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Rate-limit counters shared by every instance: hits per key in fixed windows (start in unix
-- seconds); two consecutive windows give a sliding estimate.
CREATE TABLE rate_limit_hits (
    scope        TEXT    NOT NULL,
    client_key   TEXT    NOT NULL,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL,
    PRIMARY KEY (scope, client_key, window_start)
);
CREATE INDEX rate_limit_hits_window ON rate_limit_hits (window_start);
