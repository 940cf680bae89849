//! Subscriptions, subscription items, invoices, invoice items.

use serde_json::{json, Value};

use super::customers::search_kind;
use super::save_updated;
use crate::engine::billing::{self as eng, ItemSpec, NewInvoice, NewSubscription};
use crate::error::{ApiError, ApiResult};
use crate::state::{
    created_matches, list_of, merge_metadata, new_metadata, p_bool, p_i64, p_list, p_nonempty, p_str, paginate, public,
    Ctx, State,
};
use crate::util::{new_id, DAY};

fn item_specs(p: &Value) -> ApiResult<Vec<ItemSpec>> {
    let mut out = Vec::new();
    for it in p_list(p, "items") {
        out.push(ItemSpec {
            id: p_nonempty(&it, "id").map(str::to_string),
            price: p_nonempty(&it, "price").or_else(|| p_nonempty(&it, "plan")).map(str::to_string),
            quantity: p_i64(&it, "quantity")?,
            deleted: p_bool(&it, "deleted")?.unwrap_or(false),
            metadata: it.get("metadata").cloned(),
        });
    }
    Ok(out)
}

/// `discounts[i][coupon|promotion_code]`, or the legacy `coupon` / `promotion_code`.
pub fn discount_specs(p: &Value) -> Vec<crate::engine::discounts::DiscountSpec> {
    let mut out: Vec<_> = p_list(p, "discounts")
        .iter()
        .map(|d| crate::engine::discounts::DiscountSpec {
            coupon: p_nonempty(d, "coupon").map(str::to_string),
            promotion_code: p_nonempty(d, "promotion_code").map(str::to_string),
        })
        .filter(|d| d.coupon.is_some() || d.promotion_code.is_some())
        .collect();
    if let Some(c) = p_nonempty(p, "coupon") {
        out.push(crate::engine::discounts::DiscountSpec { coupon: Some(c.to_string()), promotion_code: None });
    }
    if let Some(pc) = p_nonempty(p, "promotion_code") {
        out.push(crate::engine::discounts::DiscountSpec { coupon: None, promotion_code: Some(pc.to_string()) });
    }
    out
}

fn trial_end_param(p: &Value, now: i64) -> ApiResult<Option<i64>> {
    match p_str(p, "trial_end") {
        Some("now") => Ok(Some(now)),
        Some(_) => p_i64(p, "trial_end"),
        None => Ok(None),
    }
}

pub fn create_subscription(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_nonempty(p, "customer").ok_or_else(|| ApiError::missing("customer"))?.to_string();
    let now = cx.now_for_customer(Some(&customer));
    let mut trial_days = p_i64(p, "trial_period_days")?;
    if p_bool(p, "trial_from_plan")? == Some(true) && trial_days.is_none() {
        let specs = item_specs(p)?;
        if let Some(pid) = specs.first().and_then(|s| s.price.clone()) {
            trial_days = cx.get("price", &pid).and_then(|pr| pr["recurring"]["trial_period_days"].as_i64());
        }
    }
    let sub = eng::create_subscription(
        cx,
        NewSubscription {
            customer,
            items: item_specs(p)?,
            trial_end: trial_end_param(p, now)?,
            trial_period_days: trial_days,
            default_payment_method: p_nonempty(p, "default_payment_method").map(str::to_string),
            metadata: new_metadata(p)?,
            description: p_nonempty(p, "description").map(str::to_string),
            payment_behavior: p_nonempty(p, "payment_behavior").unwrap_or("allow_incomplete").to_string(),
            collection_method: p_nonempty(p, "collection_method").unwrap_or("charge_automatically").to_string(),
            days_until_due: p_i64(p, "days_until_due")?,
            cancel_at_period_end: p_bool(p, "cancel_at_period_end")?.unwrap_or(false),
            cancel_at: p_i64(p, "cancel_at")?,
            off_session: p_bool(p, "off_session")?.unwrap_or(false),
            checkout: false,
            authenticated: false,
            discounts: discount_specs(p),
            first_payment_method: None,
        },
    )?;
    if let Some(t) =
        p.get("trial_settings").and_then(|t| t.get("end_behavior")).and_then(|e| p_str(e, "missing_payment_method"))
    {
        if let Some(s) = cx.get_mut("subscription", sub["id"].as_str().unwrap_or_default()) {
            s["trial_settings"]["end_behavior"]["missing_payment_method"] = json!(t);
        }
    }
    Ok(public(&cx.find("subscription", sub["id"].as_str().unwrap_or_default(), "id")?))
}

