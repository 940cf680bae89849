//! The mail sender's loop: drains the outbox every few seconds.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::templates::Letterhead;
use super::{drain, Mailer};
use crate::server::http::app_url::AppUrl;
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
        let letterhead = Letterhead::new(&state.config.brand, &AppUrl::new(state.config.app_url.as_str()));
        loop {
            if let Err(err) = drain(state.db.pool(), &mailer, &state.instance, (now(), 100), &letterhead).await {
                tracing::error!(error = %format!("{err:#}"), "mail sender failed");
            }
            tokio::time::sleep(IDLE_POLL).await;
        }
    })
}
