//! Heals missed deliveries: reads Stripe's events list from a little before the newest event we
//! hold and feeds every event into the same inbox (a duplicate is simply skipped).

use std::time::Duration;

use anyhow::Context;
use sqlx::AnyPool;
use stripe_core::event::ListEvent;
use stripe_types::RangeQueryTs;
use tokio::task::JoinHandle;

use super::inbox::{self, Recorded, Source};
use crate::server::{db::now, state::AppState, stripe::client::StripeClient};

/// Re-read this far behind the newest stored event: Stripe may create events slightly out of
/// order, and a late one must not be skipped.
const OVERLAP_SECS: i64 = 600;
/// Stripe keeps events for 30 days; with an empty inbox, start there.
const FIRST_RUN_LOOKBACK_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileReport {
    pub seen: usize,
    pub new: usize,
}

pub async fn reconcile(pool: &AnyPool, stripe: &StripeClient, now: i64) -> anyhow::Result<ReconcileReport> {
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(stripe_created) FROM webhook_events")
        .fetch_one(pool)
        .await
        .context("reading the newest stored event")?;
    let since = newest.map(|t| t - OVERLAP_SECS).unwrap_or(now - FIRST_RUN_LOOKBACK_SECS);
    let mut report = ReconcileReport::default();
    let mut starting_after: Option<String> = None;
    loop {
        let mut list = ListEvent::new().created(RangeQueryTs::gte(since)).limit(100);
        if let Some(after) = &starting_after {
            list = list.starting_after(after.clone());
        }
        let page = stripe.send(&list, None).await.context("listing events")?;
        for event in &page.data {
            let body = serde_json::to_vec(event).context("re-encoding an event")?;
            report.seen += 1;
            if inbox::record(pool, &body, Source::Reconcile, now).await? == Recorded::New {
                report.new += 1;
            }
        }
        match (page.has_more, page.data.last()) {
            (true, Some(last)) => starting_after = Some(last.id.as_str().to_string()),
            _ => break,
        }
    }
    if report.new > 0 {
        tracing::info!(new = report.new, seen = report.seen, "reconcile found missed events");
    }
    Ok(report)
}

/// `tollgate reconcile`: one pass into the inbox of the configured database; the worker of a
/// running `serve` applies what it stored.
pub async fn command(config: &crate::server::config::Config) -> anyhow::Result<ReconcileReport> {
    let stripe = crate::server::catalog::command::stripe_client(config)?;
    let db = crate::server::db::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let report = reconcile(db.pool(), &stripe, crate::server::db::now()).await;
    db.close().await;
    let report = report?;
    println!("reconcile: {} events read from Stripe, {} new in the inbox", report.seen, report.new);
    Ok(report)
}

/// How often the job looks whether this instance leads (an atomic read).
const LEADERSHIP_POLL: Duration = Duration::from_secs(1);

/// Reads Stripe's events list every `interval_secs` (`RECONCILE_INTERVAL_SECS`; 0: never), on
/// the leader only, and wakes the worker when it found missed events.
pub fn spawn_reconcile_job(state: AppState, interval_secs: u64) -> Option<JoinHandle<()>> {
    if interval_secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let interval = Duration::from_secs(interval_secs);
        let mut last_run: Option<tokio::time::Instant> = None;
        loop {
            // One instance reads Stripe's events for all: each read costs Stripe requests. An
            // instance that becomes leader (at start too) catches up at once.
            if !state.leadership.is_leader() {
                last_run = None;
            } else if last_run.is_none_or(|at| at.elapsed() >= interval) {
                last_run = Some(tokio::time::Instant::now());
                match reconcile(state.db.pool(), &state.stripe_client, now()).await {
                    Ok(report) if report.new > 0 => state.inbox_notify.notify_one(),
                    Ok(_) => {}
                    Err(err) => {
                        tracing::warn!(error = %format!("{err:#}"), "reconcile failed; next try at the next interval")
                    }
                }
            }
            tokio::time::sleep(LEADERSHIP_POLL).await;
        }
    }))
}
