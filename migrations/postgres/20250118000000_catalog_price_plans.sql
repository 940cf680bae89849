-- The catalog lookup key each price was made for, kept after Stripe moves the key to a newer
-- price (`transfer_lookup_key`): a subscriber on an old price still has a plan.
ALTER TABLE catalog_prices ADD COLUMN plan_lookup_key TEXT;
UPDATE catalog_prices SET plan_lookup_key = lookup_key;
