//! product.* / price.* events: keep a local view of the prices Stripe has, and say when one
//! that carries a catalog lookup key no longer matches `catalog.toml` (drift; `catalog sync`
//! repairs it by making a new price, never by editing this one).

use anyhow::Context;
use sqlx::AnyPool;
use stripe_product::price::{ListPrice, RetrievePrice};
use stripe_shared::{Price, PriceId, ProductId};

use crate::server::billing::price_book::plan_lookup_key;
use crate::server::catalog::{self, sync::difference};
use crate::server::stripe::client::StripeClient;

/// Re-fetches one price and stores it; returns the drift found, if any.
pub async fn sync_price(
    pool: &AnyPool,
    stripe: &StripeClient,
    price_id: &PriceId,
    now: i64,
) -> anyhow::Result<Vec<String>> {
    let price = stripe
        .send(&RetrievePrice::new(price_id), None)
        .await
        .with_context(|| format!("retrieving price {price_id}"))?;
    store(pool, &price, now).await?;
    Ok(drift(&price).into_iter().collect())
}

/// Re-lists a product's prices and stores them all; returns the drift found.
pub async fn sync_product(
    pool: &AnyPool,
    stripe: &StripeClient,
    product_id: &ProductId,
    now: i64,
) -> anyhow::Result<Vec<String>> {
    let prices = crate::server::billing::all_pages(
        |after| async move {
            let mut list = ListPrice::new().product(product_id).limit(100);
            if let Some(after) = after {
                list = list.starting_after(after);
            }
            stripe.send(&list, None).await.with_context(|| format!("listing prices of {product_id}"))
        },
        |p: &Price| p.id.as_str().to_string(),
    )
    .await?;
    let mut drifts = Vec::new();
    for price in &prices {
        store(pool, price, now).await?;
        drifts.extend(drift(price));
    }
    Ok(drifts)
}

/// How a price holding a catalog lookup key differs from the catalog.
fn drift(price: &Price) -> Option<String> {
    let key = price.lookup_key.as_deref()?;
    let spec = catalog::shipped()?.prices().find(|spec| spec.lookup_key == key)?;
    let why = difference(price, spec, &catalog::sync::product_id(product_key(key)?))?;
    tracing::warn!(price_id = %price.id.as_str(), lookup_key = key, drift = %why, "price drifted from catalog.toml");
    Some(format!("{key}: {why}"))
}

/// The catalog key a lookup key belongs to (`pro_monthly` → `pro`).
fn product_key(lookup_key: &str) -> Option<&str> {
    lookup_key.rsplit_once('_').map(|(key, _)| key)
}

async fn store(pool: &AnyPool, price: &Price, now: i64) -> anyhow::Result<()> {
    let interval = price.recurring.as_ref().map(|r| r.interval.as_str().to_string());
    sqlx::query(
        "INSERT INTO catalog_prices (id, product_id, lookup_key, unit_amount, currency, \
           recurring_interval, active, synced_at, plan_lookup_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET lookup_key = excluded.lookup_key, active = excluded.active, \
           synced_at = excluded.synced_at, \
           plan_lookup_key = COALESCE(catalog_prices.plan_lookup_key, excluded.plan_lookup_key)",
    )
    .bind(price.id.as_str())
    .bind(price.product.id().as_str())
    .bind(price.lookup_key.as_deref())
    .bind(price.unit_amount)
    .bind(price.currency.to_string())
    .bind(interval)
    .bind(price.active)
    .bind(now)
    .bind(plan_lookup_key(price))
    .execute(pool)
    .await
    .with_context(|| format!("storing price {}", price.id.as_str()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_keys_name_their_catalog_key() {
        assert_eq!(product_key("pro_monthly"), Some("pro"));
        assert_eq!(product_key("onboarding_once"), Some("onboarding"));
        assert_eq!(product_key("nounderscore"), None);
    }
}
