-- What /account shows beside the plan: the card that pays, and a change scheduled for the end of
-- the period (a downgrade, held by a Stripe subscription schedule). Rewritten on every sync.
ALTER TABLE subscriptions ADD COLUMN card_brand TEXT;
ALTER TABLE subscriptions ADD COLUMN card_last4 TEXT;
ALTER TABLE subscriptions ADD COLUMN schedule_id TEXT;
ALTER TABLE subscriptions ADD COLUMN pending_price_id TEXT;
ALTER TABLE subscriptions ADD COLUMN pending_change_at INTEGER;
