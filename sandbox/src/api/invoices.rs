//! `/v1/invoices`, `/v1/invoiceitems`, `/v1/invoice_payments` and invoice previews:
//! parameters read here, changes made by the engine.

use serde_json::{json, Value};

use super::customers::search_kind;
use super::subscriptions::item_specs;
use crate::engine::invoice_payments::{attempt_payment, mark_paid};
use crate::engine::invoices::{create_invoice as engine_create_invoice, finalize, NewInvoice};
use crate::engine::lines::{invoice_item, product_name, take_pending_items, Line, NewItem};
use crate::engine::proration::change_items;
use crate::engine::subscriptions::{renew, NewSubscription};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, list_of, merge_metadata, new_metadata, paginate, param_bool, param_i64, param_nonempty, param_str,
    public, Ctx, State,
};
use crate::util::new_id;

// Invoices

pub fn create_invoice(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?.to_string();
    ctx.find("customer", &customer, "customer")?;
    let sub = match param_nonempty(params, "subscription") {
        Some(s) => Some(ctx.find("subscription", s, "subscription")?),
        None => None,
    };
    let default_pm = match param_nonempty(params, "default_payment_method") {
        Some(pm) => Some(
            crate::engine::pay::customer_payment_method_id(ctx, pm, &customer)
                .ok_or_else(|| crate::engine::pay::not_customers_payment_method("default_payment_method", pm))?,
        ),
        None => None,
    };
    let behavior = param_nonempty(params, "pending_invoice_items_behavior").unwrap_or("exclude");
    let lines = if behavior == "include" {
        take_pending_items(ctx, &customer, sub.as_ref().and_then(|s| s["id"].as_str()), "pending")
    } else {
        Vec::new()
    };
    let currency = param_nonempty(params, "currency")
        .map(str::to_lowercase)
        .or_else(|| sub.as_ref().and_then(|s| s["currency"].as_str().map(str::to_string)))
        .unwrap_or_else(|| "usd".into());
    let now = ctx.now_for_customer(Some(&customer));
    let inv = engine_create_invoice(
        ctx,
        NewInvoice {
            customer: &customer,
            subscription: sub.as_ref(),
            billing_reason: "manual",
            currency: &currency,
            lines,
            period: (now, now),
            collection_method: param_nonempty(params, "collection_method").unwrap_or("charge_automatically"),
            days_until_due: param_i64(params, "days_until_due")?,
            auto_advance: param_bool(params, "auto_advance")?.unwrap_or(false),
            metadata: new_metadata(params)?,
            description: param_nonempty(params, "description").map(str::to_string),
        },
    )?;
    let id = inv["id"].as_str().unwrap_or_default().to_string();
    let ids: Vec<String> = ctx
        .all("invoiceitem")
        .into_iter()
        .filter(|ii| ii["invoice"] == "pending")
        .filter_map(|ii| ii["id"].as_str().map(str::to_string))
        .collect();
    for ii in ids {
        if let Some(v) = ctx.get_mut("invoiceitem", &ii) {
            v["invoice"] = json!(id);
        }
    }
    if let Some(pm) = default_pm {
        if let Some(v) = ctx.get_mut("invoice", &id) {
            v["default_payment_method"] = json!(pm);
        }
    }
    Ok(public(&ctx.find("invoice", &id, "invoice")?))
}

pub fn update_invoice(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("invoice", id, "invoice")?;
    let mut inv = old.clone();
    if params.get("metadata").is_some() {
        inv["metadata"] = merge_metadata(&old["metadata"], params)?;
    }
    if let Some(a) = param_bool(params, "auto_advance")? {
        inv["auto_advance"] = json!(a);
        if a && inv["status"] == "draft" && inv["automatically_finalizes_at"].is_null() {
            inv["automatically_finalizes_at"] = json!(ctx.now_for(&old) + 3600);
        }
    }
    for k in ["description", "footer"] {
        if let Some(v) = param_str(params, k) {
            inv[k] = if v.is_empty() { Value::Null } else { json!(v) };
        }
    }
    match param_str(params, "default_payment_method") {
        Some("") => inv["default_payment_method"] = Value::Null,
        Some(pm) => {
            let customer = inv["customer"].as_str().unwrap_or_default();
            inv["default_payment_method"] = json!(crate::engine::pay::customer_payment_method_id(ctx, pm, customer)
                .ok_or_else(|| crate::engine::pay::not_customers_payment_method("default_payment_method", pm))?);
        }
        None => {}
    }
    Ok(ctx.save_updated("invoice", "invoice.updated", &old, inv))
}

