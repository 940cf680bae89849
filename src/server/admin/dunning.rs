//! Past-due subscriptions and the admin's "retry now": pays the open invoice with the card the
//! customer has now (`POST /v1/invoices/{id}/pay`), once per form (the token is the Stripe
//! idempotency key and the audit row's request key), audited as `invoice.retry`.

use anyhow::Context;
use stripe_billing::invoice::{PayInvoice, RetrieveInvoice};
use stripe_shared::{CustomerId, InvoiceId, InvoiceStatus, SubscriptionId};

use super::audit::Actor;
use super::plan_change::{already_done, prepare};
use crate::domain::subscription::SubscriptionStatus;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::state::AppState;
use crate::server::stripe::client::api_error;
use crate::server::stripe::idempotency::new_form_token;
use crate::views::admin::dunning::{DunningItem, DunningList};
use crate::views::format::money;

#[derive(sqlx::FromRow)]
struct Row {
    customer_id: String,
    email: Option<String>,
    subscription_id: String,
    invoice_id: String,
    attempt_count: i64,
    next_payment_attempt: Option<i64>,
    amount_remaining: i64,
    currency: String,
    emails_sent: i64,
}

/// Past-due subscriptions with an open invoice, the oldest trouble first.
pub async fn past_due(state: &AppState) -> anyhow::Result<DunningList> {
    // An invoice's emails name it in their cause key (`payment_urgent:in_…`, …).
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT s.customer_id, u.email, s.id AS subscription_id, i.id AS invoice_id, i.attempt_count, \
           i.next_payment_attempt, i.amount_remaining, i.currency, \
           (SELECT COUNT(*) FROM emails e WHERE e.cause_key LIKE '%:' || i.id || '%') AS emails_sent \
         FROM subscriptions s JOIN invoices i ON i.subscription_id = s.id AND i.status = 'open' \
         LEFT JOIN users u ON u.stripe_customer_id = s.customer_id \
         WHERE s.status = 'past_due' ORDER BY i.created, i.id LIMIT 500",
    )
    .fetch_all(state.db.pool())
    .await
    .context("reading past-due subscriptions")?;
    let items = rows
        .into_iter()
        .map(|row| DunningItem {
            customer_id: row.customer_id,
            email: row.email,
            subscription_id: row.subscription_id,
            invoice_id: row.invoice_id,
            attempts: row.attempt_count,
            next_attempt: row.next_payment_attempt,
            amount_due: row.amount_remaining,
            currency: row.currency,
            emails_sent: row.emails_sent,
        })
        .collect();
    Ok(DunningList { items, token: new_form_token() })
}

/// Pays the subscription's open invoice `invoice_id` now; refused when there is nothing to
/// retry (paid, voided, another subscription's) or the card is declined again.
pub async fn retry_now(
    state: &AppState,
    actor: &Actor,
    (customer_id, subscription_id): (&CustomerId, &SubscriptionId),
    invoice_id: &InvoiceId,
    token: &str,
) -> Result<Next, FormError> {
    let Some(prepared) = prepare(state, customer_id, subscription_id, "invoice-retry", token).await? else {
        return Ok(already_done());
    };
    let invoice = match state.stripe_client.send(&RetrieveInvoice::new(invoice_id), None).await {
        Ok(invoice) => invoice,
        Err(err) if matches!(api_error(&err), Some((404, _))) => {
            return Err(refused("Nothing to retry: Stripe has no such invoice."));
        }
        Err(err) => return Err(anyhow::Error::from(err).context(format!("retrieving invoice {invoice_id}")).into()),
    };
    let of_subscription = invoice
        .parent
        .as_ref()
        .and_then(|p| p.subscription_details.as_ref())
        .is_some_and(|d| d.subscription.id() == subscription_id);
    if invoice.status != Some(InvoiceStatus::Open) || !of_subscription {
        return Err(refused(
            "Nothing to retry: this subscription has no open invoice by that number (paid or voided meanwhile?).",
        ));
    }
    if prepared.sub.status != SubscriptionStatus::PastDue {
        return Err(refused("Nothing to retry: the subscription is not past due."));
    }
    let owed = money(invoice.amount_remaining, &invoice.currency.to_string());
    match state.stripe_client.send(&PayInvoice::new(invoice_id.clone()), Some(&prepared.key)).await {
        Ok(_) => {}
        Err(err) => match api_error(&err) {
            Some((402, _)) => return Err(refused(format!("The card was declined again: {owed} is still due."))),
            _ => return Err(FormError::from(anyhow::Error::from(err).context(format!("paying invoice {invoice_id}")))),
        },
    }
    prepared.record(state, actor, customer_id, subscription_id, "invoice.retry").await?;
    Ok(Next::Back(format!("Paid: {owed} collected on {invoice_id}.")))
}
