//! The admin deletes a coupon: Stripe refuses new redemptions of it (its promotion codes with
//! it), while discounts already given keep their terms. Audited as `coupon.deleted`.

use stripe_product::coupon::{DeleteCoupon, RetrieveCoupon};
use stripe_shared::CouponId;

use super::{already_done, audit_once, fresh_request, stripe_refusal, terms};
use crate::server::admin::audit::{Actor, Record};
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::state::AppState;

pub async fn delete(state: &AppState, actor: &Actor, id: &CouponId, token: &str) -> Result<Next, FormError> {
    if id.as_str().is_empty() {
        return Err(refused("Choose a coupon to delete."));
    }
    let Some(key) = fresh_request(state, token).await? else {
        return already_done();
    };
    let stripe = &state.stripe_client;
    let coupon = stripe
        .send(&RetrieveCoupon::new(id.clone()), None)
        .await
        .map_err(|error| stripe_refusal(error, "reading the coupon"))?;
    stripe
        .send(&DeleteCoupon::new(id.clone()), Some(&key))
        .await
        .map_err(|error| stripe_refusal(error, "the deletion"))?;
    let before = format!("{}, redeemed {} times", terms(&coupon), coupon.times_redeemed);
    let record = Record {
        action: "coupon.deleted",
        subject_type: "coupon",
        subject_id: id.as_str(),
        customer_id: None,
        before: Some(&before),
        after: Some("deleted"),
    };
    audit_once(state, actor, record, &key).await?;
    Ok(Next::Back(format!("Coupon {id} deleted: no new redemptions; discounts already given keep going.")))
}
