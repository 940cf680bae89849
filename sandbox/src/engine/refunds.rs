//! Refunds and disputes of charges.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{apply_metadata, diff, prepend_to_list, public, Ctx};
use crate::util::{new_id, DAY};

/// Stripe's dispute fee (US, in cents).
pub const DISPUTE_FEE: i64 = 1500;

/// A dispute on a charge (what the dispute test cards cause).
pub fn create_dispute(ctx: &mut Ctx, charge_id: &str, reason: &str) -> ApiResult<Value> {
    let mut charge = ctx.find("charge", charge_id, "charge")?;
    let now = ctx.now_for_customer(charge["customer"].as_str());
    let inquiry = reason == "general";
    let dispute_id = new_id("du");
    // A chargeback debits the account holding the charge (the platform for a destination
    // charge, the connected account for a direct one): the amount and Stripe's $15 dispute fee.
    // An inquiry moves no money.
    let balance_transactions = if inquiry {
        Vec::new()
    } else {
        let currency = charge["currency"].as_str().unwrap_or("usd").to_string();
        let txn = super::balance::record(
            ctx,
            super::balance::Movement {
                kind: "adjustment",
                amount: -charge["amount"].as_i64().unwrap_or(0),
                currency: &currency,
                source: Some(&dispute_id),
                description: Some(format!("Chargeback withdrawal for {charge_id}")),
                fees: vec![("stripe_fee", DISPUTE_FEE, None)],
                immediate: true,
            },
        );
        ctx.get(super::balance::KIND, &txn).map(public).into_iter().collect()
    };
    let dispute = json!({
        "id": dispute_id,
        "object": "dispute",
        "amount": charge["amount"],
        "balance_transactions": balance_transactions,
        "charge": charge_id,
        "created": now,
        "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": evidence_blank(),
        "evidence_details": {"due_by": now + 7 * DAY, "enhanced_eligibility": {}, "has_evidence": false, "past_due": false, "submission_count": 0},
        "is_charge_refundable": inquiry,
        "livemode": false,
        "metadata": {},
        "payment_intent": charge["payment_intent"],
        "payment_method_details": {"card": {"brand": charge["payment_method_details"]["card"]["brand"], "case_type": if inquiry { "inquiry" } else { "chargeback" }, "network": charge["payment_method_details"]["card"]["brand"], "network_reason_code": "10.4"}, "type": "card"},
        "reason": reason,
        "status": if inquiry { "warning_needs_response" } else { "needs_response" },
    });
    ctx.put("dispute", dispute.clone());
    charge["disputed"] = json!(true);
    ctx.put("charge", charge);
    ctx.emit("charge.dispute.created", &dispute, None);
    if !inquiry {
        ctx.emit("charge.dispute.funds_withdrawn", &dispute, None);
    }
    super::radar::settle_charge(ctx, charge_id, "disputed")?;
    Ok(dispute)
}

/// A requested dispute change: evidence (submitted unless `submit=false`) and metadata.
pub struct DisputeUpdate {
    /// `evidence[...]` as given.
    pub evidence: Option<Value>,
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
    pub submit: bool,
}

