//! One customer as the admin sees it: the local user, subscriptions, and a merged timeline of
//! webhook events, invoices, emails and audit rows (newest first).

use anyhow::Context;
use sqlx::{AnyPool, Row};

use crate::{
    domain::money::{Currency, Money},
    views::admin::customer::{dashboard_url, CustomerView, TimelineItem, TimelineKind},
};

use super::{
    audit,
    subscriptions::{line, LINE_COLUMNS},
};

/// Rows per source on the timeline: a busy customer's page stays small.
const PER_SOURCE: i64 = 100;

/// `None` when neither a user nor any subscription or invoice knows this customer id.
pub async fn view(pool: &AnyPool, id: &str, live: bool) -> anyhow::Result<Option<CustomerView>> {
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE stripe_customer_id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("reading the customer's user")?;
    let sql = format!(
        "SELECT {LINE_COLUMNS} FROM subscriptions s LEFT JOIN users u ON u.stripe_customer_id = s.customer_id \
         WHERE s.customer_id = $1 ORDER BY s.created DESC"
    );
    let subscriptions = sqlx::query(&sql)
        .bind(id)
        .fetch_all(pool)
        .await
        .context("reading the customer's subscriptions")?
        .into_iter()
        .map(line)
        .collect::<anyhow::Result<Vec<_>>>()?;

    let invoices = invoices(pool, id, live).await?;
    if email.is_none() && subscriptions.is_empty() && invoices.is_empty() {
        return Ok(None);
    }
    // Events about the customer, its subscriptions or its invoices.
    let mut objects: Vec<String> = vec![id.to_owned()];
    objects.extend(subscriptions.iter().map(|s| s.id.clone()));
    objects.extend(invoices.iter().map(|(invoice_id, _)| invoice_id.clone()));
    let mut timeline: Vec<TimelineItem> = invoices.into_iter().map(|(_, item)| item).collect();
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
        id: id.to_owned(),
        email,
        stripe_url: dashboard_url(live, &format!("customers/{id}")),
        subscriptions,
        controls: None,
        timeline,
    }))
}

/// (invoice id, its timeline item), newest first.
async fn invoices(pool: &AnyPool, customer: &str, live: bool) -> anyhow::Result<Vec<(String, TimelineItem)>> {
    let rows = sqlx::query(
        "SELECT id, status, amount_due, amount_paid, currency, attempt_count, created FROM invoices \
         WHERE customer_id = $1 ORDER BY created DESC LIMIT $2",
    )
    .bind(customer)
    .bind(PER_SOURCE)
    .fetch_all(pool)
    .await
    .context("reading the customer's invoices")?;
    rows.into_iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let currency = Currency::parse(&row.try_get::<String, _>("currency")?)?;
            let status: String = row.try_get("status")?;
            let item = TimelineItem {
                at: row.try_get("created")?,
                kind: TimelineKind::Invoice,
                title: format!("Invoice {id}"),
                detail: format!(
                    "{status}: {} due, {} paid, {} attempts",
                    Money::new(row.try_get("amount_due")?, currency),
                    Money::new(row.try_get("amount_paid")?, currency),
                    row.try_get::<i64, _>("attempt_count")?
                ),
                stripe_url: Some(dashboard_url(live, &format!("invoices/{id}"))),
            };
            Ok((id, item))
        })
        .collect()
}

async fn events(pool: &AnyPool, objects: &[String], live: bool) -> anyhow::Result<Vec<TimelineItem>> {
    let placeholders: Vec<String> = (1..=objects.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, event_type, status, received_at FROM webhook_events WHERE object_id IN ({}) \
         ORDER BY received_at DESC LIMIT {PER_SOURCE}",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for object in objects {
        query = query.bind(object);
    }
    let rows = query.fetch_all(pool).await.context("reading the customer's events")?;
    rows.into_iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            Ok(TimelineItem {
                at: row.try_get("received_at")?,
                kind: TimelineKind::Event,
                title: row.try_get("event_type")?,
                detail: format!("{id} ({})", row.try_get::<String, _>("status")?),
                stripe_url: Some(dashboard_url(live, &format!("events/{id}"))),
            })
        })
        .collect()
}

async fn emails(pool: &AnyPool, address: &str) -> anyhow::Result<Vec<TimelineItem>> {
    let rows = sqlx::query(
        "SELECT subject, kind, status, created_at FROM emails WHERE to_address = $1 \
         ORDER BY created_at DESC LIMIT $2",
    )
    .bind(address)
    .bind(PER_SOURCE)
    .fetch_all(pool)
    .await
    .context("reading the customer's emails")?;
    rows.into_iter()
        .map(|row| {
            Ok(TimelineItem {
                at: row.try_get("created_at")?,
                kind: TimelineKind::Email,
                title: row.try_get("subject")?,
                detail: format!("{} ({})", row.try_get::<String, _>("kind")?, row.try_get::<String, _>("status")?),
                stripe_url: None,
            })
        })
        .collect()
}
