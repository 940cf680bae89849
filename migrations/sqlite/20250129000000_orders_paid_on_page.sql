-- Marketplace products can be paid on the app's own page with the Payment Element (issue 15): such
-- an order has a PaymentIntent from the start and no Checkout Session. `checkout_session_id`
-- becomes optional; every order still has one of the two. SQLite cannot drop a NOT NULL in
-- place: the table is rebuilt (its rows and ids kept) and `library` keeps referring to it by name
-- (foreign keys are checked at commit, once `orders` exists again).
PRAGMA defer_foreign_keys = ON;

CREATE TABLE orders_rebuilt (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id          INTEGER NOT NULL REFERENCES products (id),
    buyer_id            INTEGER NOT NULL REFERENCES users (id),
    creator_id          INTEGER NOT NULL REFERENCES creators (user_id),
    account_id          TEXT    NOT NULL,
    charge_type         TEXT    NOT NULL CHECK (charge_type IN ('destination', 'direct')),
    checkout_session_id TEXT    UNIQUE,
    payment_intent_id   TEXT    UNIQUE,
    charge_id           TEXT,
    transfer_id         TEXT,
    application_fee_id  TEXT,
    amount              INTEGER NOT NULL,
    fee                 INTEGER NOT NULL,
    fee_bps             INTEGER NOT NULL,
    fee_source          TEXT    NOT NULL,
    currency            TEXT    NOT NULL,
    status              TEXT    NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'paid', 'partially_refunded', 'refunded', 'disputed')),
    refunded            INTEGER NOT NULL DEFAULT 0,
    fee_refunded        INTEGER NOT NULL DEFAULT 0,
    transfer_reversed   INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    paid_at             INTEGER,
    updated_at          INTEGER NOT NULL,
    CHECK (checkout_session_id IS NOT NULL OR payment_intent_id IS NOT NULL)
);
INSERT INTO orders_rebuilt (
    id, product_id, buyer_id, creator_id, account_id, charge_type, checkout_session_id, payment_intent_id,
    charge_id, transfer_id, application_fee_id, amount, fee, fee_bps, fee_source, currency, status, refunded,
    fee_refunded, transfer_reversed, created_at, paid_at, updated_at
)
SELECT
    id, product_id, buyer_id, creator_id, account_id, charge_type, checkout_session_id, payment_intent_id,
    charge_id, transfer_id, application_fee_id, amount, fee, fee_bps, fee_source, currency, status, refunded,
    fee_refunded, transfer_reversed, created_at, paid_at, updated_at
FROM orders;
DROP TABLE orders;
ALTER TABLE orders_rebuilt RENAME TO orders;
CREATE INDEX orders_buyer ON orders (buyer_id);
CREATE INDEX orders_creator ON orders (creator_id, status);
