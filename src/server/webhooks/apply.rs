//! What each Stripe event means for the local tables. Every handler re-fetches the object from
//! Stripe (the event's copy may be stale by the time it is applied) and writes idempotently:
//! rows are upserts, side effects (emails, MRR movements) carry unique cause keys.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_billing::invoice::RetrieveInvoice;

use stripe_core::payment_intent::RetrievePaymentIntent;

use super::inbox::Envelope;
use super::worker::{self, BatchReport, InboxEvent, Outcome, Prepared, Tx};
use crate::server::billing::emails::{self, Email};
use crate::server::billing::entitlements::SessionGrant;
use crate::server::billing::fulfil::{self, Fulfilled};
use crate::server::billing::invoices::{self, InvoiceRow};
use crate::server::billing::payments::{self, PaymentRow};
use crate::server::billing::{catalog_events, customers, disputes, refunds};
use crate::server::stripe::client::{api_error, StripeClient};

pub struct ApplyContext<'a> {
    pub pool: &'a AnyPool,
    pub stripe: &'a StripeClient,
    /// The app's public URL, for links in emails.
    pub app_url: &'a str,
    pub now: i64,
    /// How failed events are retried before they are dead-lettered.
    pub retry: worker::RetryPolicy,
}

/// Applies up to `limit` due events (see `worker`): the handlers below re-fetch, and the
/// committer writes their results in batches.
pub async fn apply_due(ctx: &ApplyContext<'_>, limit: i64) -> anyhow::Result<BatchReport> {
    worker::run_batch_prepared(
        ctx.pool,
        ctx.now,
        limit,
        ctx.retry,
        |event| !deferred(&event.event_type),
        |event| prepare(ctx, event),
    )
    .await
}

/// Event types whose handler only re-fetches and leaves its writes to the batch transaction
/// (the others write in their own transactions, from `apply_event`).
fn deferred(event_type: &str) -> bool {
    matches!(
        event_type,
        "customer.created"
            | "customer.updated"
            | "customer.deleted"
            | "payment_intent.succeeded"
            | "payment_intent.payment_failed"
            | "payment_intent.canceled"
            | "payment_intent.processing"
            | "payment_intent.requires_action"
            | "invoice.created"
            | "invoice.finalized"
            | "invoice.updated"
            | "invoice.paid"
            | "invoice.payment_succeeded"
            | "invoice.payment_failed"
            | "invoice.payment_action_required"
            | "invoice.voided"
            | "invoice.marked_uncollectible"
    )
}

