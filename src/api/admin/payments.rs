//! `/admin/payments`: failed payments, the dunning queue, refunds (issued after a confirm step);
//! `/admin/disputes`: open and closed disputes with their evidence deadlines.

use leptos::prelude::*;

use crate::views::{
    admin::payments::{DisputesPage, PaymentsOverview, RefundForm},
    AppError,
};

#[server(endpoint = "admin_payments")]
pub async fn admin_payments() -> Result<PaymentsOverview, AppError> {
    use crate::server::{admin::payments, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(payments::overview(ctx.state.db.pool()).await?)
}

#[server(endpoint = "admin_refund_form")]
pub async fn admin_refund_form(payment: String) -> Result<RefundForm, AppError> {
    use crate::server::{admin::payments, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    payments::refund_form(&ctx.state, &payment.trim().into()).await.map_err(AppError::from)
}

#[server(endpoint = "admin_refund")]
pub async fn refund_payment(payment: String, amount: String, reason: String, token: String) -> Result<(), AppError> {
    use crate::server::{billing::refunds, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let outcome = refunds::issue(&ctx.state, &actor, &payment.trim().into(), &amount, &reason, &token).await;
    let back = format!("/admin/payments/refund?payment={}", payment.trim());
    ctx.finish(outcome.map(crate::server::http::outcome::Next::Back), &back).await?;
    // A refund issued goes back to the list, where it shows once Stripe's webhook arrives.
    leptos_axum::redirect("/admin/payments");
    Ok(())
}

#[server(endpoint = "admin_disputes")]
pub async fn admin_disputes(sort: Option<String>, dir: Option<String>) -> Result<DisputesPage, AppError> {
    use crate::server::{admin::payments, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let sort = crate::views::admin::sort::Sort::parse(sort.as_deref(), dir.as_deref());
    Ok(payments::disputes(&ctx.state, sort).await?)
}
