//! Disputes as Stripe last reported them. A new dispute alerts every admin once (the evidence
//! deadline is short), under a cause key per dispute and admin.

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_core::dispute::RetrieveDispute;
use stripe_shared::{Dispute, DisputeId};

use super::emails;
use crate::server::stripe::client::StripeClient;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeRow {
    pub id: String,
    pub charge_id: String,
    pub payment_intent_id: Option<String>,
    pub customer_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub reason: String,
    pub status: String,
    pub evidence_due_by: Option<i64>,
    pub created: i64,
}

impl DisputeRow {
    pub fn from_stripe(dispute: &Dispute) -> Self {
        let customer_id = match &dispute.charge {
            stripe_types::Expandable::Object(charge) => charge.customer.as_ref().map(|c| c.id().as_str().to_string()),
            stripe_types::Expandable::Id(_) => None,
        };
        Self {
            id: dispute.id.as_str().to_string(),
            charge_id: dispute.charge.id().as_str().to_string(),
            payment_intent_id: dispute.payment_intent.as_ref().map(|p| p.id().as_str().to_string()),
            customer_id,
            amount: dispute.amount,
            currency: dispute.currency.to_string(),
            reason: dispute.reason.clone(),
            status: dispute.status.as_str().to_string(),
            evidence_due_by: dispute.evidence_details.due_by,
            created: dispute.created,
        }
    }
}

/// Re-fetches the dispute (with its charge, for the customer) and stores it; on `alert`, queues
/// one email per admin. Returns how many alerts this call queued.
pub async fn sync(
    pool: &AnyPool,
    stripe: &StripeClient,
    dispute_id: &DisputeId,
    alert: bool,
    admin_url: &str,
    now: i64,
) -> anyhow::Result<usize> {
    let dispute = stripe
        .send(&RetrieveDispute::new(dispute_id).expand(vec!["charge".to_string()]), None)
        .await
        .with_context(|| format!("retrieving dispute {dispute_id}"))?;
    let row = DisputeRow::from_stripe(&dispute);
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    upsert(&mut tx, &row, now).await?;
    let mut queued = 0;
    if alert {
        let admins = crate::server::db::users::admin_emails(&mut tx).await?;
        for to in admins {
            let email = emails::dispute_alert(
                &to,
                &row.id,
                row.amount,
                &row.currency,
                &row.reason,
                row.evidence_due_by,
                admin_url,
            );
            if emails::enqueue(&mut tx, &email, now).await? {
                queued += 1;
            }
        }
    }
    tx.commit().await.context("committing the dispute")?;
    Ok(queued)
}

/// Writes the dispute row (no alert: [`sync`] decides that).
pub async fn upsert(tx: &mut Transaction<'_, Any>, row: &DisputeRow, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO disputes (id, charge_id, payment_intent_id, customer_id, amount, currency, \
           reason, status, evidence_due_by, created, synced_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, reason = excluded.reason, \
           status = excluded.status, evidence_due_by = excluded.evidence_due_by, \
           customer_id = COALESCE(excluded.customer_id, disputes.customer_id), \
           synced_at = excluded.synced_at",
    )
    .bind(&row.id)
    .bind(&row.charge_id)
    .bind(row.payment_intent_id.as_deref())
    .bind(row.customer_id.as_deref())
    .bind(row.amount)
    .bind(&row.currency)
    .bind(&row.reason)
    .bind(&row.status)
    .bind(row.evidence_due_by)
    .bind(row.created)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("storing dispute {}", row.id))?;
    Ok(())
}
