//! Subscriptions, invoices, prorations, renewals and dunning.

use serde_json::{json, Value};

use super::pay::{self, NewPayment, Outcome};
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::state::{diff, list_of, public, Ctx, DunningFinal, PendingEvent};
use crate::util::{day_of_month, money, new_id, period_end, DAY};

/// A line to put on an invoice.
#[derive(Clone, Debug)]
pub struct Line {
    pub amount: i64,
    pub description: String,
    pub period: (i64, i64),
    pub quantity: i64,
    pub price: Option<Value>,
    pub subscription: Option<String>,
    pub subscription_item: Option<String>,
    pub invoice_item: Option<String>,
    pub proration: bool,
}

pub fn price_description(price: &Value, quantity: i64, product_name: &str) -> String {
    let amount = money(price["unit_amount"].as_i64().unwrap_or(0), price["currency"].as_str().unwrap_or("usd"));
    match price["recurring"]["interval"].as_str() {
        Some(interval) => format!("{quantity} × {product_name} (at {amount} / {interval})"),
        None => format!("{quantity} × {product_name}"),
    }
}

pub fn product_name(cx: &Ctx, price: &Value) -> String {
    let pid = price["product"].as_str().or_else(|| price["product"]["id"].as_str()).unwrap_or_default();
    cx.get("product", pid).and_then(|p| p["name"].as_str()).unwrap_or("Product").to_string()
}

fn line_json(line: &Line, invoice_id: &str, currency: &str) -> Value {
    let parent = if let Some(ii) = &line.invoice_item {
        json!({
            "invoice_item_details": {"invoice_item": ii, "proration": line.proration, "proration_details": {"credited_items": null}, "subscription": line.subscription},
            "subscription_item_details": null,
            "type": "invoice_item_details",
        })
    } else {
        json!({
            "invoice_item_details": null,
            "subscription_item_details": {"invoice_item": null, "proration": line.proration, "proration_details": {"credited_items": null}, "subscription": line.subscription, "subscription_item": line.subscription_item},
            "type": "subscription_item_details",
        })
    };
    json!({
        "id": new_id("il"),
        "object": "line_item",
        "amount": line.amount,
        "currency": currency,
        "description": line.description,
        "discount_amounts": [],
        "discountable": !line.proration,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": false,
        "metadata": {},
        "parent": parent,
        "period": {"end": line.period.1, "start": line.period.0},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": line.price.as_ref().map(|p| json!({"price": p["id"], "product": p["product"]})),
            "type": "price_details",
            "unit_amount_decimal": line.price.as_ref().map(|p| p["unit_amount_decimal"].clone()).unwrap_or(json!(line.amount.to_string())),
        },
        "quantity": line.quantity,
        "quantity_decimal": line.quantity.to_string(),
        "subscription": line.subscription,
        "subtotal": line.amount,
        "taxes": [],
    })
}

pub struct NewInvoice<'a> {
    pub customer: &'a str,
    pub subscription: Option<&'a Value>,
    pub billing_reason: &'a str,
    pub currency: &'a str,
    pub lines: Vec<Line>,
    pub period: (i64, i64),
    pub collection_method: &'a str,
    pub days_until_due: Option<i64>,
    pub auto_advance: bool,
    pub metadata: Value,
    pub description: Option<String>,
}

impl<'a> NewInvoice<'a> {
    /// An invoice for a subscription, with its currency and collection settings.
    pub fn for_subscription(
        customer: &'a str,
        sub: &'a Value,
        billing_reason: &'a str,
        lines: Vec<Line>,
        period: (i64, i64),
        auto_advance: bool,
    ) -> Self {
        NewInvoice {
            customer,
            subscription: Some(sub),
            billing_reason,
            currency: sub["currency"].as_str().unwrap_or("usd"),
            lines,
            period,
            collection_method: sub["collection_method"].as_str().unwrap_or("charge_automatically"),
            days_until_due: sub["days_until_due"].as_i64(),
            auto_advance,
            metadata: json!({}),
            description: None,
        }
    }
}

/// One line per subscription item, for a service period.
pub fn item_lines(cx: &Ctx, sub: &Value, period: (i64, i64)) -> Vec<Line> {
    let sub_id = sub["id"].as_str().unwrap_or_default();
    sub["items"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|si| {
            let q = si["quantity"].as_i64().unwrap_or(1);
            let name = product_name(cx, &si["price"]);
            Line {
                amount: si["price"]["unit_amount"].as_i64().unwrap_or(0) * q,
                description: price_description(&si["price"], q, &name),
                period,
                quantity: q,
                price: Some(si["price"].clone()),
                subscription: Some(sub_id.to_string()),
                subscription_item: si["id"].as_str().map(str::to_string),
                invoice_item: None,
                proration: false,
            }
        })
        .collect()
}

/// Creates a subscription's invoice from its pending items plus `lines`, links the items and
/// sets `latest_invoice`. Returns the invoice id.
fn invoice_subscription(
    cx: &mut Ctx,
    sub_id: &str,
    billing_reason: &str,
    mut lines: Vec<Line>,
    period: (i64, i64),
) -> ApiResult<String> {
    let sub = cx.find("subscription", sub_id, "subscription")?;
    let customer = sub["customer"].as_str().unwrap_or_default().to_string();
    let mut all = take_pending_items(cx, &customer, Some(sub_id), "pending");
    all.append(&mut lines);
    let inv = create_invoice(cx, NewInvoice::for_subscription(&customer, &sub, billing_reason, all, period, true))?;
    let inv_id = inv["id"].as_str().unwrap_or_default().to_string();
    relink_items(cx, "pending", &inv_id);
    if let Some(s) = cx.get_mut("subscription", sub_id) {
        s["latest_invoice"] = json!(inv_id);
    }
    Ok(inv_id)
}

/// What an invoice item is made of.
pub struct NewItem<'a> {
    pub customer: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub description: Value,
    pub price: Option<&'a Value>,
    pub quantity: i64,
    pub subscription: Option<&'a str>,
    pub proration: bool,
    pub period: (i64, i64),
    pub invoice: Option<&'a str>,
    pub metadata: Value,
    pub discountable: bool,
}

