//! Reconciliation: the leader compares, per customer, meter and current period, the usage the
//! outbox has sent with what Stripe's meter event summaries count, and records each difference
//! (`usage_reconciliation`; shown on `/admin/usage` and as a gauge on `/metrics`).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use sqlx::AnyPool;
use stripe_billing::billing_meter::ListBillingMeter;
use stripe_billing::billing_meter_event_summary::ListIdBillingMeterEventSummary;
use stripe_billing::BillingMeterId;
use tokio::task::JoinHandle;

use crate::domain::catalog::Catalog;
use crate::domain::usage::LATE_WINDOW_SECS;
use crate::server::{db::now, state::AppState, stripe::client::StripeClient};

use super::period;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileReport {
    pub checked: usize,
    pub differences: usize,
}

/// Stripe's summaries take minute-aligned bounds.
fn minute_floor(t: i64) -> i64 {
    t - t.rem_euclid(60)
}

/// The catalog's meters' ids in Stripe, by event name.
async fn meter_ids(stripe: &StripeClient) -> anyhow::Result<HashMap<String, BillingMeterId>> {
    let meters = stripe.send(&ListBillingMeter::new().limit(100), None).await.context("listing Stripe's meters")?;
    Ok(meters.data.into_iter().map(|m| (m.event_name, m.id)).collect())
}

pub async fn reconcile(
    pool: &AnyPool,
    stripe: &StripeClient,
    catalog: &Catalog,
    now: i64,
) -> anyhow::Result<ReconcileReport> {
    let mut report = ReconcileReport::default();
    if catalog.usage.meters.is_empty() {
        return Ok(report);
    }
    let ids = meter_ids(stripe).await?;
    let pairs: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT customer_id, meter FROM usage_events WHERE status = 'sent' AND occurred_at >= $1",
    )
    .bind(now - LATE_WINDOW_SECS)
    .fetch_all(pool)
    .await
    .context("listing customers with usage")?;
    for (customer, meter_key) in pairs {
        let Some(meter) = catalog.usage.meter(&meter_key) else { continue };
        let Some(meter_id) = ids.get(&meter.event_name) else {
            tracing::warn!(meter = %meter_key, "no such meter in Stripe: run `tollgate catalog sync`");
            continue;
        };
        let period = period::current(pool, &customer, now).await?;
        let start = minute_floor(period.start);
        let end = minute_floor(period.end.min(now)) + 60;
        let summaries = stripe
            .send(&ListIdBillingMeterEventSummary::new(meter_id.clone(), customer.clone(), end, start).limit(100), None)
            .await
            .with_context(|| format!("reading Stripe's usage summary for {customer}"))?;
        let stripe_total: f64 = summaries.data.iter().map(|s| s.aggregated_value).sum();
        let stripe_total = stripe_total.round() as i64;
        let local_total: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM usage_events \
             WHERE customer_id = $1 AND meter = $2 AND status = 'sent' AND occurred_at >= $3 AND occurred_at < $4",
        )
        .bind(&customer)
        .bind(&meter_key)
        .bind(start)
        .bind(end)
        .fetch_one(pool)
        .await
        .context("summing sent usage")?;
        let difference = local_total - stripe_total;
        sqlx::query(
            "INSERT INTO usage_reconciliation (customer_id, meter, period_start, period_end, local_total, \
               stripe_total, difference, checked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (customer_id, meter, period_start) DO UPDATE SET period_end = excluded.period_end, \
               local_total = excluded.local_total, stripe_total = excluded.stripe_total, \
               difference = excluded.difference, checked_at = excluded.checked_at",
        )
        .bind(&customer)
        .bind(&meter_key)
        .bind(start)
        .bind(end)
        .bind(local_total)
        .bind(stripe_total)
        .bind(difference)
        .bind(now)
        .execute(pool)
        .await
        .context("recording a reconciliation")?;
        if difference != 0 {
            tracing::warn!(customer = %customer, meter = %meter_key, local_total, stripe_total, "usage differs from Stripe");
            report.differences += 1;
        }
        report.checked += 1;
    }
    Ok(report)
}

/// The leader reconciles every `USAGE_RECONCILE_INTERVAL_SECS` (0: never).
pub fn spawn_usage_reconcile_job(state: AppState) -> Option<JoinHandle<()>> {
    let interval_secs = state.config.usage.reconcile_interval_secs;
    if interval_secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let interval = Duration::from_secs(interval_secs);
        let mut last_run: Option<tokio::time::Instant> = None;
        loop {
            if !state.leadership.is_leader() {
                last_run = None;
            } else if last_run.is_none_or(|at| at.elapsed() >= interval) {
                last_run = Some(tokio::time::Instant::now());
                let catalog = state.prices.current().catalog.clone();
                if let Err(err) = reconcile(state.db.pool(), &state.stripe_client, &catalog, now()).await {
                    tracing::warn!(error = %format!("{err:#}"), "usage reconciliation failed; next try at the next interval");
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}
