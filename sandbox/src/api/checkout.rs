//! `/v1/checkout/sessions` and the CLI's `/v1/payment_pages`: parameters read here; completion
//! and expiry are in `engine::checkout`.

use serde_json::{json, Value};

use crate::engine::checkout::{complete, Completion};
use crate::engine::lines::product_name;
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, new_metadata, paginate, param_bool, param_i64, param_list, param_nonempty, param_str, public, Ctx,
};
use crate::util::{new_id, DAY};

fn line_item(price: &Value, quantity: i64, description: &str) -> Value {
    let amount = price["unit_amount"].as_i64().unwrap_or(0) * quantity;
    json!({
        "id": new_id("li"),
        "object": "item",
        "adjustable_quantity": null,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price["currency"],
        "description": description,
        "discounts": [],
        "metadata": {},
        "price": public(price),
        "quantity": quantity,
        "taxes": [],
    })
}

pub fn create(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let mode = param_nonempty(params, "mode").unwrap_or("payment").to_string();
    if !matches!(mode.as_str(), "payment" | "subscription" | "setup") {
        return Err(ApiError::invalid_value("mode", "Invalid mode: must be one of payment, setup, or subscription"));
    }
    // The 2026-03-25.dahlia names (hosted → hosted_page, embedded → embedded_page, custom → elements).
    let ui_mode = param_nonempty(params, "ui_mode").unwrap_or("hosted_page");
    if !matches!(ui_mode, "hosted_page" | "embedded_page" | "elements" | "form") {
        return Err(ApiError::invalid_value(
            "ui_mode",
            "Invalid ui_mode: must be one of hosted_page, embedded_page, elements, or form",
        ));
    }
    let hosted = ui_mode == "hosted_page";
    let success_url = param_nonempty(params, "success_url");
    if hosted && success_url.is_none() {
        return Err(ApiError::missing("success_url"));
    }
    let customer = param_nonempty(params, "customer").map(str::to_string);
    let customer_email = param_nonempty(params, "customer_email").map(str::to_string);
    if customer.is_some() && customer_email.is_some() {
        return Err(ApiError::invalid_value(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.",
        ));
    }
    let mut clock_now = ctx.now();
    if let Some(c) = &customer {
        ctx.find("customer", c, "customer")?;
        clock_now = ctx.now_for_customer(Some(c));
    }
    let now = ctx.now();
    let mut items = Vec::new();
    for (i, li) in param_list(params, "line_items").iter().enumerate() {
        let quantity = param_i64(li, "quantity")?.unwrap_or(1);
        let price = if let Some(pid) = param_nonempty(li, "price") {
            ctx.find("price", pid, &format!("line_items[{i}][price]"))?
        } else if let Some(pd) = li.get("price_data") {
            let mut pp = pd.clone();
            if pp.get("product").is_none() && pp.get("product_data").is_none() {
                return Err(ApiError::missing(&format!("line_items[{i}][price_data][product]")));
            }
            pp["active"] = json!("false");
            let price = super::catalog::create_price(ctx, &pp)?;
            ctx.find("price", price["id"].as_str().unwrap_or_default(), "price")?
        } else if let (Some(name), Some(_)) = (param_nonempty(li, "name"), param_i64(li, "amount")?) {
            // Legacy line items (name/amount/currency), still used by the Stripe CLI fixtures.
            let price = super::catalog::create_price(
                ctx,
                &json!({"currency": param_str(li, "currency").unwrap_or("usd"), "unit_amount": li["amount"], "product_data": {"name": name, "description": li.get("description").cloned().unwrap_or(Value::Null)}, "active": "false"}),
            )?;
            ctx.find("price", price["id"].as_str().unwrap_or_default(), "price")?
        } else {
            return Err(ApiError::missing(&format!("line_items[{i}][price]")));
        };
        let name = product_name(ctx, &price);
        items.push(line_item(&price, quantity, &name));
    }
    if mode != "setup" && items.is_empty() {
        return Err(ApiError::missing("line_items"));
    }
    if mode == "subscription" && !items.iter().any(|i| i["price"]["type"] == "recurring") {
        return Err(ApiError::invalid_value(
            "line_items",
            "You must provide at least one recurring price in `subscription` mode when using prices.",
        ));
    }
    if mode == "payment" && items.iter().any(|i| i["price"]["type"] == "recurring") {
        return Err(ApiError::invalid_value("line_items", "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices."));
    }
    let currency = items.first().map(|i| i["currency"].clone()).unwrap_or(Value::Null);
    let total: i64 = items.iter().map(|i| i["amount_total"].as_i64().unwrap_or(0)).sum();
    let expires_at =
        match param_i64(params, "expires_at")? {
            Some(t) if t < now + 1800 || t > now + DAY => return Err(ApiError::invalid_value(
                "expires_at",
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
            )),
            Some(t) => t,
            None => now + DAY,
        };
    let sub_data = params.get("subscription_data").cloned().unwrap_or(json!({}));
    let id = new_id("cs_test");
    let trial_days = param_i64(&sub_data, "trial_period_days")?;
    let trial_end = param_i64(&sub_data, "trial_end")?;
    let cs = json!({
        "id": id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": false},
        "after_expiration": null,
        "allow_promotion_codes": param_bool(params, "allow_promotion_codes")?,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": params.get("automatic_tax").map(|a| param_bool(a, "enabled")).transpose()?.flatten().unwrap_or(false), "liability": null, "provider": null, "status": null},
        "billing_address_collection": param_nonempty(params, "billing_address_collection"),
        "cancel_url": param_nonempty(params, "cancel_url"),
        "client_reference_id": param_nonempty(params, "client_reference_id"),
        "client_secret": if hosted { Value::Null } else { json!(format!("{id}_secret_{}", crate::util::random_str(20))) },
        "collected_information": null,
        "consent": null,
        "consent_collection": null,
        "created": now,
        "currency": currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
        "customer": customer,
        "customer_creation": if mode == "payment" { json!(param_nonempty(params, "customer_creation").unwrap_or("if_required")) } else { Value::Null },
        "customer_details": null,
        "customer_email": customer_email,
        "discounts": [],
        "expires_at": expires_at,
        "invoice": null,
        "invoice_creation": if mode == "payment" { json!({"enabled": false, "invoice_data": {"account_tax_ids": null, "custom_fields": null, "description": null, "footer": null, "issuer": null, "metadata": {}, "rendering_options": null}}) } else { Value::Null },
        "livemode": false,
        "locale": param_nonempty(params, "locale"),
        "metadata": new_metadata(params)?,
        "mode": mode,
        "origin_context": null,
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": if mode == "subscription" { json!(param_nonempty(params, "payment_method_collection").unwrap_or("always")) } else { json!("always") },
        "payment_method_configuration_details": null,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "payment_status": if mode == "setup" { "no_payment_required" } else { "unpaid" },
        "phone_number_collection": {"enabled": false},
        "recovered_from": null,
        "return_url": param_nonempty(params, "return_url"),
        "saved_payment_method_options": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_options": [],
        "status": "open",
        "submit_type": param_nonempty(params, "submit_type"),
        "subscription": null,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": ui_mode,
        "url": if hosted { json!(format!("{}/checkout/{}", ctx.base_url, id)) } else { Value::Null },
        "wallet_options": null,
        "_sb_items": items,
        "_sb_trial_days": trial_days,
        "_sb_trial_end": trial_end,
        "_sb_sub_metadata": new_metadata(&sub_data)?,
        "_sb_sub_description": param_nonempty(&sub_data, "description"),
        "_sb_pi_data": params.get("payment_intent_data").cloned().unwrap_or(json!({})),
        "_sb_clock_now": clock_now,
        "_sb_discounts": super::subscriptions::discount_specs(params).iter().map(|d| json!({"coupon": d.coupon, "promotion_code": d.promotion_code})).collect::<Vec<_>>(),
    });
    ctx.put("checkout.session", cs.clone());
    Ok(public(&cs))
}

