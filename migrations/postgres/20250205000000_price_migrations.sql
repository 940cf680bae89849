-- Price migrations (`tollgate catalog migrate`): the subscribers of an old price of a lookup key
-- moved to its current price at their first renewal on or after `not_before` (and never before
-- `notice_days` of notice), by a subscription schedule each.
CREATE TABLE price_migrations (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lookup_key       TEXT    NOT NULL,
    from_price_id    TEXT    NOT NULL,
    to_price_id      TEXT    NOT NULL,
    from_amount      BIGINT  NOT NULL,
    to_amount        BIGINT  NOT NULL,
    currency         TEXT    NOT NULL,
    billing_interval TEXT    NOT NULL,
    not_before       BIGINT  NOT NULL,
    notice_days      BIGINT  NOT NULL,
    created_at       BIGINT  NOT NULL,
    UNIQUE (from_price_id, to_price_id)
);

-- One subscriber of a migration: its schedule, when it switches, when its notice is due and when
-- it was queued (NULL: not yet; the email's cause key keeps it to one).
CREATE TABLE price_migration_members (
    migration_id    BIGINT  NOT NULL REFERENCES price_migrations (id),
    subscription_id TEXT    NOT NULL,
    customer_id     TEXT    NOT NULL,
    schedule_id     TEXT    NOT NULL,
    switch_at       BIGINT  NOT NULL,
    notice_at       BIGINT  NOT NULL,
    notified_at     BIGINT,
    PRIMARY KEY (migration_id, subscription_id)
);
CREATE INDEX price_migration_members_notice ON price_migration_members (notice_at) WHERE notified_at IS NULL;
