-- Stripe Connect (issue 12): the connected account an event happened on. Events of connected
-- accounts arrive at `POST /webhooks/stripe/connect`, and their objects are read on that
-- account (`Stripe-Account`); NULL for the platform's own events.
ALTER TABLE webhook_events ADD COLUMN account TEXT;
