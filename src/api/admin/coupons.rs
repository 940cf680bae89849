//! `/admin/coupons`: coupons and their promotion codes from Stripe; creating a coupon, a code on
//! it, deactivating a code, deleting a coupon (each audited).

// The coupon form posts one field per argument (a plain form, no JavaScript needed); the
// server macro's client stub repeats the list, so the allow is for the whole module.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;

use crate::views::{admin::coupons::CouponsPage, AppError};

#[server(endpoint = "admin_coupons")]
pub async fn admin_coupons() -> Result<CouponsPage, AppError> {
    use crate::server::{admin::coupons, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    Ok(coupons::page(&ctx.state).await?)
}

/// `plans[]`: the ticked plan keys (none: every plan).
#[server(endpoint = "admin_create_coupon")]
pub async fn create_coupon(
    name: Option<String>,
    percent_off: Option<String>,
    amount_off: Option<String>,
    duration: String,
    months: Option<String>,
    max_redemptions: Option<String>,
    redeem_by: Option<String>,
    plans: Option<Vec<String>>,
    token: String,
) -> Result<(), AppError> {
    use crate::server::admin::coupons::{create_coupon::create, create_coupon::CouponForm, PAGE};
    use crate::server::http::context::RequestCtx;
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let form = CouponForm {
        name: name.unwrap_or_default(),
        percent_off: percent_off.unwrap_or_default(),
        amount_off: amount_off.unwrap_or_default(),
        duration,
        months: months.unwrap_or_default(),
        max_redemptions: max_redemptions.unwrap_or_default(),
        redeem_by: redeem_by.unwrap_or_default(),
        plans: plans.unwrap_or_default(),
    };
    let outcome = create(&ctx.state, &actor, &form, &token).await;
    ctx.finish(outcome, PAGE).await
}

/// `first_time` is the checkbox (present when ticked).
#[server(endpoint = "admin_create_promotion_code")]
pub async fn create_promotion_code(
    coupon: String,
    code: String,
    max_redemptions: Option<String>,
    expires_on: Option<String>,
    first_time: Option<String>,
    minimum: Option<String>,
    token: String,
) -> Result<(), AppError> {
    use crate::server::admin::coupons::{create_code::create, create_code::CodeForm, PAGE};
    use crate::server::http::context::RequestCtx;
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let form = CodeForm {
        coupon,
        code,
        max_redemptions: max_redemptions.unwrap_or_default(),
        expires_on: expires_on.unwrap_or_default(),
        first_time_only: first_time.is_some(),
        minimum: minimum.unwrap_or_default(),
    };
    let outcome = create(&ctx.state, &actor, &form, &token).await;
    ctx.finish(outcome, PAGE).await
}

#[server(endpoint = "admin_deactivate_promotion_code")]
pub async fn deactivate_promotion_code(promotion_code: String, token: String) -> Result<(), AppError> {
    use crate::server::admin::coupons::{deactivate_code::deactivate, PAGE};
    use crate::server::http::context::RequestCtx;
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let outcome = deactivate(&ctx.state, &actor, &promotion_code.trim().into(), &token).await;
    ctx.finish(outcome, PAGE).await
}

#[server(endpoint = "admin_delete_coupon")]
pub async fn delete_coupon(coupon: String, token: String) -> Result<(), AppError> {
    use crate::server::admin::coupons::{delete_coupon::delete, PAGE};
    use crate::server::http::context::RequestCtx;
    let ctx = RequestCtx::extract().await?;
    let actor = ctx.require_admin_actor().await?;
    let outcome = delete(&ctx.state, &actor, &coupon.trim().into(), &token).await;
    ctx.finish(outcome, PAGE).await
}
