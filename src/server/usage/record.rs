//! `usage::record` and `record_many`: usage reports into the outbox, once per identifier.

use std::collections::{HashMap, HashSet};

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};

use crate::domain::catalog::Catalog;
use crate::domain::money::Money;
use crate::domain::usage::{check_event_time, Aggregation, LateError, Meter};
use crate::server::db::{begin_write, lock_key, users::User, write_gate};

use super::period::{self, Period};
use super::{spend_cap, totals};

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

/// Reports accepted in one `record_many` call (one request of the batch API).
pub const MAX_BATCH: usize = 1_000;

/// Rows per INSERT statement: 8 parameters each, well under every backend's limit.
const INSERT_CHUNK: usize = 100;

/// Records one report: [`record_many`] of one.
pub async fn record(
    pool: &AnyPool,
    catalog: &Catalog,
    user: &User,
    report: &UsageReport<'_>,
    now: i64,
) -> Result<Recorded, UsageError> {
    record_many(pool, catalog, user, std::slice::from_ref(report), now).await?.pop().expect("one report, one answer")
}

/// Records `reports` for one customer in one write transaction, answering each in order.
///
/// A report is refused on its own (bad meter, value, identifier or time, or past the spend cap)
/// without refusing the others. Identifiers seen before, here or in the same batch, answer
/// `Duplicate` and count once. The spend cap is judged in order against the period's usage,
/// under a per-customer lock, so concurrent requests (on any instance) cannot overshoot it.
pub async fn record_many(
    pool: &AnyPool,
    catalog: &Catalog,
    user: &User,
    reports: &[UsageReport<'_>],
    now: i64,
) -> Result<Vec<Result<Recorded, UsageError>>, UsageError> {
    let customer = user.stripe_customer_id.as_deref().ok_or(UsageError::NoCustomer)?;
    let mut answers: Vec<Result<Recorded, UsageError>> = Vec::with_capacity(reports.len());
    let mut meters = Vec::with_capacity(reports.len());
    for report in reports {
        match validate(catalog, report, now) {
            Ok(meter) => {
                answers.push(Ok(Recorded::Created));
                meters.push(Some(meter));
            }
            Err(error) => {
                answers.push(Err(error));
                meters.push(None);
            }
        }
    }
    if meters.iter().all(Option::is_none) {
        return Ok(answers);
    }

    // SQLite has one writer: queue here (FIFO, woken at once) rather than in its busy handler.
    let _gate = write_gate(pool).await;
    let mut tx = begin_write(pool).await.context("starting to record usage")?;
    lock_key(&mut tx, &format!("usage:{customer}")).await.context("locking the customer's usage")?;

    let wanted: Vec<&str> =
        reports.iter().zip(&meters).filter(|(_, m)| m.is_some()).map(|(r, _)| r.identifier).collect();
    let mut seen = known_identifiers(&mut tx, &wanted).await?;
    let mut cap = SpendCap::load(&mut tx, catalog, user.id, customer, now).await?;
    let mut new_rows = Vec::new();
    for ((report, meter), answer) in reports.iter().zip(&meters).zip(answers.iter_mut()) {
        let Some(meter) = meter else { continue };
        if !seen.insert(report.identifier) {
            *answer = Ok(Recorded::Duplicate);
            continue;
        }
        if let Err(refused) = cap.admit(&mut tx, meter.key.as_str(), report.value as u64).await {
            seen.remove(report.identifier);
            *answer = Err(refused);
            continue;
        }
        new_rows.push((report, *meter));
    }
    let mut inserted = HashSet::new();
    for chunk in new_rows.chunks(INSERT_CHUNK) {
        inserted.extend(insert(&mut tx, user.id, customer, chunk, now).await?);
    }
    tx.commit().await.context("committing recorded usage")?;
    // A row another writer inserted meanwhile under the same identifier (another customer's
    // batch, which this customer's lock does not hold back) counted once, as theirs.
    for ((report, meter), answer) in reports.iter().zip(&meters).zip(answers.iter_mut()) {
        if meter.is_some() && matches!(answer, Ok(Recorded::Created)) && !inserted.contains(report.identifier) {
            *answer = Ok(Recorded::Duplicate);
        }
    }
    Ok(answers)
}

fn validate<'c>(catalog: &'c Catalog, report: &UsageReport<'_>, now: i64) -> Result<&'c Meter, UsageError> {
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
    Ok(meter)
}

/// Which of `identifiers` the outbox already holds.
async fn known_identifiers<'a>(
    tx: &mut Transaction<'_, Any>,
    identifiers: &[&'a str],
) -> anyhow::Result<HashSet<&'a str>> {
    let mut known = HashSet::new();
    for chunk in identifiers.chunks(INSERT_CHUNK * 4) {
        let list = placeholders(1, chunk.len());
        let sql = format!("SELECT identifier FROM usage_events WHERE identifier IN ({list})");
        let mut query = sqlx::query_scalar::<_, String>(&sql);
        for identifier in chunk {
            query = query.bind(*identifier);
        }
        let found: HashSet<String> =
            query.fetch_all(&mut **tx).await.context("looking up usage identifiers")?.into_iter().collect();
        known.extend(chunk.iter().copied().filter(|id| found.contains(*id)));
    }
    Ok(known)
}

