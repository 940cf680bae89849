//! The price migrations and their subscribers, for `/admin/migrations`. Where a subscriber stands
//! is read from the subscription as the webhooks keep it: on the new price (moved), still on the
//! old one with the migration's schedule (waiting or notified), or anything else (left alone).

use anyhow::Context;
use sqlx::AnyPool;

use crate::views::admin::migrations::{MemberState, MigrationMember, PriceMigrationView};
use crate::views::format::{day, money, utc};

#[derive(sqlx::FromRow)]
struct MigrationRow {
    id: i64,
    lookup_key: String,
    from_price_id: String,
    to_price_id: String,
    from_amount: i64,
    to_amount: i64,
    currency: String,
    billing_interval: String,
    not_before: i64,
    notice_days: i64,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    subscription_id: String,
    customer_id: String,
    email: Option<String>,
    schedule_id: String,
    switch_at: i64,
    notice_at: i64,
    notified_at: Option<i64>,
    price_id: Option<String>,
    status: Option<String>,
    cancel_pending: Option<i64>,
    current_schedule: Option<String>,
}

fn state_of(member: &MemberRow, migration: &MigrationRow) -> MemberState {
    let live = matches!(member.status.as_deref(), Some("active" | "trialing" | "past_due"));
    let price = member.price_id.as_deref();
    if live && price == Some(migration.to_price_id.as_str()) {
        MemberState::Moved
    } else if live
        && price == Some(migration.from_price_id.as_str())
        && member.current_schedule.as_deref() == Some(member.schedule_id.as_str())
        && member.cancel_pending == Some(0)
    {
        if member.notified_at.is_some() {
            MemberState::Notified
        } else {
            MemberState::Waiting
        }
    } else {
        MemberState::LeftAlone
    }
}

/// Every migration, newest first, with its subscribers in the order they move.
pub async fn list(pool: &AnyPool) -> anyhow::Result<Vec<PriceMigrationView>> {
    let migrations: Vec<MigrationRow> = sqlx::query_as(
        "SELECT id, lookup_key, from_price_id, to_price_id, from_amount, to_amount, currency, billing_interval, \
           not_before, notice_days, created_at FROM price_migrations ORDER BY created_at DESC, id DESC",
    )
    .fetch_all(pool)
    .await
    .context("reading price migrations")?;
    let mut views = Vec::with_capacity(migrations.len());
    for migration in migrations {
        let members: Vec<MemberRow> = sqlx::query_as(
            "SELECT m.subscription_id, m.customer_id, u.email, m.schedule_id, m.switch_at, m.notice_at, \
               m.notified_at, s.price_id, s.status, CAST(s.cancel_at_period_end AS INTEGER) AS cancel_pending, \
               s.schedule_id AS current_schedule \
             FROM price_migration_members m \
             LEFT JOIN subscriptions s ON s.id = m.subscription_id \
             LEFT JOIN users u ON u.stripe_customer_id = m.customer_id \
             WHERE m.migration_id = $1 ORDER BY m.switch_at, m.subscription_id",
        )
        .bind(migration.id)
        .fetch_all(pool)
        .await
        .context("reading a price migration's subscribers")?;
        let price = |amount: i64| format!("{} a {}", money(amount, &migration.currency), migration.billing_interval);
        views.push(PriceMigrationView {
            id: migration.id,
            lookup_key: migration.lookup_key.clone(),
            change: format!("{} → {}", price(migration.from_amount), price(migration.to_amount)),
            not_before: day(migration.not_before),
            notice_days: migration.notice_days,
            started: utc(migration.created_at),
            members: members
                .iter()
                .map(|member| MigrationMember {
                    subscription_id: member.subscription_id.clone(),
                    customer_id: member.customer_id.clone(),
                    email: member.email.clone(),
                    switch_on: day(member.switch_at),
                    notice_on: day(member.notice_at),
                    state: state_of(member, &migration),
                })
                .collect(),
        });
    }
    Ok(views)
}
