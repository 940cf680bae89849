//! Coupons and promotion codes, kept in Stripe only: `/admin/coupons` lists them from Stripe
//! (redemption counts are Stripe's), and the admin creates a coupon, a promotion code on it,
//! deactivates a code, or deletes a coupon. Each action is Stripe first (the form's token in the
//! idempotency key: a double submit is one object), then one audit row under the same key.

pub mod create_code;
pub mod create_coupon;
pub mod deactivate_code;
pub mod delete_coupon;

use anyhow::Context;
use stripe::StripeError;
use stripe_product::coupon::ListCoupon;
use stripe_product::promotion_code::ListPromotionCode;
use stripe_shared::{Coupon, PromotionCode};

use super::audit::{self, Actor, Record};
use crate::domain::coupon::CouponDuration;
use crate::domain::marketplace::FeeRate;
use crate::domain::money::{Currency, Money};
use crate::server::billing::all_pages;
use crate::server::catalog::sync::product_id;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::stripe::idempotency::{check_form_token, new_form_token};
use crate::server::{db, state::AppState};
use crate::views::admin::coupons::{redeemed, CouponLine, CouponsPage, PromotionCodeLine};
use crate::views::format::utc_midnight;

/// Where every coupon form goes back to.
pub const PAGE: &str = "/admin/coupons";

/// The page: every coupon (newest first) with its promotion codes, and the paid plans a new
/// coupon may be limited to.
pub async fn page(state: &AppState) -> anyhow::Result<CouponsPage> {
    let stripe = &state.stripe_client;
    let coupons = all_pages(
        |after| async move {
            let mut list = ListCoupon::new().limit(100).expand(vec!["data.applies_to".to_string()]);
            if let Some(after) = after {
                list = list.starting_after(after);
            }
            stripe.send(&list, None).await.context("listing coupons")
        },
        |c: &Coupon| c.id.as_str().to_string(),
    )
    .await?;
    let codes = all_pages(
        |after| async move {
            let mut list = ListPromotionCode::new().limit(100);
            if let Some(after) = after {
                list = list.starting_after(after);
            }
            stripe.send(&list, None).await.context("listing promotion codes")
        },
        |p: &PromotionCode| p.id.as_str().to_string(),
    )
    .await?;
    let book = state.prices.current();
    let paid_plans: Vec<(String, String)> = book
        .catalog
        .plans
        .iter()
        .filter(|plan| !plan.is_free())
        .map(|plan| (plan.key.as_str().to_string(), plan.name.clone()))
        .collect();
    let plan_name =
        |product: &str| paid_plans.iter().find(|(key, _)| product_id(key) == product).map(|(_, name)| name.clone());
    let lines = coupons
        .iter()
        .map(|coupon| {
            let own_codes = codes.iter().filter(|code| coupon_of(code) == Some(coupon.id.as_str()));
            CouponLine {
                id: coupon.id.as_str().to_string(),
                name: coupon.name.clone(),
                terms: terms(coupon),
                plans: coupon
                    .applies_to
                    .iter()
                    .flat_map(|to| to.products.iter())
                    .map(|product| plan_name(product).unwrap_or_else(|| product.clone()))
                    .collect(),
                redeemed: redeemed(coupon.times_redeemed, coupon.max_redemptions),
                valid: coupon.valid,
                redeem_by: coupon.redeem_by,
                codes: own_codes.map(code_line).collect(),
                code_token: new_form_token(),
                delete_token: new_form_token(),
            }
        })
        .collect();
    Ok(CouponsPage {
        coupons: lines,
        plans: paid_plans,
        currency: book.catalog.currency.as_str().to_uppercase(),
        token: new_form_token(),
    })
}

fn coupon_of(code: &PromotionCode) -> Option<&str> {
    code.promotion.coupon.as_ref().map(|coupon| coupon.id().as_str())
}

