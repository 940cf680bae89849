//! The usage half of `catalog sync`: meters by event name (created once, renamed when the
//! catalog's name changes; Stripe lets nothing else change), and the metered prices on them by
//! lookup key (`<plan>_<meter>_monthly`), replaced — never mutated — when their pricing changes.
//! A metered price records its pricing in metadata, so a later sync sees a change without
//! expanding tiers.

use std::collections::HashMap;

use anyhow::Context;
use stripe_billing::billing_meter::{
    CreateBillingMeter, CreateBillingMeterDefaultAggregation, CreateBillingMeterDefaultAggregationFormula,
    ListBillingMeter, UpdateBillingMeter,
};
use stripe_billing::BillingMeterId;
use stripe_product::price::{
    CreatePrice, CreatePriceRecurring, CreatePriceRecurringInterval, CreatePriceRecurringUsageType, CreatePriceTiers,
    CreatePriceTiersUpTo, CreatePriceTransformQuantity, CreatePriceTransformQuantityRound,
};
use stripe_shared::{Price, PriceBillingScheme, PriceId, PriceTiersMode};

use super::sync::{product_id, SyncReport};
use crate::domain::catalog::Catalog;
use crate::domain::usage::{Aggregation, Meter, MeteredPrice, UsagePricing};
use crate::server::billing::price_book::PLAN_METADATA_KEY;
use crate::server::stripe::client::StripeClient;

/// The metadata key holding a metered price's pricing, as [`fingerprint`] writes it.
pub const PRICING_METADATA_KEY: &str = "tollgate_pricing";

/// The catalog's meters in Stripe (created when missing), by meter key.
pub async fn ensure_meters(
    stripe: &StripeClient,
    catalog: &Catalog,
    report: &mut SyncReport,
) -> anyhow::Result<HashMap<String, BillingMeterId>> {
    if catalog.usage.meters.is_empty() {
        return Ok(HashMap::new());
    }
    let existing = stripe.send(&ListBillingMeter::new().limit(100), None).await.context("listing meters")?;
    let mut ids = HashMap::new();
    for meter in &catalog.usage.meters {
        let id = match existing.data.iter().find(|m| m.event_name == meter.event_name) {
            Some(found) => {
                if found.display_name != meter.name {
                    let rename = UpdateBillingMeter::new(found.id.clone()).display_name(meter.name.clone());
                    stripe.send(&rename, None).await.with_context(|| format!("renaming meter {}", meter.key))?;
                    report.meters_updated.push(meter.key.to_string());
                }
                found.id.clone()
            }
            None => {
                let created = stripe
                    .send(&create_meter(meter), Some(&format!("catalog-meter-{}", meter.event_name)))
                    .await
                    .with_context(|| format!("creating meter {}", meter.key))?;
                report.meters_created.push(meter.key.to_string());
                created.id
            }
        };
        ids.insert(meter.key.to_string(), id);
    }
    Ok(ids)
}

fn create_meter(meter: &Meter) -> CreateBillingMeter {
    let formula = match meter.aggregation {
        Aggregation::Sum => CreateBillingMeterDefaultAggregationFormula::Sum,
        Aggregation::Count => CreateBillingMeterDefaultAggregationFormula::Count,
    };
    CreateBillingMeter::new(
        CreateBillingMeterDefaultAggregation::new(formula),
        meter.name.clone(),
        meter.event_name.clone(),
    )
}

/// A metered price's pricing in one line (`per_unit:2`, `graduated:10000@0+0,inf@1+0`,
/// `package:1000@500`), with its meter: what makes an existing price reusable.
pub fn fingerprint(price: &MeteredPrice, meter_id: &str) -> String {
    let pricing = match &price.pricing {
        UsagePricing::PerUnit { unit_amount } => format!("per_unit:{unit_amount}"),
        UsagePricing::Package { size, amount } => format!("package:{size}@{amount}"),
        UsagePricing::Graduated { tiers } => {
            let tiers: Vec<String> = tiers
                .iter()
                .map(|t| {
                    let up_to = t.up_to.map_or_else(|| "inf".to_owned(), |n| n.to_string());
                    format!("{up_to}@{}+{}", t.unit_amount, t.flat_amount)
                })
                .collect();
            format!("graduated:{}", tiers.join(","))
        }
    };
    format!("{pricing};{};{meter_id}", price.currency)
}

