//! Billing server functions: pricing, Checkout, the account's billing, plan changes, the portal.
//!
//! The billing forms are plain HTML forms posting to these functions, with or without
//! JavaScript: each ends in a redirect (to Stripe, or back to the page with a notice), so a
//! double click or a reload never repeats a charge (every Stripe call carries an idempotency key).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::billing::seats::parse_seats;
#[cfg(feature = "ssr")]
use crate::views::billing::parse_interval;
use crate::views::{
    billing::{BillingOverview, CheckoutOutcome, Notice, PlanChangePreview, PricingView},
    AppError,
};

#[server(endpoint = "billing/pricing")]
pub async fn pricing(interval: Option<String>) -> Result<PricingView, AppError> {
    use crate::server::{billing::views, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.current_user().await?;
    Ok(views::pricing_view(&ctx.state, user.as_ref(), parse_interval(interval.as_deref())).await?)
}

#[server(endpoint = "billing/subscribe")]
pub async fn subscribe(plan: String, interval: String, seats: Option<String>) -> Result<(), AppError> {
    use crate::server::{
        billing::checkout,
        http::{abuse::Action, context::RequestCtx},
    };
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else {
        leptos_axum::redirect("/signup");
        return Err(AppError::Unauthorized);
    };
    let outcome = async {
        ctx.limit(Action::Checkout).await?;
        let seats = parse_seats(seats.as_deref())?;
        checkout::subscribe(&ctx.state, &user, &plan, parse_interval(Some(&interval)), seats).await
    }
    .await;
    ctx.finish(outcome, "/pricing").await
}

#[server(endpoint = "billing/buy")]
pub async fn buy(item: String) -> Result<(), AppError> {
    use crate::server::{
        billing::checkout,
        http::{abuse::Action, context::RequestCtx},
    };
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else {
        leptos_axum::redirect("/signup");
        return Err(AppError::Unauthorized);
    };
    let outcome = async {
        ctx.limit(Action::Checkout).await?;
        checkout::buy(&ctx.state, &user, &item).await
    }
    .await;
    ctx.finish(outcome, "/pricing").await
}

#[server(endpoint = "billing/confirm_checkout")]
pub async fn confirm_checkout(session_id: String) -> Result<CheckoutOutcome, AppError> {
    use crate::server::{billing::checkout, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Err(AppError::Unauthorized) };
    checkout::confirm_checkout(&ctx.state, &user, &session_id.as_str().into()).await.map_err(AppError::from)
}

#[server(endpoint = "billing/account")]
pub async fn account_billing() -> Result<Option<BillingOverview>, AppError> {
    use crate::server::{billing::views, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Ok(None) };
    Ok(Some(views::account_view(&ctx.state, &user).await?))
}

#[server(endpoint = "billing/preview_change")]
pub async fn preview_plan_change(
    plan: String,
    interval: String,
    seats: Option<String>,
) -> Result<PlanChangePreview, AppError> {
    use crate::server::{billing::plan_change, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Err(AppError::Unauthorized) };
    let seats = parse_seats(seats.as_deref()).map_err(AppError::from)?;
    plan_change::preview(&ctx.state, &user, &plan, parse_interval(Some(&interval)), seats).await.map_err(AppError::from)
}

#[server(endpoint = "billing/change_plan")]
pub async fn change_plan(plan: String, interval: String, seats: Option<String>, token: String) -> Result<(), AppError> {
    use crate::server::{billing::plan_change, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = match parse_seats(seats.as_deref()) {
        Ok(seats) => plan_change::apply(&ctx.state, &user, &plan, parse_interval(Some(&interval)), seats, &token).await,
        Err(error) => Err(error),
    };
    ctx.finish(outcome, "/account").await
}

#[server(endpoint = "billing/cancel")]
pub async fn cancel_subscription(token: String) -> Result<(), AppError> {
    use crate::server::{billing::renewal, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = renewal::set_cancel_at_period_end(&ctx.state, &user, true, &token).await;
    ctx.finish(outcome, "/account").await
}

#[server(endpoint = "billing/resume")]
pub async fn resume_subscription(token: String) -> Result<(), AppError> {
    use crate::server::{billing::renewal, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = renewal::set_cancel_at_period_end(&ctx.state, &user, false, &token).await;
    ctx.finish(outcome, "/account").await
}

#[server(endpoint = "billing/pause")]
pub async fn pause_subscription(token: String) -> Result<(), AppError> {
    use crate::server::{billing::pause, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = pause::pause(&ctx.state, &user, &token).await;
    ctx.finish(outcome, "/account").await
}

#[server(endpoint = "billing/unpause")]
pub async fn unpause_subscription(token: String) -> Result<(), AppError> {
    use crate::server::{billing::pause, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = pause::resume(&ctx.state, &user, &token).await;
    ctx.finish(outcome, "/account").await
}

#[server(endpoint = "billing/portal")]
pub async fn manage_billing() -> Result<(), AppError> {
    use crate::server::{
        billing::portal,
        http::{abuse::Action, context::RequestCtx},
    };
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = async {
        ctx.limit(Action::Portal).await?;
        portal::open(&ctx.state, &user).await
    }
    .await;
    ctx.finish(outcome, "/account").await
}

#[server(endpoint = "billing/notice")]
pub async fn take_notice() -> Result<Option<Notice>, AppError> {
    use crate::server::http::context::RequestCtx;
    RequestCtx::extract().await?.take_notice().await
}

/// `/billing/confirm/:payment_intent`: a payment waiting for the customer's bank.
#[server(endpoint = "billing/confirm_payment")]
pub async fn confirm_payment_page(
    payment_intent: String,
) -> Result<crate::views::confirm_payment::ConfirmPaymentView, AppError> {
    use crate::server::{billing::confirm_payment, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    Ok(confirm_payment::page(&ctx.state, &user, &payment_intent).await?)
}