pub fn update_subscription(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("subscription", id, "id")?;
    let status = old["status"].as_str().unwrap_or_default();
    if matches!(status, "canceled" | "incomplete_expired") {
        let only_meta = p
            .as_object()
            .is_some_and(|m| m.keys().all(|k| k == "metadata" || k == "cancellation_details" || k == "expand"));
        if !only_meta {
            return Err(ApiError::invalid(
                "A canceled subscription can only update its cancellation_details and metadata.",
            ));
        }
    }
    let now = cx.now_for(&old);
    let specs = item_specs(p)?;
    let proration = p_nonempty(p, "proration_behavior").unwrap_or("create_prorations").to_string();
    if !matches!(proration.as_str(), "create_prorations" | "always_invoice" | "none") {
        return Err(ApiError::invalid_value(
            "proration_behavior",
            "Invalid proration_behavior: must be one of create_prorations, none, or always_invoice",
        ));
    }
    let reset_anchor = p_str(p, "billing_cycle_anchor") == Some("now");
    if !specs.is_empty() || reset_anchor {
        eng::change_items(cx, id, &specs, &proration, p_i64(p, "proration_date")?, reset_anchor)?;
    }
    let mut sub = cx.find("subscription", id, "id")?;
    if p.get("metadata").is_some() {
        sub["metadata"] = merge_metadata(&sub["metadata"], p)?;
    }
    if let Some(v) = p_bool(p, "cancel_at_period_end")? {
        sub["cancel_at_period_end"] = json!(v);
        if v {
            sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"].clone();
            sub["canceled_at"] = json!(now);
            sub["cancellation_details"]["reason"] = json!("cancellation_requested");
        } else {
            sub["cancel_at"] = Value::Null;
            sub["canceled_at"] = Value::Null;
            sub["cancellation_details"] = json!({"comment": null, "feedback": null, "reason": null});
        }
    }
    match p_str(p, "cancel_at") {
        Some("") => {
            sub["cancel_at"] = Value::Null;
            sub["cancel_at_period_end"] = json!(false);
        }
        Some(_) => {
            let at = p_i64(p, "cancel_at")?;
            sub["cancel_at"] = json!(at);
            sub["canceled_at"] = json!(now);
        }
        None => {}
    }
    if let Some(cd) = p.get("cancellation_details") {
        for k in ["comment", "feedback"] {
            if let Some(v) = cd.get(k) {
                sub["cancellation_details"][k] = v.clone();
            }
        }
    }
    if let Some(pm) = p_str(p, "default_payment_method") {
        if pm.is_empty() {
            sub["default_payment_method"] = Value::Null;
        } else {
            let customer = sub["customer"].as_str().unwrap_or_default();
            let id = crate::engine::pay::customer_pm_id(cx, pm, customer)
                .ok_or_else(|| crate::engine::pay::not_customers_pm("default_payment_method", pm))?;
            sub["default_payment_method"] = json!(id);
        }
    }
    for k in ["description", "collection_method"] {
        if let Some(v) = p_str(p, k) {
            sub[k] = if v.is_empty() { Value::Null } else { json!(v) };
        }
    }
    if let Some(d) = p_i64(p, "days_until_due")? {
        sub["days_until_due"] = json!(d);
    }
    match p.get("pause_collection") {
        Some(Value::String(s)) if s.is_empty() => sub["pause_collection"] = Value::Null,
        Some(pc @ Value::Object(_)) => {
            let behavior = p_nonempty(pc, "behavior").ok_or_else(|| ApiError::missing("pause_collection[behavior]"))?;
            sub["pause_collection"] = json!({"behavior": behavior, "resumes_at": p_i64(pc, "resumes_at")?});
        }
        _ => {}
    }
    // Ending a trial now starts the paid period at once.
    let trial_end = trial_end_param(p, now)?;
    let end_trial_now = trial_end.is_some_and(|t| t <= now) && old["status"] == "trialing";
    if let Some(t) = trial_end {
        if !end_trial_now && t > now {
            sub["trial_end"] = json!(t);
            for it in sub["items"]["data"].as_array_mut().into_iter().flatten() {
                it["current_period_end"] = json!(t);
            }
            sub["_sb_twe_sent"] = json!(t - now <= 3 * DAY && old["_sb_twe_sent"] == true);
            if old["status"] != "trialing" && status == "active" {
                sub["status"] = json!("trialing");
                sub["trial_start"] = json!(now);
            }
        }
    }
    // Emit one update carrying every change (item changes included); an update the engine
    // emitted on the way (e.g. a status change) is folded into it.
    cx.put("subscription", sub.clone());
    cx.events.retain(|e| !(e.kind == "customer.subscription.updated" && e.object["id"] == id));
    emit_sub_update(cx, &old, &sub);
    if end_trial_now {
        let mut s = cx.find("subscription", id, "id")?;
        s["trial_end"] = json!(now);
        for it in s["items"]["data"].as_array_mut().into_iter().flatten() {
            it["current_period_end"] = json!(now);
        }
        cx.put("subscription", s);
        eng::renew(cx, id)?;
        let inv = cx.find("subscription", id, "id")?["latest_invoice"].as_str().unwrap_or_default().to_string();
        if cx.get("invoice", &inv).is_some_and(|i| i["status"] == "draft") {
            eng::finalize_and_charge(cx, &inv)?;
        }
    }
    Ok(public(&cx.find("subscription", id, "id")?))
}