/// Creates or replaces the catalog's metered prices; `existing` is Stripe's prices by lookup key.
pub async fn ensure_metered_prices(
    stripe: &StripeClient,
    catalog: &Catalog,
    meter_ids: &HashMap<String, BillingMeterId>,
    existing: &HashMap<String, Price>,
    report: &mut SyncReport,
) -> anyhow::Result<()> {
    for price in &catalog.usage.prices {
        let meter_id = meter_ids.get(price.meter.as_str()).context("a metered price's meter was not synced")?;
        let wanted = fingerprint(price, meter_id.as_str());
        match existing.get(&price.lookup_key) {
            Some(found) if found.active && found.metadata.get(PRICING_METADATA_KEY) == Some(&wanted) => {
                report.prices_unchanged.push(price.lookup_key.clone());
            }
            Some(found) => {
                create_metered_price(stripe, price, meter_id, &wanted, Some(&found.id)).await?;
                report.prices_replaced.push((price.lookup_key.clone(), "usage pricing".to_owned()));
            }
            None => {
                create_metered_price(stripe, price, meter_id, &wanted, None).await?;
                report.prices_created.push(price.lookup_key.clone());
            }
        }
    }
    Ok(())
}

async fn create_metered_price(
    stripe: &StripeClient,
    price: &MeteredPrice,
    meter_id: &BillingMeterId,
    fingerprint: &str,
    replacing: Option<&PriceId>,
) -> anyhow::Result<()> {
    let currency = price
        .currency
        .as_str()
        .parse::<stripe_types::Currency>()
        .map_err(|_| anyhow::anyhow!("currency {} unknown to Stripe", price.currency))?;
    let mut recurring = CreatePriceRecurring::new(CreatePriceRecurringInterval::Month);
    recurring.usage_type = Some(CreatePriceRecurringUsageType::Metered);
    recurring.meter = Some(meter_id.as_str().to_owned());
    let metadata = HashMap::from([
        (PLAN_METADATA_KEY.to_owned(), price.lookup_key.clone()),
        (PRICING_METADATA_KEY.to_owned(), fingerprint.to_owned()),
    ]);
    let mut create = CreatePrice::new(currency)
        .product(product_id(price.plan.as_str()))
        .recurring(recurring)
        .lookup_key(price.lookup_key.clone())
        .transfer_lookup_key(replacing.is_some())
        .metadata(metadata);
    create = match &price.pricing {
        UsagePricing::PerUnit { unit_amount } => create.unit_amount(*unit_amount),
        UsagePricing::Package { size, amount } => {
            create.unit_amount(*amount).transform_quantity(CreatePriceTransformQuantity {
                divide_by: *size as i64,
                round: CreatePriceTransformQuantityRound::Up,
            })
        }
        UsagePricing::Graduated { tiers } => {
            create.billing_scheme(PriceBillingScheme::Tiered).tiers_mode(PriceTiersMode::Graduated).tiers(
                tiers
                    .iter()
                    .map(|t| CreatePriceTiers {
                        flat_amount: (t.flat_amount > 0).then_some(t.flat_amount),
                        flat_amount_decimal: None,
                        unit_amount: Some(t.unit_amount),
                        unit_amount_decimal: None,
                        up_to: t.up_to.map_or(CreatePriceTiersUpTo::Inf, |n| CreatePriceTiersUpTo::I64(n as i64)),
                    })
                    .collect::<Vec<_>>(),
            )
        }
    };
    let key = format!(
        "catalog-metered-price-{}-{}-from-{}",
        price.lookup_key,
        fingerprint,
        replacing.map(|id| id.as_str()).unwrap_or("none")
    );
    // Idempotency keys are at most 255 characters; a long tier list is hashed.
    let key = if key.len() > 200 {
        format!("catalog-metered-price-{}", super::super::api_keys::hash_secret(&key))
    } else {
        key
    };
    stripe.send(&create, Some(&key)).await.with_context(|| format!("creating metered price {}", price.lookup_key))?;
    Ok(())
}
