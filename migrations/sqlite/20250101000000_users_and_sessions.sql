-- Users: the email is stored normalised (trimmed, lower-cased), so UNIQUE is case-insensitive.
-- Times are unix seconds (UTC). Booleans are INTEGER 0/1 (BOOLEAN on Postgres).
CREATE TABLE users (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    email              TEXT    NOT NULL UNIQUE,
    password_hash      TEXT    NOT NULL,
    role               TEXT    NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'admin')),
    stripe_customer_id TEXT    UNIQUE,
    had_trial          INTEGER NOT NULL DEFAULT 0 CHECK (had_trial IN (0, 1)),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- The tower-sessions SQLite store's table; the store writes expiry_date as UTC date-time text.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    data        BLOB NOT NULL,
    expiry_date TEXT NOT NULL
);
CREATE INDEX sessions_expiry_date ON sessions (expiry_date);
