-- Operational alerts: one row per incident, from the evaluation that saw a kind cross its
-- threshold until the one that saw it back under. Values are in the kind's unit (basis points
-- for a rate, a count, seconds). At most one open incident per kind, whichever instance
-- evaluates: the partial unique index makes a second opening a no-op.
CREATE TABLE alert_incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    opened_at   INTEGER NOT NULL,
    resolved_at INTEGER,
    threshold   INTEGER NOT NULL,
    last_value  INTEGER NOT NULL,
    checked_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX alert_incidents_one_open ON alert_incidents (kind) WHERE resolved_at IS NULL;
CREATE INDEX alert_incidents_opened ON alert_incidents (opened_at);
