//! Radar's reviews (`review.opened`, `review.closed`) as Stripe last reported them: a payment
//! Radar held for a human look, and how that ended. Listed on `/admin/payments` when there are any.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_fraud::review::RetrieveReview;
use stripe_shared::{Review, ReviewId};

use crate::server::stripe::client::StripeClient;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub id: String,
    pub charge_id: Option<String>,
    pub payment_intent_id: Option<String>,
    pub open: bool,
    pub opened_reason: String,
    /// `rule` or `manual` while open; the closing reason (`approved`, `refunded`…) after.
    pub reason: String,
    pub closed_reason: Option<String>,
    pub created: i64,
}

impl ReviewRow {
    pub fn from_stripe(review: &Review) -> Self {
        Self {
            id: review.id.as_str().to_string(),
            charge_id: review.charge.as_ref().map(|c| c.id().as_str().to_string()),
            payment_intent_id: review.payment_intent.as_ref().map(|p| p.id().as_str().to_string()),
            open: review.open,
            opened_reason: review.opened_reason.as_str().to_string(),
            reason: review.reason.clone(),
            closed_reason: review.closed_reason.as_ref().map(|r| r.as_str().to_string()),
            created: review.created,
        }
    }
}

/// Re-reads the review and stores it.
pub async fn sync(pool: &AnyPool, stripe: &StripeClient, id: &ReviewId, now: i64) -> anyhow::Result<ReviewRow> {
    let review =
        stripe.send(&RetrieveReview::new(id), None).await.with_context(|| format!("retrieving review {id}"))?;
    let row = ReviewRow::from_stripe(&review);
    sqlx::query(
        "INSERT INTO reviews (id, charge_id, payment_intent_id, is_open, opened_reason, reason, closed_reason, \
           created, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (id) DO UPDATE SET is_open = excluded.is_open, reason = excluded.reason, \
           closed_reason = excluded.closed_reason, synced_at = excluded.synced_at",
    )
    .bind(&row.id)
    .bind(row.charge_id.as_deref())
    .bind(row.payment_intent_id.as_deref())
    .bind(row.open)
    .bind(&row.opened_reason)
    .bind(&row.reason)
    .bind(row.closed_reason.as_deref())
    .bind(row.created)
    .bind(now)
    .execute(pool)
    .await
    .with_context(|| format!("storing review {}", row.id))?;
    Ok(row)
}