/// An `invoiceitem` object (stored by the caller).
pub fn invoice_item(cx: &Ctx, n: NewItem) -> Value {
    let test_clock = cx.get("customer", n.customer).map(|c| c["test_clock"].clone()).unwrap_or(Value::Null);
    json!({
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": n.amount,
        "currency": n.currency,
        "customer": n.customer,
        "date": cx.now_for_customer(Some(n.customer)),
        "description": n.description,
        "discountable": n.discountable,
        "discounts": [],
        "invoice": n.invoice,
        "livemode": false,
        "metadata": n.metadata,
        "net_amount": n.amount,
        "parent": n.subscription.map(|s| json!({"subscription_details": {"subscription": s, "subscription_item": null}, "type": "subscription_details"})),
        "period": {"end": n.period.1, "start": n.period.0},
        "pricing": {
            "price_details": n.price.map(|pr| json!({"price": pr["id"], "product": pr["product"]})),
            "type": "price_details",
            "unit_amount_decimal": n.price.map(|pr| pr["unit_amount_decimal"].clone()).unwrap_or(json!((n.amount / n.quantity.max(1)).to_string())),
        },
        "proration": n.proration,
        "quantity": n.quantity,
        "quantity_decimal": n.quantity.to_string(),
        "subscription": n.subscription,
        "tax_rates": [],
        "test_clock": test_clock,
    })
}

/// Creates a draft invoice; emits `invoice.created`.
pub fn create_invoice(cx: &mut Ctx, n: NewInvoice) -> ApiResult<Value> {
    let cus = cx.find("customer", n.customer, "customer")?;
    let now = cx.now_for_customer(Some(n.customer));
    let id = new_id("in");
    let subtotal: i64 = n.lines.iter().map(|l| l.amount).sum();
    let mut lines: Vec<Value> = n.lines.iter().map(|l| line_json(l, &id, n.currency)).collect();
    // Subscription discounts still in force reduce the discountable lines.
    let discountable: i64 = n.lines.iter().filter(|l| !l.proration && l.amount > 0).map(|l| l.amount).sum();
    let mut discount_ids = Vec::new();
    let mut discount_amounts = Vec::new();
    for di in n.subscription.map(|s| s["discounts"].as_array().cloned().unwrap_or_default()).unwrap_or_default() {
        let Some(di_id) = di.as_str() else { continue };
        let Some(amount) =
            super::discounts::take(cx, di_id, discountable - discount_amounts.iter().map(|(a, _)| *a).sum::<i64>())
        else {
            continue;
        };
        discount_ids.push(json!(di_id));
        discount_amounts.push((amount, di_id.to_string()));
    }
    let discount_total: i64 = discount_amounts.iter().map(|(a, _)| a).sum();
    if let Some(first) = lines.iter_mut().find(|l| l["discountable"] == true && l["amount"].as_i64().unwrap_or(0) > 0) {
        first["discount_amounts"] =
            json!(discount_amounts.iter().map(|(a, d)| json!({"amount": a, "discount": d})).collect::<Vec<_>>());
        first["discounts"] = json!(discount_ids.clone());
    }
    let total = subtotal - discount_total;
    let sub_id = n.subscription.map(|s| s["id"].clone()).unwrap_or(Value::Null);
    let parent = n.subscription.map(|s| {
        json!({"quote_details": null, "subscription_details": {"metadata": s["metadata"], "subscription": s["id"]}, "type": "subscription_details"})
    });
    let finalizes =
        if n.auto_advance && n.subscription.is_some() { Some(now + cx.st.settings.finalize_delay_secs) } else { None };
    let inv = json!({
        "id": id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "Sandbox",
        "account_tax_ids": null,
        "amount_due": total.max(0),
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": total.max(0),
        "amount_shipping": 0,
        "application": null,
        "attempt_count": 0,
        "attempted": false,
        "auto_advance": n.auto_advance,
        "automatic_tax": {"disabled_reason": null, "enabled": false, "liability": null, "provider": null, "status": null},
        "automatically_finalizes_at": finalizes,
        "billing_reason": n.billing_reason,
        "collection_method": n.collection_method,
        "confirmation_secret": null,
        "created": now,
        "currency": n.currency,
        "custom_fields": null,
        "customer": n.customer,
        "customer_account": null,
        "customer_address": cus["address"],
        "customer_email": cus["email"],
        "customer_name": cus["name"],
        "customer_phone": cus["phone"],
        "customer_shipping": cus["shipping"],
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": null,
        "default_source": null,
        "default_tax_rates": [],
        "description": n.description,
        "discounts": discount_ids,
        "due_date": null,
        "effective_at": null,
        "ending_balance": null,
        "footer": null,
        "from_invoice": null,
        "hosted_invoice_url": null,
        "invoice_pdf": null,
        "issuer": {"type": "self"},
        "last_finalization_error": null,
        "latest_revision": null,
        "lines": list_of(lines, &format!("/v1/invoices/{id}/lines")),
        "livemode": false,
        "metadata": n.metadata,
        "next_payment_attempt": null,
        "number": null,
        "on_behalf_of": null,
        "parent": parent,
        "payment_settings": {"default_mandate": null, "payment_method_options": null, "payment_method_types": null},
        "payments": list_of(vec![], &format!("/v1/invoice_payments?invoice={id}")),
        "period_end": n.period.1,
        "period_start": n.period.0,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": null,
        "rendering": null,
        "shipping_cost": null,
        "shipping_details": null,
        "starting_balance": 0,
        "statement_descriptor": null,
        "status": "draft",
        "status_transitions": {"finalized_at": null, "marked_uncollectible_at": null, "paid_at": null, "voided_at": null},
        "subscription": sub_id,
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "test_clock": cus["test_clock"],
        "total": total,
        "total_discount_amounts": discount_amounts.iter().map(|(a, d)| json!({"amount": a, "discount": d})).collect::<Vec<_>>(),
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": null,
        "_sb_days_until_due": n.days_until_due,
    });
    cx.put("invoice", inv.clone());
    cx.emit("invoice.created", &inv, None);
    Ok(inv)
}

