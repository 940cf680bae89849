//! What each Stripe event means for the local tables: one module per Stripe object, and
//! [`ROUTES`], the one table from an event type to its handler. Every handler re-fetches the
//! object from Stripe (the event's copy may be stale by the time it is applied) and writes
//! idempotently: rows are upserts, side effects (emails, MRR movements) carry unique cause
//! keys.
//!
//! A handler is either batched (it only re-fetches; its writes are made in the worker's batch
//! transaction, see `worker`) or writes in its own transaction. Handling a new event type is one
//! line in [`ROUTES`] and its handler in the object's module.

mod account;
mod catalog;
mod charge;
mod checkout_session;
mod customer;
mod dispute;
mod entitlements;
mod invoice;
mod marketplace;
mod payment_intent;
mod payout;
mod radar;
mod setup_intent;
mod subscription;

use anyhow::Context;
use futures::future::BoxFuture;
use sqlx::AnyPool;

use super::inbox::{Envelope, InboxEvent};
use super::worker::{self, BatchReport, Outcome, Prepared};
use crate::server::billing::emails::{self, Email};
use crate::server::http::app_url::AppUrl;
use crate::server::instances::InstanceId;
use crate::server::stripe::client::{is_not_found, StripeClient};

pub struct ApplyContext<'a> {
    pub pool: &'a AnyPool,
    pub stripe: &'a StripeClient,
    /// The app's public URL, for links in emails.
    pub app_url: &'a str,
    pub now: i64,
    /// How failed events are retried before they are dead-lettered.
    pub retry: worker::RetryPolicy,
    /// `FRAUD_WARNING_AUTO_REFUND`: an early fraud warning refunds its charge in full.
    pub fraud_warning_auto_refund: bool,
    /// Stripe's retry schedule and end, as configured (the dunning emails' words).
    pub dunning: crate::domain::dunning::DunningPolicy,
}

/// Re-fetches only: what it returns is written in the worker's batch transaction.
type BatchedFn = for<'c> fn(&'c ApplyContext<'c>, InboxEvent) -> BoxFuture<'c, anyhow::Result<Prepared>>;
/// Writes in its own transaction(s); gets the event's envelope too.
type OwnFn = for<'c> fn(&'c ApplyContext<'c>, InboxEvent, Envelope) -> BoxFuture<'c, anyhow::Result<Outcome>>;

#[derive(Clone, Copy)]
enum Handler {
    Batched(BatchedFn),
    /// The lane's earlier writes are committed before it runs, so it sees them.
    Own(OwnFn),
}

macro_rules! batched {
    ($handler:path) => {
        Handler::Batched(|ctx, event| Box::pin($handler(ctx, event)))
    };
}

macro_rules! own {
    ($handler:path) => {
        Handler::Own(|ctx, event, envelope| Box::pin($handler(ctx, event, envelope)))
    };
}

/// Every event type the app acts on. Any other type is marked ignored.
/// Every event type the app handles: what its Stripe webhook endpoint must have enabled.
pub fn event_types() -> impl Iterator<Item = &'static str> {
    ROUTES.iter().map(|(event_type, _)| *event_type)
}