/// `$from, $from+1, …` for `count` parameters.
pub(super) fn placeholders(from: usize, count: usize) -> String {
    (from..from + count).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    user_id: i64,
    customer: &str,
    rows: &[(&UsageReport<'_>, &Meter)],
    now: i64,
) -> anyhow::Result<Vec<String>> {
    let values: Vec<String> = (0..rows.len()).map(|i| format!("({}, 'pending')", placeholders(i * 8 + 1, 8))).collect();
    let sql = format!(
        "INSERT INTO usage_events (identifier, user_id, customer_id, meter, event_name, value, occurred_at, \
           recorded_at, status) VALUES {} ON CONFLICT (identifier) DO NOTHING RETURNING identifier",
        values.join(", ")
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for (report, meter) in rows {
        query = query
            .bind(report.identifier)
            .bind(user_id)
            .bind(customer)
            .bind(meter.key.as_str())
            .bind(&meter.event_name)
            .bind(report.value)
            .bind(report.occurred_at)
            .bind(now);
    }
    query.fetch_all(&mut **tx).await.context("recording usage")
}

/// The customer's spend cap as one batch uses it: the period and each meter's usage, read once
/// inside the batch's transaction and counted up as reports are admitted.
struct SpendCap<'c> {
    catalog: &'c Catalog,
    customer: String,
    /// `None` when no cap is set (everything is admitted).
    cap: Option<(i64, Period)>,
    used: HashMap<String, u64>,
}

impl<'c> SpendCap<'c> {
    async fn load(
        tx: &mut Transaction<'_, Any>,
        catalog: &'c Catalog,
        user_id: i64,
        customer: &str,
        now: i64,
    ) -> anyhow::Result<Self> {
        let cap = match spend_cap::get(&mut **tx, user_id).await? {
            Some(cap) => Some((cap, period::current(&mut **tx, customer, now).await?)),
            None => None,
        };
        Ok(Self { catalog, customer: customer.to_owned(), cap, used: HashMap::new() })
    }

    /// Counts `value` units of `meter`, or refuses them when they would pass the cap.
    async fn admit(&mut self, tx: &mut Transaction<'_, Any>, meter: &str, value: u64) -> Result<(), UsageError> {
        let Some((cap, period)) = &self.cap else { return Ok(()) };
        let Some(price) = period.plan.as_deref().and_then(|plan| self.catalog.usage.price(plan, meter)) else {
            return Ok(());
        };
        let used = match self.used.get(meter) {
            Some(used) => *used,
            None => totals::total(&mut **tx, &self.customer, meter, period.start, period.end).await?,
        };
        if let Some(refused) = spend_cap::refusal(price, *cap, used, value) {
            self.used.insert(meter.to_owned(), used);
            return Err(refused);
        }
        self.used.insert(meter.to_owned(), used.saturating_add(value));
        Ok(())
    }
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