pub fn delete_invoice(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let inv = ctx.find("invoice", id, "invoice")?;
    if inv["status"] != "draft" {
        return Err(ApiError::invalid("You can only delete draft invoices.").with_code("invoice_not_editable"));
    }
    ctx.remove("invoice", id);
    ctx.emit("invoice.deleted", &inv, None);
    Ok(json!({"id": id, "object": "invoice", "deleted": true}))
}

pub fn list_invoices(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let sub = param_str(params, "subscription");
    let status = param_str(params, "status");
    let cm = param_str(params, "collection_method");
    let mut items = Vec::new();
    for inv in ctx.all("invoice") {
        if customer.is_some_and(|c| inv["customer"] != c)
            || sub.is_some_and(|s| inv["subscription"] != s)
            || status.is_some_and(|s| inv["status"] != s)
            || cm.is_some_and(|c| inv["collection_method"] != c)
        {
            continue;
        }
        if !created_matches(params, "created", inv["created"].as_i64().unwrap_or(0))?
            || !created_matches(params, "due_date", inv["due_date"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(public(inv));
    }
    paginate(items, params, "/v1/invoices")
}

pub fn search_invoices(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    search_kind(ctx, "invoice", params, "/v1/invoices/search")
}

pub fn invoice_lines(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let inv = ctx.find("invoice", id, "invoice")?;
    let lines = inv["lines"]["data"].as_array().cloned().unwrap_or_default();
    // Lines are listed in invoice order; paginate expects newest first, so keep as is.
    paginate(lines, params, &format!("/v1/invoices/{id}/lines"))
}

pub fn pay_invoice(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let inv = ctx.find("invoice", id, "invoice")?;
    match inv["status"].as_str() {
        Some("paid") => return Err(ApiError::invalid("Invoice is already paid").with_code("invoice_already_paid")),
        Some("void") | Some("uncollectible") if param_bool(params, "paid_out_of_band")? != Some(true) => {
            return Err(ApiError::invalid(format!(
                "This invoice can not be paid because it is {}.",
                inv["status"].as_str().unwrap_or_default()
            ))
            .with_code("invoice_not_open"))
        }
        Some("draft") => {
            finalize(ctx, id)?;
        }
        _ => {}
    }
    if param_bool(params, "paid_out_of_band")? == Some(true) {
        return mark_paid(ctx, id, None).map(|v| public(&v));
    }
    if ctx.get("invoice", id).is_some_and(|i| i["status"] == "paid") {
        return Ok(public(&ctx.find("invoice", id, "invoice")?));
    }
    let pm = match param_nonempty(params, "payment_method") {
        Some(pm) => Some(
            crate::engine::pay::resolve_payment_method(ctx, pm, "payment_method")?["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ),
        None => None,
    };
    let off_session = param_bool(params, "off_session")?.unwrap_or(true);
    match attempt_payment(ctx, id, pm.as_deref(), off_session, false)? {
        crate::engine::pay::Outcome::Succeeded => Ok(public(&ctx.find("invoice", id, "invoice")?)),
        crate::engine::pay::Outcome::Failed(e) => Err(e),
        crate::engine::pay::Outcome::RequiresAction => Err(ApiError::card("invoice_payment_intent_requires_action", None, "This payment requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with the invoice.")),
    }
}

pub fn list_invoice_payments(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let inv = param_nonempty(params, "invoice").ok_or_else(|| ApiError::missing("invoice"))?;
    let inv = ctx.find("invoice", inv, "invoice")?;
    paginate(inv["payments"]["data"].as_array().cloned().unwrap_or_default(), params, "/v1/invoice_payments")
}

/// `POST /v1/invoices/create_preview`: the invoice a subscription change (or the next renewal)
/// would produce, computed on a copy of the state.
pub fn create_preview(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let details = params.get("subscription_details").cloned().unwrap_or(json!({}));
    let sub_id = param_nonempty(params, "subscription").map(str::to_string);
    let customer = match (param_nonempty(params, "customer"), &sub_id) {
        (Some(c), _) => c.to_string(),
        (None, Some(s)) => {
            ctx.find("subscription", s, "subscription")?["customer"].as_str().unwrap_or_default().to_string()
        }
        (None, None) => return Err(ApiError::missing("customer")),
    };
    ctx.find("customer", &customer, "customer")?;
    let serialized = serde_json::to_value(&*ctx.state).map_err(|_| ApiError::internal())?;
    let mut copy: State = serde_json::from_value(serialized).map_err(|_| ApiError::internal())?;
    let mut tmp = Ctx::new(&mut copy, &ctx.account, &ctx.base_url);
    let preview = {
        let preview_ctx = &mut tmp;
        let proration = param_nonempty(&details, "proration_behavior")
            .or_else(|| param_nonempty(params, "subscription_proration_behavior"))
            .unwrap_or("create_prorations")
            .to_string();
        let mut immediate = None;
        match &sub_id {
            Some(sid) => {
                let specs = item_specs(&details)?;
                if !specs.is_empty() || param_str(&details, "billing_cycle_anchor") == Some("now") {
                    let at =
                        param_i64(&details, "proration_date")?.or(param_i64(params, "subscription_proration_date")?);
                    // Previews never charge: compute prorations, then build the invoice by hand.
                    let behavior = if proration == "always_invoice" { "create_prorations" } else { proration.as_str() };
                    let before = preview_ctx.all("invoice").len();
                    change_items(
                        preview_ctx,
                        sid,
                        &specs,
                        behavior,
                        at,
                        param_str(&details, "billing_cycle_anchor") == Some("now"),
                    )?;
                    if preview_ctx.all("invoice").len() > before {
                        immediate = preview_ctx.all("invoice").first().map(|v| (*v).clone());
                    } else if proration == "always_invoice" {
                        let lines = take_pending_items(preview_ctx, &customer, Some(sid), "preview");
                        let sub = preview_ctx.find("subscription", sid, "subscription")?;
                        let now = preview_ctx.now_for(&sub);
                        immediate = Some(engine_create_invoice(
                            preview_ctx,
                            NewInvoice::for_subscription(
                                &customer,
                                &sub,
                                "subscription_update",
                                lines,
                                (now, now),
                                false,
                            ),
                        )?);
                    }
                }
                if let Some(inv) = immediate {
                    inv
                } else {
                    // The next renewal invoice.
                    let sub = preview_ctx.find("subscription", sid, "subscription")?;
                    if matches!(sub["status"].as_str(), Some("canceled") | Some("incomplete_expired"))
                        || sub["cancel_at_period_end"] == true
                    {
                        return Err(ApiError::invalid(format!("No upcoming invoices for customer: {customer}"))
                            .with_code("invoice_upcoming_none"));
                    }
                    preview_ctx.state.settings.finalize_delay_secs = 3600;
                    renew(preview_ctx, sid)?;
                    let inv_id = preview_ctx.find("subscription", sid, "subscription")?["latest_invoice"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    preview_ctx.find("invoice", &inv_id, "invoice")?
                }
            }
            None => {
                // New subscription preview from subscription_details[items].
                let specs = item_specs(&details)?;
                if specs.is_empty() {
                    let lines = take_pending_items(preview_ctx, &customer, None, "preview");
                    let now = preview_ctx.now_for_customer(Some(&customer));
                    engine_create_invoice(
                        preview_ctx,
                        NewInvoice {
                            customer: &customer,
                            subscription: None,
                            billing_reason: "manual",
                            currency: param_str(params, "currency").unwrap_or("usd"),
                            lines,
                            period: (now, now),
                            collection_method: "charge_automatically",
                            days_until_due: None,
                            auto_advance: false,
                            metadata: json!({}),
                            description: None,
                        },
                    )?
                } else {
                    let sub = crate::engine::subscriptions::create_subscription(
                        preview_ctx,
                        NewSubscription {
                            customer: customer.clone(),
                            items: specs,
                            payment_behavior: "default_incomplete".into(),
                            collection_method: "charge_automatically".into(),
                            metadata: json!({}),
                            trial_end: param_i64(&details, "trial_end")?,
                            ..Default::default()
                        },
                    )?;
                    preview_ctx.find("invoice", sub["latest_invoice"].as_str().unwrap_or_default(), "invoice")?
                }
            }
        }
    };
    let mut inv = public(&preview);
    let real_id = inv["id"].as_str().unwrap_or_default().to_string();
    inv["id"] = json!(format!("upcoming_{real_id}"));
    inv["status"] = json!("draft");
    inv["number"] = Value::Null;
    inv["hosted_invoice_url"] = Value::Null;
    inv["invoice_pdf"] = Value::Null;
    inv["amount_paid"] = json!(0);
    inv["amount_remaining"] = inv["amount_due"].clone();
    inv["attempt_count"] = json!(0);
    inv["attempted"] = json!(false);
    inv["status_transitions"] =
        json!({"finalized_at": null, "marked_uncollectible_at": null, "paid_at": null, "voided_at": null});
    inv["payments"] = list_of(vec![], "/v1/invoice_payments");
    inv["lines"]["url"] = json!(format!("/v1/invoices/upcoming/lines"));
    Ok(inv)
}

// ---------------------------------------------------------------------------------------------
// Invoice items

pub fn create_invoiceitem(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?.to_string();
    ctx.find("customer", &customer, "customer")?;
    let now = ctx.now_for_customer(Some(&customer));
    let (amount, currency, price, qty) = match params
        .get("pricing")
        .and_then(|pr| param_nonempty(pr, "price"))
        .or_else(|| param_nonempty(params, "price"))
    {
        Some(pid) => {
            let price = ctx.find("price", pid, "price")?;
            let q = param_i64(params, "quantity")?.unwrap_or(1);
            (
                price["unit_amount"].as_i64().unwrap_or(0) * q,
                price["currency"].as_str().unwrap_or("usd").to_string(),
                Some(price),
                q,
            )
        }
        None => {
            let q = param_i64(params, "quantity")?.unwrap_or(1);
            let amount = match param_i64(params, "amount")? {
                Some(a) => a,
                None => {
                    param_i64(params, "unit_amount")?
                        .or(params.get("price_data").map(|pd| param_i64(pd, "unit_amount")).transpose()?.flatten())
                        .ok_or_else(|| ApiError::missing("amount"))?
                        * q
                }
            };
            let currency =
                param_nonempty(params, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
            (amount, currency, None, q)
        }
    };
    let invoice = param_nonempty(params, "invoice").map(str::to_string);
    let sub = param_nonempty(params, "subscription").map(str::to_string);
    let description = param_nonempty(params, "description")
        .map(str::to_string)
        .or_else(|| price.as_ref().map(|pr| product_name(ctx, pr)));
    let ii = invoice_item(
        ctx,
        NewItem {
            customer: &customer,
            amount,
            currency: &currency,
            description: json!(description),
            price: price.as_ref(),
            quantity: qty,
            subscription: sub.as_deref(),
            proration: false,
            period: (now, now),
            invoice: invoice.as_deref(),
            metadata: new_metadata(params)?,
            discountable: param_bool(params, "discountable")?.unwrap_or(true),
        },
    );
    ctx.put("invoiceitem", ii.clone());
    if let Some(inv_id) = &invoice {
        let mut inv = ctx.find("invoice", inv_id, "invoice")?;
        if inv["status"] != "draft" {
            return Err(ApiError::invalid_value("invoice", "You can only add invoice items to draft invoices.")
                .with_code("invoice_not_editable"));
        }
        let line = Line {
            amount,
            description: ii["description"].as_str().unwrap_or_default().to_string(),
            period: (now, now),
            quantity: qty,
            price: price.clone(),
            subscription: sub.clone(),
            subscription_item: None,
            invoice_item: ii["id"].as_str().map(str::to_string),
            proration: false,
        };
        let _ = line;
        let mut lines: Vec<Value> = inv["lines"]["data"].as_array().cloned().unwrap_or_default();
        lines.push(json!({
            "id": new_id("il"), "object": "line_item", "amount": amount, "currency": currency, "description": ii["description"],
            "discount_amounts": [], "discountable": true, "discounts": [], "invoice": inv_id, "livemode": false, "metadata": {},
            "parent": {"invoice_item_details": {"invoice_item": ii["id"], "proration": false, "proration_details": {"credited_items": null}, "subscription": sub}, "subscription_item_details": null, "type": "invoice_item_details"},
            "period": {"end": now, "start": now}, "pretax_credit_amounts": [],
            "pricing": ii["pricing"], "quantity": qty, "quantity_decimal": qty.to_string(), "subscription": sub, "subtotal": amount, "taxes": [],
        }));
        let total: i64 = lines.iter().map(|l| l["amount"].as_i64().unwrap_or(0)).sum();
        inv["lines"]["data"] = Value::Array(lines);
        for k in ["subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax"] {
            inv[k] = json!(total);
        }
        inv["amount_due"] = json!(total.max(0));
        inv["amount_remaining"] = json!(total.max(0));
        ctx.put("invoice", inv);
    }
    ctx.emit("invoiceitem.created", &ii, None);
    Ok(public(&ii))
}

pub fn list_invoiceitems(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let invoice = param_str(params, "invoice");
    let pending = param_bool(params, "pending")?;
    let items: Vec<Value> = ctx
        .all("invoiceitem")
        .into_iter()
        .filter(|ii| {
            customer.is_none_or(|c| ii["customer"] == c)
                && invoice.is_none_or(|i| ii["invoice"] == i)
                && pending.is_none_or(|pe| ii["invoice"].is_null() == pe)
        })
        .map(public)
        .collect();
    paginate(items, params, "/v1/invoiceitems")
}
