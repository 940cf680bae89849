//! The customer's optional spend cap on chargeable usage: once what this period's usage costs
//! (beyond the included units) would pass it, new chargeable usage is refused until they raise it.

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::money::Money;
use crate::domain::usage::MeteredPrice;

use super::record::UsageError;

/// The cap in minor units, if the customer set one.
pub async fn get<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>, user_id: i64) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT cap_amount FROM usage_spend_caps WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(db)
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

/// The charge a report would bring the period to, when it raises the charge past `cap`: usage
/// inside the included units, or that costs nothing more, is never refused.
pub fn refusal(price: &MeteredPrice, cap: i64, used: u64, value: u64) -> Option<UsageError> {
    let before = price.cost(used);
    let would = price.cost(used.saturating_add(value));
    (would.minor() > before.minor() && would.minor() > cap)
        .then(|| UsageError::SpendCapReached { cap: Money::new(cap, price.currency), would })
}
