//! Checkout Sessions, and their completion (hosted page or `/v1/payment_pages/{id}/confirm`).

use serde_json::{json, Value};

use crate::cards::Behavior;
use crate::engine::billing::{self as eng, NewSubscription};
use crate::engine::discounts::DiscountSpec;
use crate::engine::pay::{self, NewPayment, Outcome};
use crate::error::{ApiError, ApiResult};
use crate::state::{
    created_matches, diff, new_metadata, p_bool, p_i64, p_list, p_nonempty, p_str, paginate, public, Ctx,
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

pub fn create(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let mode = p_nonempty(p, "mode").unwrap_or("payment").to_string();
    if !matches!(mode.as_str(), "payment" | "subscription" | "setup") {
        return Err(ApiError::invalid_value("mode", "Invalid mode: must be one of payment, setup, or subscription"));
    }
    // The 2026-03-25.dahlia names (hosted → hosted_page, embedded → embedded_page, custom → elements).
    let ui_mode = p_nonempty(p, "ui_mode").unwrap_or("hosted_page");
    if !matches!(ui_mode, "hosted_page" | "embedded_page" | "elements" | "form") {
        return Err(ApiError::invalid_value(
            "ui_mode",
            "Invalid ui_mode: must be one of hosted_page, embedded_page, elements, or form",
        ));
    }
    let hosted = ui_mode == "hosted_page";
    let success_url = p_nonempty(p, "success_url");
    if hosted && success_url.is_none() {
        return Err(ApiError::missing("success_url"));
    }
    let customer = p_nonempty(p, "customer").map(str::to_string);
    let customer_email = p_nonempty(p, "customer_email").map(str::to_string);
    if customer.is_some() && customer_email.is_some() {
        return Err(ApiError::invalid_value(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.",
        ));
    }
    let mut clock_now = cx.now();
    if let Some(c) = &customer {
        cx.find("customer", c, "customer")?;
        clock_now = cx.now_for_customer(Some(c));
    }
    let now = cx.now();
    let mut items = Vec::new();
    for (i, li) in p_list(p, "line_items").iter().enumerate() {
        let quantity = p_i64(li, "quantity")?.unwrap_or(1);
        let price = if let Some(pid) = p_nonempty(li, "price") {
            cx.find("price", pid, &format!("line_items[{i}][price]"))?
        } else if let Some(pd) = li.get("price_data") {
            let mut pp = pd.clone();
            if pp.get("product").is_none() && pp.get("product_data").is_none() {
                return Err(ApiError::missing(&format!("line_items[{i}][price_data][product]")));
            }
            pp["active"] = json!("false");
            let price = super::catalog::create_price(cx, &pp)?;
            cx.find("price", price["id"].as_str().unwrap_or_default(), "price")?
        } else if let (Some(name), Some(_)) = (p_nonempty(li, "name"), p_i64(li, "amount")?) {
            // Legacy line items (name/amount/currency), still used by the Stripe CLI fixtures.
            let price = super::catalog::create_price(
                cx,
                &json!({"currency": p_str(li, "currency").unwrap_or("usd"), "unit_amount": li["amount"], "product_data": {"name": name, "description": li.get("description").cloned().unwrap_or(Value::Null)}, "active": "false"}),
            )?;
            cx.find("price", price["id"].as_str().unwrap_or_default(), "price")?
        } else {
            return Err(ApiError::missing(&format!("line_items[{i}][price]")));
        };
        let name = eng::product_name(cx, &price);
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
        match p_i64(p, "expires_at")? {
            Some(t) if t < now + 1800 || t > now + DAY => return Err(ApiError::invalid_value(
                "expires_at",
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
            )),
            Some(t) => t,
            None => now + DAY,
        };
    let sub_data = p.get("subscription_data").cloned().unwrap_or(json!({}));
    let id = new_id("cs_test");
    let trial_days = p_i64(&sub_data, "trial_period_days")?;
    let trial_end = p_i64(&sub_data, "trial_end")?;
    let cs = json!({
        "id": id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": false},
        "after_expiration": null,
        "allow_promotion_codes": p_bool(p, "allow_promotion_codes")?,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": p.get("automatic_tax").map(|a| p_bool(a, "enabled")).transpose()?.flatten().unwrap_or(false), "liability": null, "provider": null, "status": null},
        "billing_address_collection": p_nonempty(p, "billing_address_collection"),
        "cancel_url": p_nonempty(p, "cancel_url"),
        "client_reference_id": p_nonempty(p, "client_reference_id"),
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
        "customer_creation": if mode == "payment" { json!(p_nonempty(p, "customer_creation").unwrap_or("if_required")) } else { Value::Null },
        "customer_details": null,
        "customer_email": customer_email,
        "discounts": [],
        "expires_at": expires_at,
        "invoice": null,
        "invoice_creation": if mode == "payment" { json!({"enabled": false, "invoice_data": {"account_tax_ids": null, "custom_fields": null, "description": null, "footer": null, "issuer": null, "metadata": {}, "rendering_options": null}}) } else { Value::Null },
        "livemode": false,
        "locale": p_nonempty(p, "locale"),
        "metadata": new_metadata(p)?,
        "mode": mode,
        "origin_context": null,
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": if mode == "subscription" { json!(p_nonempty(p, "payment_method_collection").unwrap_or("always")) } else { json!("always") },
        "payment_method_configuration_details": null,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "payment_status": if mode == "setup" { "no_payment_required" } else { "unpaid" },
        "phone_number_collection": {"enabled": false},
        "recovered_from": null,
        "return_url": p_nonempty(p, "return_url"),
        "saved_payment_method_options": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_options": [],
        "status": "open",
        "submit_type": p_nonempty(p, "submit_type"),
        "subscription": null,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": ui_mode,
        "url": if hosted { json!(format!("{}/checkout/{}", cx.base_url, id)) } else { Value::Null },
        "wallet_options": null,
        "_sb_items": items,
        "_sb_trial_days": trial_days,
        "_sb_trial_end": trial_end,
        "_sb_sub_metadata": new_metadata(&sub_data)?,
        "_sb_sub_description": p_nonempty(&sub_data, "description"),
        "_sb_pi_data": p.get("payment_intent_data").cloned().unwrap_or(json!({})),
        "_sb_clock_now": clock_now,
        "_sb_discounts": super::billing::discount_specs(p).iter().map(|d| json!({"coupon": d.coupon, "promotion_code": d.promotion_code})).collect::<Vec<_>>(),
    });
    cx.put("checkout.session", cs.clone());
    Ok(public(&cs))
}

pub fn update(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("checkout.session", id, "session")?;
    let mut cs = old.clone();
    if p.get("metadata").is_some() {
        cs["metadata"] = crate::state::merge_metadata(&old["metadata"], p)?;
    }
    cx.put("checkout.session", cs.clone());
    Ok(public(&cs))
}

pub fn list(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_str(p, "customer");
    let pi = p_str(p, "payment_intent");
    let sub = p_str(p, "subscription");
    let status = p_str(p, "status");
    let mut items = Vec::new();
    for cs in cx.all("checkout.session") {
        if customer.is_some_and(|c| cs["customer"] != c)
            || pi.is_some_and(|x| cs["payment_intent"] != x)
            || sub.is_some_and(|x| cs["subscription"] != x)
            || status.is_some_and(|x| cs["status"] != x)
        {
            continue;
        }
        if !created_matches(p, "created", cs["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(cs));
    }
    paginate(items, p, "/v1/checkout/sessions")
}

pub fn line_items(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let cs = cx.find("checkout.session", id, "session")?;
    let items = cs["_sb_items"].as_array().cloned().unwrap_or_default();
    paginate(items, p, &format!("/v1/checkout/sessions/{id}/line_items"))
}

pub fn expire(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = cx.find("checkout.session", id, "session")?;
    if old["status"] != "open" {
        return Err(ApiError::invalid(format!("Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".", old["status"].as_str().unwrap_or_default()))
            .with_code("checkout_session_not_open"));
    }
    let mut cs = old.clone();
    cs["status"] = json!("expired");
    cs["url"] = Value::Null;
    cx.put("checkout.session", cs.clone());
    cx.emit("checkout.session.expired", &cs, None);
    Ok(public(&cs))
}

/// What completing a session led to.
pub enum Completion {
    Done(Value),
    /// The card needs 3-D Secure first (hosted page shows the challenge).
    NeedsAuthentication,
}

/// Completes an open session with a payment method (from the hosted page or the CLI's
/// `payment_pages/{id}/confirm`). Declines leave the session open and return a card error.
pub fn complete(
    cx: &mut Ctx,
    id: &str,
    pm_id: &str,
    email: Option<&str>,
    authenticated: bool,
) -> ApiResult<Completion> {
    let mut cs = cx.find("checkout.session", id, "session")?;
    // A promotion code entered on the page (kept while 3-D Secure is pending).
    let mut specs: Vec<DiscountSpec> = cs["_sb_discounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| DiscountSpec {
            coupon: d["coupon"].as_str().map(str::to_string),
            promotion_code: d["promotion_code"].as_str().map(str::to_string),
        })
        .collect();
    if let Some(code) = cs["_sb_entered_code"].as_str().filter(|c| !c.is_empty()) {
        let promo = crate::engine::discounts::find_code(cx, code).ok_or_else(|| {
            ApiError::invalid_value("promotion_code", "This code is invalid.").with_code("promotion_code_invalid")
        })?;
        specs.push(DiscountSpec { coupon: None, promotion_code: promo["id"].as_str().map(str::to_string) });
    }
    // Amounts after discounts (payment mode charges them; subscription invoices apply them).
    let mut discount_total = 0;
    let mut discount_rows = Vec::new();
    for d in &specs {
        let coupon_id = match (&d.coupon, &d.promotion_code) {
            (Some(c), _) => c.clone(),
            (None, Some(p)) => cx.find("promotion_code", p, "promotion_code")?["promotion"]["coupon"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            _ => continue,
        };
        let coupon = cx.find("coupon", &coupon_id, "coupon")?;
        let base = cs["amount_subtotal"].as_i64().unwrap_or(0) - discount_total;
        discount_total += crate::engine::discounts::amount_off(&coupon, base);
        discount_rows.push(json!({"coupon": coupon_id, "promotion_code": d.promotion_code}));
    }
    if discount_total > 0 {
        let subtotal = cs["amount_subtotal"].as_i64().unwrap_or(0);
        cs["amount_total"] = json!(subtotal - discount_total);
        cs["total_details"]["amount_discount"] = json!(discount_total);
        cs["discounts"] = Value::Array(discount_rows);
    }
    if cs["status"] != "open" {
        return Err(ApiError::invalid(format!(
            "This Checkout Session is no longer active (status: {}).",
            cs["status"].as_str().unwrap_or_default()
        ))
        .with_code("checkout_session_not_open"));
    }
    let pm = pay::resolve_pm(cx, pm_id, "payment_method")?;
    let pm_id = pm["id"].as_str().unwrap_or_default().to_string();
    let mode = cs["mode"].as_str().unwrap_or("payment").to_string();
    let trial = cs["_sb_trial_days"].as_i64().is_some_and(|d| d > 0) || cs["_sb_trial_end"].is_i64();
    // Nothing is charged today with a trial, a 100% discount, or in setup mode.
    let charges_now =
        cs["amount_total"].as_i64().unwrap_or(0) > 0 && (mode == "payment" || (mode == "subscription" && !trial));
    let beh = pay::behavior(&pm);
    // A card whose charge fails: the attempt confirms the payment intent and leaves a failed
    // charge (`charge.failed`, `payment_intent.payment_failed`); the session stays open and the
    // next attempt confirms the same payment intent.
    let charge_fails = charges_now && matches!(beh, Behavior::Decline(_) | Behavior::AttachThenFail);
    match beh {
        Behavior::Decline(code) if !charges_now => return Err(pay::decline(code)),
        Behavior::ThreeDsSetup | Behavior::ThreeDsAlways if !authenticated => {
            return Ok(Completion::NeedsAuthentication)
        }
        _ => {}
    }
    if mode == "payment" && charge_fails {
        let pi_id = session_intent(cx, &cs, cs["customer"].as_str(), &pm_id)?;
        let (_, outcome) = pay::confirm(cx, &pi_id, Some(&pm_id), false, authenticated)?;
        return Err(match outcome {
            Outcome::Failed(e) => e,
            _ => pay::decline("generic_decline"),
        });
    }
    let email = email
        .map(str::to_string)
        .or_else(|| cs["customer_email"].as_str().map(str::to_string))
        .or_else(|| pm["billing_details"]["email"].as_str().map(str::to_string));
    // The customer: given, created by an earlier (failed) attempt, or created now (always in
    // subscription mode).
    let mut customer = cs["customer"].as_str().or_else(|| cs["_sb_customer"].as_str()).map(str::to_string);
    if customer.is_none() && (mode != "payment" || cs["customer_creation"] == "always") {
        let mut params = json!({});
        if let Some(e) = &email {
            params["email"] = json!(e);
        }
        let c = super::customers::create(cx, &params)?;
        customer = c["id"].as_str().map(str::to_string);
        if let Some(s) = cx.get_mut("checkout.session", id) {
            s["_sb_customer"] = json!(customer);
        }
    }
    let mut new_cs = cs.clone();
    if let Some(c) = customer.as_deref().filter(|_| !charge_fails) {
        pay::attach(cx, &pm_id, c)?;
        if mode == "subscription" {
            let old = cx.find("customer", c, "customer")?;
            let mut nc = old.clone();
            nc["invoice_settings"]["default_payment_method"] = json!(pm_id);
            super::save_updated(cx, "customer", "customer.updated", &old, nc);
        }
    }
    let cus_obj = customer.as_deref().and_then(|c| cx.get("customer", c)).cloned();
    new_cs["customer"] = json!(customer);
    new_cs["customer_details"] = json!({
        "address": null,
        "business_name": null,
        "email": email.clone().or_else(|| cus_obj.as_ref().and_then(|c| c["email"].as_str().map(str::to_string))),
        "individual_name": null,
        "name": cus_obj.as_ref().map(|c| c["name"].clone()).unwrap_or(Value::Null),
        "phone": null,
        "tax_exempt": "none",
        "tax_ids": [],
    });
    match mode.as_str() {
        "subscription" => {
            let c = customer.clone().unwrap_or_default();
            let pending = cs["_sb_subscription"]
                .as_str()
                .and_then(|s| cx.get("subscription", s))
                .filter(|s| s["status"] == "incomplete")
                .cloned();
            let sub = match pending {
                Some(sub) => {
                    // An earlier attempt failed: confirm the first invoice's payment intent again.
                    let sub_id = sub["id"].as_str().unwrap_or_default().to_string();
                    if !charge_fails {
                        if let Some(s) = cx.get_mut("subscription", &sub_id) {
                            s["default_payment_method"] = json!(pm_id);
                        }
                    }
                    match eng::attempt_payment(
                        cx,
                        sub["latest_invoice"].as_str().unwrap_or_default(),
                        Some(&pm_id),
                        false,
                        authenticated,
                    )? {
                        Outcome::Succeeded => {}
                        Outcome::Failed(e) => return Err(e),
                        Outcome::RequiresAction => return Ok(Completion::NeedsAuthentication),
                    }
                    cx.find("subscription", &sub_id, "subscription")?
                }
                None => {
                    let items: Vec<eng::ItemSpec> = cs["_sb_items"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                        .iter()
                        .filter(|i| i["price"]["type"] == "recurring")
                        .map(|i| eng::ItemSpec {
                            price: i["price"]["id"].as_str().map(str::to_string),
                            quantity: i["quantity"].as_i64(),
                            ..Default::default()
                        })
                        .collect();
                    let sub = eng::create_subscription(
                        cx,
                        NewSubscription {
                            customer: c,
                            items,
                            trial_end: cs["_sb_trial_end"].as_i64(),
                            trial_period_days: cs["_sb_trial_days"].as_i64(),
                            // A card whose payment fails is not saved.
                            default_payment_method: (!charge_fails).then(|| pm_id.clone()),
                            first_payment_method: charge_fails.then(|| pm_id.clone()),
                            metadata: cs["_sb_sub_metadata"].clone(),
                            description: cs["_sb_sub_description"].as_str().map(str::to_string),
                            payment_behavior: "allow_incomplete".into(),
                            collection_method: "charge_automatically".into(),
                            checkout: true,
                            authenticated,
                            discounts: specs.clone(),
                            ..Default::default()
                        },
                    )?;
                    if sub["status"] == "incomplete" {
                        // The first invoice's payment failed: the session stays open, as on Stripe.
                        if let Some(s) = cx.get_mut("checkout.session", id) {
                            s["_sb_subscription"] = sub["id"].clone();
                        }
                        return Err(first_invoice_error(cx, &sub));
                    }
                    sub
                }
            };
            new_cs["subscription"] = sub["id"].clone();
            new_cs["invoice"] = sub["latest_invoice"].clone();
            new_cs["payment_status"] = json!(if charges_now { "paid" } else { "no_payment_required" });
        }
        "payment" if charges_now => {
            let pi_id = session_intent(cx, &cs, customer.as_deref(), &pm_id)?;
            let (_, outcome) = pay::confirm(cx, &pi_id, Some(&pm_id), false, authenticated)?;
            match outcome {
                Outcome::Succeeded => {}
                Outcome::Failed(e) => return Err(e),
                Outcome::RequiresAction => return Ok(Completion::NeedsAuthentication),
            }
            new_cs["payment_intent"] = json!(pi_id);
            new_cs["payment_status"] = json!("paid");
        }
        _ => {
            new_cs["payment_status"] = json!("no_payment_required");
        }
    }
    new_cs["status"] = json!("complete");
    new_cs["url"] = Value::Null;
    let _ = diff(&cs, &new_cs);
    cx.put("checkout.session", new_cs.clone());
    cx.emit("checkout.session.completed", &new_cs, None);
    Ok(Completion::Done(public(&new_cs)))
}

/// The session's payment intent (payment mode): created by the first attempt, confirmed again
/// by each later one (with the amount after any promotion code and the customer known by then).
fn session_intent(cx: &mut Ctx, cs: &Value, customer: Option<&str>, pm_id: &str) -> ApiResult<String> {
    let amount = cs["amount_total"].as_i64().unwrap_or(0);
    let existing = cs["payment_intent"]
        .as_str()
        .and_then(|p| cx.get("payment_intent", p))
        .filter(|p| p["status"] != "succeeded" && p["status"] != "canceled")
        .cloned();
    let pi_id = match existing {
        Some(mut pi) => {
            pi["amount"] = json!(amount);
            if let Some(c) = customer {
                pi["customer"] = json!(c);
            }
            cx.put("payment_intent", pi.clone());
            pi["id"].as_str().unwrap_or_default().to_string()
        }
        None => {
            let pi_data = cs["_sb_pi_data"].clone();
            let pi = pay::create_intent(
                cx,
                NewPayment {
                    customer,
                    amount,
                    currency: cs["currency"].as_str().unwrap_or("usd"),
                    payment_method: Some(pm_id),
                    description: p_nonempty(&pi_data, "description").map(str::to_string),
                    metadata: new_metadata(&pi_data)?,
                    setup_future_usage: p_nonempty(&pi_data, "setup_future_usage").map(str::to_string),
                },
            );
            pi["id"].as_str().unwrap_or_default().to_string()
        }
    };
    if let Some(s) = cx.get_mut("checkout.session", cs["id"].as_str().unwrap_or_default()) {
        s["payment_intent"] = json!(pi_id);
    }
    Ok(pi_id)
}

/// The card error of a subscription's failed first payment.
fn first_invoice_error(cx: &Ctx, sub: &Value) -> ApiError {
    let inv = sub["latest_invoice"].as_str().and_then(|i| cx.get("invoice", i));
    let pi = inv.and_then(|i| i["_sb_pi"].as_str()).and_then(|p| cx.get("payment_intent", p));
    pay::decline(pi.and_then(|p| p["last_payment_error"]["decline_code"].as_str()).unwrap_or("generic_decline"))
}

/// `GET /v1/payment_pages/{id}`: the session as the Checkout front end sees it.
pub fn payment_page(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let cs = cx.find("checkout.session", id, "session")?;
    let mut v = public(&cs);
    v["object"] = json!("checkout.session");
    v["session_id"] = cs["id"].clone();
    v["line_item_group"] =
        json!({"line_items": cs["_sb_items"], "total": cs["amount_total"], "currency": cs["currency"]});
    Ok(v)
}

/// `POST /v1/payment_pages/{id}/confirm` with `payment_method`.
pub fn payment_page_confirm(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let pm = p_nonempty(p, "payment_method").ok_or_else(|| ApiError::missing("payment_method"))?;
    let email = p_nonempty(p, "email");
    match complete(cx, id, pm, email, p_bool(p, "_sandbox_authenticated")?.unwrap_or(false))? {
        Completion::Done(cs) => Ok(cs),
        Completion::NeedsAuthentication => Err(ApiError::card(
            "authentication_required",
            Some("authentication_required"),
            "This payment requires authentication; complete it on the hosted Checkout page.",
        )),
    }
}
