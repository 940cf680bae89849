//! The webhook inbox as the admin sees it (`/admin/events`), and "Replay".

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::views::admin::events::{url_safe, InboxStatus};
use crate::views::{
    admin::events::{EventsPage, ReplayOutcome},
    AppError,
};

#[server(endpoint = "admin_events")]
pub async fn admin_events(
    status: Option<String>,
    event_type: Option<String>,
    page: Option<i64>,
    sort: Option<String>,
    dir: Option<String>,
) -> Result<EventsPage, AppError> {
    use crate::server::{admin::events, db, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let filter = events::Filter {
        status: status.as_deref().and_then(InboxStatus::parse),
        event_type: event_type.filter(|t| !t.is_empty()),
        sort: crate::views::admin::sort::Sort::parse(sort.as_deref(), dir.as_deref()),
        page: page.unwrap_or(0).max(0),
    };
    Ok(events::page(ctx.state.db.pool(), &filter, db::now()).await?)
}

/// Puts a dead or processed event back in the worker's queue and audits it. Without JavaScript
/// the browser comes back to the inbox with the outcome in the URL.
#[server(endpoint = "admin_replay_event")]
pub async fn replay_event(event_id: String) -> Result<ReplayOutcome, AppError> {
    use crate::server::{admin::events, db, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let outcome = events::replay(ctx.state.db.pool(), &event_id.trim().into(), &actor, db::now()).await?;
    if outcome == ReplayOutcome::Queued {
        ctx.state.inbox_notify.notify_one();
    }
    if ctx.plain_form_post {
        let code = match outcome {
            ReplayOutcome::Queued => "queued",
            ReplayOutcome::AlreadyQueued => "already",
            ReplayOutcome::NotReplayable(_) => "refused",
            ReplayOutcome::NotFound => "missing",
        };
        leptos_axum::redirect(&format!("/admin/events?replayed={}&outcome={code}", url_safe(&event_id)));
    }
    Ok(outcome)
}