pub fn cancel_subscription(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let sub = eng::cancel(cx, id, "cancellation_requested")?;
    if let Some(cd) = p.get("cancellation_details") {
        let mut s = sub.clone();
        for k in ["comment", "feedback"] {
            if let Some(v) = cd.get(k) {
                s["cancellation_details"][k] = v.clone();
            }
        }
        cx.put("subscription", s.clone());
        if let Some(ev) = cx.events.iter_mut().rev().find(|e| e.kind == "customer.subscription.deleted") {
            ev.object = public(&s);
        }
        return Ok(public(&s));
    }
    if p_bool(p, "invoice_now")? == Some(true) {
        let customer = sub["customer"].as_str().unwrap_or_default().to_string();
        let lines = eng::take_pending_items(cx, &customer, Some(id), "pending");
        if !lines.is_empty() {
            let now = cx.now_for(&sub);
            let inv = eng::create_invoice(
                cx,
                NewInvoice::for_subscription(&customer, &sub, "subscription_update", lines, (now, now), true),
            )?;
            eng::finalize_and_charge(cx, inv["id"].as_str().unwrap_or_default())?;
        }
    }
    Ok(public(&sub))
}

pub fn resume_subscription(cx: &mut Ctx, id: &str, _p: &Value) -> ApiResult<Value> {
    let old = cx.find("subscription", id, "id")?;
    if old["status"] != "paused" && old["pause_collection"].is_null() {
        return Err(
            ApiError::invalid("Only a paused subscription can be resumed.").with_code("subscription_not_paused")
        );
    }
    let mut s = old.clone();
    s["status"] = json!("active");
    s["pause_collection"] = Value::Null;
    let r = save_updated(cx, "subscription", "customer.subscription.updated", &old, s.clone());
    cx.emit("customer.subscription.resumed", &s, None);
    Ok(r)
}

pub fn delete_discount(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = cx.find("subscription", id, "id")?;
    let mut s = old.clone();
    s["discounts"] = json!([]);
    save_updated(cx, "subscription", "customer.subscription.updated", &old, s);
    Ok(json!({"id": new_id("di"), "object": "discount", "deleted": true}))
}

