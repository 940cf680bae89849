-- A pause of payment collection (Stripe's pause_collection): the behavior for the invoices meanwhile
-- (keep_as_draft, mark_uncollectible or void) and when collection resumes by itself. NULL: not paused.
ALTER TABLE subscriptions ADD COLUMN pause_behavior TEXT;
ALTER TABLE subscriptions ADD COLUMN pause_resumes_at BIGINT;
-- What the subscription's coupons take off each invoice (percentages in basis points, amounts
-- off in its currency's minor units; 0: none), and when the first of them ends (NULL: never).
ALTER TABLE subscriptions ADD COLUMN discount_percent_off_bp BIGINT NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN discount_amount_off BIGINT NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN discount_ends_at BIGINT;
