//! The customer's optional spend cap on chargeable usage: once what this period's usage costs
//! (beyond the included units) would pass it, new chargeable usage is refused until they raise it.

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::catalog::Catalog;

use super::record::{period_total, UsageError, UsageReport};

/// The cap in minor units, if the customer set one.
pub async fn get(pool: &AnyPool, user_id: i64) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT cap_amount FROM usage_spend_caps WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await
        .context("reading the spend cap")
}

/// Sets (`Some`) or removes (`None`) the cap.
pub async fn set(pool: &AnyPool, user_id: i64, cap: Option<i64>, now: i64) -> anyhow::Result<()> {
    match cap {
        Some(amount) => sqlx::query(
            "INSERT INTO usage_spend_caps (user_id, cap_amount, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET cap_amount = excluded.cap_amount, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(amount)
        .bind(now),
        None => sqlx::query("DELETE FROM usage_spend_caps WHERE user_id = $1").bind(user_id),
    }
    .execute(pool)
    .await
    .context("saving the spend cap")?;
    Ok(())
}

/// Refuses `report` when it is chargeable (it raises the period's usage charge) and the charge
/// would pass the customer's cap. Usage inside the included units is never refused.
pub async fn check(
    pool: &AnyPool,
    catalog: &Catalog,
    user_id: i64,
    customer: &str,
    meter: &str,
    report: &UsageReport<'_>,
    now: i64,
) -> Result<(), UsageError> {
    let Some(cap) = get(pool, user_id).await? else { return Ok(()) };
    let (period, used) = period_total(pool, customer, meter, now).await?;
    let Some(price) = period.plan.as_deref().and_then(|plan| catalog.usage.price(plan, meter)) else {
        return Ok(());
    };
    let before = price.cost(used);
    let would = price.cost(used.saturating_add(report.value as u64));
    if would.minor() > before.minor() && would.minor() > cap {
        let cap = crate::domain::money::Money::new(cap, price.currency);
        return Err(UsageError::SpendCapReached { cap, would });
    }
    Ok(())
}
