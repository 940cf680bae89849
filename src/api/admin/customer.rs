//! `/admin/customers/:id`: one Stripe customer's subscriptions and a timeline of what happened;
//! `/admin/customers/:id/plan?price=…` and `/admin/customers/:id/renewal?action=cancel|resume`:
//! the confirm steps of the admin's plan change and cancel/resume (audited).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::views::admin::customer::parse_renewal_action;
use crate::views::{
    admin::customer::{CustomerView, PlanChangeStep, RenewalStep},
    AppError,
};

#[server(endpoint = "admin_customer")]
pub async fn admin_customer(id: String) -> Result<CustomerView, AppError> {
    use crate::server::{
        admin::{customer, plan_change},
        config::StripeMode,
        http::context::RequestCtx,
    };
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let live = ctx.state.stripe.mode == StripeMode::Live;
    let id = stripe_shared::CustomerId::from(id.trim());
    let mut view = customer::view(ctx.state.db.pool(), &id, live)
        .await?
        .ok_or_else(|| AppError::User(format!("There is no customer {id}.")))?;
    view.controls = plan_change::controls(&ctx.state, &id).await?;
    Ok(view)
}

#[server(endpoint = "admin_plan_change_form")]
pub async fn admin_plan_change_form(
    customer: String,
    price: String,
    seats: Option<String>,
) -> Result<PlanChangeStep, AppError> {
    use crate::server::{admin::plan_change, billing::seats::parse_seats, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let seats = parse_seats(seats.as_deref())?;
    plan_change::change_form(&ctx.state, &customer.trim().into(), price.trim(), seats).await.map_err(AppError::from)
}

#[server(endpoint = "admin_change_plan")]
pub async fn admin_change_plan(
    customer: String,
    subscription: String,
    price: String,
    seats: Option<String>,
    token: String,
) -> Result<(), AppError> {
    use crate::server::{admin::plan_change, billing::seats::parse_seats, http::context::RequestCtx};
    use crate::views::admin::events::url_safe;
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let (customer, price) = (customer.trim(), price.trim());
    let subscription = subscription.trim().into();
    let outcome = match parse_seats(seats.as_deref()) {
        Ok(n) => plan_change::change_plan(&ctx.state, &actor, &customer.into(), &subscription, price, n, &token).await,
        Err(error) => Err(error),
    };
    // Done: back to the customer (and the timeline's new audit row); refused: the confirm step.
    let seats = seats.as_deref().map(|n| format!("&seats={}", url_safe(n.trim()))).unwrap_or_default();
    let back = match &outcome {
        Ok(_) => format!("/admin/customers/{}", url_safe(customer)),
        Err(_) => format!("/admin/customers/{}/plan?price={}{seats}", url_safe(customer), url_safe(price)),
    };
    ctx.finish(outcome, &back).await
}

#[server(endpoint = "admin_renewal_form")]
pub async fn admin_renewal_form(customer: String, action: String) -> Result<RenewalStep, AppError> {
    use crate::server::{admin::plan_change, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let cancel = parse_renewal_action(&action)?;
    plan_change::renewal_form(&ctx.state, &customer.trim().into(), cancel).await.map_err(AppError::from)
}

#[server(endpoint = "admin_set_renewal")]
pub async fn admin_set_renewal(
    customer: String,
    subscription: String,
    action: String,
    token: String,
) -> Result<(), AppError> {
    use crate::server::{admin::plan_change, http::context::RequestCtx};
    use crate::views::admin::events::url_safe;
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let customer = customer.trim();
    let cancel = parse_renewal_action(&action)?;
    let outcome =
        plan_change::set_renewal(&ctx.state, &actor, &customer.into(), &subscription.trim().into(), cancel, &token)
            .await;
    let back = match &outcome {
        Ok(_) => format!("/admin/customers/{}", url_safe(customer)),
        Err(_) => format!("/admin/customers/{}/renewal?action={}", url_safe(customer), action.trim()),
    };
    ctx.finish(outcome, &back).await
}

/// Where an admin's pause form goes back to: the customer's page, with the outcome as a notice.
#[cfg(feature = "ssr")]
fn customer_page(customer: &str) -> String {
    format!("/admin/customers/{}", crate::views::admin::events::url_safe(customer))
}

#[server(endpoint = "admin_pause_collection")]
pub async fn admin_pause_collection(
    customer: String,
    subscription: String,
    behavior: String,
    resumes_on: Option<String>,
    token: String,
) -> Result<(), AppError> {
    use crate::server::{admin::pause, db, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let customer = customer.trim();
    let outcome = match pause::PauseRequest::parse(&behavior, resumes_on.as_deref(), db::now()) {
        Ok(request) => {
            let subscription = subscription.trim().into();
            pause::pause_collection(&ctx.state, &actor, &customer.into(), &subscription, request, &token).await
        }
        Err(error) => Err(error),
    };
    ctx.finish(outcome, &customer_page(customer)).await
}

#[server(endpoint = "admin_resume_collection")]
pub async fn admin_resume_collection(customer: String, subscription: String, token: String) -> Result<(), AppError> {
    use crate::server::{admin::pause, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let customer = customer.trim();
    let outcome =
        pause::resume_collection(&ctx.state, &actor, &customer.into(), &subscription.trim().into(), &token).await;
    ctx.finish(outcome, &customer_page(customer)).await
}

#[server(endpoint = "admin_unpause")]
pub async fn admin_unpause(customer: String, subscription: String, token: String) -> Result<(), AppError> {
    use crate::server::{admin::pause, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let customer = customer.trim();
    let outcome = pause::resume_paused(&ctx.state, &actor, &customer.into(), &subscription.trim().into(), &token).await;
    ctx.finish(outcome, &customer_page(customer)).await
}
