//! The admin refunds a marketplace order. By default the refund settles the whole sale back:
//! the buyer gets the amount, the creator's share comes back from their account (the transfer
//! is reversed, destination charges) and the platform returns its fee to the creator. Stripe
//! first (idempotent on the form's token), then the audit row; the order's figures and the
//! buyer's access move when `charge.refunded` arrives (`sync_refunds`).

use anyhow::Context;
use stripe_core::refund::CreateRefund;
use stripe_shared::PaymentIntentId;

use crate::domain::marketplace::OrderStatus;
use crate::domain::money::Money;
use crate::server::admin::audit::{self, Actor, Record};
use crate::server::billing::refunds::{refund_reason, refundable};
use crate::server::http::outcome::{refused, FormError};
use crate::server::stripe::idempotency::check_form_token;
use crate::server::{db, state::AppState};

/// What the refund form asks.
pub struct RefundRequest<'a> {
    /// In major units, as typed (`12.50`).
    pub amount: &'a str,
    pub reason: &'a str,
    /// Take the creator's share back (destination charges only; a direct charge's refund is
    /// made from the creator's balance anyway).
    pub reverse_transfer: bool,
    /// Return the platform's fee to the creator.
    pub refund_application_fee: bool,
    pub token: &'a str,
}

#[derive(sqlx::FromRow)]
struct OrderToRefund {
    status: String,
    charge_type: String,
    account_id: String,
    payment_intent_id: Option<String>,
    refunded: i64,
}

/// Refunds order `order_id`; returns what to tell the admin.
pub async fn issue(
    state: &AppState,
    actor: &Actor,
    order_id: i64,
    request: RefundRequest<'_>,
) -> Result<String, FormError> {
    let reason = refund_reason(request.reason)?;
    check_form_token(request.token)?;
    let order: OrderToRefund =
        sqlx::query_as("SELECT status, charge_type, account_id, payment_intent_id, refunded FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_optional(state.db.pool())
            .await
            .context("reading the order")?
            .ok_or_else(|| refused("No such order."))?;
    let key = format!("order-refund-{}", request.token);
    if audit::request_done(state.db.pool(), &key).await? {
        // Submitted twice: the first submit refunded.
        return Ok("Refund requested. The order shows it once Stripe confirms it.".into());
    }
    refundable_status(&order.status)?;
    let payment_intent =
        PaymentIntentId::from(order.payment_intent_id.clone().context("a paid order has its payment")?);
    let direct = order.charge_type == "direct";
    let stripe = if direct { state.stripe_client.on_account(&order.account_id) } else { state.stripe_client.clone() };
    let left = refundable(&stripe, &payment_intent).await?;
    let wanted = Money::parse_major(request.amount, left.currency).map_err(|e| refused(format!("Amount: {e}.")))?;
    if wanted.minor() <= 0 || wanted.minor() > left.left {
        return Err(refused(format!(
            "Refund between {} and {}.",
            Money::new(1, left.currency),
            Money::new(left.left, left.currency)
        )));
    }
    let mut create = CreateRefund::new()
        .payment_intent(payment_intent.clone())
        .amount(wanted.minor())
        .reason(reason)
        .refund_application_fee(request.refund_application_fee)
        .metadata(std::collections::HashMap::from([
            ("tollgate_order".to_owned(), order_id.to_string()),
            ("refunded_by".to_owned(), actor.email.clone()),
        ]));
    if !direct {
        create = create.reverse_transfer(request.reverse_transfer);
    }
    let refund = stripe.send(&create, Some(&key)).await.context("creating the refund")?;

    let before = serde_json::json!({ "status": order.status, "refunded": order.refunded }).to_string();
    let after = serde_json::json!({
        "refund": refund.id.as_str(), "amount": wanted.minor(), "currency": left.currency.as_str(),
        "reason": request.reason, "reverse_transfer": !direct && request.reverse_transfer,
        "refund_application_fee": request.refund_application_fee,
    })
    .to_string();
    let subject = order_id.to_string();
    let record = Record {
        action: "marketplace.refund",
        subject_type: "order",
        subject_id: &subject,
        customer_id: None,
        before: Some(&before),
        after: Some(&after),
    };
    let now = db::now();
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    audit::write_once(&mut tx, actor, record, &key, now).await?;
    tx.commit().await.context("committing the audit row")?;
    Ok(format!("Refund of {wanted} requested. The order shows it once Stripe confirms it."))
}

/// Only a paid order, not refunded in full and not under dispute, can be refunded.
fn refundable_status(status: &str) -> Result<(), FormError> {
    match OrderStatus::parse(status) {
        Some(OrderStatus::Paid | OrderStatus::PartiallyRefunded) => Ok(()),
        Some(OrderStatus::Pending) => Err(refused("This order was never paid: there is nothing to refund.")),
        Some(OrderStatus::Refunded) => Err(refused("This order is refunded in full already.")),
        Some(OrderStatus::Disputed) => Err(refused(
            "This order is disputed: Stripe refuses refunds while a dispute is open. Respond to the dispute instead.",
        )),
        None => Err(refused("This order cannot be refunded.")),
    }
}
