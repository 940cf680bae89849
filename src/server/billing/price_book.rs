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

/// What a purchase is told while the prices are unresolved (Stripe unreachable since start).
pub const PRICES_NOT_LOADED: &str =
    "Payments are not available right now: we cannot reach our payment provider. Please try again in a minute.";

#[derive(Debug, Clone)]
pub struct PriceBook {
    pub catalog: Catalog,
    /// lookup_key → price id.
    price_ids: HashMap<String, String>,
}

/// A plan at one billing interval, with the Stripe price that sells it (a copy: the book it
/// came from may be replaced meanwhile).
#[derive(Debug, Clone)]
pub struct PlanPrice {
    pub plan: Plan,
    pub interval: BillingInterval,
    pub spec: PriceSpec,
    pub price_id: String,
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

    /// The catalog without its Stripe prices: what the app serves while Stripe could not be
    /// reached (the pages show the plans; nothing can be bought until the prices resolve).
    pub fn unresolved(catalog: Catalog) -> Self {
        Self { catalog, price_ids: HashMap::new() }
    }

    /// Whether the Stripe prices are known (an empty catalog has nothing to resolve).
    pub fn is_resolved(&self) -> bool {
        !self.price_ids.is_empty() || self.catalog.prices().next().is_none()
    }

    pub fn plan_price(&self, plan_key: &str, interval: BillingInterval) -> Option<PlanPrice> {
        let plan = self.catalog.plan(plan_key)?;
        let spec = plan.price(interval)?;
        let price_id = self.price_ids.get(&spec.lookup_key)?;
        Some(PlanPrice { plan: plan.clone(), interval, spec: spec.clone(), price_id: price_id.clone() })
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

    /// The Stripe price ids of a plan's metered prices (billed in arrears beside its base fee).
    pub fn metered_price_ids(&self, plan_key: &str) -> Vec<String> {
        self.catalog.usage.prices_of(plan_key).filter_map(|p| self.price_ids.get(&p.lookup_key).cloned()).collect()
    }

    /// The free plan, if the catalog has one: what a user without a subscription is on.
    pub fn free_plan(&self) -> Option<&Plan> {
        self.catalog.plans.iter().find(|p| p.is_free())
    }
}

/// The price book the app reads: resolved at start, or, when Stripe could not be reached then,
/// swapped in by a background retry (`startup::spawn_price_retry`) once it can.
#[derive(Clone, Debug)]
pub struct Prices {
    current: std::sync::Arc<std::sync::RwLock<std::sync::Arc<PriceBook>>>,
}

impl Prices {
    pub fn new(book: PriceBook) -> Self {
        Self { current: std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(book))) }
    }

    /// The book as it is now (a cheap clone of a pointer).
    pub fn current(&self) -> std::sync::Arc<PriceBook> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    pub fn replace(&self, book: PriceBook) {
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = std::sync::Arc::new(book);
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

/// [`plan_label`] with the seat count on a per-seat plan: `Team (monthly), 3 seats`.
pub fn seats_label(book: &PriceBook, lookup_key: Option<&str>, price_id: &str, quantity: i64) -> String {
    let label = plan_label(book, lookup_key, price_id);
    match book.plan_of(lookup_key, price_id) {
        Some((plan, _)) if plan.per_seat.is_some() => format!("{label}, {}", crate::views::format::seats(quantity)),
        _ => label,
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

    #[test]
    fn an_unresolved_book_sells_nothing_until_the_resolved_one_replaces_it() {
        let resolved = book();
        let prices = Prices::new(PriceBook::unresolved(resolved.catalog.clone()));
        assert!(!prices.current().is_resolved());
        assert!(prices.current().plan_price("pro", BillingInterval::Month).is_none());
        assert_eq!(prices.current().catalog.plans.len(), resolved.catalog.plans.len(), "the plans still show");
        prices.replace(resolved);
        assert!(prices.current().is_resolved());
        assert!(prices.current().plan_price("pro", BillingInterval::Month).is_some());
    }
}