pub fn list_subscriptions(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_str(p, "customer");
    let price = p_str(p, "price").or_else(|| p_str(p, "plan"));
    let status = p_str(p, "status");
    let clock = p_str(p, "test_clock");
    let mut items = Vec::new();
    for s in cx.all("subscription") {
        let st = s["status"].as_str().unwrap_or_default();
        let status_ok = match status {
            None => !matches!(st, "canceled" | "incomplete_expired"),
            Some("all") => true,
            Some("ended") => matches!(st, "canceled" | "incomplete_expired"),
            Some(x) => st == x,
        };
        if !status_ok || customer.is_some_and(|c| s["customer"] != c) || clock.is_some_and(|c| s["test_clock"] != c) {
            continue;
        }
        if price
            .is_some_and(|pr| !s["items"]["data"].as_array().is_some_and(|a| a.iter().any(|i| i["price"]["id"] == pr)))
        {
            continue;
        }
        if !created_matches(p, "created", s["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(s));
    }
    paginate(items, p, "/v1/subscriptions")
}

pub fn search_subscriptions(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    search_kind(cx, "subscription", p, "/v1/subscriptions/search")
}

// ---------------------------------------------------------------------------------------------
// Subscription items

pub fn list_items(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let sub_id = p_nonempty(p, "subscription").ok_or_else(|| ApiError::missing("subscription"))?;
    let sub = cx.find("subscription", sub_id, "subscription")?;
    let items: Vec<Value> = sub["items"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .rev()
        .map(public)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    paginate(items, p, "/v1/subscription_items")
}

pub fn retrieve_item(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    cx.find_subscription_item(id)
        .map(|(_, si)| public(&si))
        .ok_or_else(|| ApiError::not_found("subscription_item", id, "id"))
}

pub fn create_item(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let sub_id = p_nonempty(p, "subscription").ok_or_else(|| ApiError::missing("subscription"))?.to_string();
    let price = p_nonempty(p, "price").ok_or_else(|| ApiError::missing("price"))?.to_string();
    let proration = p_nonempty(p, "proration_behavior").unwrap_or("create_prorations").to_string();
    let old = cx.find("subscription", &sub_id, "subscription")?;
    eng::change_items(
        cx,
        &sub_id,
        &[ItemSpec {
            id: None,
            price: Some(price.clone()),
            quantity: p_i64(p, "quantity")?,
            deleted: false,
            metadata: p.get("metadata").cloned(),
        }],
        &proration,
        p_i64(p, "proration_date")?,
        false,
    )?;
    let new = cx.find("subscription", &sub_id, "subscription")?;
    let si = new["items"]["data"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["price"]["id"] == price.as_str()).cloned())
        .unwrap_or(Value::Null);
    emit_sub_update(cx, &old, &new);
    Ok(public(&si))
}

fn emit_sub_update(cx: &mut Ctx, old: &Value, new: &Value) {
    let prev = crate::state::diff(old, new);
    if prev.as_object().is_some_and(|m| !m.is_empty()) {
        let first_invoice =
            cx.events.iter().position(|e| e.kind.starts_with("invoice.") || e.kind.starts_with("invoiceitem."));
        let created = cx.now_for(new);
        let ev = crate::state::PendingEvent {
            kind: "customer.subscription.updated".into(),
            object: public(new),
            previous: Some(prev),
            created,
        };
        match first_invoice {
            Some(i) => cx.events.insert(i, ev),
            None => cx.events.push(ev),
        }
    }
}

pub fn update_item(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let (sub_id, _) =
        cx.find_subscription_item(id).ok_or_else(|| ApiError::not_found("subscription_item", id, "id"))?;
    let old = cx.find("subscription", &sub_id, "subscription")?;
    let proration = p_nonempty(p, "proration_behavior").unwrap_or("create_prorations").to_string();
    eng::change_items(
        cx,
        &sub_id,
        &[ItemSpec {
            id: Some(id.to_string()),
            price: p_nonempty(p, "price").or_else(|| p_nonempty(p, "plan")).map(str::to_string),
            quantity: p_i64(p, "quantity")?,
            deleted: false,
            metadata: p.get("metadata").cloned(),
        }],
        &proration,
        p_i64(p, "proration_date")?,
        false,
    )?;
    let new = cx.find("subscription", &sub_id, "subscription")?;
    emit_sub_update(cx, &old, &new);
    retrieve_item(cx, id)
}

pub fn delete_item(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let (sub_id, _) =
        cx.find_subscription_item(id).ok_or_else(|| ApiError::not_found("subscription_item", id, "id"))?;
    let old = cx.find("subscription", &sub_id, "subscription")?;
    let proration = p_nonempty(p, "proration_behavior").unwrap_or("create_prorations").to_string();
    eng::change_items(
        cx,
        &sub_id,
        &[ItemSpec { id: Some(id.to_string()), deleted: true, ..Default::default() }],
        &proration,
        None,
        false,
    )?;
    let new = cx.find("subscription", &sub_id, "subscription")?;
    emit_sub_update(cx, &old, &new);
    Ok(json!({"id": id, "object": "subscription_item", "deleted": true}))
}

pub fn list_schedules(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_str(p, "customer");
    let items: Vec<Value> = cx
        .all("subscription_schedule")
        .into_iter()
        .filter(|s| customer.is_none_or(|c| s["customer"] == c))
        .map(public)
        .collect();
    paginate(items, p, "/v1/subscription_schedules")
}

// ---------------------------------------------------------------------------------------------
// Invoices

pub fn create_invoice(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_nonempty(p, "customer").ok_or_else(|| ApiError::missing("customer"))?.to_string();
    cx.find("customer", &customer, "customer")?;
    let sub = match p_nonempty(p, "subscription") {
        Some(s) => Some(cx.find("subscription", s, "subscription")?),
        None => None,
    };
    let default_pm = match p_nonempty(p, "default_payment_method") {
        Some(pm) => Some(
            crate::engine::pay::customer_pm_id(cx, pm, &customer)
                .ok_or_else(|| crate::engine::pay::not_customers_pm("default_payment_method", pm))?,
        ),
        None => None,
    };
    let behavior = p_nonempty(p, "pending_invoice_items_behavior").unwrap_or("exclude");
    let lines = if behavior == "include" {
        eng::take_pending_items(cx, &customer, sub.as_ref().and_then(|s| s["id"].as_str()), "pending")
    } else {
        Vec::new()
    };
    let currency = p_nonempty(p, "currency")
        .map(str::to_lowercase)
        .or_else(|| sub.as_ref().and_then(|s| s["currency"].as_str().map(str::to_string)))
        .unwrap_or_else(|| "usd".into());
    let now = cx.now_for_customer(Some(&customer));
    let inv = eng::create_invoice(
        cx,
        NewInvoice {
            customer: &customer,
            subscription: sub.as_ref(),
            billing_reason: "manual",
            currency: &currency,
            lines,
            period: (now, now),
            collection_method: p_nonempty(p, "collection_method").unwrap_or("charge_automatically"),
            days_until_due: p_i64(p, "days_until_due")?,
            auto_advance: p_bool(p, "auto_advance")?.unwrap_or(false),
            metadata: new_metadata(p)?,
            description: p_nonempty(p, "description").map(str::to_string),
        },
    )?;
    let id = inv["id"].as_str().unwrap_or_default().to_string();
    let ids: Vec<String> = cx
        .all("invoiceitem")
        .into_iter()
        .filter(|ii| ii["invoice"] == "pending")
        .filter_map(|ii| ii["id"].as_str().map(str::to_string))
        .collect();
    for ii in ids {
        if let Some(v) = cx.get_mut("invoiceitem", &ii) {
            v["invoice"] = json!(id);
        }
    }
    if let Some(pm) = default_pm {
        if let Some(v) = cx.get_mut("invoice", &id) {
            v["default_payment_method"] = json!(pm);
        }
    }
    Ok(public(&cx.find("invoice", &id, "invoice")?))
}

pub fn update_invoice(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let old = cx.find("invoice", id, "invoice")?;
    let mut inv = old.clone();
    if p.get("metadata").is_some() {
        inv["metadata"] = merge_metadata(&old["metadata"], p)?;
    }
    if let Some(a) = p_bool(p, "auto_advance")? {
        inv["auto_advance"] = json!(a);
        if a && inv["status"] == "draft" && inv["automatically_finalizes_at"].is_null() {
            inv["automatically_finalizes_at"] = json!(cx.now_for(&old) + 3600);
        }
    }
    for k in ["description", "footer"] {
        if let Some(v) = p_str(p, k) {
            inv[k] = if v.is_empty() { Value::Null } else { json!(v) };
        }
    }
    match p_str(p, "default_payment_method") {
        Some("") => inv["default_payment_method"] = Value::Null,
        Some(pm) => {
            let customer = inv["customer"].as_str().unwrap_or_default();
            inv["default_payment_method"] = json!(crate::engine::pay::customer_pm_id(cx, pm, customer)
                .ok_or_else(|| crate::engine::pay::not_customers_pm("default_payment_method", pm))?);
        }
        None => {}
    }
    Ok(save_updated(cx, "invoice", "invoice.updated", &old, inv))
}

pub fn delete_invoice(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let inv = cx.find("invoice", id, "invoice")?;
    if inv["status"] != "draft" {
        return Err(ApiError::invalid("You can only delete draft invoices.").with_code("invoice_not_editable"));
    }
    cx.remove("invoice", id);
    cx.emit("invoice.deleted", &inv, None);
    Ok(json!({"id": id, "object": "invoice", "deleted": true}))
}

pub fn list_invoices(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_str(p, "customer");
    let sub = p_str(p, "subscription");
    let status = p_str(p, "status");
    let cm = p_str(p, "collection_method");
    let mut items = Vec::new();
    for inv in cx.all("invoice") {
        if customer.is_some_and(|c| inv["customer"] != c)
            || sub.is_some_and(|s| inv["subscription"] != s)
            || status.is_some_and(|s| inv["status"] != s)
            || cm.is_some_and(|c| inv["collection_method"] != c)
        {
            continue;
        }
        if !created_matches(p, "created", inv["created"].as_i64().unwrap_or(0))?
            || !created_matches(p, "due_date", inv["due_date"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(public(inv));
    }
    paginate(items, p, "/v1/invoices")
}

pub fn search_invoices(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    search_kind(cx, "invoice", p, "/v1/invoices/search")
}

pub fn invoice_lines(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let inv = cx.find("invoice", id, "invoice")?;
    let lines = inv["lines"]["data"].as_array().cloned().unwrap_or_default();
    // Lines are listed in invoice order; paginate expects newest first, so keep as is.
    paginate(lines, p, &format!("/v1/invoices/{id}/lines"))
}

pub fn pay_invoice(cx: &mut Ctx, id: &str, p: &Value) -> ApiResult<Value> {
    let inv = cx.find("invoice", id, "invoice")?;
    match inv["status"].as_str() {
        Some("paid") => return Err(ApiError::invalid("Invoice is already paid").with_code("invoice_already_paid")),
        Some("void") | Some("uncollectible") if p_bool(p, "paid_out_of_band")? != Some(true) => {
            return Err(ApiError::invalid(format!(
                "This invoice can not be paid because it is {}.",
                inv["status"].as_str().unwrap_or_default()
            ))
            .with_code("invoice_not_open"))
        }
        Some("draft") => {
            eng::finalize(cx, id)?;
        }
        _ => {}
    }
    if p_bool(p, "paid_out_of_band")? == Some(true) {
        return eng::mark_paid(cx, id, None).map(|v| public(&v));
    }
    if cx.get("invoice", id).is_some_and(|i| i["status"] == "paid") {
        return Ok(public(&cx.find("invoice", id, "invoice")?));
    }
    let pm = match p_nonempty(p, "payment_method") {
        Some(pm) => Some(
            crate::engine::pay::resolve_pm(cx, pm, "payment_method")?["id"].as_str().unwrap_or_default().to_string(),
        ),
        None => None,
    };
    let off_session = p_bool(p, "off_session")?.unwrap_or(true);
    match eng::attempt_payment(cx, id, pm.as_deref(), off_session, false)? {
        crate::engine::pay::Outcome::Succeeded => Ok(public(&cx.find("invoice", id, "invoice")?)),
        crate::engine::pay::Outcome::Failed(e) => Err(e),
        crate::engine::pay::Outcome::RequiresAction => Err(ApiError::card("invoice_payment_intent_requires_action", None, "This payment requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with the invoice.")),
    }
}

pub fn list_invoice_payments(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let inv = p_nonempty(p, "invoice").ok_or_else(|| ApiError::missing("invoice"))?;
    let inv = cx.find("invoice", inv, "invoice")?;
    paginate(inv["payments"]["data"].as_array().cloned().unwrap_or_default(), p, "/v1/invoice_payments")
}

/// `POST /v1/invoices/create_preview`: the invoice a subscription change (or the next renewal)
/// would produce, computed on a copy of the state.
pub fn create_preview(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let details = p.get("subscription_details").cloned().unwrap_or(json!({}));
    let sub_id = p_nonempty(p, "subscription").map(str::to_string);
    let customer = match (p_nonempty(p, "customer"), &sub_id) {
        (Some(c), _) => c.to_string(),
        (None, Some(s)) => {
            cx.find("subscription", s, "subscription")?["customer"].as_str().unwrap_or_default().to_string()
        }
        (None, None) => return Err(ApiError::missing("customer")),
    };
    cx.find("customer", &customer, "customer")?;
    let serialized = serde_json::to_value(&*cx.st).map_err(|_| ApiError::internal())?;
    let mut copy: State = serde_json::from_value(serialized).map_err(|_| ApiError::internal())?;
    let mut tmp = Ctx::new(&mut copy, &cx.acct, &cx.base_url);
    let preview = {
        let tcx = &mut tmp;
        let proration = p_nonempty(&details, "proration_behavior")
            .or_else(|| p_nonempty(p, "subscription_proration_behavior"))
            .unwrap_or("create_prorations")
            .to_string();
        let mut immediate = None;
        match &sub_id {
            Some(sid) => {
                let specs = item_specs(&details)?;
                if !specs.is_empty() || p_str(&details, "billing_cycle_anchor") == Some("now") {
                    let at = p_i64(&details, "proration_date")?.or(p_i64(p, "subscription_proration_date")?);
                    // Previews never charge: compute prorations, then build the invoice by hand.
                    let behavior = if proration == "always_invoice" { "create_prorations" } else { proration.as_str() };
                    let before = tcx.all("invoice").len();
                    eng::change_items(
                        tcx,
                        sid,
                        &specs,
                        behavior,
                        at,
                        p_str(&details, "billing_cycle_anchor") == Some("now"),
                    )?;
                    if tcx.all("invoice").len() > before {
                        immediate = tcx.all("invoice").first().map(|v| (*v).clone());
                    } else if proration == "always_invoice" {
                        let lines = eng::take_pending_items(tcx, &customer, Some(sid), "preview");
                        let sub = tcx.find("subscription", sid, "subscription")?;
                        let now = tcx.now_for(&sub);
                        immediate = Some(eng::create_invoice(
                            tcx,
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
                    let sub = tcx.find("subscription", sid, "subscription")?;
                    if matches!(sub["status"].as_str(), Some("canceled") | Some("incomplete_expired"))
                        || sub["cancel_at_period_end"] == true
                    {
                        return Err(ApiError::invalid(format!("No upcoming invoices for customer: {customer}"))
                            .with_code("invoice_upcoming_none"));
                    }
                    tcx.st.settings.finalize_delay_secs = 3600;
                    eng::renew(tcx, sid)?;
                    let inv_id = tcx.find("subscription", sid, "subscription")?["latest_invoice"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    tcx.find("invoice", &inv_id, "invoice")?
                }
            }
            None => {
                // New subscription preview from subscription_details[items].
                let specs = item_specs(&details)?;
                if specs.is_empty() {
                    let lines = eng::take_pending_items(tcx, &customer, None, "preview");
                    let now = tcx.now_for_customer(Some(&customer));
                    eng::create_invoice(
                        tcx,
                        NewInvoice {
                            customer: &customer,
                            subscription: None,
                            billing_reason: "manual",
                            currency: p_str(p, "currency").unwrap_or("usd"),
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
                    let sub = eng::create_subscription(
                        tcx,
                        NewSubscription {
                            customer: customer.clone(),
                            items: specs,
                            payment_behavior: "default_incomplete".into(),
                            collection_method: "charge_automatically".into(),
                            metadata: json!({}),
                            trial_end: p_i64(&details, "trial_end")?,
                            ..Default::default()
                        },
                    )?;
                    tcx.find("invoice", sub["latest_invoice"].as_str().unwrap_or_default(), "invoice")?
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

pub fn create_invoiceitem(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_nonempty(p, "customer").ok_or_else(|| ApiError::missing("customer"))?.to_string();
    cx.find("customer", &customer, "customer")?;
    let now = cx.now_for_customer(Some(&customer));
    let (amount, currency, price, qty) =
        match p.get("pricing").and_then(|pr| p_nonempty(pr, "price")).or_else(|| p_nonempty(p, "price")) {
            Some(pid) => {
                let price = cx.find("price", pid, "price")?;
                let q = p_i64(p, "quantity")?.unwrap_or(1);
                (
                    price["unit_amount"].as_i64().unwrap_or(0) * q,
                    price["currency"].as_str().unwrap_or("usd").to_string(),
                    Some(price),
                    q,
                )
            }
            None => {
                let q = p_i64(p, "quantity")?.unwrap_or(1);
                let amount = match p_i64(p, "amount")? {
                    Some(a) => a,
                    None => {
                        p_i64(p, "unit_amount")?
                            .or(p.get("price_data").map(|pd| p_i64(pd, "unit_amount")).transpose()?.flatten())
                            .ok_or_else(|| ApiError::missing("amount"))?
                            * q
                    }
                };
                let currency = p_nonempty(p, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
                (amount, currency, None, q)
            }
        };
    let invoice = p_nonempty(p, "invoice").map(str::to_string);
    let sub = p_nonempty(p, "subscription").map(str::to_string);
    let description =
        p_nonempty(p, "description").map(str::to_string).or_else(|| price.as_ref().map(|pr| eng::product_name(cx, pr)));
    let ii = eng::invoice_item(
        cx,
        eng::NewItem {
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
            metadata: new_metadata(p)?,
            discountable: p_bool(p, "discountable")?.unwrap_or(true),
        },
    );
    cx.put("invoiceitem", ii.clone());
    if let Some(inv_id) = &invoice {
        let mut inv = cx.find("invoice", inv_id, "invoice")?;
        if inv["status"] != "draft" {
            return Err(ApiError::invalid_value("invoice", "You can only add invoice items to draft invoices.")
                .with_code("invoice_not_editable"));
        }
        let line = eng::Line {
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
        cx.put("invoice", inv);
    }
    cx.emit("invoiceitem.created", &ii, None);
    Ok(public(&ii))
}

pub fn list_invoiceitems(cx: &mut Ctx, p: &Value) -> ApiResult<Value> {
    let customer = p_str(p, "customer");
    let invoice = p_str(p, "invoice");
    let pending = p_bool(p, "pending")?;
    let items: Vec<Value> = cx
        .all("invoiceitem")
        .into_iter()
        .filter(|ii| {
            customer.is_none_or(|c| ii["customer"] == c)
                && invoice.is_none_or(|i| ii["invoice"] == i)
                && pending.is_none_or(|pe| ii["invoice"].is_null() == pe)
        })
        .map(public)
        .collect();
    paginate(items, p, "/v1/invoiceitems")
}
