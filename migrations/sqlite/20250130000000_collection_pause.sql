-- A pause of payment collection (Stripe's pause_collection): the behavior for the invoices meanwhile
-- (keep_as_draft, mark_uncollectible or void) and when collection resumes by itself. NULL: not paused.
ALTER TABLE subscriptions ADD COLUMN pause_behavior TEXT;
ALTER TABLE subscriptions ADD COLUMN pause_resumes_at INTEGER;
