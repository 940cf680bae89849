-- The marketplace on Stripe Connect (issue 12): creators with Express accounts, their products,
-- buyers' orders and the access each paid order gives, and the creators' payouts.

-- A creator: a user with a connected (Express) account. The state mirrors the account as Stripe
-- last reported it (`account.updated`): `pending` (onboarding not finished), `restricted` (what
-- Stripe needs is in `requirements_due`, a JSON array), `enabled`. `fee_bps`: the admin's rate
-- for this creator (NULL: the tiers, else the default of `catalog.toml`).
CREATE TABLE creators (
    user_id           INTEGER PRIMARY KEY REFERENCES users (id),
    account_id        TEXT    NOT NULL UNIQUE,
    state             TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'restricted', 'enabled')),
    details_submitted BOOLEAN NOT NULL DEFAULT FALSE,
    charges_enabled   BOOLEAN NOT NULL DEFAULT FALSE,
    payouts_enabled   BOOLEAN NOT NULL DEFAULT FALSE,
    requirements_due  TEXT    NOT NULL DEFAULT '[]',
    fee_bps           INTEGER CHECK (fee_bps BETWEEN 0 AND 10000),
    deauthorized_at   INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- A creator's digital product: `content` is what its buyers' library delivers.
CREATE TABLE products (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    creator_id  INTEGER NOT NULL REFERENCES creators (user_id),
    slug        TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    price       INTEGER NOT NULL CHECK (price > 0),
    currency    TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    published   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX products_creator ON products (creator_id);

-- One order per Checkout Session (one payment), written `pending` when the session is created,
-- with the amount and the fee agreed then. Moves only by conditional updates (see
-- `domain::marketplace::OrderStatus`).
CREATE TABLE orders (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id          INTEGER NOT NULL REFERENCES products (id),
    buyer_id            INTEGER NOT NULL REFERENCES users (id),
    creator_id          INTEGER NOT NULL REFERENCES creators (user_id),
    account_id          TEXT    NOT NULL,
    charge_type         TEXT    NOT NULL CHECK (charge_type IN ('destination', 'direct')),
    checkout_session_id TEXT    NOT NULL UNIQUE,
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
    updated_at          INTEGER NOT NULL
);
CREATE INDEX orders_buyer ON orders (buyer_id);
CREATE INDEX orders_creator ON orders (creator_id, status);

-- Access to a product: one row per paid order; revoked on a full refund or a lost dispute.
CREATE TABLE library (
    order_id      INTEGER PRIMARY KEY REFERENCES orders (id),
    buyer_id      INTEGER NOT NULL REFERENCES users (id),
    product_id    INTEGER NOT NULL REFERENCES products (id),
    granted_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    revoke_reason TEXT
);
CREATE INDEX library_buyer ON library (buyer_id, product_id);

-- Creators' payouts, as Stripe last reported them.
CREATE TABLE payouts (
    id              TEXT    PRIMARY KEY NOT NULL,
    account_id      TEXT    NOT NULL,
    amount          INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    arrival_date    INTEGER,
    failure_code    TEXT,
    failure_message TEXT,
    created         INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX payouts_account ON payouts (account_id, created);