/// Pending invoice items of a customer (optionally only those of one subscription) become
/// lines; they are marked as invoiced.
pub fn take_pending_items(cx: &mut Ctx, customer: &str, subscription: Option<&str>, invoice_hint: &str) -> Vec<Line> {
    let ids: Vec<String> = cx
        .all("invoiceitem")
        .into_iter()
        .filter(|ii| ii["customer"] == customer && ii["invoice"].is_null())
        .filter(|ii| subscription.is_none_or(|s| ii["subscription"] == s || ii["subscription"].is_null()))
        .filter_map(|ii| ii["id"].as_str().map(str::to_string))
        .collect();
    let mut lines = Vec::new();
    for id in ids.iter().rev() {
        let Some(ii) = cx.get_mut("invoiceitem", id) else { continue };
        ii["invoice"] = json!(invoice_hint);
        let ii = ii.clone();
        lines.push(Line {
            amount: ii["amount"].as_i64().unwrap_or(0),
            description: ii["description"].as_str().unwrap_or("Invoice item").to_string(),
            period: (ii["period"]["start"].as_i64().unwrap_or(0), ii["period"]["end"].as_i64().unwrap_or(0)),
            quantity: ii["quantity"].as_i64().unwrap_or(1),
            price: ii["pricing"]["price_details"]["price"].as_str().and_then(|p| cx.get("price", p)).cloned(),
            subscription: ii["subscription"].as_str().map(str::to_string),
            subscription_item: None,
            invoice_item: Some(id.clone()),
            proration: ii["proration"].as_bool().unwrap_or(false),
        });
    }
    lines
}

/// Moves pending items' `invoice` from a placeholder to the real invoice id.
fn relink_items(cx: &mut Ctx, placeholder: &str, invoice_id: &str) {
    let ids: Vec<String> = cx
        .all("invoiceitem")
        .into_iter()
        .filter(|ii| ii["invoice"] == placeholder)
        .filter_map(|ii| ii["id"].as_str().map(str::to_string))
        .collect();
    for id in ids {
        if let Some(ii) = cx.get_mut("invoiceitem", &id) {
            ii["invoice"] = json!(invoice_id);
        }
    }
}

/// Finalizes a draft invoice; emits `invoice.finalized`. Zero-amount invoices are paid at once.
pub fn finalize(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut inv = cx.find("invoice", id, "invoice")?;
    if inv["status"] != "draft" {
        return Err(ApiError::invalid("This invoice is already finalized, you can't re-finalize a non-draft invoice.")
            .with_code("invoice_not_editable"));
    }
    let customer = inv["customer"].as_str().unwrap_or_default().to_string();
    let now = cx.now_for_customer(Some(&customer));
    let seq = {
        let cus = cx.get_mut("customer", &customer);
        match cus {
            Some(c) => {
                let n = c["next_invoice_sequence"].as_i64().unwrap_or(1);
                c["next_invoice_sequence"] = json!(n + 1);
                format!("{}-{:04}", c["invoice_prefix"].as_str().unwrap_or("SANDBOX"), n)
            }
            None => "SANDBOX-0001".into(),
        }
    };
    inv["status"] = json!("open");
    inv["number"] = json!(seq);
    inv["status_transitions"]["finalized_at"] = json!(now);
    inv["effective_at"] = json!(now);
    inv["automatically_finalizes_at"] = Value::Null;
    inv["hosted_invoice_url"] = json!(format!("{}/invoice/{}", cx.base_url, id));
    inv["invoice_pdf"] = json!(format!("{}/invoice/{}/pdf", cx.base_url, id));
    inv["ending_balance"] = json!(0);
    if inv["collection_method"] == "send_invoice" {
        let days = inv["_sb_days_until_due"].as_i64().unwrap_or(30);
        inv["due_date"] = json!(now + days * DAY);
    }
    cx.put("invoice", inv.clone());
    cx.emit("invoice.finalized", &inv, None);
    if inv["amount_due"].as_i64().unwrap_or(0) == 0 {
        mark_paid(cx, id, None)?;
    }
    cx.find("invoice", id, "invoice")
}

/// Marks an invoice paid (optionally by a payment intent); emits `invoice.paid` and
/// `invoice.payment_succeeded`, and heals the subscription's status.
pub fn mark_paid(cx: &mut Ctx, id: &str, pi: Option<&Value>) -> ApiResult<Value> {
    let mut inv = cx.find("invoice", id, "invoice")?;
    let now = cx.now_for_customer(inv["customer"].as_str());
    let amount = inv["amount_due"].as_i64().unwrap_or(0);
    inv["status"] = json!("paid");
    inv["amount_paid"] = json!(amount);
    inv["amount_remaining"] = json!(0);
    inv["attempted"] = json!(true);
    if pi.is_some() {
        inv["attempt_count"] = json!(inv["attempt_count"].as_i64().unwrap_or(0) + 1);
    }
    inv["next_payment_attempt"] = Value::Null;
    inv["auto_advance"] = json!(false);
    inv["status_transitions"]["paid_at"] = json!(now);
    if let Some(pi) = pi {
        let payment = json!({
            "id": new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": amount,
            "amount_requested": amount,
            "created": now,
            "currency": inv["currency"],
            "invoice": id,
            "is_default": true,
            "livemode": false,
            "payment": {"charge": pi["latest_charge"], "payment_intent": pi["id"], "type": "payment_intent"},
            "status": "paid",
            "status_transitions": {"canceled_at": null, "paid_at": now},
        });
        let mut list: Vec<Value> = inv["payments"]["data"].as_array().cloned().unwrap_or_default();
        list.retain(|p| p["payment"]["payment_intent"] != pi["id"]);
        list.insert(0, payment);
        inv["payments"]["data"] = Value::Array(list);
    }
    cx.put("invoice", inv.clone());
    cx.emit("invoice.paid", &inv, None);
    cx.emit("invoice.payment_succeeded", &inv, None);
    if let Some(sub_id) = inv["subscription"].as_str() {
        let sub_id = sub_id.to_string();
        if let Some(sub) = cx.get("subscription", &sub_id).cloned() {
            let status = sub["status"].as_str().unwrap_or_default();
            if matches!(status, "incomplete" | "past_due" | "unpaid") {
                let mut new = sub.clone();
                new["status"] = json!("active");
                cx.put("subscription", new.clone());
                cx.emit("customer.subscription.updated", &new, Some(diff(&sub, &new)));
            }
        }
    }
    if let Some(cus) = inv["customer"].as_str().map(str::to_string) {
        if let Some(c) = cx.get_mut("customer", &cus) {
            c["delinquent"] = json!(false);
        }
    }
    Ok(inv)
}

/// The payment method an invoice is charged with.
pub fn invoice_payment_method(cx: &Ctx, inv: &Value) -> Option<String> {
    if let Some(pm) = inv["default_payment_method"].as_str() {
        return Some(pm.to_string());
    }
    if let Some(sub) = inv["subscription"].as_str().and_then(|s| cx.get("subscription", s)) {
        if let Some(pm) = sub["default_payment_method"].as_str() {
            return Some(pm.to_string());
        }
    }
    let cus = cx.get("customer", inv["customer"].as_str()?)?;
    cus["invoice_settings"]["default_payment_method"].as_str().map(str::to_string)
}

