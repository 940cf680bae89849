//! `/admin/orders/:id`: one marketplace order as the app knows it (the figures Stripe settled,
//! from `charge.refunded`), its audit history, and the refund form when it can be refunded.

use anyhow::Context;

use crate::domain::marketplace::OrderStatus;
use crate::domain::money::{Currency, Money};
use crate::server::admin::audit;
use crate::server::http::outcome::{refused, FormError};
use crate::server::stripe::idempotency::new_form_token;
use crate::views::admin::order::{OrderRefundForm, OrderView};

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: i64,
    product: String,
    buyer: String,
    creator: String,
    account_id: String,
    charge_type: String,
    status: String,
    amount: i64,
    fee: i64,
    refunded: i64,
    fee_refunded: i64,
    transfer_reversed: i64,
    currency: String,
    payment_intent_id: Option<String>,
    paid_at: Option<i64>,
    access: i64,
}

pub async fn order(pool: &sqlx::AnyPool, id: i64) -> Result<OrderView, FormError> {
    let row: OrderRow = sqlx::query_as(
        "SELECT o.id, p.title AS product, b.email AS buyer, c.email AS creator, o.account_id, o.charge_type, \
           o.status, o.amount, o.fee, o.refunded, o.fee_refunded, o.transfer_reversed, o.currency, \
           o.payment_intent_id, o.paid_at, \
           (SELECT COUNT(*) FROM library l WHERE l.order_id = o.id AND l.revoked_at IS NULL) AS access \
         FROM orders o JOIN products p ON p.id = o.product_id JOIN users b ON b.id = o.buyer_id \
           JOIN users c ON c.id = o.creator_id WHERE o.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
    .context("reading the order")?
    .ok_or_else(|| refused("No such order."))?;
    let currency = Currency::parse(&row.currency).context("the order's currency")?;
    let money = |minor| Money::new(minor, currency).to_string();
    let refundable =
        matches!(OrderStatus::parse(&row.status), Some(OrderStatus::Paid | OrderStatus::PartiallyRefunded));
    let refund = refundable.then(|| OrderRefundForm {
        left_input: Money::new(row.amount - row.refunded, currency).major_digits(),
        currency: currency.as_str().to_uppercase(),
        can_reverse_transfer: row.charge_type == "destination",
        token: new_form_token(),
    });
    Ok(OrderView {
        id: row.id,
        product: row.product,
        buyer: row.buyer,
        creator: row.creator,
        account_id: row.account_id,
        charge_type: row.charge_type,
        status: row.status,
        amount: money(row.amount),
        fee: money(row.fee),
        refunded: money(row.refunded),
        fee_refunded: money(row.fee_refunded),
        transfer_reversed: money(row.transfer_reversed),
        payment_intent_id: row.payment_intent_id,
        paid_at: row.paid_at,
        access: row.access > 0,
        history: audit::for_subject(pool, "order", &id.to_string()).await?,
        refund,
    })
}
