//! Marketplace server functions: the creator page, becoming a creator (and continuing Stripe's
//! onboarding), opening Stripe's Express dashboard. Plain HTML forms post to them.

use leptos::prelude::*;

use crate::views::{
    marketplace::{CreatorPageView, LibraryView, ProductPageView, StoreView},
    payment_element::{PaymentPageView, StartedIntent},
    AppError,
};

#[server(endpoint = "creator/page")]
pub async fn creator_page() -> Result<Option<CreatorPageView>, AppError> {
    use crate::server::{http::context::RequestCtx, marketplace};
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Ok(None) };
    Ok(Some(marketplace::creators::page(ctx.state.db.pool(), &user).await?))
}

/// "Become a creator" and "Continue onboarding": to Stripe's hosted onboarding.
#[server(endpoint = "creator/onboard")]
pub async fn onboard_creator() -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = marketplace::creators::start::start(&ctx.state, &user).await;
    ctx.finish(outcome, "/creator").await
}

#[server(endpoint = "creator/dashboard")]
pub async fn open_creator_dashboard() -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = marketplace::creators::dashboard::open(&ctx.state, &user).await;
    ctx.finish(outcome, "/creator").await
}

#[server(endpoint = "creator/products/create")]
pub async fn create_product(
    title: String,
    description: String,
    price: String,
    content: String,
) -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::products::save};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let form = save::ProductForm { title, description, price, content };
    let outcome = save::create(&ctx.state, &user, &form).await;
    ctx.finish(outcome, "/creator").await
}

/// Publish (`publish` = "true") or unpublish a product.
#[server(endpoint = "creator/products/publish")]
pub async fn publish_product(id: i64, publish: bool) -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::products::publish};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = publish::set_published(&ctx.state, &user, id, publish).await;
    ctx.finish(outcome, "/creator").await
}

#[server(endpoint = "store/list")]
pub async fn store_page() -> Result<StoreView, AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::products};
    let ctx = RequestCtx::extract().await?;
    Ok(products::store(ctx.state.db.pool()).await?)
}

/// The product on sale at `/p/{slug}`; `None` when nothing is on sale there.
#[server(endpoint = "store/product")]
pub async fn product_page(slug: String) -> Result<Option<ProductPageView>, AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::products};
    use crate::views::payment_element::CheckoutUi;
    let ctx = RequestCtx::extract().await?;
    let pay_on_page = ctx.state.config.checkout_ui == CheckoutUi::Elements;
    let product = products::on_sale(ctx.state.db.pool(), &slug).await?;
    Ok(product.as_ref().map(|product| ProductPageView { product: products::card(product), pay_on_page }))
}

/// "Buy": to Stripe's Checkout, paying the creator minus the platform's fee.
#[server(endpoint = "store/buy")]
pub async fn buy_product(slug: String) -> Result<(), AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::orders::start};
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let outcome = start::buy(&ctx.state, &user, &slug).await;
    ctx.finish(outcome, &format!("/p/{slug}")).await
}

/// `/p/{slug}/pay`: the product with the Payment Element.
#[server(endpoint = "store/pay_page")]
pub async fn product_pay_page(slug: String) -> Result<PaymentPageView, AppError> {
    use crate::server::{http::context::RequestCtx, marketplace::orders::pay_on_page};
    let ctx = RequestCtx::extract().await?;
    ctx.require_user().await?;
    Ok(pay_on_page::page(&ctx.state, &slug).await?)
}

/// "Pay" on `/p/{slug}/pay`: the PaymentIntent of this attempt, for `/payment-element.js`.
#[server(endpoint = "store/start_payment")]
pub async fn start_product_payment(slug: String, attempt: String) -> Result<StartedIntent, AppError> {
    use crate::server::{
        http::{abuse::Action, context::RequestCtx},
        marketplace::orders::pay_on_page,
    };
    let ctx = RequestCtx::extract().await?;
    let user = ctx.require_user().await?;
    let started = async {
        ctx.limit(Action::Checkout).await?;
        pay_on_page::start(&ctx.state, &user, &slug, &attempt).await
    };
    ctx.answer(started.await)
}

/// `/library`, confirming the payment the buyer came back from: a Checkout Session
/// (`session_id`) or a PaymentIntent confirmed on `/p/{slug}/pay` (`payment_intent`).
#[server(endpoint = "library/page")]
pub async fn library_page(
    session_id: Option<String>,
    payment_intent: Option<String>,
) -> Result<Option<LibraryView>, AppError> {
    use crate::server::{
        http::context::RequestCtx,
        marketplace::orders::{self, PaidThrough},
    };
    let ctx = RequestCtx::extract().await?;
    let Some(user) = ctx.current_user().await? else { return Ok(None) };
    let returned = match (&session_id, &payment_intent) {
        (Some(session), _) => Some(PaidThrough::Checkout(session)),
        (None, Some(intent)) => Some(PaidThrough::Intent(intent)),
        (None, None) => None,
    };
    Ok(Some(orders::library_page(&ctx.state, &user, returned).await?))
}