/// Attempts to pay an open invoice. `off_session` for automatic attempts. Returns the outcome.
pub fn attempt_payment(
    cx: &mut Ctx,
    id: &str,
    pm_override: Option<&str>,
    off_session: bool,
    authenticated: bool,
) -> ApiResult<Outcome> {
    let inv = cx.find("invoice", id, "invoice")?;
    if inv["status"] != "open" {
        return Err(ApiError::invalid("Invoice is already paid").with_code("invoice_not_open"));
    }
    if inv["amount_due"].as_i64().unwrap_or(0) == 0 {
        mark_paid(cx, id, None)?;
        return Ok(Outcome::Succeeded);
    }
    let pm = pm_override.map(str::to_string).or_else(|| invoice_payment_method(cx, &inv));
    let customer = inv["customer"].as_str().unwrap_or_default().to_string();
    let outcome = match pm {
        None => {
            let e = ApiError::invalid("This customer has no attached payment source or default payment method. Please consider adding a default payment method.")
                .with_code("invoice_no_customer_line_items");
            Outcome::Failed(e)
        }
        Some(pm) => {
            // Reuse the invoice's payment intent across attempts, as Stripe does.
            let existing = inv["_sb_pi"]
                .as_str()
                .and_then(|p| cx.get("payment_intent", p))
                .filter(|p| p["status"] != "succeeded" && p["status"] != "canceled")
                .cloned();
            let pi = match existing {
                Some(pi) => pi,
                None => pay::create_intent(
                    cx,
                    NewPayment {
                        customer: Some(&customer),
                        amount: inv["amount_due"].as_i64().unwrap_or(0),
                        currency: inv["currency"].as_str().unwrap_or("usd"),
                        payment_method: Some(&pm),
                        description: Some(match inv["billing_reason"].as_str() {
                            Some("subscription_create") => "Subscription creation".to_string(),
                            Some("subscription_cycle") | Some("subscription_update") => {
                                "Subscription update".to_string()
                            }
                            _ => format!("Invoice {}", inv["number"].as_str().unwrap_or_default()),
                        }),
                        metadata: json!({}),
                        setup_future_usage: None,
                    },
                ),
            };
            let pi_id = pi["id"].as_str().unwrap_or_default().to_string();
            if let Some(i) = cx.get_mut("invoice", id) {
                i["_sb_pi"] = json!(pi_id);
            }
            let (pi, outcome) = pay::confirm(cx, &pi_id, Some(&pm), off_session, authenticated)?;
            if let Outcome::Succeeded = outcome {
                mark_paid(cx, id, Some(&pi))?;
                return Ok(outcome);
            }
            add_open_payment(cx, id, &pi);
            outcome
        }
    };
    // Failure or action required.
    let mut inv = cx.find("invoice", id, "invoice")?;
    let before = inv.clone();
    let now = cx.now_for_customer(Some(&customer));
    let attempts = inv["attempt_count"].as_i64().unwrap_or(0) + 1;
    inv["attempt_count"] = json!(attempts);
    inv["attempted"] = json!(true);
    let retry_days = cx.st.settings.dunning_retry_days.clone();
    let automatic = off_session && inv["auto_advance"] == true && inv["subscription"].is_string();
    let mut exhausted = false;
    if automatic {
        match retry_days.get(attempts as usize - 1) {
            Some(days) => inv["next_payment_attempt"] = json!(now + days * DAY),
            None => {
                inv["next_payment_attempt"] = Value::Null;
                inv["auto_advance"] = json!(false);
                exhausted = true;
            }
        }
    }
    cx.put("invoice", inv.clone());
    let _ = before;
    match &outcome {
        Outcome::RequiresAction => cx.emit("invoice.payment_action_required", &inv, None),
        _ => cx.emit("invoice.payment_failed", &inv, None),
    }
    if let Some(c) = cx.get_mut("customer", &customer) {
        c["delinquent"] = json!(true);
    }
    if let Some(sub_id) = inv["subscription"].as_str().map(str::to_string) {
        let reason = inv["billing_reason"].as_str().unwrap_or_default();
        if let Some(sub) = cx.get("subscription", &sub_id).cloned() {
            if reason != "subscription_create" && sub["status"] == "active" {
                let mut new = sub.clone();
                new["status"] = json!("past_due");
                cx.put("subscription", new.clone());
                cx.emit("customer.subscription.updated", &new, Some(diff(&sub, &new)));
            }
            if exhausted {
                match cx.st.settings.dunning_final.clone() {
                    DunningFinal::Cancel => {
                        cancel(cx, &sub_id, "payment_failed")?;
                    }
                    DunningFinal::Unpaid => {
                        let sub = cx.find("subscription", &sub_id, "subscription")?;
                        if sub["status"] != "canceled" {
                            let mut new = sub.clone();
                            new["status"] = json!("unpaid");
                            cx.put("subscription", new.clone());
                            cx.emit("customer.subscription.updated", &new, Some(diff(&sub, &new)));
                        }
                    }
                    DunningFinal::PastDue => {}
                }
            }
        }
    }
    Ok(outcome)
}

fn add_open_payment(cx: &mut Ctx, invoice_id: &str, pi: &Value) {
    let now = cx.now_for_customer(pi["customer"].as_str());
    if let Some(inv) = cx.get_mut("invoice", invoice_id) {
        let mut list: Vec<Value> = inv["payments"]["data"].as_array().cloned().unwrap_or_default();
        if !list.iter().any(|p| p["payment"]["payment_intent"] == pi["id"]) {
            list.insert(
                0,
                json!({
                    "id": new_id("inpay"),
                    "object": "invoice_payment",
                    "amount_paid": 0,
                    "amount_requested": inv["amount_due"],
                    "created": now,
                    "currency": inv["currency"],
                    "invoice": invoice_id,
                    "is_default": true,
                    "livemode": false,
                    "payment": {"charge": null, "payment_intent": pi["id"], "type": "payment_intent"},
                    "status": "open",
                    "status_transitions": {"canceled_at": null, "paid_at": null},
                }),
            );
            inv["payments"]["data"] = Value::Array(list);
        }
    }
}

