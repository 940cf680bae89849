//! When a past-due subscription's payment trouble began: the past-due grace is measured from it.
//!
//! Read from Stripe's objects as they are now, never from an event's time, so a replayed or
//! reordered event (each sync re-fetches) always finds the same answer: the earliest open invoice
//! of the subscription that has been attempted. An invoice still open after an attempt failed on
//! every attempt, the first included; an automatically charged invoice is first attempted when it
//! is finalized (`status_transitions.finalized_at`), a sent one is due on its `due_date`.

use anyhow::Context;
use stripe_billing::invoice::ListInvoice;
use stripe_shared::{Invoice, InvoiceCollectionMethod, InvoiceStatus, SubscriptionId};

use crate::server::stripe::client::StripeClient;

/// The first failed payment's time, or `None` when no open invoice of the subscription has been
/// attempted (the caller keeps its estimate).
pub async fn first_failed_payment_at(
    stripe: &StripeClient,
    subscription_id: &SubscriptionId,
) -> anyhow::Result<Option<i64>> {
    // A subscription rarely has more than a couple of open invoices: one page is plenty.
    let open = stripe
        .send(&ListInvoice::new().subscription(subscription_id.as_str()).status(InvoiceStatus::Open).limit(100), None)
        .await
        .with_context(|| format!("listing the open invoices of {subscription_id}"))?;
    Ok(open.data.iter().filter_map(first_attempt_at).min())
}

/// When an open invoice's first payment attempt was made, if one was.
fn first_attempt_at(invoice: &Invoice) -> Option<i64> {
    if invoice.attempt_count == 0 && invoice.collection_method == InvoiceCollectionMethod::ChargeAutomatically {
        return None;
    }
    match invoice.collection_method {
        InvoiceCollectionMethod::SendInvoice => invoice.due_date,
        _ => invoice.status_transitions.finalized_at.or(Some(invoice.created)),
    }
}
