//! `tollgate catalog sync`: makes Stripe match the catalog, keyed by price `lookup_key`.
//!
//! Idempotent: a second run changes nothing and says so. A price is never mutated: when an amount
//! or interval changes, a new price takes over the lookup key (`transfer_lookup_key`), so existing
//! subscribers keep the price they signed up with. Products get stable ids (`tg_<key>`).

use std::collections::HashMap;
use std::fmt;

use anyhow::Context;
use stripe_product::price::{CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, ListPrice};
use stripe_product::product::{CreateProduct, RetrieveProduct, UpdateProduct};
use stripe_shared::{Price, PriceId, RecurringInterval};

use crate::domain::catalog::{BillingInterval, Catalog, PriceSpec};
use crate::server::billing::{all_pages, price_book::PLAN_METADATA_KEY};
use crate::server::stripe::client::{api_error, StripeClient};

/// Stripe accepts at most this many `lookup_keys[]` in one list call.
const LOOKUP_KEYS_PER_CALL: usize = 10;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub products_created: Vec<String>,
    pub products_updated: Vec<String>,
    pub prices_created: Vec<String>,
    /// Lookup keys moved to a new price, with what differed.
    pub prices_replaced: Vec<(String, String)>,
    pub prices_unchanged: Vec<String>,
    /// Meters (by catalog key) created, or renamed.
    pub meters_created: Vec<String>,
    pub meters_updated: Vec<String>,
    /// Entitlement features created (lookup keys).
    pub features_created: Vec<String>,
    /// `feature → product` attachments made, and those removed.
    pub features_attached: Vec<String>,
    pub features_detached: Vec<String>,
}

impl SyncReport {
    pub fn changed_anything(&self) -> bool {
        !(self.products_created.is_empty()
            && self.products_updated.is_empty()
            && self.prices_created.is_empty()
            && self.prices_replaced.is_empty()
            && self.meters_created.is_empty()
            && self.meters_updated.is_empty()
            && self.features_created.is_empty()
            && self.features_attached.is_empty()
            && self.features_detached.is_empty())
    }
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.changed_anything() {
            return writeln!(f, "Catalog in sync: {} prices unchanged, nothing to do.", self.prices_unchanged.len());
        }
        for p in &self.products_created {
            writeln!(f, "+ product {p}")?;
        }
        for m in &self.meters_created {
            writeln!(f, "+ meter {m}")?;
        }
        for m in &self.meters_updated {
            writeln!(f, "~ meter {m} (display name)")?;
        }
        for p in &self.products_updated {
            writeln!(f, "~ product {p} (name or description)")?;
        }
        for k in &self.prices_created {
            writeln!(f, "+ price {k}")?;
        }
        for (k, why) in &self.prices_replaced {
            writeln!(f, "~ price {k}: new price ({why}); existing subscribers keep the old one")?;
        }
        for k in &self.features_created {
            writeln!(f, "+ feature {k}")?;
        }
        for a in &self.features_attached {
            writeln!(f, "+ product feature {a}")?;
        }
        for d in &self.features_detached {
            writeln!(f, "- product feature {d}")?;
        }
        writeln!(f, "{} prices unchanged.", self.prices_unchanged.len())
    }
}

pub fn product_id(key: &str) -> String {
    format!("tg_{key}")
}

/// A product the catalog declares: a plan with prices, or a one-time item.
struct WantedProduct<'a> {
    key: &'a str,
    name: &'a str,
    description: &'a str,
    prices: Vec<&'a PriceSpec>,
}

fn wanted(catalog: &Catalog) -> Vec<WantedProduct<'_>> {
    let plans = catalog.plans.iter().filter(|p| !p.is_free()).map(|p| WantedProduct {
        key: p.key.as_str(),
        name: &p.name,
        description: &p.description,
        prices: p.monthly.iter().chain(p.yearly.iter()).collect(),
    });
    let items = catalog.one_time.iter().map(|i| WantedProduct {
        key: i.key.as_str(),
        name: &i.name,
        description: &i.description,
        prices: vec![&i.price],
    });
    plans.chain(items).collect()
}

