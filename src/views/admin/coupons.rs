//! `/admin/coupons`: Stripe's coupons with their promotion codes, how often each was redeemed,
//! and the forms that create, deactivate and delete them (each with its own one-time token).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponsPage {
    /// Newest first.
    pub coupons: Vec<CouponLine>,
    /// The paid plans a coupon may be limited to: (key, name).
    pub plans: Vec<(String, String)>,
    /// The catalog's currency (upper case) for amounts typed in the forms.
    pub currency: String,
    /// The create-coupon form's token.
    pub token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CouponLine {
    pub id: String,
    pub name: Option<String>,
    /// `100% off for 1 month`, `$5.00 off forever`.
    pub terms: String,
    /// Plan names it is limited to; empty: every plan.
    pub plans: Vec<String>,
    /// `3 / 10`, or `3` without a limit.
    pub redeemed: String,
    /// Stripe's `valid`: false once past `redeem_by` or out of redemptions.
    pub valid: bool,
    pub redeem_by: Option<i64>,
    pub codes: Vec<PromotionCodeLine>,
    /// The token of the new-promotion-code form on this coupon.
    pub code_token: String,
    /// The token of this coupon's delete form.
    pub delete_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionCodeLine {
    pub id: String,
    pub code: String,
    pub active: bool,
    /// `1 / 50`, or `1` without a limit.
    pub redeemed: String,
    pub expires_at: Option<i64>,
    /// `first-time customers, orders of $10.00 or more`; empty without restrictions.
    pub restrictions: String,
    /// The token of its deactivate form.
    pub deactivate_token: String,
}

/// `times` of `max`: `3 / 10`, or `3` without a limit.
pub fn redeemed(times: i64, max: Option<i64>) -> String {
    match max {
        Some(max) => format!("{times} / {max}"),
        None => times.to_string(),
    }
}
