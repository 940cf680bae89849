//! Payment attempts (PaymentIntents) as Stripe last reported them: what the admin's
//! failed-payments view lists, with Radar's outcome of the latest charge. Rewritten from a fresh
//! retrieve on every payment_intent event.

use anyhow::Context;
use sqlx::{Any, Transaction};
use stripe_shared::{Charge, PaymentIntent};
use stripe_types::Expandable;

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
    /// `None` when the PaymentIntent was read without its latest charge (a list): the stored
    /// outcome is kept.
    pub radar: Option<RadarOutcome>,
}

/// Stripe Radar's outcome of a charge, as the admin reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RadarOutcome {
    pub risk_level: Option<String>,
    pub risk_score: Option<i64>,
    /// `authorized`, `manual_review`, `blocked`, `issuer_declined`…
    pub outcome_type: String,
    pub seller_message: Option<String>,
}

impl RadarOutcome {
    pub fn of_charge(charge: &Charge) -> Option<Self> {
        let outcome = charge.outcome.as_ref()?;
        Some(Self {
            risk_level: outcome.risk_level.clone(),
            risk_score: outcome.risk_score,
            outcome_type: outcome.type_.clone(),
            seller_message: outcome.seller_message.clone(),
        })
    }
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
            radar: match &pi.latest_charge {
                Some(Expandable::Object(charge)) => RadarOutcome::of_charge(charge),
                _ => None,
            },
        }
    }
}

/// Writes the payment, with the invoice it paid when that invoice was seen first. A row read
/// without its charge keeps the Radar outcome stored before.
pub async fn upsert(tx: &mut Transaction<'_, Any>, row: &PaymentRow, now: i64) -> anyhow::Result<()> {
    let radar = row.radar.as_ref();
    sqlx::query(
        "INSERT INTO payments (id, customer_id, amount, currency, status, failure_code, \
           failure_message, invoice_id, created, synced_at, risk_level, risk_score, outcome_type, \
           seller_message) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, \
           (SELECT invoice_id FROM invoice_payment_links WHERE payment_intent_id = $1), $8, $9, \
           $10, $11, $12, $13) \
         ON CONFLICT (id) DO UPDATE SET customer_id = excluded.customer_id, \
           amount = excluded.amount, status = excluded.status, \
           failure_code = excluded.failure_code, failure_message = excluded.failure_message, \
           synced_at = excluded.synced_at, \
           risk_level = COALESCE(excluded.risk_level, payments.risk_level), \
           risk_score = COALESCE(excluded.risk_score, payments.risk_score), \
           outcome_type = COALESCE(excluded.outcome_type, payments.outcome_type), \
           seller_message = COALESCE(excluded.seller_message, payments.seller_message)",
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
    .bind(radar.and_then(|r| r.risk_level.as_deref()))
    .bind(radar.and_then(|r| r.risk_score))
    .bind(radar.map(|r| r.outcome_type.as_str()))
    .bind(radar.and_then(|r| r.seller_message.as_deref()))
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
            radar: None,
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
    async fn a_row_read_without_its_charge_keeps_the_radar_outcome() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let elevated = RadarOutcome {
            risk_level: Some("elevated".into()),
            risk_score: Some(67),
            outcome_type: "manual_review".into(),
            seller_message: Some("Placed in review.".into()),
        };
        let mut tx = pool.begin().await.unwrap();
        upsert(&mut tx, &PaymentRow { radar: Some(elevated), ..row("succeeded") }, 1).await.unwrap();
        upsert(&mut tx, &row("succeeded"), 2).await.unwrap();
        tx.commit().await.unwrap();
        let (level, score, kind): (Option<String>, Option<i64>, Option<String>) =
            sqlx::query_as("SELECT risk_level, risk_score, outcome_type FROM payments WHERE id = 'pi_1'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!((level.as_deref(), score, kind.as_deref()), (Some("elevated"), Some(67), Some("manual_review")));
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