/// Adds evidence to an open dispute; emits `charge.dispute.updated` when anything changed.
pub fn update_dispute(ctx: &mut Ctx, id: &str, change: DisputeUpdate) -> ApiResult<Value> {
    let old = ctx.find("dispute", id, "dispute")?;
    if !matches!(old["status"].as_str(), Some("needs_response") | Some("warning_needs_response")) {
        return Err(ApiError::invalid("This dispute is already closed").with_code("dispute_already_closed"));
    }
    let mut dispute = old.clone();
    if let Some(Value::Object(evidence)) = &change.evidence {
        for (key, value) in evidence {
            if dispute["evidence"].get(key).is_some() && key != "enhanced_evidence" {
                dispute["evidence"][key] = if value == "" { Value::Null } else { value.clone() };
            }
        }
        dispute["evidence_details"]["has_evidence"] = json!(true);
    }
    if let Some(metadata) = &change.metadata {
        dispute["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    if change.submit && change.evidence.is_some() {
        dispute["status"] =
            json!(if old["status"] == "warning_needs_response" { "warning_under_review" } else { "under_review" });
        dispute["evidence_details"]["submission_count"] =
            json!(old["evidence_details"]["submission_count"].as_i64().unwrap_or(0) + 1);
    }
    let verdict = change.submit.then(|| test_mode_verdict(&dispute)).flatten();
    let updated = ctx.save_updated("dispute", "charge.dispute.updated", &old, dispute);
    if let Some(won) = verdict {
        decide(ctx, id, won)?;
    }
    Ok(updated)
}

/// Stripe's test-mode outcome of submitted evidence: `uncategorized_text` `winning_evidence`
/// wins the dispute, `losing_evidence` loses it; anything else leaves it under review.
fn test_mode_verdict(dispute: &Value) -> Option<bool> {
    match dispute["evidence"]["uncategorized_text"].as_str() {
        Some("winning_evidence") => Some(true),
        Some("losing_evidence") => Some(false),
        _ => None,
    }
}

/// Closes a dispute under review as the card network decided: a won chargeback credits the
/// amount and the dispute fee back (`charge.dispute.funds_reinstated`); an inquiry closes as
/// `warning_closed` either way.
fn decide(ctx: &mut Ctx, id: &str, won: bool) -> ApiResult<()> {
    let old = ctx.find("dispute", id, "dispute")?;
    let inquiry = old["status"].as_str().is_some_and(|status| status.starts_with("warning"));
    let mut dispute = old.clone();
    dispute["status"] = json!(match (inquiry, won) {
        (true, _) => "warning_closed",
        (false, true) => "won",
        (false, false) => "lost",
    });
    let reinstated = won && !inquiry;
    if reinstated {
        let currency = old["currency"].as_str().unwrap_or("usd").to_string();
        let txn = super::balance::record(
            ctx,
            super::balance::Movement {
                kind: "adjustment",
                amount: old["amount"].as_i64().unwrap_or(0),
                currency: &currency,
                source: Some(id),
                description: Some(format!("Chargeback reversal for {}", old["charge"].as_str().unwrap_or_default())),
                fees: vec![("stripe_fee", -DISPUTE_FEE, None)],
                immediate: true,
            },
        );
        let txn = ctx.get(super::balance::KIND, &txn).map(public).unwrap_or(Value::Null);
        if let Some(list) = dispute["balance_transactions"].as_array_mut() {
            list.push(txn);
        }
    }
    ctx.put("dispute", dispute.clone());
    ctx.emit("charge.dispute.closed", &dispute, Some(diff(&old, &dispute)));
    if reinstated {
        ctx.emit("charge.dispute.funds_reinstated", &dispute, None);
    }
    Ok(())
}

/// Accepts a dispute as lost (an inquiry closes as `warning_closed`); emits `charge.dispute.closed`.
pub fn close_dispute(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = ctx.find("dispute", id, "dispute")?;
    if matches!(old["status"].as_str(), Some("won") | Some("lost") | Some("warning_closed")) {
        return Err(ApiError::invalid("This dispute is already closed").with_code("dispute_already_closed"));
    }
    let mut dispute = old.clone();
    dispute["status"] = json!(if old["status"].as_str().is_some_and(|status| status.starts_with("warning")) {
        "warning_closed"
    } else {
        "lost"
    });
    dispute["is_charge_refundable"] = json!(false);
    ctx.put("dispute", dispute.clone());
    ctx.emit("charge.dispute.closed", &dispute, Some(diff(&old, &dispute)));
    Ok(public(&dispute))
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
    let mut evidence = serde_json::Map::new();
    for key in keys {
        evidence.insert(key.to_string(), Value::Null);
    }
    evidence.insert("enhanced_evidence".into(), json!({}));
    Value::Object(evidence)
}

/// Connect options of a refund: `reverse_transfer`, `refund_application_fee`.
#[derive(Default, Clone, Copy)]
pub struct RefundConnect {
    pub reverse_transfer: bool,
    pub refund_application_fee: bool,
}

/// Refunds (part of) a charge (a `refund` balance transaction); emits `charge.refunded` and
/// `refund.created`. For a destination or direct charge it reverses the transfer and refunds the
/// application fee in proportion when asked (`transfer.reversed`, `application_fee.refunded`).
pub fn refund(
    ctx: &mut Ctx,
    charge_id: &str,
    amount: Option<i64>,
    reason: Option<&str>,
    metadata: Value,
    connect: RefundConnect,
) -> ApiResult<Value> {
    let mut charge = ctx.find("charge", charge_id, "charge")?;
    if charge["status"] != "succeeded" {
        return Err(ApiError::invalid(format!("Charge {charge_id} has failed; it cannot be refunded."))
            .with_code("charge_not_refundable"));
    }
    if charge["refunded"] == true {
        return Err(ApiError::invalid(format!("Charge {charge_id} has already been refunded."))
            .with_code("charge_already_refunded"));
    }
    let total = charge["amount"].as_i64().unwrap_or(0);
    let already = charge["amount_refunded"].as_i64().unwrap_or(0);
    let amount = amount.unwrap_or(total - already);
    let currency = charge["currency"].as_str().unwrap_or("usd").to_string();
    if amount <= 0 || already + amount > total {
        return Err(ApiError::invalid_value(
            "amount",
            format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({}).",
                crate::util::money(amount, &currency),
                crate::util::money(total - already, &currency)
            ),
        )
        .with_code("amount_too_large"));
    }
    let now = ctx.now_for_customer(charge["customer"].as_str());
    let before = charge.clone();
    let refund_id = new_id("re");
    let txn = super::balance::record(
        ctx,
        super::balance::Movement {
            kind: "refund",
            amount: -amount,
            currency: &currency,
            source: Some(&refund_id),
            description: None,
            fees: vec![],
            immediate: true,
        },
    );
    let mut refund = json!({
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn,
        "charge": charge_id,
        "created": now,
        "currency": charge["currency"],
        "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number", "type": "refund"}, "type": "card"},
        "metadata": metadata,
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    });
    charge["amount_refunded"] = json!(already + amount);
    charge["refunded"] = json!(already + amount == total);
    let later_mark = ctx.events.len();
    let reversal = super::transfers::follow_refund(
        ctx,
        &charge,
        &refund_id,
        amount,
        connect.reverse_transfer,
        connect.refund_application_fee,
    )?;
    // The charge's own events come first, then what the refund caused.
    let caused: Vec<_> = ctx.events.drain(later_mark..).collect();
    refund["transfer_reversal"] = json!(reversal);
    ctx.put("refund", refund.clone());
    prepend_to_list(&mut charge["refunds"], refund.clone());
    ctx.put("charge", charge.clone());
    ctx.emit("charge.refunded", &charge, Some(diff(&before, &charge)));
    ctx.emit("refund.created", &refund, None);
    ctx.events.extend(caused);
    if charge["refunded"] == true {
        let review_reason = if reason == Some("fraudulent") { "refunded_as_fraud" } else { "refunded" };
        super::radar::settle_charge(ctx, charge_id, review_reason)?;
    }
    Ok(refund)
}
