//! The notice of a price migration: queued when a subscriber's `notice_at` comes, while they are
//! still on the old price with the migration's schedule (someone who changed plan or cancelled
//! since is not told), once per migration and subscription (the email's cause key, and
//! `notified_at` set in the same transaction). The leader runs it every minute.

use std::time::Duration;

use anyhow::Context;
use sqlx::AnyPool;
use tokio::task::JoinHandle;

use crate::domain::catalog::Catalog;
use crate::server::billing::emails::{self, PriceChange};
use crate::server::http::app_url::AppUrl;
use crate::server::state::AppState;

#[derive(sqlx::FromRow)]
struct Due {
    migration_id: i64,
    subscription_id: String,
    switch_at: i64,
    lookup_key: String,
    from_amount: i64,
    to_amount: i64,
    currency: String,
    billing_interval: String,
    quantity: i64,
    email: String,
}

/// Queues every notice due at `now`; returns how many it queued.
pub async fn send_due(pool: &AnyPool, catalog: &Catalog, app_url: &str, now: i64) -> anyhow::Result<usize> {
    let due: Vec<Due> = sqlx::query_as(
        "SELECT m.migration_id, m.subscription_id, m.switch_at, p.lookup_key, p.from_amount, p.to_amount, \
           p.currency, p.billing_interval, s.quantity, u.email \
         FROM price_migration_members m \
         JOIN price_migrations p ON p.id = m.migration_id \
         JOIN subscriptions s ON s.id = m.subscription_id \
         JOIN users u ON u.stripe_customer_id = m.customer_id \
         WHERE m.notified_at IS NULL AND m.notice_at <= $1 AND m.switch_at > $1 \
           AND s.price_id = p.from_price_id AND s.schedule_id = m.schedule_id \
           AND s.status IN ('active', 'trialing', 'past_due') AND CAST(s.cancel_at_period_end AS INTEGER) = 0 \
         ORDER BY m.notice_at LIMIT 500",
    )
    .bind(now)
    .fetch_all(pool)
    .await
    .context("reading the price notices due")?;
    let account_url = AppUrl::new(app_url).join("/account");
    let mut queued = 0;
    for notice in due {
        let plan = catalog.plan_for_lookup_key(&notice.lookup_key).map_or(notice.lookup_key.as_str(), |(p, _)| &p.name);
        let change = PriceChange {
            migration_id: notice.migration_id,
            subscription_id: &notice.subscription_id,
            plan,
            old_amount: notice.from_amount * notice.quantity,
            new_amount: notice.to_amount * notice.quantity,
            currency: &notice.currency,
            interval: &notice.billing_interval,
            switch_at: notice.switch_at,
        };
        let email = emails::price_change_notice(&notice.email, &change, &account_url);
        let mut tx = pool.begin().await?;
        // The conditional update is the claim: of two leaders a moment apart, one queues it.
        let claimed = sqlx::query(
            "UPDATE price_migration_members SET notified_at = $1 \
             WHERE migration_id = $2 AND subscription_id = $3 AND notified_at IS NULL",
        )
        .bind(now)
        .bind(notice.migration_id)
        .bind(&notice.subscription_id)
        .execute(&mut *tx)
        .await
        .context("marking the price notice sent")?
        .rows_affected();
        if claimed == 1 && emails::enqueue(&mut tx, &email, now).await? {
            queued += 1;
        }
        tx.commit().await?;
    }
    Ok(queued)
}

/// Every minute, on the leader.
pub fn spawn_notice_job(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if !state.leadership.is_leader() {
                continue;
            }
            let catalog = state.prices.current().catalog.clone();
            let now = crate::server::db::now();
            if let Err(error) = send_due(state.db.pool(), &catalog, state.config.app_url.as_str(), now).await {
                tracing::warn!(error = format!("{error:#}"), "queueing price change notices failed");
            }
        }
    })
}
