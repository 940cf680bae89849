//! Subscriptions for the admin list, joined to the local user by Stripe customer id.

use anyhow::Context;
use sqlx::{AnyPool, Row};

use crate::{
    domain::{
        money::{Currency, Money},
        subscription::SubscriptionStatus,
    },
    views::admin::subscriptions::{SubscriptionLine, SubscriptionsPage, SUBSCRIPTIONS_PER_PAGE},
};

use super::Filtered;

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<SubscriptionStatus>,
    /// A price lookup key (`pro_monthly`).
    pub plan: Option<String>,
    /// Part of an email, lower-case.
    pub email: Option<String>,
    pub page: i64,
}

pub const LINE_COLUMNS: &str = "s.id, s.customer_id, u.email, s.status, s.lookup_key, s.mrr, \
     s.currency, s.current_period_end, CAST(s.cancel_at_period_end AS INTEGER) AS cancel_at_period_end, \
     s.created";

pub fn line(row: sqlx::any::AnyRow) -> anyhow::Result<SubscriptionLine> {
    let status: String = row.try_get("status")?;
    let currency: String = row.try_get("currency")?;
    Ok(SubscriptionLine {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        email: row.try_get("email")?,
        status: status.parse().with_context(|| format!("subscription status {status:?}"))?,
        lookup_key: row.try_get("lookup_key")?,
        mrr: Money::new(row.try_get("mrr")?, Currency::parse(&currency)?),
        current_period_end: row.try_get("current_period_end")?,
        cancel_at_period_end: row.try_get::<i64, _>("cancel_at_period_end")? != 0,
        created: row.try_get("created")?,
    })
}

/// `%`, `_` and `\` in a search are literal.
fn like_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn page(pool: &AnyPool, filter: &Filter) -> anyhow::Result<SubscriptionsPage> {
    let mut filtered = Filtered::default();
    if let Some(status) = filter.status {
        filtered.push("s.status = {}", status.as_str().to_owned());
    }
    if let Some(plan) = &filter.plan {
        filtered.push("s.lookup_key = {}", plan.clone());
    }
    if let Some(email) = &filter.email {
        filtered.push("u.email LIKE {} ESCAPE '\\'", like_pattern(email));
    }
    let select =
        format!("SELECT {LINE_COLUMNS} FROM subscriptions s LEFT JOIN users u ON u.stripe_customer_id = s.customer_id");
    let (rows, has_more) =
        filtered.page(pool, &select, "s.created DESC, s.id DESC", SUBSCRIPTIONS_PER_PAGE, filter.page).await?;
    let lines = rows.into_iter().map(line).collect::<anyhow::Result<Vec<_>>>()?;
    let plans = sqlx::query_scalar(
        "SELECT DISTINCT lookup_key FROM subscriptions WHERE lookup_key IS NOT NULL ORDER BY lookup_key",
    )
    .fetch_all(pool)
    .await
    .context("listing plans in use")?;
    Ok(SubscriptionsPage { lines, plans, page: filter.page, has_more })
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn searches_are_literal() {
        assert_eq!(like_pattern("ann"), "%ann%");
        assert_eq!(like_pattern("a_b%"), "%a\\_b\\%%");
    }
}
