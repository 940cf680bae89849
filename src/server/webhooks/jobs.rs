//! The background loops: the webhook worker (woken by each stored event, and every few seconds
//! for retries that came due) and the mail sender.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::apply::{apply, ApplyContext};
use super::worker;
use crate::server::db::now;
use crate::server::mail::{self, Mailer};
use crate::server::state::AppState;

const WORKER_BATCH: i64 = 200;
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
            };
            match worker::run_batch(ctx.pool, ctx.now, WORKER_BATCH, |event| apply(&ctx, event)).await {
                // A full batch: more may be waiting.
                Ok(report) if report.total() as i64 == WORKER_BATCH => continue,
                Ok(_) => {}
                Err(err) => tracing::error!(error = %format!("{err:#}"), "webhook worker failed"),
            }
            let _ = tokio::time::timeout(IDLE_POLL, state.inbox_notify.notified()).await;
        }
    })
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
