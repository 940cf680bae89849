//! Early fraud warnings: a card issuer's word that a charge may be fraud, often weeks before the
//! dispute. Each warning is stored (it flags its payment), alerts every admin once, is audited
//! once, and with `FRAUD_WARNING_AUTO_REFUND` refunds what is left of its charge once, while a
//! refund can still head the dispute off. Every delivery of `radar.early_fraud_warning.*` re-reads
//! the warning and does the same: the cause keys, the audit key and Stripe's idempotency key
//! make the repeats no-ops.

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_fraud::radar_early_fraud_warning::RetrieveRadarEarlyFraudWarning;
use stripe_fraud::{RadarEarlyFraudWarning, RadarEarlyFraudWarningId};
use stripe_shared::Charge;
use stripe_types::Expandable;

use super::{emails, refunds};
use crate::server::admin::audit::{self, Actor, Record};
use crate::server::stripe::client::StripeClient;
use crate::views::format::money;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningRow {
    pub id: String,
    pub charge_id: String,
    pub payment_intent_id: Option<String>,
    pub customer_id: Option<String>,
    pub fraud_type: String,
    /// Neither refunded in full nor disputed yet.
    pub actionable: bool,
    pub created: i64,
}

impl WarningRow {
    pub fn from_stripe(warning: &RadarEarlyFraudWarning, charge: &Charge) -> Self {
        Self {
            id: warning.id.as_str().to_string(),
            charge_id: charge.id.as_str().to_string(),
            payment_intent_id: warning.payment_intent.as_ref().map(|p| p.id().as_str().to_string()),
            customer_id: charge.customer.as_ref().map(|c| c.id().as_str().to_string()),
            fraud_type: warning.fraud_type.clone(),
            actionable: warning.actionable,
            created: warning.created,
        }
    }
}

/// What was done about the charge: refunded now, or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Refunded(String),
    /// `FRAUD_WARNING_AUTO_REFUND` is off.
    LeftToTheAdmin,
    /// Refunded in full or disputed already: a refund can no longer help.
    Settled,
}

impl Response {
    fn sentence(&self, amount: &str) -> String {
        match self {
            Self::Refunded(refund) => format!("tollgate refunded what was left of it ({amount}, refund {refund})."),
            Self::LeftToTheAdmin => {
                "It was not refunded (FRAUD_WARNING_AUTO_REFUND is off): refunding it now may avoid the dispute."
                    .to_string()
            }
            Self::Settled => "It is already refunded in full or disputed.".to_string(),
        }
    }
}

/// Re-reads the warning with its charge and acts on it (see the module). `admin_url` is where
/// the alert points.
pub async fn sync(
    pool: &AnyPool,
    stripe: &StripeClient,
    id: &RadarEarlyFraudWarningId,
    auto_refund: bool,
    admin_url: &str,
    now: i64,
) -> anyhow::Result<Response> {
    let warning = stripe
        .send(&RetrieveRadarEarlyFraudWarning::new(id).expand(vec!["charge".to_string()]), None)
        .await
        .with_context(|| format!("retrieving early fraud warning {id}"))?;
    let Expandable::Object(charge) = &warning.charge else {
        anyhow::bail!("early fraud warning {id}: its charge was not expanded");
    };
    let row = WarningRow::from_stripe(&warning, charge);
    let response = if !warning.actionable || charge.refunded || charge.disputed {
        Response::Settled
    } else if auto_refund {
        // One refund per warning, however often this runs: the key is the warning's.
        let key = format!("fraud-warning-refund-{}", row.id);
        let refund = refunds::refund_rest_as_fraud(stripe, &charge.id, &key).await?;
        Response::Refunded(refund.id.as_str().to_string())
    } else {
        Response::LeftToTheAdmin
    };
    let amount = money(charge.amount - charge.amount_refunded, &charge.currency.to_string());
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    upsert(&mut tx, &row, now).await?;
    let said = response.sentence(&amount);
    for to in crate::server::db::users::admin_emails(&mut tx).await? {
        let email = emails::fraud_warning_alert(
            &to,
            &row.id,
            (charge.amount, &charge.currency.to_string()),
            &row.fraud_type,
            &said,
            admin_url,
        );
        emails::enqueue(&mut tx, &email, now).await?;
    }
    let after = format!("early fraud warning {} ({}) on charge {}: {said}", row.id, row.fraud_type, row.charge_id);
    let record = Record {
        action: "fraud_warning",
        subject_type: "payment",
        subject_id: row.payment_intent_id.as_deref().unwrap_or(&row.charge_id),
        customer_id: row.customer_id.as_deref(),
        before: None,
        after: Some(&after),
    };
    audit::write_once(&mut tx, &Actor::stripe(), record, &format!("fraud-warning-{}", row.id), now).await?;
    tx.commit().await.context("committing the early fraud warning")?;
    Ok(response)
}

/// Writes the warning row; a later read updates whether it is still actionable.
pub async fn upsert(tx: &mut Transaction<'_, Any>, row: &WarningRow, now: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO early_fraud_warnings (id, charge_id, payment_intent_id, customer_id, fraud_type, \
           actionable, created, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET actionable = excluded.actionable, fraud_type = excluded.fraud_type, \
           synced_at = excluded.synced_at",
    )
    .bind(&row.id)
    .bind(&row.charge_id)
    .bind(row.payment_intent_id.as_deref())
    .bind(row.customer_id.as_deref())
    .bind(&row.fraud_type)
    .bind(row.actionable)
    .bind(row.created)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("storing early fraud warning {}", row.id))?;
    Ok(())
}
