-- A scheduled seat change (a removal at the period end): the seat count the next phase has.
ALTER TABLE subscriptions ADD COLUMN pending_quantity BIGINT;
