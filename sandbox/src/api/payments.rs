//! Payment intents, charges, refunds, disputes, setup intents, tokens.

use serde_json::{json, Value};

use super::save_updated;
use crate::engine::pay::{self, NewPayment, Outcome};
use crate::error::{ApiError, ApiResult};
use crate::state::{
    created_matches, merge_metadata, new_metadata, p_bool, p_i64, p_nonempty, p_str, paginate, public, Ctx,
};
use crate::util::{new_id, random_str};

pub fn create_intent(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let amount = p_i64(p, "amount")?.ok_or_else(|| ApiError::missing("amount"))?;
    let currency = p_nonempty(p, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
    if amount < 50 && currency == "usd" {
        return Err(
            ApiError::invalid_value("amount", "Amount must be at least $0.50 usd").with_code("amount_too_small")
        );
    }
    let customer = p_nonempty(p, "customer").map(str::to_string);
    if let Some(c) = &customer {
        cx.find("customer", c, "customer")?;
    }
    let pm = match p_nonempty(p, "payment_method") {
        Some(id) => Some(pay::resolve_pm(cx, id, "payment_method")?["id"].as_str().unwrap_or_default().to_string()),
        None => None,
    };
    let pi = pay::create_intent(
        cx,
        NewPayment {
            customer: customer.as_deref(),
            amount,
            currency: &currency,
            payment_method: pm.as_deref(),
            description: p_nonempty(p, "description").map(str::to_string),
            metadata: new_metadata(p)?,
            setup_future_usage: p_nonempty(p, "setup_future_usage").map(str::to_string),
        },
    );
    if p_bool(p, "confirm")? == Some(true) {
        let id = pi["id"].as_str().unwrap_or_default().to_string();
        return confirm_result(cx, &id, pm.as_deref(), p_bool(p, "off_session")?.unwrap_or(false));
    }
    Ok(public(&pi))
}

fn confirm_result(cx: &mut Ctx, id: &str, pm: Option<&str>, off_session: bool) -> ApiResult<Value> {
    let (pi, outcome) = pay::confirm(cx, id, pm, off_session, false)?;
    match outcome {
        Outcome::Failed(e) => Err(e.with_extra(json!({"payment_intent": public(&pi), "charge": pi["latest_charge"]}))),
        Outcome::RequiresAction if off_session => Err(ApiError::card(
            "authentication_required",
            Some("authentication_required"),
            crate::cards::decline_message("authentication_required"),
        )
        .with_extra(json!({"payment_intent": public(&pi)}))),
        _ => Ok(public(&pi)),
    }
}

pub fn confirm_intent(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let pm = match p_nonempty(p, "payment_method") {
        Some(pm) => Some(pay::resolve_pm(cx, pm, "payment_method")?["id"].as_str().unwrap_or_default().to_string()),
        None => None,
    };
    confirm_result(cx, id, pm.as_deref(), p_bool(p, "off_session")?.unwrap_or(false))
}

pub fn update_intent(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("payment_intent", id, "intent")?;
    let mut pi = old.clone();
    if p.get("metadata").is_some() {
        pi["metadata"] = merge_metadata(&old["metadata"], p)?;
    }
    if let Some(a) = p_i64(p, "amount")? {
        pi["amount"] = json!(a);
    }
    for k in ["description", "receipt_email", "customer", "setup_future_usage"] {
        if let Some(v) = p_str(p, k) {
            pi[k] = if v.is_empty() { Value::Null } else { json!(v) };
        }
    }
    if let Some(pm) = p_nonempty(p, "payment_method") {
        let pmv = pay::resolve_pm(cx, pm, "payment_method")?;
        pi["payment_method"] = pmv["id"].clone();
        if pi["status"] == "requires_payment_method" {
            pi["status"] = json!("requires_confirmation");
        }
    }
    cx.put("payment_intent", pi.clone());
    Ok(public(&pi))
}

pub fn cancel_intent(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let mut pi = cx.find("payment_intent", id, "intent")?;
    if pi["status"] == "succeeded" || pi["status"] == "canceled" {
        return Err(ApiError::invalid(format!(
            "You cannot cancel this PaymentIntent because it has a status of {}.",
            pi["status"].as_str().unwrap_or_default()
        ))
        .with_code("payment_intent_unexpected_state"));
    }
    pi["status"] = json!("canceled");
    pi["canceled_at"] = json!(cx.now());
    pi["cancellation_reason"] = json!(p_nonempty(p, "cancellation_reason").unwrap_or("requested_by_customer"));
    cx.put("payment_intent", pi.clone());
    cx.emit("payment_intent.canceled", &pi, None);
    Ok(public(&pi))
}

pub fn list_intents(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_str(p, "customer");
    let mut items = Vec::new();
    for pi in cx.all("payment_intent") {
        if customer.is_some_and(|c| pi["customer"] != c)
            || !created_matches(p, "created", pi["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(public(pi));
    }
    paginate(items, p, "/v1/payment_intents")
}

/// `POST /v1/charges` (legacy): a payment intent confirmed at once, answering the charge.
pub fn create_charge(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let source = p_nonempty(p, "source").or_else(|| p_nonempty(p, "payment_method")).unwrap_or("tok_visa").to_string();
    let mut pp = p.clone();
    pp["payment_method"] = json!(source);
    pp["confirm"] = json!("true");
    let pi = create_intent(cx, &pp)?;
    let ch = pi["latest_charge"].as_str().unwrap_or_default().to_string();
    Ok(public(&cx.find("charge", &ch, "charge")?))
}

pub fn list_charges(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_str(p, "customer");
    let pi = p_str(p, "payment_intent");
    let mut items = Vec::new();
    for ch in cx.all("charge") {
        if customer.is_some_and(|c| ch["customer"] != c)
            || pi.is_some_and(|x| ch["payment_intent"] != x)
            || !created_matches(p, "created", ch["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(public(ch));
    }
    paginate(items, p, "/v1/charges")
}

pub fn create_refund(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let charge = match (p_nonempty(p, "charge"), p_nonempty(p, "payment_intent")) {
        (Some(c), _) => c.to_string(),
        (None, Some(pi)) => {
            let pi = cx.find("payment_intent", pi, "payment_intent")?;
            pi["latest_charge"].as_str().map(str::to_string).ok_or_else(|| {
                ApiError::invalid("This PaymentIntent does not have a successful charge to refund.")
                    .with_code("charge_not_refundable")
            })?
        }
        (None, None) => return Err(ApiError::missing("charge")),
    };
    let re = pay::refund(cx, &charge, p_i64(p, "amount")?, p_nonempty(p, "reason"), new_metadata(p)?)?;
    Ok(public(&re))
}

pub fn refund_charge(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    pay::refund(cx, id, p_i64(p, "amount")?, p_nonempty(p, "reason"), new_metadata(p)?)?;
    Ok(public(&cx.find("charge", id, "charge")?))
}

pub fn list_refunds(cx: &mut Ctx, filter: &Value, p: &Value) -> ApiResult<Value> {
    let charge = p_str(filter, "charge");
    let pi = p_str(filter, "payment_intent");
    let items: Vec<Value> = cx
        .all("refund")
        .into_iter()
        .filter(|r| charge.is_none_or(|c| r["charge"] == c) && pi.is_none_or(|x| r["payment_intent"] == x))
        .map(public)
        .collect();
    paginate(items, p, "/v1/refunds")
}

pub fn list_disputes(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let charge = p_str(p, "charge");
    let pi = p_str(p, "payment_intent");
    let mut items = Vec::new();
    for d in cx.all("dispute") {
        if charge.is_some_and(|c| d["charge"] != c)
            || pi.is_some_and(|x| d["payment_intent"] != x)
            || !created_matches(p, "created", d["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(public(d));
    }
    paginate(items, p, "/v1/disputes")
}

pub fn update_dispute(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("dispute", id, "dispute")?;
    if !matches!(old["status"].as_str(), Some("needs_response") | Some("warning_needs_response")) {
        return Err(ApiError::invalid("This dispute is already closed").with_code("dispute_already_closed"));
    }
    let mut d = old.clone();
    if let Some(Value::Object(ev)) = p.get("evidence") {
        for (k, v) in ev {
            if d["evidence"].get(k).is_some() && k != "enhanced_evidence" {
                d["evidence"][k] = if v == "" { Value::Null } else { v.clone() };
            }
        }
        d["evidence_details"]["has_evidence"] = json!(true);
    }
    if p.get("metadata").is_some() {
        d["metadata"] = merge_metadata(&old["metadata"], p)?;
    }
    if p_bool(p, "submit")?.unwrap_or(true) && p.get("evidence").is_some() {
        d["status"] =
            json!(if old["status"] == "warning_needs_response" { "warning_under_review" } else { "under_review" });
        d["evidence_details"]["submission_count"] =
            json!(old["evidence_details"]["submission_count"].as_i64().unwrap_or(0) + 1);
    }
    Ok(save_updated(cx, "dispute", "charge.dispute.updated", &old, d))
}

pub fn close_dispute(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = cx.find("dispute", id, "dispute")?;
    if matches!(old["status"].as_str(), Some("won") | Some("lost") | Some("warning_closed")) {
        return Err(ApiError::invalid("This dispute is already closed").with_code("dispute_already_closed"));
    }
    let mut d = old.clone();
    d["status"] =
        json!(if old["status"].as_str().is_some_and(|s| s.starts_with("warning")) { "warning_closed" } else { "lost" });
    d["is_charge_refundable"] = json!(false);
    cx.put("dispute", d.clone());
    cx.emit("charge.dispute.closed", &d, Some(crate::state::diff(&old, &d)));
    Ok(public(&d))
}

pub fn create_setup_intent(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let id = new_id("seti");
    let pm = match p_nonempty(p, "payment_method") {
        Some(pm) => Some(pay::resolve_pm(cx, pm, "payment_method")?["id"].clone()),
        None => None,
    };
    let si = json!({
        "id": id,
        "object": "setup_intent",
        "application": null,
        "automatic_payment_methods": null,
        "cancellation_reason": null,
        "client_secret": format!("{id}_secret_{}", random_str(24)),
        "created": cx.now(),
        "customer": p_nonempty(p, "customer"),
        "description": p_nonempty(p, "description"),
        "flow_directions": null,
        "last_setup_error": null,
        "latest_attempt": null,
        "livemode": false,
        "mandate": null,
        "metadata": new_metadata(p)?,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": pm,
        "payment_method_options": {"card": {"mandate_options": null, "network": null, "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "single_use_mandate": null,
        "status": if pm.is_some() { "requires_confirmation" } else { "requires_payment_method" },
        "usage": p_nonempty(p, "usage").unwrap_or("off_session"),
    });
    cx.put("setup_intent", si.clone());
    cx.emit("setup_intent.created", &si, None);
    if p_bool(p, "confirm")? == Some(true) {
        return confirm_setup_intent(cx, &id, &json!({}));
    }
    Ok(public(&si))
}

pub fn confirm_setup_intent(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let mut si = cx.find("setup_intent", id, "intent")?;
    if let Some(pm) = p_nonempty(p, "payment_method") {
        si["payment_method"] = pay::resolve_pm(cx, pm, "payment_method")?["id"].clone();
    }
    let pm_id = si["payment_method"].as_str().ok_or_else(|| ApiError::missing("payment_method"))?.to_string();
    let pm = cx.find("payment_method", &pm_id, "payment_method")?;
    if let crate::cards::Behavior::Decline(code) = pay::behavior(&pm) {
        return Err(pay::decline(code));
    }
    if let Some(c) = si["customer"].as_str().map(str::to_string) {
        if pm["customer"].is_null() {
            pay::attach(cx, &pm_id, &c)?;
        }
    }
    si["status"] = json!("succeeded");
    cx.put("setup_intent", si.clone());
    cx.emit("setup_intent.succeeded", &si, None);
    Ok(public(&si))
}

/// `POST /v1/tokens` with card details: a card token usable as `source`.
pub fn create_token(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let number = p.get("card").and_then(|c| p_nonempty(c, "number")).unwrap_or("4242424242424242");
    let card = crate::cards::by_number(number)
        .ok_or_else(|| ApiError::card("incorrect_number", None, "Your card number is incorrect."))?;
    let pm = crate::objects::card_pm(&card, 12, 2034, cx.now());
    cx.put("payment_method", pm.clone());
    Ok(
        json!({"id": pm["id"], "object": "token", "card": pm["card"], "created": cx.now(), "livemode": false, "type": "card", "used": false}),
    )
}
