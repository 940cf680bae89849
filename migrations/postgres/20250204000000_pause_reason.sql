-- Why a paused subscription is paused, in Stripe's words (status_details.paused.subscription.type:
-- pause_requested, trial_end_without_payment_method, ...). NULL unless paused.
ALTER TABLE subscriptions ADD COLUMN pause_reason TEXT;