/// Voids an open invoice.
pub fn void(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut inv = cx.find("invoice", id, "invoice")?;
    if inv["status"] != "open" {
        return Err(ApiError::invalid(format!(
            "You can only pass in open invoices. This invoice is {}.",
            inv["status"].as_str().unwrap_or_default()
        ))
        .with_code("invoice_not_open"));
    }
    let now = cx.now_for_customer(inv["customer"].as_str());
    inv["status"] = json!("void");
    inv["status_transitions"]["voided_at"] = json!(now);
    inv["next_payment_attempt"] = Value::Null;
    inv["auto_advance"] = json!(false);
    inv["amount_remaining"] = json!(0);
    cx.put("invoice", inv.clone());
    cx.emit("invoice.voided", &inv, None);
    Ok(inv)
}

pub fn mark_uncollectible(cx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut inv = cx.find("invoice", id, "invoice")?;
    if inv["status"] != "open" {
        return Err(
            ApiError::invalid("You can only mark open invoices as uncollectible.").with_code("invoice_not_open")
        );
    }
    let now = cx.now_for_customer(inv["customer"].as_str());
    inv["status"] = json!("uncollectible");
    inv["status_transitions"]["marked_uncollectible_at"] = json!(now);
    inv["next_payment_attempt"] = Value::Null;
    inv["auto_advance"] = json!(false);
    cx.put("invoice", inv.clone());
    cx.emit("invoice.marked_uncollectible", &inv, None);
    Ok(inv)
}

// ---------------------------------------------------------------------------------------------
// Subscriptions

#[derive(Clone, Debug, Default)]
pub struct ItemSpec {
    pub id: Option<String>,
    pub price: Option<String>,
    pub quantity: Option<i64>,
    pub deleted: bool,
    pub metadata: Option<Value>,
}

#[derive(Clone, Debug, Default)]
pub struct NewSubscription {
    pub customer: String,
    pub items: Vec<ItemSpec>,
    pub trial_end: Option<i64>,
    pub trial_period_days: Option<i64>,
    pub default_payment_method: Option<String>,
    pub metadata: Value,
    pub description: Option<String>,
    pub payment_behavior: String,
    pub collection_method: String,
    pub days_until_due: Option<i64>,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub off_session: bool,
    /// Checkout style events: `created` while incomplete, then `updated` to active.
    pub checkout: bool,
    /// The customer completed 3-D Secure on a hosted page.
    pub authenticated: bool,
    /// Coupons / promotion codes to apply (`discounts[i][coupon|promotion_code]`).
    pub discounts: Vec<super::discounts::DiscountSpec>,
    /// Pays the first invoice with this payment method rather than the defaults (a card
    /// entered on Checkout that is not saved unless the payment succeeds).
    pub first_payment_method: Option<String>,
}

pub fn subscription_item(
    cx: &Ctx,
    sub_id: &str,
    price: &Value,
    quantity: i64,
    metadata: Value,
    period: (i64, i64),
    now: i64,
) -> Value {
    let _ = cx;
    json!({
        "id": new_id("si"),
        "object": "subscription_item",
        "billing_thresholds": null,
        "created": now,
        "current_period_end": period.1,
        "current_period_start": period.0,
        "discounts": [],
        "metadata": metadata,
        "plan": objects::plan_from_price(price),
        "price": public(price),
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    })
}

fn recurring_price(cx: &Ctx, id: &str, param: &str) -> ApiResult<Value> {
    let price = cx.find("price", id, param)?;
    if price["type"] != "recurring" {
        return Err(ApiError::invalid_value(param, format!("The price specified ({id}) is set to `type=one_time` but this field only accepts prices with `type=recurring`.")));
    }
    if price["active"] == false {
        return Err(ApiError::invalid_value(
            param,
            format!("The price specified ({id}) is inactive. This field only accepts active prices."),
        ));
    }
    Ok(price)
}

fn interval_of(price: &Value) -> (String, i64) {
    (
        price["recurring"]["interval"].as_str().unwrap_or("month").to_string(),
        price["recurring"]["interval_count"].as_i64().unwrap_or(1),
    )
}

