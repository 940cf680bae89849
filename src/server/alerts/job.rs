//! The periodic evaluation, on the leader only (`instances::leader`): the other instances'
//! `/metrics` still show the values, read at scrape time.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::server::{db::now, state::AppState};

pub fn spawn_alert_job(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(state.config.alerts.check_interval_secs.max(1) as u64);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !state.leadership.is_leader() {
                continue;
            }
            let evaluated = super::evaluate(
                state.db.pool(),
                &state.stripe_client,
                &state.config.alerts,
                state.config.app_url.as_str(),
                now(),
            )
            .await;
            if let Err(err) = evaluated {
                tracing::warn!(error = %format!("{err:#}"), "evaluating alerts failed");
            }
        }
    })
}