pub async fn sync(stripe: &StripeClient, catalog: &Catalog) -> anyhow::Result<SyncReport> {
    let mut report = SyncReport::default();
    let existing = prices_by_lookup_key(stripe, catalog).await?;
    for product in wanted(catalog) {
        let id = product_id(product.key);
        ensure_product(stripe, &product, &id, &mut report).await?;
        for spec in &product.prices {
            match existing.get(&spec.lookup_key) {
                Some(price) => match difference(price, spec, &id) {
                    None => report.prices_unchanged.push(spec.lookup_key.clone()),
                    Some(why) => {
                        create_price(stripe, spec, &id, Some(&price.id)).await?;
                        report.prices_replaced.push((spec.lookup_key.clone(), why));
                    }
                },
                None => {
                    create_price(stripe, spec, &id, None).await?;
                    report.prices_created.push(spec.lookup_key.clone());
                }
            }
        }
    }
    // After the products: a metered price sits on its plan's product.
    let meter_ids = super::meters::ensure_meters(stripe, catalog, &mut report).await?;
    super::meters::ensure_metered_prices(stripe, catalog, &meter_ids, &existing, &mut report).await?;
    super::features::sync(stripe, catalog, &mut report).await?;
    Ok(report)
}

/// Every lookup key the catalog wants in Stripe: its fixed prices, then its metered ones.
fn lookup_keys(catalog: &Catalog) -> Vec<String> {
    catalog
        .prices()
        .map(|p| p.lookup_key.clone())
        .chain(catalog.usage.prices.iter().map(|p| p.lookup_key.clone()))
        .collect()
}

/// How Stripe's prices differ from the catalog, read without changing anything (`/admin/status`,
/// `tollgate doctor`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drift {
    /// Lookup keys with no price in Stripe.
    pub missing: Vec<String>,
    /// Lookup keys whose price differs, with what differs.
    pub different: Vec<(String, String)>,
    /// Active prices of the catalog's products under a lookup key the catalog does not have.
    /// Prices without a lookup key are left out: a sync that replaced a price leaves the old one
    /// active for its subscribers, and nothing new is sold at it.
    pub extra: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty() && self.different.is_empty() && self.extra.is_empty()
    }
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("missing in Stripe: {}", self.missing.join(", ")));
        }
        if !self.different.is_empty() {
            let different: Vec<String> = self.different.iter().map(|(key, why)| format!("{key} ({why})")).collect();
            parts.push(format!("different in Stripe: {}", different.join(", ")));
        }
        if !self.extra.is_empty() {
            parts.push(format!("active in Stripe but not in the catalog: {}", self.extra.join(", ")));
        }
        f.write_str(&parts.join("; "))
    }
}

/// Compares Stripe's prices with the catalog.
pub async fn drift(stripe: &StripeClient, catalog: &Catalog) -> anyhow::Result<Drift> {
    let existing = prices_by_lookup_key(stripe, catalog).await?;
    let mut drift = Drift::default();
    let known = lookup_keys(catalog);
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    for metered in &catalog.usage.prices {
        if !existing.contains_key(&metered.lookup_key) {
            drift.missing.push(metered.lookup_key.clone());
        }
    }
    for product in wanted(catalog) {
        let id = product_id(product.key);
        for spec in &product.prices {
            match existing.get(&spec.lookup_key) {
                None => drift.missing.push(spec.lookup_key.clone()),
                Some(price) => {
                    if let Some(why) = difference(price, spec, &id) {
                        drift.different.push((spec.lookup_key.clone(), why));
                    }
                }
            }
        }
        let id = id.as_str();
        let page = |after: Option<String>| {
            let mut list = ListPrice::new().product(id).active(true).limit(100);
            if let Some(after) = after {
                list = list.starting_after(after);
            }
            async move { stripe.send(&list, None).await.with_context(|| format!("listing the active prices of {id}")) }
        };
        let active = all_pages(page, |price: &Price| price.id.to_string()).await?;
        for price in active {
            if let Some(key) = price.lookup_key.filter(|key| !known.contains(&key.as_str())) {
                drift.extra.push(key);
            }
        }
    }
    Ok(drift)
}

/// The catalog's lookup keys → Stripe price ids. Fails, naming them, when any is missing.
pub async fn resolve(stripe: &StripeClient, catalog: &Catalog) -> anyhow::Result<HashMap<String, PriceId>> {
    let existing = prices_by_lookup_key(stripe, catalog).await?;
    let wanted = lookup_keys(catalog);
    let missing: Vec<_> =
        wanted.iter().filter(|key| !existing.get(key.as_str()).is_some_and(|p| p.active)).map(String::as_str).collect();
    anyhow::ensure!(
        missing.is_empty(),
        "prices missing in Stripe for lookup keys {}: run `tollgate catalog sync`",
        missing.join(", ")
    );
    Ok(existing.into_iter().map(|(key, price)| (key, price.id)).collect())
}

