//! `usage::record`: one usage report into the outbox, once per identifier.

use anyhow::Context;
use sqlx::AnyPool;

use crate::domain::catalog::Catalog;
use crate::domain::money::Money;
use crate::domain::usage::{check_event_time, Aggregation, LateError};
use crate::server::db::{users::User, write_gate};

use super::{period, spend_cap, totals};

/// One report: `value` units of `meter` for the user, at `occurred_at` (unix seconds, UTC).
#[derive(Debug, Clone)]
pub struct UsageReport<'a> {
    pub meter: &'a str,
    pub value: i64,
    /// The caller's unique id for this event: a report sent again with it counts once.
    pub identifier: &'a str,
    pub occurred_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Created,
    /// The identifier was reported before: nothing new was counted.
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("no meter {0:?} in the catalog")]
    UnknownMeter(String),
    #[error("value must be a whole number from 1 to 1,000,000,000,000 (count meters take 1)")]
    BadValue,
    #[error("identifier must be 1–100 characters")]
    BadIdentifier,
    #[error("this customer has no Stripe customer yet: they must subscribe first")]
    NoCustomer,
    #[error(transparent)]
    Late(#[from] LateError),
    #[error("the spend cap of {cap} for this period is reached (this usage would bring the charge to {would}); raise it on the account page")]
    SpendCapReached { cap: Money, would: Money },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

const MAX_VALUE: i64 = 1_000_000_000_000;

pub async fn record(
    pool: &AnyPool,
    catalog: &Catalog,
    user: &User,
    report: &UsageReport<'_>,
    now: i64,
) -> Result<Recorded, UsageError> {
    let meter = catalog.usage.meter(report.meter).ok_or_else(|| UsageError::UnknownMeter(report.meter.to_owned()))?;
    let value_ok = match meter.aggregation {
        Aggregation::Count => report.value == 1,
        Aggregation::Sum => (1..=MAX_VALUE).contains(&report.value),
    };
    if !value_ok {
        return Err(UsageError::BadValue);
    }
    if !(1..=100).contains(&report.identifier.len()) {
        return Err(UsageError::BadIdentifier);
    }
    check_event_time(report.occurred_at, now)?;
    let customer = user.stripe_customer_id.as_deref().ok_or(UsageError::NoCustomer)?;
    if already_recorded(pool, report.identifier).await? {
        return Ok(Recorded::Duplicate);
    }
    spend_cap::check(pool, catalog, user.id, customer, meter.key.as_str(), report, now).await?;

    // SQLite has one writer: queue here (FIFO, woken at once) rather than in its busy handler.
    let _gate = write_gate(pool).await;
    let inserted = sqlx::query(
        "INSERT INTO usage_events (identifier, user_id, customer_id, meter, event_name, value, occurred_at, \
           recorded_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending') \
         ON CONFLICT (identifier) DO NOTHING",
    )
    .bind(report.identifier)
    .bind(user.id)
    .bind(customer)
    .bind(meter.key.as_str())
    .bind(&meter.event_name)
    .bind(report.value)
    .bind(report.occurred_at)
    .bind(now)
    .execute(pool)
    .await
    .context("recording usage")?;
    Ok(if inserted.rows_affected() == 1 { Recorded::Created } else { Recorded::Duplicate })
}

async fn already_recorded(pool: &AnyPool, identifier: &str) -> anyhow::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM usage_events WHERE identifier = $1")
        .bind(identifier)
        .fetch_optional(pool)
        .await
        .context("looking up a usage identifier")?;
    Ok(found.is_some())
}

/// Usage this period for a customer and meter, and the period it counts in.
pub async fn period_total(
    pool: &AnyPool,
    customer: &str,
    meter: &str,
    now: i64,
) -> anyhow::Result<(period::Period, u64)> {
    let period = period::current(pool, customer, now).await?;
    let used = totals::total(pool, customer, meter, period.start, period.end).await?;
    Ok((period, used))
}
