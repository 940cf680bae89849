//! `invoice.*`: the invoice row, the payments that paid it, and the email some of the events
//! send (batched); `invoice.upcoming` is only a preview.

use anyhow::Context;
use stripe_billing::invoice::RetrieveInvoice;
use stripe_shared::InvoiceId;

use super::{account_url, customer_email, object_id, pricing_url, ApplyContext};
use crate::domain::dunning::{DunningPolicy, DunningStep};
use crate::server::billing::confirm_payment::confirm_path;
use crate::server::billing::emails;
use crate::server::billing::invoices::{self, FetchedInvoice};
use crate::server::http::app_url::AppUrl;
use crate::server::webhooks::inbox::{Envelope, InboxEvent};
use crate::server::webhooks::worker::{Outcome, Prepared, Tx};

/// Any change to an invoice: the invoice as Stripe has it now.
pub async fn changed(ctx: &ApplyContext<'_>, event: InboxEvent) -> anyhow::Result<Prepared> {
    let fetched = fetch(ctx, &object_id(&event)?).await?;
    let (event_type, account_url, now) = (event.event_type, account_url(ctx), ctx.now);
    let (pricing_url, dunning) = (pricing_url(ctx), ctx.dunning);
    // A payment waiting for 3-D Secure is confirmed on the app's own page.
    let confirm_url = fetched.paid_by.last().map(|pi| AppUrl::new(ctx.app_url).join(&confirm_path(pi)));
    Ok(Prepared::write(move |tx| {
        let (fetched, event_type, account_url) = (fetched.clone(), event_type.clone(), account_url.clone());
        let (confirm_url, pricing_url) = (confirm_url.clone(), pricing_url.clone());
        Box::pin(async move {
            let links = Links { account: &account_url, pricing: &pricing_url, confirm: confirm_url.as_deref() };
            write(tx, &fetched, &event_type, (links, dunning), now).await?;
            Ok(Outcome::Applied)
        })
    }))
}

/// Stripe's heads-up a few days before a renewal has no id and changes nothing: the renewal
/// itself arrives as invoice.created/finalized/paid.
pub async fn upcoming(_: &ApplyContext<'_>, _: InboxEvent, _: Envelope) -> anyhow::Result<Outcome> {
    Ok(Outcome::Skipped("invoice.upcoming: a preview, nothing to store".into()))
}

async fn fetch(ctx: &ApplyContext<'_>, invoice_id: &InvoiceId) -> anyhow::Result<FetchedInvoice> {
    let invoice = ctx
        .stripe
        // `payments` is includable: Stripe leaves it out unless asked for.
        .send(&RetrieveInvoice::new(invoice_id).expand(vec!["payments".to_string()]), None)
        .await
        .with_context(|| format!("retrieving invoice {invoice_id}"))?;
    FetchedInvoice::from_stripe(&invoice)
}

/// The app's pages an invoice's emails link to.
#[derive(Clone, Copy)]
struct Links<'a> {
    account: &'a str,
    pricing: &'a str,
    /// `/billing/confirm/…` of the invoice's payment, when Stripe named it.
    confirm: Option<&'a str>,
}

async fn write(
    tx: &mut Tx,
    fetched: &FetchedInvoice,
    event_type: &str,
    (links, dunning): (Links<'_>, DunningPolicy),
    now: i64,
) -> anyhow::Result<()> {
    let row = &fetched.row;
    let to = customer_email(&mut **tx, &row.customer_id, row.customer_email.as_deref()).await?;
    let email = to.and_then(|to| match event_type {
        "invoice.paid" if row.amount_paid > 0 => {
            Some(emails::receipt(&to, &row.id, row.amount_paid, &row.currency, row.hosted_invoice_url.as_deref()))
        }
        "invoice.payment_failed" if row.subscription_id.is_some() => dunning_email(&to, row, links, dunning),
        "invoice.payment_failed" => {
            Some(emails::payment_failed(&to, &row.id, row.attempt_count, row.amount_due, &row.currency, links.account))
        }
        "invoice.payment_action_required" => {
            links.confirm.or(row.hosted_invoice_url.as_deref()).map(|url| emails::action_required(&to, &row.id, url))
        }
        _ => None,
    });
    invoices::store(tx, fetched, now).await?;
    if let Some(email) = &email {
        emails::enqueue(tx, email, now).await?;
    }
    Ok(())
}

/// The dunning email a subscription invoice's failed attempt calls for (`domain::dunning`), if
/// any: each step once per invoice, dated by Stripe's `next_payment_attempt`.
fn dunning_email(
    to: &str,
    row: &invoices::InvoiceRow,
    links: Links<'_>,
    dunning: DunningPolicy,
) -> Option<emails::Email> {
    let (attempt, next) = (row.attempt_count, row.next_payment_attempt);
    let due = (row.amount_due, row.currency.as_str());
    Some(match dunning.step(attempt, next)? {
        DunningStep::FirstFailure => emails::payment_failed_retrying(to, (&row.id, attempt, next), due, links.account),
        DunningStep::Urgent => emails::payment_urgent(to, &row.id, next, due, links.account),
        DunningStep::FinalNotice { last_attempt_at } => {
            emails::payment_final_notice(to, (&row.id, attempt, last_attempt_at), due, dunning.end, links.account)
        }
        DunningStep::Outcome => {
            emails::dunning_outcome(to, (&row.id, attempt), due, dunning.end, (links.account, links.pricing))
        }
    })
}
