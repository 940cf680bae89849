//! Paying on the app's own pages (issue 15): the page data, the intent a "Pay" click starts (as
//! JSON for `/payment-element.js`), and what the return page says. See
//! `server::billing::{pay_item, subscribe_embedded, card_update}`.

use leptos::prelude::*;

use crate::views::payment_element::{PaymentOutcome, PaymentPageView, StartedIntent};
use crate::views::AppError;

/// `/buy/:item`.
#[server(endpoint = "pay/item_page")]
pub async fn pay_item_page(item: String) -> Result<PaymentPageView, AppError> {
    use crate::server::{billing::pay_item, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_user().await?;
    Ok(pay_item::page(&ctx.state, &item).await?)
}

/// "Pay" on `/buy/:item`: the PaymentIntent of this attempt.
#[server(endpoint = "pay/start_item")]
pub async fn start_item_payment(item: String, attempt: String) -> Result<StartedIntent, AppError> {
    use crate::server::{
        billing::pay_item,
        http::{abuse::Action, context::RequestCtx},
    };
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let started = async {
        ctx.limit(Action::Checkout).await?;
        pay_item::start(&ctx.state, &user, &item, &attempt).await
    };
    ctx.answer(started.await)
}

/// `/buy/:item/complete?payment_intent=…`.
#[server(endpoint = "pay/item_outcome")]
pub async fn item_payment_outcome(payment_intent: String) -> Result<PaymentOutcome, AppError> {
    use crate::server::{billing::pay_item, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    Ok(pay_item::outcome(&ctx.state, &user, &payment_intent).await?)
}

/// `/subscribe/:plan?interval=…&ui=elements|embedded`.
#[server(endpoint = "pay/subscribe_page")]
pub async fn subscribe_page(plan: String, interval: String, ui: Option<String>) -> Result<PaymentPageView, AppError> {
    use crate::server::{billing::subscribe_embedded, http::context::RequestCtx};
    use crate::views::billing::parse_interval;
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let ui = subscribe_embedded::embedded_ui(ui.as_deref(), ctx.state.config.checkout_ui);
    Ok(subscribe_embedded::page(&ctx.state, &user, &plan, parse_interval(Some(&interval)), ui).await?)
}

/// "Pay" on `/subscribe/:plan` (or mounting embedded Checkout there).
#[server(endpoint = "pay/start_subscription")]
pub async fn start_subscription(
    plan: String,
    interval: String,
    ui: String,
    attempt: String,
) -> Result<StartedIntent, AppError> {
    use crate::server::{
        billing::subscribe_embedded,
        http::{abuse::Action, context::RequestCtx},
    };
    use crate::views::billing::parse_interval;
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let ui = subscribe_embedded::embedded_ui(Some(&ui), ctx.state.config.checkout_ui);
    let started = async {
        ctx.limit(Action::Checkout).await?;
        subscribe_embedded::start(&ctx.state, &user, &plan, parse_interval(Some(&interval)), ui, &attempt).await
    };
    ctx.answer(started.await)
}

/// `/subscribe/:plan/complete?interval=…&subscription=…&payment_intent=…`.
#[server(endpoint = "pay/subscription_outcome")]
pub async fn subscription_outcome(
    plan: String,
    interval: String,
    subscription: String,
    payment_intent: Option<String>,
) -> Result<PaymentOutcome, AppError> {
    use crate::server::{billing::subscribe_embedded, http::context::RequestCtx};
    use crate::views::billing::parse_interval;
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let interval = parse_interval(Some(&interval));
    Ok(subscribe_embedded::outcome(&ctx.state, &user, &plan, interval, &subscription, payment_intent.as_deref())
        .await?)
}

/// `/billing/card`.
#[server(endpoint = "pay/card_page")]
pub async fn card_page() -> Result<PaymentPageView, AppError> {
    use crate::server::{billing::card_update, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    Ok(card_update::page(&ctx.state, &user).await?)
}

/// "Save card" on `/billing/card`: the SetupIntent of this attempt.
#[server(endpoint = "pay/start_card")]
pub async fn start_card_update(attempt: String) -> Result<StartedIntent, AppError> {
    use crate::server::{
        billing::card_update,
        http::{abuse::Action, context::RequestCtx},
    };
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let started = async {
        ctx.limit(Action::Checkout).await?;
        card_update::start(&ctx.state, &user, &attempt).await
    };
    ctx.answer(started.await)
}

/// `/billing/card/complete?setup_intent=…`.
#[server(endpoint = "pay/card_outcome")]
pub async fn card_update_outcome(setup_intent: String) -> Result<PaymentOutcome, AppError> {
    use crate::server::{billing::card_update, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    Ok(card_update::outcome(&ctx.state, &user, &setup_intent).await?)
}
