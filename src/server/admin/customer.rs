//! One customer as the admin sees it: the local user, subscriptions, and a merged timeline of
//! webhook events, invoices, payments (with Radar's risk), emails and audit rows (newest first).

use anyhow::Context;
use sqlx::AnyPool;
use stripe_shared::CustomerId;

use crate::{
    domain::money::{Currency, Money},
    views::admin::customer::{dashboard_url, CustomerView, TimelineItem, TimelineKind},
};

use super::{audit, payments, subscriptions};
use crate::views::admin::payments::PaymentLine;

/// Rows per source on the timeline: a busy customer's page stays small.
const PER_SOURCE: i64 = 100;

/// `None` when neither a user nor any subscription or invoice knows this customer id.
pub async fn view(pool: &AnyPool, id: &CustomerId, live: bool) -> anyhow::Result<Option<CustomerView>> {
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE stripe_customer_id = $1")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .context("reading the customer's user")?;
    let subscriptions = subscriptions::of_customer(pool, id).await?;

    let invoices = invoices(pool, id, live).await?;
    if email.is_none() && subscriptions.is_empty() && invoices.is_empty() {
        return Ok(None);
    }
    // Events about the customer, its subscriptions or its invoices.
    let mut objects: Vec<String> = vec![id.to_string()];
    objects.extend(subscriptions.iter().map(|s| s.id.clone()));
    objects.extend(invoices.iter().map(|(invoice_id, _)| invoice_id.clone()));
    let mut timeline: Vec<TimelineItem> = invoices.into_iter().map(|(_, item)| item).collect();
    let payments = payments::of_customer(pool, id.as_str(), PER_SOURCE).await?;
    timeline.extend(payments.into_iter().map(|payment| payment_item(payment, live)));
    timeline.extend(events(pool, &objects, live).await?);
    if let Some(email) = &email {
        timeline.extend(emails(pool, email).await?);
    }
    for entry in audit::for_customer(pool, id).await? {
        timeline.push(TimelineItem {
            at: entry.created_at,
            kind: TimelineKind::Audit,
            title: format!("{} {}", entry.action, entry.subject_id),
            detail: format!(
                "by {} from {}: {} → {}",
                entry.actor_email,
                entry.ip.unwrap_or_default(),
                entry.before.unwrap_or_default(),
                entry.after.unwrap_or_default()
            ),
            stripe_url: None,
        });
    }
    timeline.sort_by_key(|item| std::cmp::Reverse(item.at));
    Ok(Some(CustomerView {
        id: id.to_string(),
        email,
        stripe_url: dashboard_url(live, &format!("customers/{id}")),
        subscriptions,
        controls: None,
        timeline,
    }))
}

/// A payment on the timeline: its status, Radar's verdict and Stripe's explanation, and the
/// issuer's early fraud warning if one came.
fn payment_item(payment: PaymentLine, live: bool) -> TimelineItem {
    let mut detail = vec![payment.status];
    detail.extend(payment.risk.map(|risk| format!("Radar: {risk}")));
    detail.extend(payment.seller_message);
    detail.extend(payment.fraud_warning.map(|fraud_type| format!("early fraud warning ({fraud_type})")));
    TimelineItem {
        at: payment.created,
        kind: TimelineKind::Payment,
        title: format!("Payment {} of {}", payment.id, payment.amount),
        detail: detail.join(" · "),
        stripe_url: Some(dashboard_url(live, &format!("payments/{}", payment.id))),
    }
}

#[derive(sqlx::FromRow)]
struct InvoiceRow {
    id: String,
    status: String,
    amount_due: i64,
    amount_paid: i64,
    currency: String,
    attempt_count: i64,
    created: i64,
}

impl InvoiceRow {
    /// (invoice id, its timeline item).
    fn into_item(self, live: bool) -> anyhow::Result<(String, TimelineItem)> {
        let currency = Currency::parse(&self.currency)?;
        let item = TimelineItem {
            at: self.created,
            kind: TimelineKind::Invoice,
            title: format!("Invoice {}", self.id),
            detail: format!(
                "{}: {} due, {} paid, {} attempts",
                self.status,
                Money::new(self.amount_due, currency),
                Money::new(self.amount_paid, currency),
                self.attempt_count
            ),
            stripe_url: Some(dashboard_url(live, &format!("invoices/{}", self.id))),
        };
        Ok((self.id, item))
    }
}

/// (invoice id, its timeline item), newest first.
async fn invoices(pool: &AnyPool, customer: &str, live: bool) -> anyhow::Result<Vec<(String, TimelineItem)>> {
    sqlx::query_as::<_, InvoiceRow>(
        "SELECT id, status, amount_due, amount_paid, currency, attempt_count, created FROM invoices \
         WHERE customer_id = $1 ORDER BY created DESC LIMIT $2",
    )
    .bind(customer)
    .bind(PER_SOURCE)
    .fetch_all(pool)
    .await
    .context("reading the customer's invoices")?
    .into_iter()
    .map(|row| row.into_item(live))
    .collect()
}

#[derive(sqlx::FromRow)]
struct WebhookEventRow {
    id: String,
    event_type: String,
    status: String,
    received_at: i64,
}

impl WebhookEventRow {
    fn into_item(self, live: bool) -> TimelineItem {
        TimelineItem {
            at: self.received_at,
            kind: TimelineKind::Event,
            title: self.event_type,
            detail: format!("{} ({})", self.id, self.status),
            stripe_url: Some(dashboard_url(live, &format!("events/{}", self.id))),
        }
    }
}

async fn events(pool: &AnyPool, objects: &[String], live: bool) -> anyhow::Result<Vec<TimelineItem>> {
    let placeholders: Vec<String> = (1..=objects.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, event_type, status, received_at FROM webhook_events WHERE object_id IN ({}) \
         ORDER BY received_at DESC LIMIT {PER_SOURCE}",
        placeholders.join(", ")
    );
    let mut query = sqlx::query_as::<_, WebhookEventRow>(&sql);
    for object in objects {
        query = query.bind(object);
    }
    let rows = query.fetch_all(pool).await.context("reading the customer's events")?;
    Ok(rows.into_iter().map(|row| row.into_item(live)).collect())
}

#[derive(sqlx::FromRow)]
struct EmailRow {
    subject: String,
    kind: String,
    status: String,
    created_at: i64,
}

impl From<EmailRow> for TimelineItem {
    fn from(row: EmailRow) -> Self {
        TimelineItem {
            at: row.created_at,
            kind: TimelineKind::Email,
            title: row.subject,
            detail: format!("{} ({})", row.kind, row.status),
            stripe_url: None,
        }
    }
}

async fn emails(pool: &AnyPool, address: &str) -> anyhow::Result<Vec<TimelineItem>> {
    let rows = sqlx::query_as::<_, EmailRow>(
        "SELECT subject, kind, status, created_at FROM emails WHERE to_address = $1 \
         ORDER BY created_at DESC LIMIT $2",
    )
    .bind(address)
    .bind(PER_SOURCE)
    .fetch_all(pool)
    .await
    .context("reading the customer's emails")?;
    Ok(rows.into_iter().map(TimelineItem::from).collect())
}
