//! The background loops: the webhook worker (woken by each stored event, and every few seconds
//! for retries that came due), the periodic reconcile and the mail sender.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::apply::{apply_due, ApplyContext};
use super::reconcile;
use super::worker::BatchReport;
use crate::server::db::now;
use crate::server::mail::{self, Mailer};
use crate::server::state::AppState;

/// Events the worker reads per batch.
pub const WORKER_BATCH: i64 = 500;
const IDLE_POLL: Duration = Duration::from_secs(2);

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
            };
            let report = apply_due(&ctx, WORKER_BATCH).await;
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

/// Reads Stripe's events list every `interval_secs` (`RECONCILE_INTERVAL_SECS`; 0: never) and
/// wakes the worker when it found missed events.
pub fn spawn_reconcile_job(state: AppState, interval_secs: u64) -> Option<JoinHandle<()>> {
    if interval_secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(interval_secs));
        // The first tick is immediate: a restart catches up at once.
        loop {
            tick.tick().await;
            match reconcile::reconcile(state.db.pool(), &state.stripe_client, now()).await {
                Ok(report) if report.new > 0 => state.inbox_notify.notify_one(),
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "reconcile failed; next try at the next interval")
                }
            }
        }
    }))
}

pub fn spawn_mail_sender(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mailer = match Mailer::from_config(state.config.smtp_url.as_ref(), "billing@tollgate.local") {
            Ok(mailer) => mailer,
            Err(err) => {
                tracing::error!(error = %format!("{err:#}"), "mail disabled");
                return;
            }
        };
        loop {
            if let Err(err) = mail::drain(state.db.pool(), &mailer, now(), 100).await {
                tracing::error!(error = %format!("{err:#}"), "mail sender failed");
            }
            tokio::time::sleep(IDLE_POLL).await;
        }
    })
}

/// Counts a committed batch's outcomes for `/metrics`.
fn count_outcomes(report: &BatchReport) {
    for (outcome, n) in
        [("applied", report.applied), ("ignored", report.ignored), ("retrying", report.retrying), ("dead", report.dead)]
    {
        metrics::counter!("tollgate_webhook_events_applied_total", "outcome" => outcome).increment(n as u64);
    }
}
