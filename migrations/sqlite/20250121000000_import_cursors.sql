-- `tollgate import`: how far each of Stripe's lists has been read. A page's rows and its cursor
-- commit together, so an interrupted import restarts after the last page it stored.
CREATE TABLE import_cursors (
    list_name  TEXT    PRIMARY KEY NOT NULL,
    -- The last object id stored (the next page starts after it); NULL: from the newest.
    last_id    TEXT,
    finished   BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at INTEGER NOT NULL
);
