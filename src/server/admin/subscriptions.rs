//! Subscriptions for the admin list, joined to the local user by Stripe customer id.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_shared::CustomerId;

use crate::{
    domain::{
        money::{Currency, Money},
        subscription::SubscriptionStatus,
    },
    views::admin::{
        sort::Sort,
        subscriptions::{SubscriptionLine, SubscriptionSort, SubscriptionsPage, SUBSCRIPTIONS_PER_PAGE},
    },
};

use super::{like_pattern, order_by, Filtered};

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<SubscriptionStatus>,
    /// A price lookup key (`pro_monthly`).
    pub plan: Option<String>,
    /// Part of an email, lower-case.
    pub email: Option<String>,
    pub sort: Sort<SubscriptionSort>,
    pub page: i64,
}

/// The `ORDER BY` of `sort`: each column's expression is fixed here.
fn ordering(sort: Sort<SubscriptionSort>) -> String {
    let expressions: &[&str] = match sort.column {
        // Customers without a local user sort by their Stripe id.
        SubscriptionSort::Customer => &["COALESCE(u.email, s.customer_id)"],
        SubscriptionSort::Plan => &["COALESCE(s.lookup_key, '')"],
        SubscriptionSort::Status => &["s.status"],
        SubscriptionSort::Mrr => &["s.mrr"],
        SubscriptionSort::PeriodEnd => &["s.current_period_end"],
        SubscriptionSort::Created => &["s.created"],
    };
    order_by(expressions, sort.dir, "s.id")
}

const LINE_COLUMNS: &str = "s.id, s.customer_id, u.email, s.status, s.lookup_key, s.mrr, \
     s.currency, s.current_period_end, CAST(s.cancel_at_period_end AS INTEGER) AS cancel_at_period_end, \
     s.created";

/// A subscription with its user's email, as [`LINE_COLUMNS`] reads it.
#[derive(sqlx::FromRow)]
struct SubscriptionLineRow {
    id: String,
    customer_id: String,
    email: Option<String>,
    status: String,
    lookup_key: Option<String>,
    mrr: i64,
    currency: String,
    current_period_end: i64,
    cancel_at_period_end: i64,
    created: i64,
}

impl TryFrom<SubscriptionLineRow> for SubscriptionLine {
    type Error = anyhow::Error;

    fn try_from(row: SubscriptionLineRow) -> anyhow::Result<Self> {
        Ok(SubscriptionLine {
            status: row.status.parse().with_context(|| format!("subscription status {:?}", row.status))?,
            mrr: Money::new(row.mrr, Currency::parse(&row.currency)?),
            id: row.id,
            customer_id: row.customer_id,
            email: row.email,
            lookup_key: row.lookup_key,
            current_period_end: row.current_period_end,
            cancel_at_period_end: row.cancel_at_period_end != 0,
            created: row.created,
        })
    }
}

/// The customer's subscriptions, newest first.
pub async fn of_customer(pool: &AnyPool, customer_id: &CustomerId) -> anyhow::Result<Vec<SubscriptionLine>> {
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM subscriptions s LEFT JOIN users u ON u.stripe_customer_id = s.customer_id \
         WHERE s.customer_id = $1 ORDER BY s.created DESC"
    );
    sqlx::query_as::<_, SubscriptionLineRow>(&sql)
        .bind(customer_id.as_str())
        .fetch_all(pool)
        .await
        .context("reading the customer's subscriptions")?
        .into_iter()
        .map(SubscriptionLine::try_from)
        .collect()
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
    let (rows, has_more) = filtered
        .page::<SubscriptionLineRow>(pool, &select, &ordering(filter.sort), SUBSCRIPTIONS_PER_PAGE, filter.page)
        .await?;
    let lines = rows.into_iter().map(SubscriptionLine::try_from).collect::<anyhow::Result<Vec<_>>>()?;
    let plans = sqlx::query_scalar(
        "SELECT DISTINCT lookup_key FROM subscriptions WHERE lookup_key IS NOT NULL ORDER BY lookup_key",
    )
    .fetch_all(pool)
    .await
    .context("listing plans in use")?;
    Ok(SubscriptionsPage { lines, plans, sort: filter.sort, page: filter.page, has_more })
}
