//! Refunds as Stripe last reported them. A charge event re-lists the charge's refunds; a fully
//! refunded charge revokes what its payment granted, in the same transaction.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_core::charge::RetrieveCharge;
use stripe_core::refund::ListRefund;
use stripe_shared::Refund;

use super::entitlements;
use crate::server::stripe::client::StripeClient;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRow {
    pub id: String,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub status: String,
    pub created: i64,
}

impl RefundRow {
    pub fn from_stripe(refund: &Refund) -> Self {
        Self {
            id: refund.id.as_str().to_string(),
            charge_id: refund.charge.as_ref().map(|c| c.id().as_str().to_string()),
            payment_intent_id: refund.payment_intent.as_ref().map(|p| p.id().as_str().to_string()),
            amount: refund.amount,
            currency: refund.currency.to_string(),
            reason: refund.reason.as_ref().map(|r| r.as_str().to_string()),
            status: refund.status.clone().unwrap_or_else(|| "pending".to_string()),
            created: refund.created,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChargeRefunds {
    pub refunds: usize,
    pub revoked: u64,
}

/// Re-fetches the charge and its refunds and stores them.
pub async fn sync_charge(
    pool: &AnyPool,
    stripe: &StripeClient,
    charge_id: &str,
    now: i64,
) -> anyhow::Result<ChargeRefunds> {
    let charge = stripe
        .send(&RetrieveCharge::new(charge_id), None)
        .await
        .with_context(|| format!("retrieving charge {charge_id}"))?;
    let refunds = super::all_pages(
        |after| async move {
            let mut list = ListRefund::new().charge(charge_id).limit(100);
            if let Some(after) = after {
                list = list.starting_after(after);
            }
            stripe.send(&list, None).await.with_context(|| format!("listing refunds of {charge_id}"))
        },
        |r: &Refund| r.id.as_str().to_string(),
    )
    .await?;
    let rows: Vec<RefundRow> = refunds.iter().map(RefundRow::from_stripe).collect();
    let payment_intent = charge.payment_intent.as_ref().map(|p| p.id().as_str().to_string());
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    if let Some(pi) = &payment_intent {
        // A purchase of this payment granted at the same moment sees these refunds or is revoked here.
        crate::server::db::lock_key(&mut tx, &entitlements::payment_lock(pi)).await.context("locking the payment")?;
    }
    for row in &rows {
        upsert(&mut tx, row, now).await?;
    }
    let mut revoked = 0;
    // Only a full refund takes the purchase back; a partial one is a goodwill credit.
    if charge.refunded {
        if let Some(pi) = &payment_intent {
            revoked = entitlements::revoke_for_payment_intent(&mut tx, pi, "refunded", now).await?;
        }
    }
    tx.commit().await.context("committing the refunds")?;
    Ok(ChargeRefunds { refunds: rows.len(), revoked })
}

pub async fn upsert(tx: &mut sqlx::Transaction<'_, sqlx::Any>, row: &RefundRow, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO refunds (id, charge_id, payment_intent_id, amount, currency, reason, status, \
           created, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET amount = excluded.amount, reason = excluded.reason, \
           status = excluded.status, synced_at = excluded.synced_at",
    )
    .bind(&row.id)
    .bind(row.charge_id.as_deref())
    .bind(row.payment_intent_id.as_deref())
    .bind(row.amount)
    .bind(&row.currency)
    .bind(row.reason.as_deref())
    .bind(&row.status)
    .bind(row.created)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("storing refund {}", row.id))?;
    Ok(())
}
