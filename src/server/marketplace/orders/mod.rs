//! Marketplace orders: one per Checkout Session (`start.rs`) or PaymentIntent confirmed on the
//! app's own page (`pay_on_page.rs`), written `pending` when the buyer starts paying and moved only by conditional updates (`fulfil.rs`: `… WHERE status = 'pending'`;
//! no row moved means another confirmation got there first, and nothing else happens). A paid
//! order gives its buyer the product in their library.

pub mod fulfil;
pub mod pay_on_page;
pub mod refund;
pub mod start;
pub mod sync_dispute;
pub mod sync_refunds;

use anyhow::Context;
use sqlx::AnyPool;

use crate::server::stripe::client::StripeClient;
use crate::server::{db::users::User, state::AppState};
use crate::views::marketplace::{LibraryItemView, LibraryView};

/// The metadata key naming the product a marketplace payment is for.
pub const PRODUCT_METADATA: &str = "tollgate_product";

/// An order as the fulfilment needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Order {
    pub id: i64,
    pub product_id: i64,
    pub buyer_id: i64,
    pub account_id: String,
    /// `destination` or `direct`: where the session and its payment live.
    pub charge_type: String,
    pub amount: i64,
    pub fee: i64,
    pub currency: String,
    pub status: String,
}

/// How an order is paid: Stripe's Checkout page, or a PaymentIntent confirmed on the app's own
/// page (`/p/{slug}/pay`). Either id finds the order.
#[derive(Debug, Clone, Copy)]
pub enum PaidThrough<'a> {
    Checkout(&'a str),
    Intent(&'a str),
}

impl PaidThrough<'_> {
    /// The `orders` column holding the id.
    pub(super) fn column(self) -> &'static str {
        match self {
            Self::Checkout(_) => "checkout_session_id",
            Self::Intent(_) => "payment_intent_id",
        }
    }

    fn id(&self) -> &str {
        match self {
            Self::Checkout(id) | Self::Intent(id) => id,
        }
    }
}

/// The order paid (or being paid) through `paid`.
pub async fn by_payment<'c, E>(executor: E, paid: PaidThrough<'_>) -> anyhow::Result<Option<Order>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query_as(&format!(
        "SELECT id, product_id, buyer_id, account_id, charge_type, amount, fee, currency, status FROM orders \
         WHERE {} = $1",
        paid.column()
    ))
    .bind(paid.id())
    .fetch_optional(executor)
    .await
    .with_context(|| format!("reading the order paid through {paid:?}"))
}

impl Order {
    /// The client that reads its payment: on the creator's account for a direct charge.
    pub fn stripe(&self, state: &AppState) -> StripeClient {
        match self.charge_type.as_str() {
            "direct" => state.stripe_client.on_account(&self.account_id),
            _ => state.stripe_client.clone(),
        }
    }
}

/// The order `user` came back to `/library` with, or the words saying why it is not theirs to
/// confirm.
async fn buyers_order(state: &AppState, user: &User, paid: PaidThrough<'_>) -> anyhow::Result<Result<Order, String>> {
    Ok(match by_payment(state.db.pool(), paid).await? {
        None => Err("We could not find that purchase.".into()),
        Some(order) if order.buyer_id != user.id => Err("This purchase belongs to another account.".into()),
        Some(order) => Ok(order),
    })
}

/// Takes the product of order `order_id` out of its buyer's library (a full refund, a lost
/// dispute), with its audit row. `false` when it was out already (nothing written).
pub async fn revoke_access(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    order_id: i64,
    reason: &str,
    now: i64,
) -> anyhow::Result<bool> {
    use crate::server::admin::audit::{self, Actor, Record};
    let revoked = sqlx::query(
        "UPDATE library SET revoked_at = $1, revoke_reason = $2 WHERE order_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(order_id)
    .execute(&mut **tx)
    .await
    .context("revoking the buyer's access")?;
    if revoked.rows_affected() == 0 {
        return Ok(false);
    }
    let subject = order_id.to_string();
    let after = serde_json::json!({ "access": "revoked", "reason": reason }).to_string();
    let record = Record {
        action: "marketplace.access_revoked",
        subject_type: "order",
        subject_id: &subject,
        customer_id: None,
        before: Some(r#"{"access":"granted"}"#),
        after: Some(&after),
    };
    audit::write(tx, &Actor::stripe(), record, now).await?;
    Ok(true)
}

/// Whether the user holds the product (a paid order not refunded in full).
pub async fn owns(pool: &AnyPool, user_id: i64, product_id: i64) -> anyhow::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM library WHERE buyer_id = $1 AND product_id = $2 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(product_id)
    .fetch_one(pool)
    .await
    .context("reading the buyer's library")?;
    Ok(n > 0)
}

/// `/library`: what the user bought and still holds, with its content.
pub async fn library(pool: &AnyPool, user_id: i64) -> anyhow::Result<Vec<LibraryItemView>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT p.slug, p.title, p.content, l.granted_at FROM library l JOIN products p ON p.id = l.product_id \
         WHERE l.buyer_id = $1 AND l.revoked_at IS NULL ORDER BY l.granted_at DESC, l.order_id DESC",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await
    .context("listing the buyer's library")?;
    Ok(rows
        .into_iter()
        .map(|(slug, title, content, granted_at)| LibraryItemView {
            slug,
            title,
            content,
            bought_on: crate::views::format::day(granted_at),
        })
        .collect())
}

/// What `/library` shows, after confirming the payment the buyer came back from (if any):
/// `?session_id=…` from Checkout, `?payment_intent=…` from Stripe.js on `/p/{slug}/pay`.
pub async fn library_page(
    state: &AppState,
    user: &User,
    returned: Option<PaidThrough<'_>>,
) -> anyhow::Result<LibraryView> {
    let notice = match returned {
        None => None,
        Some(paid) => Some(match buyers_order(state, user, paid).await? {
            Err(words) => words,
            Ok(order) => match paid {
                PaidThrough::Checkout(id) => fulfil::confirm(state, &order, id).await?,
                PaidThrough::Intent(id) => pay_on_page::confirm(state, &order, id).await?,
            },
        }),
    };
    Ok(LibraryView { notice, items: library(state.db.pool(), user.id).await? })
}
