//! The catalog joined with its Stripe price ids, resolved once at start by lookup key: no price
//! id lives in code or configuration.

use std::collections::HashMap;

use crate::domain::catalog::{BillingInterval, Catalog, OneTimeItem, Plan, PriceSpec};
use crate::server::{catalog::sync, stripe::client::StripeClient};
use crate::views::format::interval_words;

/// The price metadata key `catalog sync` sets at creation: the lookup key the price was made
/// for, which stays when Stripe moves the lookup key itself to a newer price.
pub const PLAN_METADATA_KEY: &str = "tollgate_lookup_key";

/// The catalog lookup key a Stripe price sells: its lookup key, else the one it was created for.
pub fn plan_lookup_key(price: &stripe_shared::Price) -> Option<String> {
    price.lookup_key.clone().or_else(|| price.metadata.get(PLAN_METADATA_KEY).cloned())
}

/// The catalog lookup key the local price table remembers for `price_id` (any price the app has
/// seen holding a catalog lookup key).
pub async fn remembered_lookup_key(
    executor: impl sqlx::Executor<'_, Database = sqlx::Any>,
    price_id: &str,
) -> anyhow::Result<Option<String>> {
    use anyhow::Context;
    let found: Option<Option<String>> = sqlx::query_scalar("SELECT plan_lookup_key FROM catalog_prices WHERE id = $1")
        .bind(price_id)
        .fetch_optional(executor)
        .await
        .with_context(|| format!("reading the plan of price {price_id}"))?;
    Ok(found.flatten())
}

#[derive(Debug, Clone)]
pub struct PriceBook {
    pub catalog: Catalog,
    /// lookup_key → price id.
    price_ids: HashMap<String, String>,
}

/// A plan at one billing interval, with the Stripe price that sells it.
#[derive(Debug, Clone, Copy)]
pub struct PlanPrice<'a> {
    pub plan: &'a Plan,
    pub interval: BillingInterval,
    pub spec: &'a PriceSpec,
    pub price_id: &'a str,
}

impl PriceBook {
    /// Resolves every catalog price in Stripe; fails naming the lookup keys that are missing.
    pub async fn resolve(stripe: &StripeClient, catalog: Catalog) -> anyhow::Result<Self> {
        let ids = sync::resolve(stripe, &catalog).await?;
        let price_ids = ids.into_iter().map(|(key, id)| (key, id.as_str().to_string())).collect();
        Ok(Self { catalog, price_ids })
    }

    #[cfg(test)]
    pub fn new(catalog: Catalog, price_ids: HashMap<String, String>) -> Self {
        Self { catalog, price_ids }
    }

    pub fn plan_price(&self, plan_key: &str, interval: BillingInterval) -> Option<PlanPrice<'_>> {
        let plan = self.catalog.plan(plan_key)?;
        let spec = plan.price(interval)?;
        let price_id = self.price_ids.get(&spec.lookup_key)?;
        Some(PlanPrice { plan, interval, spec, price_id })
    }

    pub fn one_time(&self, key: &str) -> Option<(&OneTimeItem, &str)> {
        let item = self.catalog.one_time.iter().find(|i| i.key.as_str() == key)?;
        let price_id = self.price_ids.get(&item.price.lookup_key)?;
        Some((item, price_id.as_str()))
    }

    /// The plan and interval a subscription's price sells: by lookup key, else by price id (a
    /// price replaced since still names the plan through its old lookup key only in Stripe).
    pub fn plan_of(&self, lookup_key: Option<&str>, price_id: &str) -> Option<(&Plan, BillingInterval)> {
        if let Some(found) = lookup_key.and_then(|key| self.catalog.plan_for_lookup_key(key)) {
            return Some(found);
        }
        let key = self.price_ids.iter().find(|(_, id)| id.as_str() == price_id)?.0;
        self.catalog.plan_for_lookup_key(key)
    }

    /// The free plan, if the catalog has one: what a user without a subscription is on.
    pub fn free_plan(&self) -> Option<&Plan> {
        self.catalog.plans.iter().find(|p| p.is_free())
    }
}

/// The plan a subscription sells, named for people: `Pro (yearly)`, or the price id if the
/// catalog no longer knows it.
pub fn plan_label(book: &PriceBook, lookup_key: Option<&str>, price_id: &str) -> String {
    match book.plan_of(lookup_key, price_id) {
        Some((plan, interval)) => format!("{} ({})", plan.name, interval_words(interval)),
        None => format!("another plan ({price_id})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book() -> PriceBook {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog.toml");
        let catalog = crate::server::catalog::load(&path).unwrap();
        let ids = catalog.prices().map(|p| (p.lookup_key.clone(), format!("price_{}", p.lookup_key))).collect();
        PriceBook::new(catalog, ids)
    }

    #[test]
    fn plans_resolve_by_key_and_interval() {
        let book = book();
        let pro = book.plan_price("pro", BillingInterval::Year).unwrap();
        assert_eq!(pro.price_id, "price_pro_yearly");
        assert!(book.plan_price("free", BillingInterval::Month).is_none(), "free has no price");
        assert!(book.plan_price("nope", BillingInterval::Month).is_none());
        assert_eq!(book.one_time("onboarding").unwrap().1, "price_onboarding_once");
    }

    #[test]
    fn a_subscription_price_names_its_plan_by_lookup_key_or_price_id() {
        let book = book();
        let (plan, interval) = book.plan_of(Some("starter_monthly"), "price_other").unwrap();
        assert_eq!((plan.key.as_str(), interval), ("starter", BillingInterval::Month));
        let (plan, _) = book.plan_of(None, "price_business_yearly").unwrap();
        assert_eq!(plan.key.as_str(), "business");
        assert!(book.plan_of(None, "price_unknown").is_none());
        assert_eq!(book.free_plan().unwrap().key.as_str(), "free");
    }
}
