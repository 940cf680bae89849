//! Stripe Radar as its test cards show it: each charge's `outcome` (risk level and score, what
//! Radar did), the review an elevated-risk charge is placed in, and the early fraud warning an
//! issuer sends about a charge. A full refund or a dispute settles both (the warning stops being
//! actionable, the review closes).

use serde_json::{json, Value};

use crate::cards::Behavior;
use crate::error::ApiResult;
use crate::store::{diff, public, Ctx};
use crate::util::new_id;

/// The charge's `outcome`. `decline_code` is set for a failed charge.
pub fn outcome(behavior: Behavior, decline_code: Option<&str>) -> Value {
    match (behavior, decline_code) {
        (Behavior::RadarBlock, _) => json!({
            "network_status": "not_sent_to_network",
            "reason": "highest_risk_level",
            "risk_level": "highest",
            "risk_score": 85,
            "seller_message": "Stripe blocked this payment as too risky.",
            "type": "blocked",
        }),
        (_, Some(code)) => json!({
            "network_status": "declined_by_network",
            "reason": code,
            "risk_level": "normal",
            "risk_score": 40,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        }),
        (Behavior::ElevatedRisk, None) => json!({
            "network_status": "approved_by_network",
            "reason": "elevated_risk_level",
            "risk_level": "elevated",
            "risk_score": 67,
            "seller_message": "Stripe evaluated this payment as having elevated risk, and placed it in your manual review queue.",
            "type": "manual_review",
        }),
        (_, None) => json!({
            "network_status": "approved_by_network",
            "reason": null,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }),
    }
}

/// Places a charge in review (Radar's default rule for elevated risk): stores the open review
/// and returns it; the caller names it on the charge and payment intent, then emits
/// `review.opened`.
pub fn open_review(ctx: &mut Ctx, charge: &Value, now: i64) -> Value {
    let review = json!({
        "id": new_id("prv"),
        "object": "review",
        "billing_zip": null,
        "charge": charge["id"],
        "closed_reason": null,
        "created": now,
        "ip_address": null,
        "ip_address_location": null,
        "livemode": false,
        "open": true,
        "opened_reason": "rule",
        "payment_intent": charge["payment_intent"],
        "reason": "rule",
        "session": null,
    });
    ctx.put("review", review.clone());
    review
}

/// Closes an open review for `reason` (`approved`, `refunded`, `refunded_as_fraud`,
/// `disputed`); emits `review.closed`. A closed review is left alone.
pub fn close_review(ctx: &mut Ctx, id: &str, reason: &str) -> ApiResult<Value> {
    let old = ctx.find("review", id, "review")?;
    if old["open"] != true {
        return Ok(public(&old));
    }
    let mut review = old.clone();
    review["open"] = json!(false);
    review["closed_reason"] = json!(reason);
    review["reason"] = json!(reason);
    ctx.put("review", review.clone());
    ctx.emit("review.closed", &review, Some(diff(&old, &review)));
    Ok(public(&review))
}

/// The issuer reports a charge as fraudulent: an actionable warning,
/// `radar.early_fraud_warning.created`.
pub fn create_early_fraud_warning(ctx: &mut Ctx, charge_id: &str) -> ApiResult<Value> {
    let charge = ctx.find("charge", charge_id, "charge")?;
    let warning = json!({
        "id": new_id("issfr"),
        "object": "radar.early_fraud_warning",
        "actionable": true,
        "charge": charge_id,
        "created": ctx.now_for(&charge),
        "fraud_type": "misc",
        "livemode": false,
        "payment_intent": charge["payment_intent"],
    });
    ctx.put("radar.early_fraud_warning", warning.clone());
    ctx.emit("radar.early_fraud_warning.created", &warning, None);
    Ok(warning)
}

/// A charge fully refunded or disputed: its warnings are no longer actionable
/// (`radar.early_fraud_warning.updated`) and its open review closes for `review_reason`.
pub fn settle_charge(ctx: &mut Ctx, charge_id: &str, review_reason: &str) -> ApiResult<()> {
    let warnings: Vec<Value> = ctx
        .all("radar.early_fraud_warning")
        .into_iter()
        .filter(|warning| warning["charge"] == charge_id && warning["actionable"] == true)
        .cloned()
        .collect();
    for old in warnings {
        let mut warning = old.clone();
        warning["actionable"] = json!(false);
        ctx.put("radar.early_fraud_warning", warning.clone());
        ctx.emit("radar.early_fraud_warning.updated", &warning, Some(diff(&old, &warning)));
    }
    let review = ctx.get("charge", charge_id).and_then(|charge| charge["review"].as_str().map(str::to_string));
    if let Some(review) = review {
        close_review(ctx, &review, review_reason)?;
    }
    Ok(())
}
