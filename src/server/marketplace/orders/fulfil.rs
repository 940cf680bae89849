//! A paid marketplace Checkout becomes a paid order and a library entry, exactly once, from
//! whichever comes first: `checkout.session.completed` (on the platform endpoint for a
//! destination charge, on the Connect endpoint for a direct one) or the buyer's return to
//! `/library?session_id=…`. Both re-read the session from Stripe. An order paid on the app's own
//! page (`pay_on_page.rs`) is fulfilled likewise from its PaymentIntent: `payment_intent.succeeded`
//! or the return to `/library?payment_intent=…`.

use anyhow::Context;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_shared::{
    CheckoutSession, CheckoutSessionId, CheckoutSessionPaymentStatus, CheckoutSessionStatus, PaymentIntent,
    PaymentIntentId, PaymentIntentStatus,
};

use super::{by_payment, Order, PaidThrough};
use crate::server::admin::audit::{self, Actor};
use crate::server::stripe::client::StripeClient;
use crate::server::{db, state::AppState};

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
    let fulfilled = mark_paid(&mut tx, order, payment_intent.as_deref(), now).await?;
    tx.commit().await.context("committing the paid order")?;
    Ok(fulfilled)
}

/// Marks the order paid on the app's own page by `intent` paid and grants the product, once, in
/// `tx` (the webhook worker's batch, or the return page's own transaction).
pub async fn fulfil_intent(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    intent: &PaymentIntent,
    now: i64,
) -> anyhow::Result<OrderFulfilled> {
    let Some(order) = by_payment(&mut **tx, PaidThrough::Intent(intent.id.as_str())).await? else {
        return Ok(OrderFulfilled::NotReady);
    };
    if intent.status != PaymentIntentStatus::Succeeded {
        return Ok(OrderFulfilled::NotReady);
    }
    mark_paid(tx, &order, Some(intent.id.as_str()), now).await
}

/// The one move from `pending` to `paid`: the order, its library entry and its audit row, or
/// nothing when another confirmation got there first.
async fn mark_paid(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order: &Order,
    payment_intent: Option<&str>,
    now: i64,
) -> anyhow::Result<OrderFulfilled> {
    let moved = sqlx::query(
        "UPDATE orders SET status = 'paid', payment_intent_id = $1, paid_at = $2, updated_at = $2 \
         WHERE id = $3 AND status = 'pending'",
    )
    .bind(payment_intent)
    .bind(now)
    .bind(order.id)
    .execute(&mut **tx)
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
    .execute(&mut **tx)
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
    audit::write(tx, &Actor::stripe(), record, now).await?;
    Ok(OrderFulfilled::Paid)
}

/// The success page: the buyer's own order's session, re-read from Stripe (on the creator's
/// account for a direct charge), fulfilled if the webhook has not done it yet. Returns the notice
/// to show.
pub async fn confirm(state: &AppState, order: &Order, session_id: &str) -> anyhow::Result<String> {
    let session = retrieve(&order.stripe(state), session_id).await?;
    Ok(match fulfil(state.db.pool(), &session, order, db::now()).await? {
        OrderFulfilled::Paid | OrderFulfilled::AlreadyPaid => PAID_WORDS.into(),
        OrderFulfilled::NotReady => "Your payment is being processed: the product appears here once it is paid.".into(),
    })
}

/// What the library says once the order is paid.
pub const PAID_WORDS: &str = "Thank you: your purchase is in your library.";

/// The id of the paid order that payment `payment_intent` (on the account `stripe` acts on) paid
/// for; `None` when it is no marketplace order's. A refund or a dispute can be applied before
/// the purchase's `checkout.session.completed` (or `payment_intent.succeeded`): the order is then
/// fulfilled here first, from its Checkout Session or PaymentIntent, so that it moves from `paid`
/// like any other.
pub async fn paid_order_of_payment(
    pool: &sqlx::AnyPool,
    stripe: &StripeClient,
    payment_intent: &str,
    now: i64,
) -> anyhow::Result<Option<i64>> {
    if let Some(order) = by_payment(pool, PaidThrough::Intent(payment_intent)).await? {
        if order.status != "pending" {
            return Ok(Some(order.id));
        }
        // Paid on the app's page, its success not applied yet: fulfilled first from the intent.
        let read = RetrievePaymentIntent::new(PaymentIntentId::from(payment_intent));
        let intent = stripe.send(&read, None).await.context("reading the order's payment")?;
        let mut tx = db::begin_write(pool).await.context("starting a transaction")?;
        let fulfilled = fulfil_intent(&mut tx, &intent, now).await?;
        tx.commit().await.context("committing the paid order")?;
        return Ok((fulfilled != OrderFulfilled::NotReady).then_some(order.id));
    }
    let list = stripe_checkout::checkout_session::ListCheckoutSession::new().payment_intent(payment_intent).limit(1);
    let sessions = stripe.send(&list, None).await.context("finding the payment's Checkout Session")?;
    let Some(session) = sessions.data.into_iter().next() else { return Ok(None) };
    let Some(order) = by_payment(pool, PaidThrough::Checkout(session.id.as_str())).await? else { return Ok(None) };
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
