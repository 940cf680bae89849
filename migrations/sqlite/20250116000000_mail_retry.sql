-- A failed send waits before its next try (a minute, doubling, at most an hour), instead of
-- hammering a mail server that is down at every pass of the sender.
ALTER TABLE emails ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
