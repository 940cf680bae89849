//! Refunds and disputes of charges.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{diff, Ctx};
use crate::util::{new_id, DAY};

/// A dispute on a charge (what the dispute test cards cause).
pub fn create_dispute(ctx: &mut Ctx, charge_id: &str, reason: &str) -> ApiResult<Value> {
    let mut ch = ctx.find("charge", charge_id, "charge")?;
    let now = ctx.now_for_customer(ch["customer"].as_str());
    let inquiry = reason == "general";
    let dp = json!({
        "id": new_id("du"),
        "object": "dispute",
        "amount": ch["amount"],
        "balance_transactions": [],
        "charge": charge_id,
        "created": now,
        "currency": ch["currency"],
        "enhanced_eligibility_types": [],
        "evidence": evidence_blank(),
        "evidence_details": {"due_by": now + 7 * DAY, "enhanced_eligibility": {}, "has_evidence": false, "past_due": false, "submission_count": 0},
        "is_charge_refundable": inquiry,
        "livemode": false,
        "metadata": {},
        "payment_intent": ch["payment_intent"],
        "payment_method_details": {"card": {"brand": ch["payment_method_details"]["card"]["brand"], "case_type": if inquiry { "inquiry" } else { "chargeback" }, "network": ch["payment_method_details"]["card"]["brand"], "network_reason_code": "10.4"}, "type": "card"},
        "reason": reason,
        "status": if inquiry { "warning_needs_response" } else { "needs_response" },
    });
    ctx.put("dispute", dp.clone());
    ch["disputed"] = json!(true);
    ctx.put("charge", ch);
    ctx.emit("charge.dispute.created", &dp, None);
    Ok(dp)
}

pub fn evidence_blank() -> Value {
    let keys = [
        "access_activity_log",
        "billing_address",
        "cancellation_policy",
        "cancellation_policy_disclosure",
        "cancellation_rebuttal",
        "customer_communication",
        "customer_email_address",
        "customer_name",
        "customer_purchase_ip",
        "customer_signature",
        "duplicate_charge_documentation",
        "duplicate_charge_explanation",
        "duplicate_charge_id",
        "product_description",
        "receipt",
        "refund_policy",
        "refund_policy_disclosure",
        "refund_refusal_explanation",
        "service_date",
        "service_documentation",
        "shipping_address",
        "shipping_carrier",
        "shipping_date",
        "shipping_documentation",
        "shipping_tracking_number",
        "uncategorized_file",
        "uncategorized_text",
    ];
    let mut m = serde_json::Map::new();
    for k in keys {
        m.insert(k.to_string(), Value::Null);
    }
    m.insert("enhanced_evidence".into(), json!({}));
    Value::Object(m)
}

/// Refunds (part of) a charge; emits `charge.refunded` and `refund.created`.
pub fn refund(
    ctx: &mut Ctx,
    charge_id: &str,
    amount: Option<i64>,
    reason: Option<&str>,
    metadata: Value,
) -> ApiResult<Value> {
    let mut ch = ctx.find("charge", charge_id, "charge")?;
    if ch["status"] != "succeeded" {
        return Err(ApiError::invalid(format!("Charge {charge_id} has failed; it cannot be refunded."))
            .with_code("charge_not_refundable"));
    }
    if ch["refunded"] == true {
        return Err(ApiError::invalid(format!("Charge {charge_id} has already been refunded."))
            .with_code("charge_already_refunded"));
    }
    let total = ch["amount"].as_i64().unwrap_or(0);
    let already = ch["amount_refunded"].as_i64().unwrap_or(0);
    let amount = amount.unwrap_or(total - already);
    let cur = ch["currency"].as_str().unwrap_or("usd").to_string();
    if amount <= 0 || already + amount > total {
        return Err(ApiError::invalid_value(
            "amount",
            format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({}).",
                crate::util::money(amount, &cur),
                crate::util::money(total - already, &cur)
            ),
        )
        .with_code("amount_too_large"));
    }
    let now = ctx.now_for_customer(ch["customer"].as_str());
    let before = ch.clone();
    let re = json!({
        "id": new_id("re"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn"),
        "charge": charge_id,
        "created": now,
        "currency": ch["currency"],
        "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
        "metadata": metadata,
        "payment_intent": ch["payment_intent"],
        "reason": reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    });
    ctx.put("refund", re.clone());
    ch["amount_refunded"] = json!(already + amount);
    ch["refunded"] = json!(already + amount == total);
    let mut refunds: Vec<Value> = ch["refunds"]["data"].as_array().cloned().unwrap_or_default();
    refunds.insert(0, re.clone());
    ch["refunds"]["total_count"] = json!(refunds.len());
    ch["refunds"]["data"] = Value::Array(refunds);
    ctx.put("charge", ch.clone());
    ctx.emit("charge.refunded", &ch, Some(diff(&before, &ch)));
    ctx.emit("refund.created", &re, None);
    Ok(re)
}