const ROUTES: &[(&str, Handler)] = &[
    ("customer.created", batched!(customer::changed)),
    ("customer.updated", batched!(customer::changed)),
    ("customer.deleted", batched!(customer::deleted)),
    ("payment_intent.succeeded", batched!(payment_intent::changed)),
    ("payment_intent.payment_failed", batched!(payment_intent::changed)),
    ("payment_intent.canceled", batched!(payment_intent::changed)),
    ("payment_intent.processing", batched!(payment_intent::changed)),
    ("payment_intent.requires_action", batched!(payment_intent::changed)),
    ("setup_intent.succeeded", own!(setup_intent::succeeded)),
    ("invoice.created", batched!(invoice::changed)),
    ("invoice.finalized", batched!(invoice::changed)),
    ("invoice.updated", batched!(invoice::changed)),
    ("invoice.paid", batched!(invoice::changed)),
    ("invoice.payment_succeeded", batched!(invoice::changed)),
    ("invoice.payment_failed", batched!(invoice::changed)),
    ("invoice.payment_action_required", batched!(invoice::changed)),
    ("invoice.voided", batched!(invoice::changed)),
    ("invoice.marked_uncollectible", batched!(invoice::changed)),
    ("invoice.upcoming", own!(invoice::upcoming)),
    ("customer.subscription.created", own!(subscription::changed)),
    ("customer.subscription.updated", own!(subscription::changed)),
    ("customer.subscription.deleted", own!(subscription::changed)),
    ("customer.subscription.paused", own!(subscription::changed)),
    ("customer.subscription.resumed", own!(subscription::changed)),
    ("customer.subscription.pending_update_applied", own!(subscription::changed)),
    ("customer.subscription.pending_update_expired", own!(subscription::changed)),
    ("customer.subscription.trial_will_end", own!(subscription::trial_will_end)),
    ("checkout.session.completed", own!(checkout_session::completed)),
    ("checkout.session.async_payment_succeeded", own!(checkout_session::completed)),
    ("checkout.session.async_payment_failed", own!(checkout_session::async_payment_failed)),
    ("checkout.session.expired", own!(checkout_session::expired)),
    ("charge.refunded", own!(charge::refunded)),
    ("charge.refund.updated", own!(charge::refund_updated)),
    ("charge.dispute.created", own!(dispute::created)),
    ("charge.dispute.updated", own!(dispute::changed)),
    ("charge.dispute.closed", own!(dispute::changed)),
    ("charge.dispute.funds_withdrawn", own!(dispute::changed)),
    ("charge.dispute.funds_reinstated", own!(dispute::changed)),
    ("radar.early_fraud_warning.created", own!(radar::early_fraud_warning)),
    ("radar.early_fraud_warning.updated", own!(radar::early_fraud_warning)),
    ("review.opened", own!(radar::review)),
    ("review.closed", own!(radar::review)),
    ("price.created", own!(catalog::price)),
    ("price.updated", own!(catalog::price)),
    ("price.deleted", own!(catalog::price)),
    ("product.created", own!(catalog::product)),
    ("product.updated", own!(catalog::product)),
    ("product.deleted", own!(catalog::product)),
    ("entitlements.active_entitlement_summary.updated", own!(entitlements::summary_updated)),
];

/// The events of connected accounts (`/webhooks/stripe/connect`) the app acts on: they are
/// about the creators' accounts and the marketplace's sales, never the platform's own billing,
/// so none of [`ROUTES`] applies to them.
const CONNECT_ROUTES: &[(&str, Handler)] = &[
    ("account.updated", own!(account::updated)),
    ("account.application.deauthorized", own!(account::deauthorized)),
    ("checkout.session.completed", own!(marketplace::completed)),
    ("checkout.session.async_payment_succeeded", own!(marketplace::completed)),
    ("payment_intent.succeeded", own!(marketplace::payment_succeeded)),
    ("charge.refunded", own!(marketplace::refunded)),
    ("charge.refund.updated", own!(marketplace::refund_updated)),
    ("charge.dispute.created", own!(marketplace::disputed)),
    ("charge.dispute.updated", own!(marketplace::disputed)),
    ("charge.dispute.closed", own!(marketplace::disputed)),
    ("payout.created", own!(payout::changed)),
    ("payout.updated", own!(payout::changed)),
    ("payout.paid", own!(payout::changed)),
    ("payout.failed", own!(payout::changed)),
    ("payout.canceled", own!(payout::changed)),
];

/// Every event type the Connect endpoint must have enabled.
pub fn connect_event_types() -> impl Iterator<Item = &'static str> {
    CONNECT_ROUTES.iter().map(|(event_type, _)| *event_type)
}

fn route(event: &InboxEvent) -> Option<Handler> {
    let routes = if event.account.is_some() { CONNECT_ROUTES } else { ROUTES };
    routes.iter().find(|(route, _)| *route == event.event_type).map(|(_, handler)| *handler)
}

