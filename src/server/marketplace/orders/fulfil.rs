//! A paid marketplace Checkout becomes a paid order and a library entry, exactly once, from
//! whichever comes first: `checkout.session.completed` (on the platform endpoint for a
//! destination charge, on the Connect endpoint for a direct one) or the buyer's return to
//! `/library?session_id=…`. Both re-read the session from Stripe.

use anyhow::Context;
use stripe_shared::{CheckoutSession, CheckoutSessionId, CheckoutSessionPaymentStatus, CheckoutSessionStatus};

use super::{by_session, Order};
use crate::server::admin::audit::{self, Actor};
use crate::server::stripe::client::StripeClient;
use crate::server::{db, db::users::User, state::AppState};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderFulfilled {
    /// This call marked the order paid and granted the product.
    Paid,
    /// It was paid already (another confirmation came first): nothing done.
    AlreadyPaid,
    /// Not complete or not paid yet.
    NotReady,
}

/// Marks the order of `session` paid and grants the product, once.
pub async fn fulfil(
    pool: &sqlx::AnyPool,
    session: &CheckoutSession,
    order: &Order,
    now: i64,
) -> anyhow::Result<OrderFulfilled> {
    let paid = session.status == Some(CheckoutSessionStatus::Complete)
        && session.payment_status == CheckoutSessionPaymentStatus::Paid;
    if !paid {
        return Ok(OrderFulfilled::NotReady);
    }
    let payment_intent = session.payment_intent.as_ref().map(|pi| pi.id().as_str().to_owned());
    let mut tx = db::begin_write(pool).await.context("starting a transaction")?;
    let moved = sqlx::query(
        "UPDATE orders SET status = 'paid', payment_intent_id = $1, paid_at = $2, updated_at = $2 \
         WHERE id = $3 AND status = 'pending'",
    )
    .bind(payment_intent.as_deref())
    .bind(now)
    .bind(order.id)
    .execute(&mut *tx)
    .await
    .context("marking the order paid")?;
    if moved.rows_affected() == 0 {
        return Ok(OrderFulfilled::AlreadyPaid);
    }
    sqlx::query(
        "INSERT INTO library (order_id, buyer_id, product_id, granted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order.id)
    .bind(order.buyer_id)
    .bind(order.product_id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .context("granting the product")?;
    let after = serde_json::json!({
        "status": "paid", "amount": order.amount, "fee": order.fee, "currency": order.currency,
        "account": order.account_id, "payment_intent": payment_intent,
    })
    .to_string();
    let record = audit::Record {
        action: "marketplace.order_paid",
        subject_type: "order",
        subject_id: &order.id.to_string(),
        customer_id: None,
        before: Some(r#"{"status":"pending"}"#),
        after: Some(&after),
    };
    audit::write(&mut tx, &Actor::stripe(), record, now).await?;
    tx.commit().await.context("committing the paid order")?;
    Ok(OrderFulfilled::Paid)
}

/// The success page: the buyer's own session, re-read from Stripe (on the creator's account for
/// a direct charge), fulfilled if the webhook has not done it yet. Returns the notice to show.
pub async fn confirm(state: &AppState, user: &User, session_id: &str) -> anyhow::Result<String> {
    let Some(order) = by_session(state.db.pool(), session_id).await? else {
        return Ok("We could not find that purchase.".into());
    };
    if order.buyer_id != user.id {
        return Ok("This purchase belongs to another account.".into());
    }
    let stripe = match order.charge_type.as_str() {
        "direct" => state.stripe_client.on_account(&order.account_id),
        _ => state.stripe_client.clone(),
    };
    let session = retrieve(&stripe, session_id).await?;
    Ok(match fulfil(state.db.pool(), &session, &order, db::now()).await? {
        OrderFulfilled::Paid | OrderFulfilled::AlreadyPaid => "Thank you: your purchase is in your library.".into(),
        OrderFulfilled::NotReady => "Your payment is being processed: the product appears here once it is paid.".into(),
    })
}

/// The id of the paid order that payment `payment_intent` (on the account `stripe` acts on) paid
/// for; `None` when it is no marketplace order's. A refund or a dispute can be applied before
/// the purchase's `checkout.session.completed`: the order is then fulfilled here first, from its
/// Checkout Session, so that it moves from `paid` like any other.
pub async fn paid_order_of_payment(
    pool: &sqlx::AnyPool,
    stripe: &StripeClient,
    payment_intent: &str,
    now: i64,
) -> anyhow::Result<Option<i64>> {
    let known: Option<i64> = sqlx::query_scalar("SELECT id FROM orders WHERE payment_intent_id = $1")
        .bind(payment_intent)
        .fetch_optional(pool)
        .await
        .context("reading the order of a payment")?;
    if known.is_some() {
        return Ok(known);
    }
    let list = stripe_checkout::checkout_session::ListCheckoutSession::new().payment_intent(payment_intent).limit(1);
    let sessions = stripe.send(&list, None).await.context("finding the payment's Checkout Session")?;
    let Some(session) = sessions.data.into_iter().next() else { return Ok(None) };
    let Some(order) = by_session(pool, session.id.as_str()).await? else { return Ok(None) };
    Ok(match fulfil(pool, &session, &order, now).await? {
        OrderFulfilled::Paid | OrderFulfilled::AlreadyPaid => Some(order.id),
        OrderFulfilled::NotReady => None,
    })
}

/// Whether `charge` (read with `stripe`) can be a marketplace sale's: one on a creator's account,
/// or one with the platform's fee or a transfer. Others never need the Checkout lookup.
pub fn may_be_a_sale(stripe: &StripeClient, charge: &stripe_shared::Charge) -> bool {
    stripe.account().is_some() || charge.application_fee_amount.is_some() || charge.transfer_data.is_some()
}

pub async fn retrieve(stripe: &StripeClient, session_id: &str) -> anyhow::Result<CheckoutSession> {
    let retrieve = stripe_checkout::checkout_session::RetrieveCheckoutSession::new(CheckoutSessionId::from(session_id));
    stripe.send(&retrieve, None).await.context("reading the Checkout Session")
}