/// Creates a subscription and its first invoice, following Stripe's payment behaviours.
pub fn create_subscription(cx: &mut Ctx, n: NewSubscription) -> ApiResult<Value> {
    let cus = cx.find("customer", &n.customer, "customer")?;
    if n.items.is_empty() {
        return Err(ApiError::missing("items"));
    }
    let mut prices = Vec::new();
    for (i, it) in n.items.iter().enumerate() {
        let pid = it.price.as_deref().ok_or_else(|| ApiError::missing(&format!("items[{i}][price]")))?;
        prices.push((
            recurring_price(cx, pid, &format!("items[{i}][price]"))?,
            it.quantity.unwrap_or(1).max(0),
            it.metadata.clone().unwrap_or(json!({})),
        ));
    }
    let currency = prices[0].0["currency"].as_str().unwrap_or("usd").to_string();
    let (interval, count) = interval_of(&prices[0].0);
    if prices.iter().any(|(p, _, _)| interval_of(p) != (interval.clone(), count)) {
        return Err(ApiError::invalid_value(
            "items",
            "Currency and interval fields must match across all plans on this subscription.",
        ));
    }
    let mut n = n;
    if let Some(pm) = &n.default_payment_method {
        n.default_payment_method = Some(
            pay::customer_pm_id(cx, pm, &n.customer)
                .ok_or_else(|| pay::not_customers_pm("default_payment_method", pm))?,
        );
    }
    let now = cx.now_for_customer(Some(&n.customer));
    let trial_end = match (n.trial_end, n.trial_period_days) {
        (Some(t), _) if t > now => Some(t),
        (Some(_), _) => None,
        (None, Some(d)) if d > 0 => Some(now + d * DAY),
        _ => None,
    };
    let anchor = trial_end.unwrap_or(now);
    let end = trial_end.unwrap_or_else(|| period_end(now, &interval, count, day_of_month(now)));
    // error_if_incomplete: decide before changing anything.
    let charge_now = trial_end.is_none() && n.collection_method != "send_invoice";
    let total: i64 = prices.iter().map(|(p, q, _)| p["unit_amount"].as_i64().unwrap_or(0) * q).sum();
    if n.payment_behavior == "error_if_incomplete" && charge_now && total > 0 {
        let pm = n
            .default_payment_method
            .clone()
            .or_else(|| cus["invoice_settings"]["default_payment_method"].as_str().map(str::to_string));
        match pm.and_then(|p| cx.get("payment_method", &p).cloned()) {
            None => return Err(ApiError::invalid("This customer has no attached payment source or default payment method.").with_code("resource_missing")),
            Some(pmv) => match pay::behavior(&pmv) {
                crate::cards::Behavior::Decline(code) => return Err(pay::decline(code)),
                crate::cards::Behavior::AttachThenFail => return Err(pay::decline("generic_decline")),
                crate::cards::Behavior::ThreeDsAlways if !n.authenticated => {
                    return Err(ApiError::card("subscription_payment_intent_requires_action", None, "Payment for this subscription requires additional user action before it can be completed successfully."))
                }
                _ => {}
            },
        }
    }
    let status_before_payment = if trial_end.is_some() {
        "trialing"
    } else if n.collection_method == "send_invoice" || total == 0 {
        "active"
    } else {
        "incomplete"
    };
    let id = new_id("sub");
    let items: Vec<Value> =
        prices.iter().map(|(p, q, m)| subscription_item(cx, &id, p, *q, m.clone(), (now, end), now)).collect();
    let sub = json!({
        "id": id,
        "object": "subscription",
        "application": null,
        "application_fee_percent": null,
        "automatic_tax": {"disabled_reason": null, "enabled": false, "liability": null},
        "billing_cycle_anchor": anchor,
        "billing_cycle_anchor_config": null,
        "billing_mode": {"flexible": null, "type": "classic", "updated_at": null},
        "billing_schedules": [],
        "billing_thresholds": null,
        "cancel_at": n.cancel_at,
        "cancel_at_period_end": n.cancel_at_period_end,
        "canceled_at": null,
        "cancellation_details": {"comment": null, "feedback": null, "reason": null},
        "collection_method": n.collection_method,
        "created": now,
        "currency": currency,
        "customer": n.customer,
        "customer_account": null,
        "days_until_due": n.days_until_due,
        "default_payment_method": n.default_payment_method,
        "default_source": null,
        "default_tax_rates": [],
        "description": n.description,
        "discounts": [],
        "ended_at": null,
        "invoice_settings": {"account_tax_ids": null, "issuer": {"type": "self"}},
        "items": list_of(items, &format!("/v1/subscription_items?subscription={id}")),
        "latest_invoice": null,
        "livemode": false,
        "metadata": n.metadata,
        "next_pending_invoice_item_invoice": null,
        "on_behalf_of": null,
        "pause_collection": null,
        "payment_settings": {"payment_method_options": null, "payment_method_types": null, "save_default_payment_method": "off"},
        "pending_invoice_item_interval": null,
        "pending_setup_intent": null,
        "pending_update": null,
        "schedule": null,
        "start_date": now,
        "status": status_before_payment,
        "test_clock": cus["test_clock"],
        "transfer_data": null,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": trial_end.map(|_| now),
        "_sb_twe_sent": false,
    });
    cx.put("subscription", sub.clone());
    if !n.discounts.is_empty() {
        let mut ids = Vec::new();
        for d in &n.discounts {
            ids.push(json!(super::discounts::create(cx, d, &n.customer, Some(&id), None)?["id"]));
        }
        if let Some(s) = cx.get_mut("subscription", &id) {
            s["discounts"] = Value::Array(ids);
        }
    }
    let sub = cx.find("subscription", &id, "subscription")?;
    let mark = cx.events.len();
    if n.checkout {
        cx.emit("customer.subscription.created", &sub, None);
    }
    // First invoice.
    let lines: Vec<Line> = prices
        .iter()
        .zip(sub["items"]["data"].as_array().cloned().unwrap_or_default())
        .map(|((p, q, _), si)| {
            let name = product_name(cx, p);
            let (amount, description) = if trial_end.is_some() {
                (0, format!("Trial period for {name}"))
            } else {
                (p["unit_amount"].as_i64().unwrap_or(0) * q, price_description(p, *q, &name))
            };
            Line {
                amount,
                description,
                period: (now, end),
                quantity: *q,
                price: Some(p.clone()),
                subscription: Some(id.clone()),
                subscription_item: si["id"].as_str().map(str::to_string),
                invoice_item: None,
                proration: false,
            }
        })
        .collect();
    let inv = create_invoice(
        cx,
        NewInvoice {
            customer: &n.customer,
            subscription: Some(&sub),
            billing_reason: "subscription_create",
            currency: &currency,
            lines,
            period: (now, now),
            collection_method: &n.collection_method,
            days_until_due: n.days_until_due,
            auto_advance: false,
            metadata: json!({}),
            description: None,
        },
    )?;
    let inv_id = inv["id"].as_str().unwrap_or_default().to_string();
    if let Some(s) = cx.get_mut("subscription", &id) {
        s["latest_invoice"] = json!(inv_id);
    }
    let inv = finalize(cx, &inv_id)?;
    if inv["status"] == "open" && n.collection_method != "send_invoice" && n.payment_behavior != "default_incomplete" {
        if let Some(i) = cx.get_mut("invoice", &inv_id) {
            i["auto_advance"] = json!(true);
        }
        attempt_payment(cx, &inv_id, n.first_payment_method.as_deref(), n.off_session, n.authenticated)?;
        if let Some(i) = cx.get_mut("invoice", &inv_id) {
            if i["status"] == "open" {
                // The first invoice is not retried; the subscription expires after 23 hours.
                i["next_payment_attempt"] = Value::Null;
            }
        }
    } else if inv["status"] == "open" && n.payment_behavior == "default_incomplete" {
        // A payment intent the client confirms.
        let pi = pay::create_intent(
            cx,
            NewPayment {
                customer: Some(&n.customer),
                amount: inv["amount_due"].as_i64().unwrap_or(0),
                currency: &currency,
                payment_method: None,
                description: Some("Subscription creation".into()),
                metadata: json!({}),
                setup_future_usage: Some("off_session".into()),
            },
        );
        let secret = pi["client_secret"].clone();
        if let Some(i) = cx.get_mut("invoice", &inv_id) {
            i["_sb_pi"] = pi["id"].clone();
            i["confirmation_secret"] = json!({"client_secret": secret, "type": "payment_intent"});
        }
        add_open_payment(cx, &inv_id, &pi);
    }
    let sub = cx.find("subscription", &id, "subscription")?;
    if !n.checkout {
        // Stripe's `customer.subscription.created` carries the state at the end of the request
        // and comes before the invoice's events; drop the intermediate update.
        let at = mark.min(cx.events.len());
        cx.events.retain(|e| !(e.kind == "customer.subscription.updated" && e.object["id"] == id.as_str()));
        let created = cx.now_for(&sub);
        cx.events.insert(
            at.min(cx.events.len()),
            PendingEvent {
                kind: "customer.subscription.created".into(),
                object: public(&sub),
                previous: None,
                created,
            },
        );
    }
    if let Some(t) = trial_end {
        if t - now <= 3 * DAY {
            cx.emit("customer.subscription.trial_will_end", &sub, None);
            if let Some(s) = cx.get_mut("subscription", &id) {
                s["_sb_twe_sent"] = json!(true);
            }
        }
    }
    cx.find("subscription", &id, "subscription")
}

