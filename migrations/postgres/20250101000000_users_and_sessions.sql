-- Users: the email is stored normalised (trimmed, lower-cased), so UNIQUE is case-insensitive.
-- Times are unix seconds (UTC).
CREATE TABLE users (
    id                 BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email              TEXT    NOT NULL UNIQUE,
    password_hash      TEXT    NOT NULL,
    role               TEXT    NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'admin')),
    stripe_customer_id TEXT    UNIQUE,
    had_trial          BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);

-- The tower-sessions Postgres store's table (schema "public" instead of its default).
CREATE TABLE sessions (
    id          TEXT        PRIMARY KEY NOT NULL,
    data        BYTEA       NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry_date ON sessions (expiry_date);
