//! The worker's loop: woken by each stored event, and every few seconds for retries that came due.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::BatchReport;
use crate::server::db::now;
use crate::server::state::AppState;
use crate::server::webhooks::handlers::{apply_due, ApplyContext};
use crate::server::webhooks::inbox;

/// Events the worker reads per batch.
pub const WORKER_BATCH: i64 = 500;
const IDLE_POLL: Duration = Duration::from_secs(2);
/// A third of `inbox::CLAIM_SECS`: two renewals may fail before a claim runs out.
const CLAIM_RENEW_EVERY: Duration = Duration::from_secs(10);

pub fn spawn_webhook_worker(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let app_url = state.config.app_url.to_string();
            let ctx = ApplyContext {
                pool: state.db.pool(),
                stripe: &state.stripe_client,
                app_url: &app_url,
                now: now(),
                retry: state.config.webhook_retry,
                fraud_warning_auto_refund: state.config.fraud_warning_auto_refund,
                dunning: state.config.dunning,
            };
            // A long batch (Stripe slow, or rate-limited) keeps its claims alive.
            let renew = async {
                loop {
                    tokio::time::sleep(CLAIM_RENEW_EVERY).await;
                    if let Err(err) = inbox::renew_claims(ctx.pool, &state.instance, now()).await {
                        tracing::warn!(error = %format!("{err:#}"), "renewing webhook claims failed");
                    }
                }
            };
            let report = tokio::select! {
                report = apply_due(&ctx, &state.instance, WORKER_BATCH) => report,
                _ = renew => unreachable!("the renewal loop never ends"),
            };
            if let Ok(report) = &report {
                count_outcomes(report);
            }
            match report {
                // A full batch: more may be waiting.
                Ok(report) if report.total() as i64 == WORKER_BATCH => continue,
                Ok(_) => {}
                Err(err) => tracing::error!(error = %format!("{err:#}"), "webhook worker failed"),
            }
            let _ = tokio::time::timeout(IDLE_POLL, state.inbox_notify.notified()).await;
        }
    })
}

/// Counts a committed batch's outcomes for `/metrics`.
fn count_outcomes(report: &BatchReport) {
    for (outcome, n) in [
        ("applied", report.applied),
        ("ignored", report.ignored),
        ("retrying", report.retrying),
        ("dead", report.dead),
        ("deferred", report.deferred),
        ("lost", report.lost),
    ] {
        metrics::counter!("tollgate_webhook_events_applied_total", "outcome" => outcome).increment(n as u64);
    }
}
