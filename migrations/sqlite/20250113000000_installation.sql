-- Settings the app keeps for itself. `installation_id`: chosen at first start, it prefixes every
-- Stripe idempotency key, so two installations sharing one Stripe account (staging beside
-- production, a database reset) never replay each other's requests.
CREATE TABLE app_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