pub fn update(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("checkout.session", id, "session")?;
    let mut cs = old.clone();
    if params.get("metadata").is_some() {
        cs["metadata"] = crate::store::merge_metadata(&old["metadata"], params)?;
    }
    ctx.put("checkout.session", cs.clone());
    Ok(public(&cs))
}

pub fn list(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let pi = param_str(params, "payment_intent");
    let sub = param_str(params, "subscription");
    let status = param_str(params, "status");
    let mut items = Vec::new();
    for cs in ctx.all("checkout.session") {
        if customer.is_some_and(|c| cs["customer"] != c)
            || pi.is_some_and(|x| cs["payment_intent"] != x)
            || sub.is_some_and(|x| cs["subscription"] != x)
            || status.is_some_and(|x| cs["status"] != x)
        {
            continue;
        }
        if !created_matches(params, "created", cs["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(cs));
    }
    paginate(items, params, "/v1/checkout/sessions")
}

pub fn line_items(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let cs = ctx.find("checkout.session", id, "session")?;
    let items = cs["_sb_items"].as_array().cloned().unwrap_or_default();
    paginate(items, params, &format!("/v1/checkout/sessions/{id}/line_items"))
}

/// `GET /v1/payment_pages/{id}`: the session as the Checkout front end sees it.
pub fn payment_page(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let cs = ctx.find("checkout.session", id, "session")?;
    let mut v = public(&cs);
    v["object"] = json!("checkout.session");
    v["session_id"] = cs["id"].clone();
    v["line_item_group"] =
        json!({"line_items": cs["_sb_items"], "total": cs["amount_total"], "currency": cs["currency"]});
    Ok(v)
}

/// `POST /v1/payment_pages/{id}/confirm` with `payment_method`.
pub fn payment_page_confirm(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let pm = param_nonempty(params, "payment_method").ok_or_else(|| ApiError::missing("payment_method"))?;
    let email = param_nonempty(params, "email");
    match complete(ctx, id, pm, email, param_bool(params, "_sandbox_authenticated")?.unwrap_or(false))? {
        Completion::Done(cs) => Ok(cs),
        Completion::NeedsAuthentication => Err(ApiError::card(
            "authentication_required",
            Some("authentication_required"),
            "This payment requires authentication; complete it on the hosted Checkout page.",
        )),
    }
}
