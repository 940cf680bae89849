//! The catalog's entitlements in Stripe: each plan's `entitlements` key is a Stripe Entitlements
//! feature (`POST /v1/entitlements/features`, its `lookup_key`), attached to the plan's product
//! (`POST /v1/products/:id/features`); a feature the plan no longer names is detached. Stripe's
//! active entitlements then follow the customer's subscriptions (`entitlements::stripe_summary`).
//! A second run finds everything in place and changes nothing.

use std::collections::HashMap;

use anyhow::Context;
use stripe_misc::entitlements_feature::{CreateEntitlementsFeature, ListEntitlementsFeature};
use stripe_product::product_feature::{CreateProductProductFeature, DeleteProductFeature, ListProductProductFeature};
use stripe_product::ProductFeature;
use stripe_shared::EntitlementsFeature;

use super::sync::{product_id, SyncReport};
use crate::domain::catalog::Catalog;
use crate::server::billing::all_pages;
use crate::server::stripe::client::StripeClient;

pub async fn sync(stripe: &StripeClient, catalog: &Catalog, report: &mut SyncReport) -> anyhow::Result<()> {
    let mut features = active_features(stripe).await?;
    for key in catalog.entitlement_keys() {
        if features.contains_key(key) {
            continue;
        }
        // Keyed by the lookup key: two concurrent syncs create it once.
        let created = stripe
            .send(&CreateEntitlementsFeature::new(key, key), Some(&format!("catalog-feature-{key}")))
            .await
            .with_context(|| format!("creating the feature {key}"))?;
        report.features_created.push(key.to_string());
        features.insert(key.to_string(), created);
    }
    for plan in catalog.plans.iter().filter(|p| !p.is_free()) {
        let product = product_id(plan.key.as_str());
        let attached = attached_features(stripe, &product).await?;
        for key in &plan.entitlements {
            if attached.iter().any(|a| &a.entitlement_feature.lookup_key == key) {
                continue;
            }
            let feature = features.get(key).with_context(|| format!("feature {key} missing after creation"))?;
            let attach = CreateProductProductFeature::new(product.as_str(), feature.id.as_str());
            stripe
                .send(&attach, Some(&format!("catalog-product-feature-{product}-{}", feature.id.as_str())))
                .await
                .with_context(|| format!("attaching {key} to {product}"))?;
            report.features_attached.push(format!("{key} → {product}"));
        }
        for stale in attached.iter().filter(|a| !plan.entitlements.contains(&a.entitlement_feature.lookup_key)) {
            stripe
                .send(&DeleteProductFeature::new(stale.id.as_str(), product.as_str()), None)
                .await
                .with_context(|| format!("detaching {} from {product}", stale.entitlement_feature.lookup_key))?;
            report.features_detached.push(format!("{} ✕ {product}", stale.entitlement_feature.lookup_key));
        }
    }
    Ok(())
}

/// Stripe's active features by lookup key (archived ones are left out, as Stripe lists them).
async fn active_features(stripe: &StripeClient) -> anyhow::Result<HashMap<String, EntitlementsFeature>> {
    let page = |after: Option<String>| {
        let mut list = ListEntitlementsFeature::new().limit(100);
        if let Some(after) = after {
            list = list.starting_after(after);
        }
        async move { stripe.send(&list, None).await.context("listing the entitlement features") }
    };
    let all = all_pages(page, |f: &EntitlementsFeature| f.id.to_string()).await?;
    Ok(all.into_iter().map(|f| (f.lookup_key.clone(), f)).collect())
}

async fn attached_features(stripe: &StripeClient, product: &str) -> anyhow::Result<Vec<ProductFeature>> {
    let page = |after: Option<String>| {
        let mut list = ListProductProductFeature::new(product).limit(100);
        if let Some(after) = after {
            list = list.starting_after(after);
        }
        async move { stripe.send(&list, None).await.with_context(|| format!("listing the features of {product}")) }
    };
    all_pages(page, |f: &ProductFeature| f.id.to_string()).await
}