async fn prices_by_lookup_key(stripe: &StripeClient, catalog: &Catalog) -> anyhow::Result<HashMap<String, Price>> {
    let keys = lookup_keys(catalog);
    let mut found = HashMap::new();
    for chunk in keys.chunks(LOOKUP_KEYS_PER_CALL) {
        let page = stripe
            .send(&ListPrice::new().lookup_keys(chunk.to_vec()).limit(100), None)
            .await
            .context("listing prices by lookup key")?;
        for price in page.data {
            if let Some(key) = price.lookup_key.clone() {
                found.insert(key, price);
            }
        }
    }
    Ok(found)
}

async fn ensure_product(
    stripe: &StripeClient,
    product: &WantedProduct<'_>,
    id: &str,
    report: &mut SyncReport,
) -> anyhow::Result<()> {
    match stripe.send(&RetrieveProduct::new(id), None).await {
        Ok(current) => {
            let description = current.description.as_deref().unwrap_or("");
            if current.name != product.name || description != product.description || !current.active {
                let update = UpdateProduct::new(id).name(product.name).description(product.description).active(true);
                stripe.send(&update, None).await.with_context(|| format!("updating product {id}"))?;
                report.products_updated.push(id.to_string());
            }
            Ok(())
        }
        Err(err) if api_error(&err).is_some_and(|(status, _)| status == 404) => {
            let mut create = CreateProduct::new(product.name).id(id).metadata(
                [("tollgate_key".to_string(), product.key.to_string())].into_iter().collect::<HashMap<_, _>>(),
            );
            if !product.description.is_empty() {
                create = create.description(product.description);
            }
            // Keyed by the product id: two concurrent syncs create it once.
            stripe
                .send(&create, Some(&format!("catalog-product-{id}")))
                .await
                .with_context(|| format!("creating product {id}"))?;
            report.products_created.push(id.to_string());
            Ok(())
        }
        Err(err) => Err(err).with_context(|| format!("retrieving product {id}")),
    }
}

/// What makes an existing price unusable for `spec`, if anything.
pub fn difference(price: &Price, spec: &PriceSpec, product_id: &str) -> Option<String> {
    let mut diffs = Vec::new();
    if price.unit_amount != Some(spec.amount.minor()) {
        diffs.push(format!("amount {:?} → {}", price.unit_amount, spec.amount.minor()));
    }
    if price.currency.to_string() != spec.amount.currency().as_str() {
        diffs.push(format!("currency {} → {}", price.currency, spec.amount.currency()));
    }
    let interval = price.recurring.as_ref().map(|r| (r.interval.clone(), r.interval_count));
    let wanted = spec.interval.map(|i| {
        let interval = match i {
            BillingInterval::Month => RecurringInterval::Month,
            BillingInterval::Year => RecurringInterval::Year,
        };
        (interval, 1)
    });
    if interval != wanted {
        diffs.push("billing interval".to_string());
    }
    if price.product.id().as_str() != product_id {
        diffs.push(format!("product {} → {product_id}", price.product.id().as_str()));
    }
    if !price.active {
        diffs.push("inactive".to_string());
    }
    (!diffs.is_empty()).then(|| diffs.join(", "))
}

async fn create_price(
    stripe: &StripeClient,
    spec: &PriceSpec,
    product_id: &str,
    replacing: Option<&PriceId>,
) -> anyhow::Result<()> {
    let currency = spec
        .amount
        .currency()
        .as_str()
        .parse::<stripe_types::Currency>()
        .map_err(|_| anyhow::anyhow!("currency {} unknown to Stripe", spec.amount.currency()))?;
    let mut create = CreatePrice::new(currency)
        .product(product_id)
        .unit_amount(spec.amount.minor())
        .lookup_key(spec.lookup_key.clone())
        .transfer_lookup_key(replacing.is_some())
        .metadata([(PLAN_METADATA_KEY.to_string(), spec.lookup_key.clone())].into_iter().collect::<HashMap<_, _>>());
    if let Some(interval) = spec.interval {
        let interval = match interval {
            BillingInterval::Month => CreatePriceRecurringInterval::Month,
            BillingInterval::Year => CreatePriceRecurringInterval::Year,
        };
        create = create.recurring(CreatePriceRecurring::new(interval));
    }
    // The key names the exact price wanted and the one it replaces: a retry, or a concurrent
    // sync, creates it once, and changing an amount back later still makes a new price.
    let key = format!(
        "catalog-price-{}-{}-{}-{}-from-{}",
        spec.lookup_key,
        spec.amount.minor(),
        spec.amount.currency(),
        spec.interval.map(BillingInterval::as_str).unwrap_or("once"),
        replacing.map(|id| id.as_str()).unwrap_or("none")
    );
    stripe.send(&create, Some(&key)).await.with_context(|| format!("creating price {}", spec.lookup_key))?;
    Ok(())
}
