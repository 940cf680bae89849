//! The admin deactivates a promotion code: customers can no longer redeem it, and discounts
//! already given with it keep going. Audited as `promotion_code.deactivated`.

use stripe_product::promotion_code::{RetrievePromotionCode, UpdatePromotionCode};
use stripe_shared::PromotionCodeId;

use super::{already_done, audit_once, fresh_request, stripe_refusal};
use crate::server::admin::audit::{Actor, Record};
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::state::AppState;

pub async fn deactivate(state: &AppState, actor: &Actor, id: &PromotionCodeId, token: &str) -> Result<Next, FormError> {
    if !id.as_str().starts_with("promo_") {
        return Err(refused("That is not a promotion code."));
    }
    let Some(key) = fresh_request(state, token).await? else {
        return already_done();
    };
    let stripe = &state.stripe_client;
    let code = stripe
        .send(&RetrievePromotionCode::new(id.clone()), None)
        .await
        .map_err(|error| stripe_refusal(error, "reading the promotion code"))?;
    if !code.active {
        return Ok(Next::Back(format!("Promotion code {} is already inactive.", code.code)));
    }
    stripe
        .send(&UpdatePromotionCode::new(id.clone()).active(false), Some(&key))
        .await
        .map_err(|error| stripe_refusal(error, "the deactivation"))?;
    let before = format!("{} active, redeemed {} times", code.code, code.times_redeemed);
    let after = format!("{} inactive", code.code);
    let record = Record {
        action: "promotion_code.deactivated",
        subject_type: "promotion_code",
        subject_id: id.as_str(),
        customer_id: None,
        before: Some(&before),
        after: Some(&after),
    };
    audit_once(state, actor, record, &key).await?;
    Ok(Next::Back(format!("Promotion code {} deactivated: it can no longer be redeemed.", code.code)))
}
