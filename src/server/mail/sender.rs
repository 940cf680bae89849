//! The mail sender's loop: drains the outbox every few seconds.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::{drain, signature, Mailer};
use crate::server::{db::now, state::AppState};

const IDLE_POLL: Duration = Duration::from_secs(2);

pub fn spawn_mail_sender(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mailer = match Mailer::from_config(state.config.smtp_url.as_ref(), &state.config.mail_from) {
            Ok(mailer) => mailer,
            Err(err) => {
                tracing::error!(error = %format!("{err:#}"), "mail disabled");
                return;
            }
        };
        let signature = signature(&state.config.brand);
        loop {
            if let Err(err) = drain(state.db.pool(), &mailer, &state.instance, (now(), 100), &signature).await {
                tracing::error!(error = %format!("{err:#}"), "mail sender failed");
            }
            tokio::time::sleep(IDLE_POLL).await;
        }
    })
}