/// `100% off for 1 month`, `$5.00 off forever`.
fn terms(coupon: &Coupon) -> String {
    let off = match (coupon.percent_off, coupon.amount_off, coupon.currency.as_ref()) {
        (Some(percent), _, _) => match FeeRate::from_bps((percent * 100.0).round() as u32) {
            Ok(rate) => format!("{rate} off"),
            Err(_) => format!("{percent}% off"),
        },
        (None, Some(amount), Some(currency)) => match Currency::parse(&currency.to_string()) {
            Ok(currency) => format!("{} off", Money::new(amount, currency)),
            Err(_) => format!("{amount} {currency} off"),
        },
        _ => "nothing off".to_string(),
    };
    let duration = match (coupon.duration.as_str(), coupon.duration_in_months) {
        ("once", _) => CouponDuration::Once.to_string(),
        ("repeating", Some(months)) => CouponDuration::Repeating { months: months.max(0) as u32 }.to_string(),
        ("forever", _) => CouponDuration::Forever.to_string(),
        (other, _) => other.to_string(),
    };
    format!("{off} {duration}")
}

fn code_line(code: &PromotionCode) -> PromotionCodeLine {
    let r = &code.restrictions;
    let minimum = match (r.minimum_amount, r.minimum_amount_currency.as_ref()) {
        (Some(amount), Some(currency)) => {
            Some(format!("orders of {} or more", crate::views::format::money(amount, &currency.to_string())))
        }
        _ => None,
    };
    let restrictions: Vec<String> = [
        r.first_time_transaction.then(|| "first-time customers".to_string()),
        minimum,
        code.customer.as_ref().map(|customer| format!("customer {}", customer.id().as_str())),
    ]
    .into_iter()
    .flatten()
    .collect();
    PromotionCodeLine {
        id: code.id.as_str().to_string(),
        code: code.code.clone(),
        active: code.active,
        redeemed: redeemed(code.times_redeemed, code.max_redemptions),
        expires_at: code.expires_at,
        restrictions: restrictions.join(", "),
        deactivate_token: new_form_token(),
    }
}

/// A form's optional `YYYY-MM-DD` as the last second of that UTC day (a coupon redeemable "until
/// 31 January" works all that day), which must be in the future; `field` names it in refusals.
fn through_day(day: &str, field: &str, now: i64) -> Result<Option<i64>, FormError> {
    let day = day.trim();
    if day.is_empty() {
        return Ok(None);
    }
    let start = utc_midnight(day).ok_or_else(|| refused(format!("{field}: a date like 2027-01-31.")))?;
    let last = start + 86_400 - 1;
    if last <= now {
        return Err(refused(format!("{field}: the date must be in the future.")));
    }
    Ok(Some(last))
}

/// Checks the form's one-time token: the submission's idempotency and audit key, or `None` when
/// this submission was already carried out (a double submit; the first one did the work).
async fn fresh_request(state: &AppState, token: &str) -> Result<Option<String>, FormError> {
    check_form_token(token)?;
    let key = format!("admin-coupons-{token}");
    Ok((!audit::request_done(state.db.pool(), &key).await?).then_some(key))
}

/// What a form submitted twice says.
fn already_done() -> Result<Next, FormError> {
    Ok(Next::Back("This was already done.".into()))
}

/// Stripe's refusal of what the admin asked (a code already in use, a coupon already gone) is
/// said as Stripe says it; anything else is unexpected.
fn stripe_refusal(error: StripeError, doing: &str) -> FormError {
    match &error {
        StripeError::Stripe(api, status) if (400..500).contains(status) && *status != 429 => {
            refused(format!("Stripe refused {doing}: {}", api.message.as_deref().unwrap_or("no reason given")))
        }
        _ => FormError::Unexpected(anyhow::Error::new(error).context(format!("{doing} in Stripe"))),
    }
}

/// Writes the action's one audit row (a concurrent double submit finds it written).
async fn audit_once(state: &AppState, actor: &Actor, record: Record<'_>, key: &str) -> anyhow::Result<()> {
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    audit::write_once(&mut tx, actor, record, key, db::now()).await?;
    tx.commit().await.context("committing the audit row")
}
