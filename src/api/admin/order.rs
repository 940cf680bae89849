//! `/admin/orders/:id`: one marketplace order and its refund (audited; the transfer reversed and
//! the platform fee returned unless the admin unticks them).

use leptos::prelude::*;

use crate::views::{admin::order::OrderView, AppError};

#[server(endpoint = "admin_order")]
pub async fn admin_order(id: String) -> Result<OrderView, AppError> {
    use crate::server::{admin::order, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let id: i64 = id.trim().parse().map_err(|_| AppError::User("No such order.".into()))?;
    Ok(order::order(ctx.state.db.pool(), id).await?)
}

/// A ticked checkbox posts its value; an unticked one posts nothing.
#[server(endpoint = "admin_order_refund")]
pub async fn refund_order(
    order: String,
    amount: String,
    reason: String,
    reverse_transfer: Option<String>,
    refund_application_fee: Option<String>,
    token: String,
) -> Result<(), AppError> {
    use crate::server::http::{context::RequestCtx, outcome::Next};
    use crate::server::marketplace::orders::refund::{self, RefundRequest};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let id: i64 = order.trim().parse().map_err(|_| AppError::User("No such order.".into()))?;
    let request = RefundRequest {
        amount: &amount,
        reason: &reason,
        reverse_transfer: reverse_transfer.is_some(),
        refund_application_fee: refund_application_fee.is_some(),
        token: &token,
    };
    let outcome = refund::issue(&ctx.state, &actor, id, request).await.map(Next::Back);
    ctx.finish(outcome, &format!("/admin/orders/{id}")).await
}
