//! The local projection of Stripe invoices (what `/account` lists), rewritten from a fresh
//! retrieve on every invoice event.

use anyhow::Context;
use sqlx::{Any, Transaction};
use stripe_shared::{Invoice, InvoiceStatus};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceRow {
    pub id: String,
    pub customer_id: String,
    pub customer_email: Option<String>,
    pub subscription_id: Option<String>,
    pub number: Option<String>,
    pub status: String,
    pub amount_due: i64,
    pub amount_paid: i64,
    pub amount_remaining: i64,
    pub currency: String,
    pub attempt_count: i64,
    pub next_payment_attempt: Option<i64>,
    pub hosted_invoice_url: Option<String>,
    pub invoice_pdf: Option<String>,
    pub period_start: i64,
    pub period_end: i64,
    pub created: i64,
}

fn status_name(status: Option<&InvoiceStatus>) -> String {
    status.map(|s| s.as_str().to_string()).unwrap_or_else(|| "draft".to_string())
}

impl InvoiceRow {
    pub fn from_stripe(invoice: &Invoice) -> anyhow::Result<Self> {
        let id = invoice.id.as_ref().context("a stored invoice has an id")?.as_str().to_string();
        let customer_id = invoice
            .customer
            .as_ref()
            .with_context(|| format!("invoice {id} has no customer"))?
            .id()
            .as_str()
            .to_string();
        let subscription_id = invoice
            .parent
            .as_ref()
            .and_then(|p| p.subscription_details.as_ref())
            .map(|d| d.subscription.id().as_str().to_string());
        Ok(Self {
            id,
            customer_id,
            customer_email: invoice.customer_email.clone(),
            subscription_id,
            number: invoice.number.clone(),
            status: status_name(invoice.status.as_ref()),
            amount_due: invoice.amount_due,
            amount_paid: invoice.amount_paid,
            amount_remaining: invoice.amount_remaining,
            currency: invoice.currency.to_string(),
            attempt_count: i64::try_from(invoice.attempt_count).unwrap_or(i64::MAX),
            next_payment_attempt: invoice.next_payment_attempt,
            hosted_invoice_url: invoice.hosted_invoice_url.clone(),
            invoice_pdf: invoice.invoice_pdf.clone(),
            period_start: invoice.period_start,
            period_end: invoice.period_end,
            created: invoice.created,
        })
    }
}

pub async fn upsert(tx: &mut Transaction<'_, Any>, row: &InvoiceRow, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO invoices (id, customer_id, subscription_id, number, status, amount_due, \
           amount_paid, amount_remaining, currency, attempt_count, next_payment_attempt, \
           hosted_invoice_url, invoice_pdf, period_start, period_end, created, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (id) DO UPDATE SET subscription_id = excluded.subscription_id, \
           number = excluded.number, status = excluded.status, amount_due = excluded.amount_due, \
           amount_paid = excluded.amount_paid, amount_remaining = excluded.amount_remaining, \
           attempt_count = excluded.attempt_count, \
           next_payment_attempt = excluded.next_payment_attempt, \
           hosted_invoice_url = excluded.hosted_invoice_url, invoice_pdf = excluded.invoice_pdf, \
           synced_at = excluded.synced_at",
    )
    .bind(&row.id)
    .bind(&row.customer_id)
    .bind(row.subscription_id.as_deref())
    .bind(row.number.as_deref())
    .bind(&row.status)
    .bind(row.amount_due)
    .bind(row.amount_paid)
    .bind(row.amount_remaining)
    .bind(&row.currency)
    .bind(row.attempt_count)
    .bind(row.next_payment_attempt)
    .bind(row.hosted_invoice_url.as_deref())
    .bind(row.invoice_pdf.as_deref())
    .bind(row.period_start)
    .bind(row.period_end)
    .bind(row.created)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("storing invoice {}", row.id))?;
    Ok(())
}

/// An invoice as Stripe has it now (retrieved or listed with `payments` expanded: Stripe leaves
/// that includable field out unless asked for), and the PaymentIntents that paid it.
#[derive(Debug, Clone)]
pub struct FetchedInvoice {
    pub row: InvoiceRow,
    pub paid_by: Vec<String>,
}

impl FetchedInvoice {
    pub fn from_stripe(invoice: &Invoice) -> anyhow::Result<Self> {
        let paid_by = invoice
            .payments
            .as_ref()
            .map(|list| {
                list.data
                    .iter()
                    .filter_map(|p| p.payment.payment_intent.as_ref().map(|pi| pi.id().as_str().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self { row: InvoiceRow::from_stripe(invoice)?, paid_by })
    }
}

/// Writes the invoice row and links the payments that paid it.
pub async fn store(tx: &mut Transaction<'_, Any>, fetched: &FetchedInvoice, now: i64) -> anyhow::Result<()> {
    upsert(tx, &fetched.row, now).await?;
    super::payments::link_invoice(tx, &fetched.row.id, &fetched.paid_by).await
}
