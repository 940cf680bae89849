//! What each Stripe event means for the local tables. Every handler re-fetches the object from
//! Stripe (the event's copy may be stale by the time it is applied) and writes idempotently:
//! rows are upserts, side effects (emails, MRR movements) carry unique cause keys.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_billing::invoice::RetrieveInvoice;

use super::inbox::Envelope;
use super::worker::{InboxEvent, Outcome};
use crate::server::billing::emails::{self, Email};
use crate::server::billing::fulfil;
use crate::server::billing::invoices::{self, InvoiceRow};
use crate::server::stripe::client::StripeClient;

pub struct ApplyContext<'a> {
    pub pool: &'a AnyPool,
    pub stripe: &'a StripeClient,
    /// The app's public URL, for links in emails.
    pub app_url: &'a str,
    pub now: i64,
}

pub async fn apply(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Outcome> {
    let envelope: Envelope =
        serde_json::from_str(&event.payload).context("stored payload is not an event")?;
    let object_id = || {
        event.object_id.as_deref().with_context(|| format!("{} carries no object id", event.event_type))
    };
    match event.event_type.as_str() {
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.paused"
        | "customer.subscription.resumed"
        | "customer.subscription.pending_update_applied"
        | "customer.subscription.pending_update_expired" => {
            fulfil::sync_subscription(ctx.pool, ctx.stripe, object_id()?, &event.id, envelope.created, ctx.now)
                .await?;
            Ok(Outcome::Applied)
        }
        "customer.subscription.trial_will_end" => {
            let id = object_id()?;
            fulfil::sync_subscription(ctx.pool, ctx.stripe, id, &event.id, envelope.created, ctx.now).await?;
            let row: Option<(String, Option<i64>)> = sqlx::query_as(
                "SELECT customer_id, trial_end FROM subscriptions WHERE id = $1",
            )
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
            fulfil::fulfil_checkout_session(ctx.pool, ctx.stripe, &session, &event.id, ctx.now).await?;
            Ok(Outcome::Applied)
        }
        "invoice.created"
        | "invoice.finalized"
        | "invoice.updated"
        | "invoice.paid"
        | "invoice.payment_succeeded"
        | "invoice.payment_failed"
        | "invoice.payment_action_required"
        | "invoice.voided"
        | "invoice.marked_uncollectible" => {
            apply_invoice(ctx, &event.event_type, object_id()?).await?;
            Ok(Outcome::Applied)
        }
        _ => Ok(Outcome::Ignored),
    }
}

fn account_url(ctx: &ApplyContext<'_>) -> String {
    format!("{}/account", ctx.app_url.trim_end_matches('/'))
}

async fn apply_invoice(ctx: &ApplyContext<'_>, event_type: &str, invoice_id: &str) -> anyhow::Result<()> {
    let invoice = ctx
        .stripe
        .send(&RetrieveInvoice::new(invoice_id), None)
        .await
        .with_context(|| format!("retrieving invoice {invoice_id}"))?;
    let row = InvoiceRow::from_stripe(&invoice)?;
    let to = customer_email(ctx.pool, &row.customer_id, row.customer_email.as_deref()).await?;
    let email = to.and_then(|to| match event_type {
        "invoice.paid" if row.amount_paid > 0 => Some(emails::receipt(
            &to,
            &row.id,
            row.amount_paid,
            &row.currency,
            row.hosted_invoice_url.as_deref(),
        )),
        "invoice.payment_failed" => Some(emails::payment_failed(
            &to,
            &row.id,
            row.attempt_count,
            row.amount_due,
            &row.currency,
            &account_url(ctx),
        )),
        "invoice.payment_action_required" => row
            .hosted_invoice_url
            .as_deref()
            .map(|url| emails::action_required(&to, &row.id, url)),
        _ => None,
    });
    let mut tx = crate::server::db::begin_write(ctx.pool).await.context("starting a transaction")?;
    invoices::upsert(&mut tx, &row, ctx.now).await?;
    if let Some(email) = &email {
        emails::enqueue(&mut tx, email, ctx.now).await?;
    }
    tx.commit().await.context("committing the invoice")?;
    Ok(())
}

/// The address to write to about a Stripe customer: the user's own email when the customer is
/// one of ours, else the one Stripe has.
async fn customer_email(pool: &AnyPool, customer_id: &str, fallback: Option<&str>) -> anyhow::Result<Option<String>> {
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE stripe_customer_id = $1")
        .bind(customer_id)
        .fetch_optional(pool)
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