/// Cancels a subscription now; emits `customer.subscription.deleted`.
pub fn cancel(cx: &mut Ctx, id: &str, reason: &str) -> ApiResult<Value> {
    let sub = cx.find("subscription", id, "subscription")?;
    if sub["status"] == "canceled" || sub["status"] == "incomplete_expired" {
        return Err(ApiError::invalid(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
        .with_code("resource_missing"));
    }
    let now = cx.now_for(&sub);
    let mut new = sub.clone();
    new["status"] = json!(if sub["status"] == "incomplete" { "incomplete_expired" } else { "canceled" });
    new["canceled_at"] = json!(now);
    new["ended_at"] = json!(now);
    new["cancellation_details"]["reason"] = json!(reason);
    // Stripe voids the open first invoice of an expiring incomplete subscription.
    cx.put("subscription", new.clone());
    if sub["status"] == "incomplete" {
        if let Some(inv) = sub["latest_invoice"].as_str() {
            let inv = inv.to_string();
            if cx.get("invoice", &inv).is_some_and(|i| i["status"] == "open") {
                void(cx, &inv)?;
            }
        }
    }
    // Open renewal invoices stop being retried.
    let open: Vec<String> = cx
        .all("invoice")
        .into_iter()
        .filter(|i| i["subscription"] == id && i["status"] == "open")
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect();
    for inv in open {
        if let Some(i) = cx.get_mut("invoice", &inv) {
            i["next_payment_attempt"] = Value::Null;
            i["auto_advance"] = json!(false);
        }
    }
    cx.emit("customer.subscription.deleted", &new, None);
    Ok(new)
}

/// Prorated amount for `amount` over the part of `period` after `at`.
pub fn prorate(amount: i64, period: (i64, i64), at: i64) -> i64 {
    let len = (period.1 - period.0).max(1);
    let remaining = (period.1 - at).clamp(0, len);
    ((amount as i128 * remaining as i128 + len as i128 / 2) / len as i128) as i64
}

/// Updates a subscription's items (price / quantity) with prorations.
pub fn change_items(
    cx: &mut Ctx,
    sub_id: &str,
    specs: &[ItemSpec],
    proration_behavior: &str,
    proration_date: Option<i64>,
    reset_anchor: bool,
) -> ApiResult<()> {
    let sub = cx.find("subscription", sub_id, "subscription")?;
    let now = cx.now_for(&sub);
    let at = proration_date.unwrap_or(now);
    let customer = sub["customer"].as_str().unwrap_or_default().to_string();
    let mut items: Vec<Value> = sub["items"]["data"].as_array().cloned().unwrap_or_default();
    let old_items = items.clone();
    let period = (
        items.first().and_then(|i| i["current_period_start"].as_i64()).unwrap_or(now),
        items.first().and_then(|i| i["current_period_end"].as_i64()).unwrap_or(now),
    );
    for (i, spec) in specs.iter().enumerate() {
        match &spec.id {
            Some(si) => {
                let pos = items
                    .iter()
                    .position(|x| x["id"] == si.as_str())
                    .ok_or_else(|| ApiError::not_found("subscription item", si, &format!("items[{i}][id]")))?;
                if spec.deleted {
                    items.remove(pos);
                    continue;
                }
                if let Some(p) = &spec.price {
                    let price = recurring_price(cx, p, &format!("items[{i}][price]"))?;
                    items[pos]["plan"] = objects::plan_from_price(&price);
                    items[pos]["price"] = public(&price);
                }
                if let Some(q) = spec.quantity {
                    items[pos]["quantity"] = json!(q);
                }
                if let Some(m) = &spec.metadata {
                    items[pos]["metadata"] =
                        crate::state::merge_metadata(&items[pos]["metadata"], &json!({"metadata": m}))?;
                }
            }
            None => {
                let p = spec.price.as_deref().ok_or_else(|| ApiError::missing(&format!("items[{i}][price]")))?;
                let price = recurring_price(cx, p, &format!("items[{i}][price]"))?;
                // Stripe: one item per price.
                if items.iter().any(|x| x["price"]["id"] == p) {
                    return Err(ApiError::invalid_value(
                        &format!("items[{i}][price]"),
                        "Cannot add multiple subscription items with the same plan.",
                    ));
                }
                items.push(subscription_item(
                    cx,
                    sub_id,
                    &price,
                    spec.quantity.unwrap_or(1),
                    spec.metadata.clone().unwrap_or(json!({})),
                    period,
                    now,
                ));
            }
        }
    }
    if items.is_empty() {
        return Err(ApiError::invalid_value("items", "A subscription must have at least one active plan."));
    }
    let new_interval = interval_of(&items[0]["price"]);
    let old_interval = old_items.first().map(|i| interval_of(&i["price"])).unwrap_or(new_interval.clone());
    let interval_changed = new_interval != old_interval;
    let trialing = sub["status"] == "trialing";
    let mut new_period = period;
    if (interval_changed || reset_anchor) && !trialing {
        new_period = (now, period_end(now, &new_interval.0, new_interval.1, day_of_month(now)));
    }
    for it in items.iter_mut() {
        it["current_period_start"] = json!(new_period.0);
        it["current_period_end"] = json!(new_period.1);
    }
    // Prorations: credit what is unused on the old items, charge the rest of the period on the new ones.
    let mut proration_lines = Vec::new();
    if proration_behavior != "none" && !trialing && sub["status"] != "incomplete" {
        let old_total =
            |it: &Value| it["price"]["unit_amount"].as_i64().unwrap_or(0) * it["quantity"].as_i64().unwrap_or(1);
        for old in &old_items {
            let new = items.iter().find(|n| n["id"] == old["id"]);
            let unchanged = new
                .is_some_and(|n| n["price"]["id"] == old["price"]["id"] && n["quantity"] == old["quantity"])
                && !interval_changed
                && !reset_anchor;
            if unchanged {
                continue;
            }
            let credit = prorate(old_total(old), period, at);
            if credit != 0 {
                let name = product_name(cx, &old["price"]);
                proration_lines.push((
                    -credit,
                    format!("Unused time on {} × {} after {}", old["quantity"], name, crate::util::ymd(at)),
                    old["price"].clone(),
                    old["quantity"].as_i64().unwrap_or(1),
                ));
            }
        }
        for new in &items {
            let old = old_items.iter().find(|o| o["id"] == new["id"]);
            let unchanged = old
                .is_some_and(|o| o["price"]["id"] == new["price"]["id"] && o["quantity"] == new["quantity"])
                && !interval_changed
                && !reset_anchor;
            if unchanged {
                continue;
            }
            let charge = if interval_changed || reset_anchor { 0 } else { prorate(old_total(new), period, at) };
            if charge != 0 {
                let name = product_name(cx, &new["price"]);
                proration_lines.push((
                    charge,
                    format!("Remaining time on {} × {} after {}", new["quantity"], name, crate::util::ymd(at)),
                    new["price"].clone(),
                    new["quantity"].as_i64().unwrap_or(1),
                ));
            }
        }
    }
    let mut new = sub.clone();
    new["items"]["data"] = Value::Array(items.clone());
    if interval_changed || reset_anchor {
        new["billing_cycle_anchor"] = json!(new_period.0);
    }
    cx.put("subscription", new);
    let currency = sub["currency"].as_str().unwrap_or("usd").to_string();
    for (amount, description, price, quantity) in &proration_lines {
        let ii = invoice_item(
            cx,
            NewItem {
                customer: &customer,
                amount: *amount,
                currency: &currency,
                description: json!(description),
                price: Some(price),
                quantity: *quantity,
                subscription: Some(sub_id),
                proration: true,
                period: (at, period.1),
                invoice: None,
                metadata: json!({}),
                discountable: false,
            },
        );
        cx.put("invoiceitem", ii.clone());
        cx.emit("invoiceitem.created", &ii, None);
    }
    let invoice_now = (proration_behavior == "always_invoice" && !proration_lines.is_empty())
        || ((interval_changed || reset_anchor) && !trialing && sub["status"] != "incomplete");
    if invoice_now {
        let sub_now = cx.find("subscription", sub_id, "subscription")?;
        let lines = if interval_changed || reset_anchor { item_lines(cx, &sub_now, new_period) } else { Vec::new() };
        let inv_id = invoice_subscription(cx, sub_id, "subscription_update", lines, (now, now))?;
        let inv = finalize(cx, &inv_id)?;
        if inv["status"] == "open" && inv["collection_method"] == "charge_automatically" {
            attempt_payment(cx, &inv_id, None, true, false)?;
        }
    }
    Ok(())
}

/// Renews a subscription at the end of its period (or ends it).
pub fn renew(cx: &mut Ctx, sub_id: &str) -> ApiResult<()> {
    let sub = cx.find("subscription", sub_id, "subscription")?;
    let now = cx.now_for(&sub);
    let period_end_ts = sub["items"]["data"][0]["current_period_end"].as_i64().unwrap_or(now);
    if sub["cancel_at_period_end"] == true || sub["cancel_at"].as_i64().is_some_and(|c| c <= period_end_ts) {
        cancel(cx, sub_id, "cancellation_requested")?;
        return Ok(());
    }
    // A schedule's next phase takes effect at the period boundary.
    if let Some(sched_id) = sub["schedule"].as_str().map(str::to_string) {
        super::schedules::apply_phase_at(cx, &sched_id, period_end_ts)?;
    }
    let sub = cx.find("subscription", sub_id, "subscription")?;
    let customer = sub["customer"].as_str().unwrap_or_default().to_string();
    let was_trialing = sub["status"] == "trialing";
    let items: Vec<Value> = sub["items"]["data"].as_array().cloned().unwrap_or_default();
    let (interval, count) = interval_of(&items[0]["price"]);
    let anchor_day = day_of_month(sub["billing_cycle_anchor"].as_i64().unwrap_or(period_end_ts));
    let start = period_end_ts;
    let end = period_end(start, &interval, count, anchor_day);
    let mut new = sub.clone();
    for it in new["items"]["data"].as_array_mut().into_iter().flatten() {
        it["current_period_start"] = json!(start);
        it["current_period_end"] = json!(end);
    }
    if was_trialing {
        new["status"] = json!("active");
        if sub["trial_settings"]["end_behavior"]["missing_payment_method"] == "cancel"
            && invoice_payment_method(cx, &json!({"subscription": sub_id, "customer": customer})).is_none()
        {
            cx.put("subscription", new);
            cancel(cx, sub_id, "cancellation_requested")?;
            return Ok(());
        }
    }
    if sub["status"] == "unpaid" || sub["pause_collection"].is_object() {
        // No invoice is attempted for unpaid or paused subscriptions; the period still moves.
        cx.put("subscription", new.clone());
        cx.emit("customer.subscription.updated", &new, Some(diff(&sub, &new)));
        return Ok(());
    }
    cx.put("subscription", new.clone());
    let lines = item_lines(cx, &new, (start, end));
    let prev_start = sub["items"]["data"][0]["current_period_start"].as_i64().unwrap_or(start);
    let inv_id = invoice_subscription(cx, sub_id, "subscription_cycle", lines, (prev_start, start))?;
    let updated = cx.find("subscription", sub_id, "subscription")?;
    // Stripe sends the subscription update (new period) right before the new invoice.
    let created_ev = cx.events.pop();
    cx.emit("customer.subscription.updated", &updated, Some(diff(&sub, &updated)));
    if let Some(e) = created_ev {
        cx.events.push(e);
    }
    if cx.st.settings.finalize_delay_secs <= 0 {
        finalize_and_charge(cx, &inv_id)?;
    }
    Ok(())
}

/// Automatic finalisation of a renewal invoice, then the first payment attempt.
pub fn finalize_and_charge(cx: &mut Ctx, inv_id: &str) -> ApiResult<()> {
    let inv = finalize(cx, inv_id)?;
    if inv["status"] == "open" && inv["collection_method"] == "charge_automatically" {
        attempt_payment(cx, inv_id, None, true, false)?;
    }
    Ok(())
}