/// Re-fetches the event's object; returns the writes left to make (deferred types) or the outcome.
pub async fn prepare(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Prepared> {
    let object = event.object_id.clone().unwrap_or_default();
    let prepared = if deferred(&event.event_type) {
        prepare_deferred(ctx, event).await
    } else {
        apply_event(ctx, event).await.map(Prepared::Done)
    };
    match prepared {
        // The object is gone (or was never in this account): retrying cannot help.
        Err(err) if is_not_found(&err) => Ok(Prepared::Done(Outcome::Skipped(format!("{object} not found in Stripe")))),
        other => other,
    }
}

async fn prepare_deferred(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Prepared> {
    let now = ctx.now;
    let id = event.object_id.clone().with_context(|| format!("{} carries no object id", event.event_type))?;
    let event_type = event.event_type.as_str();
    if event_type.starts_with("customer.") {
        let fetched = if event_type == "customer.deleted" {
            customers::Fetched::Deleted
        } else {
            customers::fetch(ctx.stripe, &id).await?
        };
        return Ok(Prepared::write(move |tx| {
            let (id, fetched) = (id.clone(), fetched.clone());
            Box::pin(async move {
                match customers::store_fetched(tx, &id, &fetched, now).await? {
                    customers::Synced::Stored { ours: false } | customers::Synced::Deleted { ours: false } => {
                        Ok(Outcome::Skipped(format!("customer {id} is not linked to a user (stored anyway)")))
                    }
                    _ => Ok(Outcome::Applied),
                }
            })
        }));
    }
    if event_type.starts_with("payment_intent.") {
        let pi = ctx
            .stripe
            .send(&RetrievePaymentIntent::new(id.as_str()), None)
            .await
            .with_context(|| format!("retrieving payment intent {id}"))?;
        let row = PaymentRow::from_stripe(&pi);
        return Ok(Prepared::write(move |tx| {
            let row = row.clone();
            Box::pin(async move {
                payments::upsert(tx, &row, now).await?;
                Ok(Outcome::Applied)
            })
        }));
    }
    let fetched = fetch_invoice(ctx, &id).await?;
    let (event_type, account_url) = (event.event_type.clone(), account_url(ctx));
    Ok(Prepared::write(move |tx| {
        let (fetched, event_type, account_url) = (fetched.clone(), event_type.clone(), account_url.clone());
        Box::pin(async move {
            write_invoice(tx, &fetched, &event_type, &account_url, now).await?;
            Ok(Outcome::Applied)
        })
    }))
}

fn is_not_found(err: &anyhow::Error) -> bool {
    err.downcast_ref::<stripe::StripeError>().and_then(api_error).is_some_and(|(status, _)| status == 404)
}

async fn apply_event(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Outcome> {
    let envelope: Envelope = serde_json::from_str(&event.payload).context("stored payload is not an event")?;
    let object_id = || event.object_id.as_deref().with_context(|| format!("{} carries no object id", event.event_type));
    match event.event_type.as_str() {
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.paused"
        | "customer.subscription.resumed"
        | "customer.subscription.pending_update_applied"
        | "customer.subscription.pending_update_expired" => {
            fulfil::sync_subscription(ctx.pool, ctx.stripe, object_id()?, &event.id, envelope.created, ctx.now).await?;
            Ok(Outcome::Applied)
        }
        "customer.subscription.trial_will_end" => {
            let id = object_id()?;
            fulfil::sync_subscription(ctx.pool, ctx.stripe, id, &event.id, envelope.created, ctx.now).await?;
            let row: Option<(String, Option<i64>)> =
                sqlx::query_as("SELECT customer_id, trial_end FROM subscriptions WHERE id = $1")
                    .bind(id)
                    .fetch_optional(ctx.pool)
                    .await
                    .context("reading the subscription")?;
            if let Some((customer_id, Some(trial_end))) = row {
                if let Some(to) = customer_email(ctx.pool, &customer_id, None).await? {
                    let email = emails::trial_ending(&to, id, trial_end, &account_url(ctx));
                    enqueue_alone(ctx.pool, &email, ctx.now).await?;
                }
            }
            Ok(Outcome::Applied)
        }
        "checkout.session.completed" | "checkout.session.async_payment_succeeded" => {
            let session = fulfil::retrieve_session(ctx.stripe, object_id()?).await?;
            match fulfil::fulfil_checkout_session(ctx.pool, ctx.stripe, &session, &event.id, ctx.now).await? {
                Fulfilled::Payment { grant: SessionGrant::Nothing(why), .. } => Ok(Outcome::Skipped(why)),
                Fulfilled::Payment { grant: SessionGrant::Unpaid, .. } => {
                    Ok(Outcome::Skipped("not paid yet: async_payment_succeeded will grant".into()))
                }
                _ => Ok(Outcome::Applied),
            }
        }
        "checkout.session.async_payment_failed" => {
            let session = fulfil::retrieve_session(ctx.stripe, object_id()?).await?;
            let customer = session.customer.as_ref().map(|c| c.id().as_str().to_string());
            let fallback = session.customer_details.as_ref().and_then(|d| d.email.clone());
            let Some(to) = customer_email(ctx.pool, customer.as_deref().unwrap_or(""), fallback.as_deref()).await?
            else {
                return Ok(Outcome::Skipped("no address to tell about the failed payment".into()));
            };
            let email = emails::checkout_payment_failed(&to, session.id.as_str(), &pricing_url(ctx));
            enqueue_alone(ctx.pool, &email, ctx.now).await?;
            Ok(Outcome::Applied)
        }
        // Nothing was paid, so nothing was granted; the PaymentIntent's own events record it.
        "checkout.session.expired" => Ok(Outcome::Skipped("session expired unpaid: nothing to grant".into())),
        "charge.refunded" | "charge.refund.updated" => {
            // charge.refund.updated carries the refund; its charge is what to re-read.
            let charge_id = match event.event_type.as_str() {
                "charge.refunded" => object_id()?.to_string(),
                _ => refund_charge(&event.payload)?,
            };
            refunds::sync_charge(ctx.pool, ctx.stripe, &charge_id, ctx.now).await?;
            Ok(Outcome::Applied)
        }
        "charge.dispute.created"
        | "charge.dispute.updated"
        | "charge.dispute.closed"
        | "charge.dispute.funds_withdrawn"
        | "charge.dispute.funds_reinstated" => {
            let alert = event.event_type == "charge.dispute.created";
            let admin_url = format!("{}/admin/disputes", ctx.app_url.trim_end_matches('/'));
            disputes::sync(ctx.pool, ctx.stripe, object_id()?, alert, &admin_url, ctx.now).await?;
            Ok(Outcome::Applied)
        }
        "price.created" | "price.updated" | "price.deleted" => {
            let drift = catalog_events::sync_price(ctx.pool, ctx.stripe, object_id()?, ctx.now).await?;
            Ok(drift_outcome(drift))
        }
        "product.created" | "product.updated" | "product.deleted" => {
            let drift = catalog_events::sync_product(ctx.pool, ctx.stripe, object_id()?, ctx.now).await?;
            Ok(drift_outcome(drift))
        }
        // Stripe's heads-up a few days before a renewal has no id and changes nothing: the
        // renewal itself arrives as invoice.created/finalized/paid.
        "invoice.upcoming" => Ok(Outcome::Skipped("invoice.upcoming: a preview, nothing to store".into())),
        _ => Ok(Outcome::Ignored),
    }
}

fn account_url(ctx: &ApplyContext<'_>) -> String {
    format!("{}/account", ctx.app_url.trim_end_matches('/'))
}

fn pricing_url(ctx: &ApplyContext<'_>) -> String {
    format!("{}/pricing", ctx.app_url.trim_end_matches('/'))
}

/// Applied, but drift from `catalog.toml` is worth a note on the event (the admin's event log).
fn drift_outcome(drift: Vec<String>) -> Outcome {
    if drift.is_empty() {
        Outcome::Applied
    } else {
        Outcome::Skipped(format!("stored; drift from catalog.toml: {}", drift.join("; ")))
    }
}

/// The charge a refund event's refund belongs to.
fn refund_charge(payload: &str) -> anyhow::Result<String> {
    let value: serde_json::Value = serde_json::from_str(payload).context("stored payload is not JSON")?;
    value["data"]["object"]["charge"].as_str().map(str::to_string).context("the refund names no charge")
}

/// An invoice as Stripe has it now, and the PaymentIntents that paid it.
#[derive(Clone)]
struct FetchedInvoice {
    row: InvoiceRow,
    paid_by: Vec<String>,
}

async fn fetch_invoice(ctx: &ApplyContext<'_>, invoice_id: &str) -> anyhow::Result<FetchedInvoice> {
    let invoice = ctx
        .stripe
        .send(&RetrieveInvoice::new(invoice_id), None)
        .await
        .with_context(|| format!("retrieving invoice {invoice_id}"))?;
    let row = InvoiceRow::from_stripe(&invoice)?;
    let paid_by: Vec<String> = invoice
        .payments
        .as_ref()
        .map(|list| {
            list.data
                .iter()
                .filter_map(|p| p.payment.payment_intent.as_ref().map(|pi| pi.id().as_str().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(FetchedInvoice { row, paid_by })
}

async fn write_invoice(
    tx: &mut Tx,
    fetched: &FetchedInvoice,
    event_type: &str,
    account_url: &str,
    now: i64,
) -> anyhow::Result<()> {
    let row = &fetched.row;
    let to = customer_email(&mut **tx, &row.customer_id, row.customer_email.as_deref()).await?;
    let email = to.and_then(|to| match event_type {
        "invoice.paid" if row.amount_paid > 0 => {
            Some(emails::receipt(&to, &row.id, row.amount_paid, &row.currency, row.hosted_invoice_url.as_deref()))
        }
        "invoice.payment_failed" => {
            Some(emails::payment_failed(&to, &row.id, row.attempt_count, row.amount_due, &row.currency, account_url))
        }
        "invoice.payment_action_required" => {
            row.hosted_invoice_url.as_deref().map(|url| emails::action_required(&to, &row.id, url))
        }
        _ => None,
    });
    invoices::upsert(tx, row, now).await?;
    payments::link_invoice(tx, &row.id, &fetched.paid_by).await?;
    if let Some(email) = &email {
        emails::enqueue(tx, email, now).await?;
    }
    Ok(())
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