/// Claims up to `limit` due events for `owner` and applies them (see `worker`): the handlers
/// re-fetch, and the committer writes their results in batches. Events of one object share one
/// re-fetch (`StripeClient::sharing_reads`): a renewal wave costs a call per changed object.
pub async fn apply_due(ctx: &ApplyContext<'_>, owner: &InstanceId, limit: i64) -> anyhow::Result<BatchReport> {
    let stripe = ctx.stripe.sharing_reads();
    let ctx = &ApplyContext { stripe: &stripe, ..*ctx };
    worker::run_batch_prepared(
        ctx.pool,
        owner,
        ctx.now,
        limit,
        ctx.retry,
        |event| !matches!(route(event), Some(Handler::Batched(_))),
        |event| prepare(ctx, event),
    )
    .await
}

/// Applies batches of `limit` until none is due, as an idle worker would (the set-up of benches
/// and tests); fails on the first batch with an event that did not apply. Returns how many
/// events were applied.
pub async fn apply_all_due(
    pool: &AnyPool,
    stripe: &StripeClient,
    app_url: &str,
    owner: &InstanceId,
    limit: i64,
) -> anyhow::Result<usize> {
    let mut applied = 0;
    loop {
        let ctx = ApplyContext {
            pool,
            stripe,
            app_url,
            now: crate::server::db::now(),
            retry: Default::default(),
            fraud_warning_auto_refund: false,
            dunning: Default::default(),
        };
        let batch = apply_due(&ctx, owner, limit).await?;
        anyhow::ensure!(batch.retrying + batch.dead == 0, "events failed: {batch:?}");
        if batch.total() == 0 {
            return Ok(applied);
        }
        applied += batch.total();
    }
}

/// Re-fetches the event's object; returns the writes left to make (batched types) or the outcome.
pub async fn prepare(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Prepared> {
    let object = event.object_id.clone().unwrap_or_default();
    // A connected account's object is read on that account (`Stripe-Account`).
    let account_client = event.account.as_deref().map(|account| ctx.stripe.on_account(account));
    let account_ctx = account_client.as_ref().map(|stripe| ApplyContext { stripe, ..*ctx });
    let ctx = account_ctx.as_ref().unwrap_or(ctx);
    let prepared = match route(&event) {
        Some(Handler::Batched(handler)) => handler(ctx, event).await,
        Some(Handler::Own(handler)) => apply_own(ctx, event, handler).await.map(Prepared::Done),
        None => apply_own(ctx, event, |_, _, _| Box::pin(async { Ok(Outcome::Ignored) })).await.map(Prepared::Done),
    };
    match prepared {
        // The object is gone (or was never in this account): retrying cannot help.
        Err(err) if is_not_found(&err) => Ok(Prepared::Done(Outcome::Skipped(format!("{object} not found in Stripe")))),
        other => other,
    }
}

/// Runs a handler that writes by itself. The stored payload must read as an event first, even
/// for a type that is ignored.
async fn apply_own(ctx: &ApplyContext<'_>, event: InboxEvent, handler: OwnFn) -> anyhow::Result<Outcome> {
    let envelope: Envelope = serde_json::from_str(&event.payload).context("stored payload is not an event")?;
    handler(ctx, event, envelope).await
}

/// The id of the object the event is about, typed as that object's id (the handler knows
/// which object its events carry); an error for an event that names none.
fn object_id<Id: for<'a> From<&'a str>>(event: &InboxEvent) -> anyhow::Result<Id> {
    event.object_id.as_deref().map(Id::from).with_context(|| format!("{} carries no object id", event.event_type))
}

fn account_url(ctx: &ApplyContext<'_>) -> String {
    AppUrl::new(ctx.app_url).join("/account")
}

fn pricing_url(ctx: &ApplyContext<'_>) -> String {
    AppUrl::new(ctx.app_url).join("/pricing")
}

/// The address to write to about a Stripe customer: the user's own email when the customer is
/// one of ours, else the one Stripe has.
async fn customer_email<'c, E>(executor: E, customer_id: &str, fallback: Option<&str>) -> anyhow::Result<Option<String>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE stripe_customer_id = $1")
        .bind(customer_id)
        .fetch_optional(executor)
        .await
        .context("finding the customer's user")?;
    Ok(email.or_else(|| fallback.map(str::to_string)))
}

async fn enqueue_alone(pool: &AnyPool, email: &Email, now: i64) -> anyhow::Result<()> {
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    emails::enqueue(&mut tx, email, now).await?;
    tx.commit().await.context("committing the email")?;
    Ok(())
}
