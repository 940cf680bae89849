//! Payment attempts (PaymentIntents) as Stripe last reported them: what the admin's
//! failed-payments view lists. Rewritten from a fresh retrieve on every payment_intent event.

use anyhow::Context;
use sqlx::{Any, Transaction};
use stripe_shared::PaymentIntent;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRow {
    pub id: String,
    pub customer_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created: i64,
}

impl PaymentRow {
    pub fn from_stripe(pi: &PaymentIntent) -> Self {
        let error = pi.last_payment_error.as_deref();
        // The decline code says more than the generic `card_declined`.
        let failure_code =
            error.and_then(|e| e.decline_code.clone().or_else(|| e.code.as_ref().map(|c| c.as_str().to_string())));
        Self {
            id: pi.id.as_str().to_string(),
            customer_id: pi.customer.as_ref().map(|c| c.id().as_str().to_string()),
            amount: pi.amount,
            currency: pi.currency.to_string(),
            status: pi.status.as_str().to_string(),
            failure_code,
            failure_message: error.and_then(|e| e.message.clone()),
            created: pi.created,
        }
    }
}

/// Writes the payment, with the invoice it paid when that invoice was seen first.
pub async fn upsert(tx: &mut Transaction<'_, Any>, row: &PaymentRow, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO payments (id, customer_id, amount, currency, status, failure_code, \
           failure_message, invoice_id, created, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, \
           (SELECT invoice_id FROM invoice_payment_links WHERE payment_intent_id = $1), $8, $9) \
         ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, \
           amount = excluded.amount, status = excluded.status, \
           failure_code = excluded.failure_code, failure_message = excluded.failure_message, \
           synced_at = excluded.synced_at",
    )
    .bind(&row.id)
    .bind(row.customer_id.as_deref())
    .bind(row.amount)
    .bind(&row.currency)
    .bind(&row.status)
    .bind(row.failure_code.as_deref())
    .bind(row.failure_message.as_deref())
    .bind(row.created)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("storing payment {}", row.id))?;
    Ok(())
}

/// Links payments to the invoice they paid (PaymentIntents no longer name their invoice; the
/// invoice lists its payments). A payment not stored yet gets the link when it is.
pub async fn link_invoice(
    tx: &mut Transaction<'_, Any>,
    invoice_id: &str,
    payment_intent_ids: &[String],
) -> anyhow::Result<()> {
    for pi in payment_intent_ids {
        sqlx::query(
            "INSERT INTO invoice_payment_links (payment_intent_id, invoice_id) VALUES ($1, $2) \
             ON CONFLICT (payment_intent_id) DO UPDATE SET invoice_id = excluded.invoice_id",
        )
        .bind(pi)
        .bind(invoice_id)
        .execute(&mut **tx)
        .await
        .with_context(|| format!("recording that {pi} paid {invoice_id}"))?;
        sqlx::query("UPDATE payments SET invoice_id = $1 WHERE id = $2")
            .bind(invoice_id)
            .bind(pi)
            .execute(&mut **tx)
            .await
            .with_context(|| format!("linking payment {pi} to invoice {invoice_id}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::test_db;

    fn row(status: &str) -> PaymentRow {
        PaymentRow {
            id: "pi_1".into(),
            customer_id: Some("cus_1".into()),
            amount: 2900,
            currency: "usd".into(),
            status: status.into(),
            failure_code: None,
            failure_message: None,
            created: 5,
        }
    }

    #[tokio::test]
    async fn upserts_keep_the_invoice_link_and_take_the_latest_status() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let mut tx = pool.begin().await.unwrap();
        upsert(&mut tx, &row("requires_payment_method"), 1).await.unwrap();
        link_invoice(&mut tx, "in_1", &["pi_1".to_string()]).await.unwrap();
        upsert(&mut tx, &row("succeeded"), 2).await.unwrap();
        tx.commit().await.unwrap();
        let (status, invoice): (String, Option<String>) =
            sqlx::query_as("SELECT status, invoice_id FROM payments WHERE id = 'pi_1'").fetch_one(&pool).await.unwrap();
        assert_eq!((status.as_str(), invoice.as_deref()), ("succeeded", Some("in_1")));
    }

    #[tokio::test]
    async fn an_invoice_seen_before_its_payment_still_links_it() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let mut tx = pool.begin().await.unwrap();
        link_invoice(&mut tx, "in_1", &["pi_1".to_string()]).await.unwrap();
        upsert(&mut tx, &row("succeeded"), 1).await.unwrap();
        tx.commit().await.unwrap();
        let invoice: Option<String> =
            sqlx::query_scalar("SELECT invoice_id FROM payments WHERE id = 'pi_1'").fetch_one(&pool).await.unwrap();
        assert_eq!(invoice.as_deref(), Some("in_1"));
    }
}
