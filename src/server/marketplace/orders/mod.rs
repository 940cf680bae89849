//! Marketplace orders: one per Checkout Session, written `pending` when the buyer starts paying
//! (`start.rs`) and moved only by conditional updates (`fulfil.rs`: `… WHERE status = 'pending'`;
//! no row moved means another confirmation got there first, and nothing else happens). A paid
//! order gives its buyer the product in their library.

pub mod fulfil;
pub mod refund;
pub mod start;
pub mod sync_dispute;
pub mod sync_refunds;

use anyhow::Context;
use sqlx::AnyPool;

use crate::views::marketplace::{LibraryItemView, LibraryView};

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

/// The order paid through Checkout Session `session_id`, if it is a marketplace order.
pub async fn by_session<'c, E>(executor: E, session_id: &str) -> anyhow::Result<Option<Order>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query_as(
        "SELECT id, product_id, buyer_id, account_id, charge_type, amount, fee, currency, status FROM orders \
         WHERE checkout_session_id = $1",
    )
    .bind(session_id)
    .fetch_optional(executor)
    .await
    .context("reading the order of a Checkout Session")
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

/// What `/library` shows, after confirming the Checkout the buyer came back from (if any).
pub async fn library_page(
    state: &crate::server::state::AppState,
    user: &crate::server::db::users::User,
    session_id: Option<&str>,
) -> anyhow::Result<LibraryView> {
    let notice = match session_id {
        Some(id) => Some(fulfil::confirm(state, user, id).await?),
        None => None,
    };
    Ok(LibraryView { notice, items: library(state.db.pool(), user.id).await? })
}
