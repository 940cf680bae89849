//! The customer's usage for `/account`: each meter of their plan this period, included units
//! left, overage so far, and Stripe's preview of the next invoice.

use anyhow::Context;
use stripe_billing::invoice::CreatePreviewInvoice;

use crate::server::{db::users::User, state::AppState};
use crate::views::usage::{AccountUsage, MeterUsage};

use super::{period, spend_cap, totals};

/// `None` when the user has no Stripe customer or their plan has no metered price.
pub async fn account_usage(state: &AppState, user: &User, now: i64) -> anyhow::Result<Option<AccountUsage>> {
    let Some(customer) = user.stripe_customer_id.as_deref() else { return Ok(None) };
    let pool = state.db.pool();
    let catalog = &state.prices.current().catalog;
    let period = period::current(pool, customer, now).await?;
    let Some(plan) = period.plan.as_deref() else { return Ok(None) };
    let mut meters = Vec::new();
    for price in catalog.usage.prices_of(plan) {
        let used = totals::total(pool, customer, price.meter.as_str(), period.start, period.end).await?;
        let name =
            catalog.usage.meter(price.meter.as_str()).map_or_else(|| price.meter.to_string(), |m| m.name.clone());
        meters.push(MeterUsage {
            meter: price.meter.to_string(),
            name,
            used,
            included: price.included(),
            overage: price.cost(used).minor(),
        });
    }
    if meters.is_empty() {
        return Ok(None);
    }
    let projected_invoice = match &period.subscription_id {
        Some(subscription) => {
            let preview = CreatePreviewInvoice::new().customer(customer).subscription(subscription.as_str());
            match state.stripe_client.send(&preview, None).await.context("previewing the next invoice") {
                Ok(invoice) => Some(invoice.total),
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "no invoice preview for the account page");
                    None
                }
            }
        }
        None => None,
    };
    Ok(Some(AccountUsage {
        currency: catalog.currency.as_str().to_owned(),
        period_start: period.start,
        period_end: period.end,
        meters,
        projected_invoice,
        spend_cap: spend_cap::get(pool, user.id).await?,
    }))
}
