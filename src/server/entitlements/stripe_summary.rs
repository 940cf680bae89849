//! Stripe's active entitlements of a customer, kept locally: on every
//! `entitlements.active_entitlement_summary.updated` the customer's list is re-fetched
//! (`GET /v1/entitlements/active_entitlements?customer=…`) and the stored set replaced whole, so a
//! replayed or late event writes what Stripe says now, never an older summary.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_misc::entitlements_active_entitlement::ListEntitlementsActiveEntitlement;
use stripe_misc::EntitlementsActiveEntitlement;

use crate::server::billing::all_pages;
use crate::server::stripe::client::StripeClient;

/// Re-fetches the customer's active entitlements and stores them; returns their lookup keys.
pub async fn sync_customer(
    pool: &AnyPool,
    stripe: &StripeClient,
    customer_id: &str,
    now: i64,
) -> anyhow::Result<Vec<String>> {
    let page = |after: Option<String>| {
        let mut list = ListEntitlementsActiveEntitlement::new(customer_id).limit(100);
        if let Some(after) = after {
            list = list.starting_after(after);
        }
        async move {
            stripe.send(&list, None).await.with_context(|| format!("listing the active entitlements of {customer_id}"))
        }
    };
    let active = all_pages(page, |e: &EntitlementsActiveEntitlement| e.id.to_string()).await?;
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    crate::server::db::lock_key(&mut tx, &format!("stripe_entitlements:{customer_id}"))
        .await
        .context("locking the customer's entitlements")?;
    sqlx::query("DELETE FROM stripe_entitlements WHERE customer_id = $1")
        .bind(customer_id)
        .execute(&mut *tx)
        .await
        .context("clearing the customer's entitlements")?;
    for entitlement in &active {
        sqlx::query(
            "INSERT INTO stripe_entitlements (customer_id, lookup_key, feature_id, synced_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id, lookup_key) DO NOTHING",
        )
        .bind(customer_id)
        .bind(&entitlement.lookup_key)
        .bind(entitlement.feature.id().as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .context("storing an active entitlement")?;
    }
    tx.commit().await.context("committing the entitlements")?;
    Ok(active.into_iter().map(|e| e.lookup_key).collect())
}

/// The customer's active entitlements as last stored.
pub async fn stored(pool: &AnyPool, customer_id: &str) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar("SELECT lookup_key FROM stripe_entitlements WHERE customer_id = $1 ORDER BY lookup_key")
        .bind(customer_id)
        .fetch_all(pool)
        .await
        .context("reading the customer's active entitlements")
}
