-- Retention: webhook payloads and mail bodies carry personal data; once past their retention
-- period they are emptied (the rows stay, so the event log and the outbox still add up) and
-- marked here. A purged event can no longer be replayed.
ALTER TABLE webhook_events ADD COLUMN purged_at INTEGER;
ALTER TABLE emails ADD COLUMN purged_at INTEGER;
