//! Payment intents, charges, refunds, disputes, setup intents, tokens.

use serde_json::{json, Value};

use crate::engine::pay::{self, NewPayment, Outcome};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, merge_metadata, new_metadata, paginate, param_bool, param_i64, param_nonempty, param_str, public,
    Ctx,
};
use crate::util::{new_id, random_str};

pub fn create_intent(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let amount = param_i64(params, "amount")?.ok_or_else(|| ApiError::missing("amount"))?;
    let currency = param_nonempty(params, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
    if amount < 50 && currency == "usd" {
        return Err(
            ApiError::invalid_value("amount", "Amount must be at least $0.50 usd").with_code("amount_too_small")
        );
    }
    let customer = param_nonempty(params, "customer").map(str::to_string);
    if let Some(c) = &customer {
        ctx.find("customer", c, "customer")?;
    }
    let pm = match param_nonempty(params, "payment_method") {
        Some(id) => {
            Some(pay::resolve_payment_method(ctx, id, "payment_method")?["id"].as_str().unwrap_or_default().to_string())
        }
        None => None,
    };
    let pi = pay::create_intent(
        ctx,
        NewPayment {
            customer: customer.as_deref(),
            amount,
            currency: &currency,
            payment_method: pm.as_deref(),
            description: param_nonempty(params, "description").map(str::to_string),
            metadata: new_metadata(params)?,
            setup_future_usage: param_nonempty(params, "setup_future_usage").map(str::to_string),
        },
    );
    if param_bool(params, "confirm")? == Some(true) {
        let id = pi["id"].as_str().unwrap_or_default().to_string();
        return confirm_result(ctx, &id, pm.as_deref(), param_bool(params, "off_session")?.unwrap_or(false));
    }
    Ok(public(&pi))
}

fn confirm_result(ctx: &mut Ctx, id: &str, pm: Option<&str>, off_session: bool) -> ApiResult<Value> {
    let (pi, outcome) = pay::confirm(ctx, id, pm, off_session, false)?;
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

pub fn confirm_intent(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let pm = match param_nonempty(params, "payment_method") {
        Some(pm) => {
            Some(pay::resolve_payment_method(ctx, pm, "payment_method")?["id"].as_str().unwrap_or_default().to_string())
        }
        None => None,
    };
    confirm_result(ctx, id, pm.as_deref(), param_bool(params, "off_session")?.unwrap_or(false))
}

pub fn update_intent(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("payment_intent", id, "intent")?;
    let mut pi = old.clone();
    if params.get("metadata").is_some() {
        pi["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    if let Some(a) = param_i64(params, "amount")? {
        pi["amount"] = json!(a);
    }
    for k in ["description", "receipt_email", "customer", "setup_future_usage"] {
        if let Some(v) = param_str(params, k) {
            pi[k] = if v.is_empty() { Value::Null } else { json!(v) };
        }
    }
    if let Some(pm) = param_nonempty(params, "payment_method") {
        let pmv = pay::resolve_payment_method(ctx, pm, "payment_method")?;
        pi["payment_method"] = pmv["id"].clone();
        if pi["status"] == "requires_payment_method" {
            pi["status"] = json!("requires_confirmation");
        }
    }
    ctx.put("payment_intent", pi.clone());
    Ok(public(&pi))
}

pub fn cancel_intent(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let mut pi = ctx.find("payment_intent", id, "intent")?;
    if pi["status"] == "succeeded" || pi["status"] == "canceled" {
        return Err(ApiError::invalid(format!(
            "You cannot cancel this PaymentIntent because it has a status of {}.",
            pi["status"].as_str().unwrap_or_default()
        ))
        .with_code("payment_intent_unexpected_state"));
    }
    pi["status"] = json!("canceled");
    pi["canceled_at"] = json!(ctx.now());
    pi["cancellation_reason"] = json!(param_nonempty(params, "cancellation_reason").unwrap_or("requested_by_customer"));
    ctx.put("payment_intent", pi.clone());
    ctx.emit("payment_intent.canceled", &pi, None);
    Ok(public(&pi))
}

pub fn list_intents(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let mut items = Vec::new();
    for pi in ctx.all("payment_intent") {
        if customer.is_some_and(|c| pi["customer"] != c)
            || !created_matches(params, "created", pi["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(public(pi));
    }
    paginate(items, params, "/v1/payment_intents")
}

/// `POST /v1/charges` (legacy): a payment intent confirmed at once, answering the charge.
pub fn create_charge(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let source = param_nonempty(params, "source")
        .or_else(|| param_nonempty(params, "payment_method"))
        .unwrap_or("tok_visa")
        .to_string();
    let mut pp = params.clone();
    pp["payment_method"] = json!(source);
    pp["confirm"] = json!("true");
    let pi = create_intent(ctx, &pp)?;
    let ch = pi["latest_charge"].as_str().unwrap_or_default().to_string();
    Ok(public(&ctx.find("charge", &ch, "charge")?))
}

pub fn list_charges(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let pi = param_str(params, "payment_intent");
    let mut items = Vec::new();
    for ch in ctx.all("charge") {
        if customer.is_some_and(|c| ch["customer"] != c)
            || pi.is_some_and(|x| ch["payment_intent"] != x)
            || !created_matches(params, "created", ch["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(public(ch));
    }
    paginate(items, params, "/v1/charges")
}

pub fn create_refund(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let charge = match (param_nonempty(params, "charge"), param_nonempty(params, "payment_intent")) {
        (Some(c), _) => c.to_string(),
        (None, Some(pi)) => {
            let pi = ctx.find("payment_intent", pi, "payment_intent")?;
            pi["latest_charge"].as_str().map(str::to_string).ok_or_else(|| {
                ApiError::invalid("This PaymentIntent does not have a successful charge to refund.")
                    .with_code("charge_not_refundable")
            })?
        }
        (None, None) => return Err(ApiError::missing("charge")),
    };
    let re = crate::engine::refunds::refund(
        ctx,
        &charge,
        param_i64(params, "amount")?,
        param_nonempty(params, "reason"),
        new_metadata(params)?,
    )?;
    Ok(public(&re))
}

pub fn refund_charge(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    crate::engine::refunds::refund(
        ctx,
        id,
        param_i64(params, "amount")?,
        param_nonempty(params, "reason"),
        new_metadata(params)?,
    )?;
    Ok(public(&ctx.find("charge", id, "charge")?))
}

pub fn list_refunds(ctx: &mut Ctx, filter: &Value, params: &Value) -> ApiResult<Value> {
    let charge = param_str(filter, "charge");
    let pi = param_str(filter, "payment_intent");
    let items: Vec<Value> = ctx
        .all("refund")
        .into_iter()
        .filter(|r| charge.is_none_or(|c| r["charge"] == c) && pi.is_none_or(|x| r["payment_intent"] == x))
        .map(public)
        .collect();
    paginate(items, params, "/v1/refunds")
}

pub fn list_disputes(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let charge = param_str(params, "charge");
    let pi = param_str(params, "payment_intent");
    let mut items = Vec::new();
    for d in ctx.all("dispute") {
        if charge.is_some_and(|c| d["charge"] != c)
            || pi.is_some_and(|x| d["payment_intent"] != x)
            || !created_matches(params, "created", d["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(public(d));
    }
    paginate(items, params, "/v1/disputes")
}

pub fn update_dispute(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("dispute", id, "dispute")?;
    if !matches!(old["status"].as_str(), Some("needs_response") | Some("warning_needs_response")) {
        return Err(ApiError::invalid("This dispute is already closed").with_code("dispute_already_closed"));
    }
    let mut d = old.clone();
    if let Some(Value::Object(ev)) = params.get("evidence") {
        for (k, v) in ev {
            if d["evidence"].get(k).is_some() && k != "enhanced_evidence" {
                d["evidence"][k] = if v == "" { Value::Null } else { v.clone() };
            }
        }
        d["evidence_details"]["has_evidence"] = json!(true);
    }
    if params.get("metadata").is_some() {
        d["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    if param_bool(params, "submit")?.unwrap_or(true) && params.get("evidence").is_some() {
        d["status"] =
            json!(if old["status"] == "warning_needs_response" { "warning_under_review" } else { "under_review" });
        d["evidence_details"]["submission_count"] =
            json!(old["evidence_details"]["submission_count"].as_i64().unwrap_or(0) + 1);
    }
    Ok(ctx.save_updated("dispute", "charge.dispute.updated", &old, d))
}

pub fn close_dispute(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = ctx.find("dispute", id, "dispute")?;
    if matches!(old["status"].as_str(), Some("won") | Some("lost") | Some("warning_closed")) {
        return Err(ApiError::invalid("This dispute is already closed").with_code("dispute_already_closed"));
    }
    let mut d = old.clone();
    d["status"] =
        json!(if old["status"].as_str().is_some_and(|s| s.starts_with("warning")) { "warning_closed" } else { "lost" });
    d["is_charge_refundable"] = json!(false);
    ctx.put("dispute", d.clone());
    ctx.emit("charge.dispute.closed", &d, Some(crate::store::diff(&old, &d)));
    Ok(public(&d))
}

pub fn create_setup_intent(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let id = new_id("seti");
    let pm = match param_nonempty(params, "payment_method") {
        Some(pm) => Some(pay::resolve_payment_method(ctx, pm, "payment_method")?["id"].clone()),
        None => None,
    };
    let si = json!({
        "id": id,
        "object": "setup_intent",
        "application": null,
        "automatic_payment_methods": null,
        "cancellation_reason": null,
        "client_secret": format!("{id}_secret_{}", random_str(24)),
        "created": ctx.now(),
        "customer": param_nonempty(params, "customer"),
        "description": param_nonempty(params, "description"),
        "flow_directions": null,
        "last_setup_error": null,
        "latest_attempt": null,
        "livemode": false,
        "mandate": null,
        "metadata": new_metadata(params)?,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": pm,
        "payment_method_options": {"card": {"mandate_options": null, "network": null, "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "single_use_mandate": null,
        "status": if pm.is_some() { "requires_confirmation" } else { "requires_payment_method" },
        "usage": param_nonempty(params, "usage").unwrap_or("off_session"),
    });
    ctx.put("setup_intent", si.clone());
    ctx.emit("setup_intent.created", &si, None);
    if param_bool(params, "confirm")? == Some(true) {
        return confirm_setup_intent(ctx, &id, &json!({}));
    }
    Ok(public(&si))
}

pub fn confirm_setup_intent(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let mut si = ctx.find("setup_intent", id, "intent")?;
    if let Some(pm) = param_nonempty(params, "payment_method") {
        si["payment_method"] = pay::resolve_payment_method(ctx, pm, "payment_method")?["id"].clone();
    }
    let pm_id = si["payment_method"].as_str().ok_or_else(|| ApiError::missing("payment_method"))?.to_string();
    let pm = ctx.find("payment_method", &pm_id, "payment_method")?;
    if let crate::cards::Behavior::Decline(code) = pay::behavior(&pm) {
        return Err(pay::decline(code));
    }
    if let Some(c) = si["customer"].as_str().map(str::to_string) {
        if pm["customer"].is_null() {
            pay::attach(ctx, &pm_id, &c)?;
        }
    }
    si["status"] = json!("succeeded");
    ctx.put("setup_intent", si.clone());
    ctx.emit("setup_intent.succeeded", &si, None);
    Ok(public(&si))
}

/// `POST /v1/tokens` with card details: a card token usable as `source`.
pub fn create_token(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let number = params.get("card").and_then(|c| param_nonempty(c, "number")).unwrap_or("4242424242424242");
    let card = crate::cards::by_number(number)
        .ok_or_else(|| ApiError::card("incorrect_number", None, "Your card number is incorrect."))?;
    let pm = crate::objects::card_payment_method(&card, 12, 2034, ctx.now());
    ctx.put("payment_method", pm.clone());
    Ok(
        json!({"id": pm["id"], "object": "token", "card": pm["card"], "created": ctx.now(), "livemode": false, "type": "card", "used": false}),
    )
}
