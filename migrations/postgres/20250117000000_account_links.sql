-- Email verification and password reset by one-time link.
--
-- Accounts that exist before this migration count as verified (email_verified_at = created_at):
-- they were made by the operator (the admin, `tollgate admin create`) or signed up before
-- verification existed, and some already pay; holding their portal or plan changes back
-- behind a link they were never sent would break working billing for no gain.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
UPDATE users SET email_verified_at = created_at;

-- One-time links mailed to a user. Only the SHA-256 of the token (hex) is stored: whoever reads
-- this table cannot use a link. A link is spent (used_at) when used, or when a newer one of its
-- purpose replaces it.
CREATE TABLE account_tokens (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT    NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL,
    used_at     BIGINT
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose, created_at);
