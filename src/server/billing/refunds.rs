//! Refunds as Stripe last reported them. A charge event re-lists the charge's refunds; a fully
//! refunded charge revokes what its payment granted, in the same transaction. Issuing one (the
//! admin's refund form) is Stripe first, then the audit row; the refund row arrives with the webhook.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_core::charge::RetrieveCharge;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_core::refund::{CreateRefund, CreateRefundReason, ListRefund};
use stripe_shared::{Charge, ChargeId, PaymentIntentId, Refund};

use super::entitlements;
use crate::domain::money::{Currency, Money};
use crate::server::admin::audit::{self, Actor, Record};
use crate::server::http::outcome::FormError;
use crate::server::stripe::client::StripeClient;
use crate::server::stripe::idempotency::check_form_token;
use crate::server::{db, state::AppState};
use crate::views::admin::payments::REFUND_REASONS;

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
    charge_id: &ChargeId,
    now: i64,
) -> anyhow::Result<ChargeRefunds> {
    let charge = stripe
        .send(&RetrieveCharge::new(charge_id), None)
        .await
        .with_context(|| format!("retrieving charge {charge_id}"))?;
    sync_refunds_of(pool, stripe, &charge, now).await
}

/// As [`sync_charge`], for a charge just read from Stripe.
pub async fn sync_refunds_of(
    pool: &AnyPool,
    stripe: &StripeClient,
    charge: &Charge,
    now: i64,
) -> anyhow::Result<ChargeRefunds> {
    let charge_id = &charge.id;
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
    tell_the_customer(&mut tx, charge, &rows, now).await?;
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

/// A refund that went through is mailed to the charge's customer, once per refund.
async fn tell_the_customer(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    charge: &Charge,
    rows: &[RefundRow],
    now: i64,
) -> anyhow::Result<()> {
    let Some(customer) = charge.customer.as_ref().map(|c| c.id().as_str().to_owned()) else { return Ok(()) };
    let to: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE stripe_customer_id = $1")
        .bind(&customer)
        .fetch_optional(&mut **tx)
        .await
        .context("finding the refunded customer's user")?;
    let Some(to) = to else { return Ok(()) };
    for row in rows.iter().filter(|row| row.status == "succeeded") {
        let email =
            super::emails::refund_issued(&to, &row.id, (row.amount, &row.currency), charge.receipt_url.as_deref());
        super::emails::enqueue(tx, &email, now).await?;
    }
    Ok(())
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

// --- Issuing ---

/// Refunds what is left of a charge, as `fraudulent` (which also tells Radar). `key` is the
/// Stripe idempotency key: a caller retried with the same key gets the same refund back.
pub async fn refund_rest_as_fraud(stripe: &StripeClient, charge: &ChargeId, key: &str) -> anyhow::Result<Refund> {
    let create = CreateRefund::new().charge(charge).reason(CreateRefundReason::Fraudulent);
    stripe.send(&create, Some(key)).await.with_context(|| format!("refunding charge {charge}"))
}

// The admin's refund form.

/// A reason from the refund form, as Stripe takes it.
pub fn refund_reason(reason: &str) -> Result<CreateRefundReason, FormError> {
    match reason {
        "requested_by_customer" => Ok(CreateRefundReason::RequestedByCustomer),
        "duplicate" => Ok(CreateRefundReason::Duplicate),
        "fraudulent" => Ok(CreateRefundReason::Fraudulent),
        _ => {
            let known: Vec<&str> = REFUND_REASONS.iter().map(|(code, _)| *code).collect();
            Err(FormError::Refused(format!("Choose a reason: {}.", known.join(", "))))
        }
    }
}

/// The marketplace order a payment paid for, if any.
async fn marketplace_order(state: &AppState, payment_intent_id: &PaymentIntentId) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM orders WHERE payment_intent_id = $1")
        .bind(payment_intent_id.as_str())
        .fetch_optional(state.db.pool())
        .await
        .context("looking for the payment's marketplace order")
}

/// What Stripe says is paid and still refundable on a PaymentIntent's charge.
pub struct Refundable {
    pub charge_id: String,
    pub paid: i64,
    pub left: i64,
    pub currency: Currency,
    pub customer: Option<String>,
}

/// `stripe` is bound to the account the payment lives on (a direct marketplace charge lives on the
/// creator's).
pub async fn refundable(stripe: &StripeClient, payment_intent_id: &PaymentIntentId) -> Result<Refundable, FormError> {
    if !payment_intent_id.starts_with("pi_") {
        return Err(FormError::Refused("That is not a payment.".into()));
    }
    let intent = stripe
        .send(&RetrievePaymentIntent::new(payment_intent_id), None)
        .await
        .map_err(|_| FormError::Refused("No such payment.".into()))?;
    let charge_id = intent
        .latest_charge
        .as_ref()
        .map(|c| c.id().as_str().to_string())
        .ok_or_else(|| FormError::Refused("This payment has no charge to refund.".into()))?;
    let charge = stripe.send(&RetrieveCharge::new(charge_id.as_str()), None).await.context("retrieving the charge")?;
    if !charge.paid {
        return Err(FormError::Refused("This payment did not succeed: there is nothing to refund.".into()));
    }
    let currency = Currency::parse(&charge.currency.to_string()).context("the charge's currency")?;
    Ok(Refundable {
        charge_id,
        paid: charge.amount,
        left: charge.amount - charge.amount_refunded,
        currency,
        customer: charge.customer.as_ref().map(|c| c.id().as_str().to_string()),
    })
}

/// Issues a refund: checks the amount against what is left, calls Stripe with an idempotency
/// key from the form's token (a double submit is one refund), and audits it.
pub async fn issue(
    state: &AppState,
    actor: &Actor,
    payment_intent_id: &PaymentIntentId,
    amount: &str,
    reason: &str,
    token: &str,
) -> Result<String, FormError> {
    let reason_code = refund_reason(reason)?;
    check_form_token(token)?;
    if let Some(order) = marketplace_order(state, payment_intent_id).await? {
        return Err(FormError::Refused(format!(
            "This payment is marketplace order {order}: refund it from /admin/orders/{order}, where the \
             creator's share and the platform fee are settled too."
        )));
    }
    let r = refundable(&state.stripe_client, payment_intent_id).await?;
    let wanted = Money::parse_major(amount, r.currency).map_err(|e| FormError::Refused(format!("Amount: {e}.")))?;
    let key = format!("admin-refund-{token}");
    let done = format!("Refund of {wanted} requested. It is listed below once Stripe confirms it.");
    if audit::request_done(state.db.pool(), &key).await? {
        // Submitted twice: the first submit refunded (and what is left has shrunk since).
        return Ok(done);
    }
    if wanted.minor() <= 0 || wanted.minor() > r.left {
        return Err(FormError::Refused(format!(
            "Refund between {} and {}.",
            Money::new(1, r.currency),
            Money::new(r.left, r.currency)
        )));
    }
    let create = CreateRefund::new()
        .payment_intent(payment_intent_id)
        .amount(wanted.minor())
        .reason(reason_code)
        .metadata(std::collections::HashMap::from([("refunded_by".to_string(), actor.email.clone())]));
    let refund = state.stripe_client.send(&create, Some(&key)).await.context("creating the refund")?;
    let now = db::now();
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    let before = format!("refunded {} of {}", Money::new(r.paid - r.left, r.currency), Money::new(r.paid, r.currency));
    let after = format!("refund {} of {} ({reason}), charge {}", refund.id.as_str(), wanted, r.charge_id);
    let record = Record {
        action: "refund",
        subject_type: "payment",
        subject_id: payment_intent_id,
        customer_id: r.customer.as_deref(),
        before: Some(&before),
        after: Some(&after),
    };
    audit::write_once(&mut tx, actor, record, &key, now).await?;
    tx.commit().await.context("committing the audit row")?;
    Ok(done)
}
