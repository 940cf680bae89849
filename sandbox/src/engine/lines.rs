//! Invoice lines and invoice items: what a subscription or a pending item puts on an invoice.

use serde_json::{json, Value};

use crate::store::Ctx;
use crate::util::{money, new_id};

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

pub fn product_name(ctx: &Ctx, price: &Value) -> String {
    let pid = price["product"].as_str().or_else(|| price["product"]["id"].as_str()).unwrap_or_default();
    ctx.get("product", pid).and_then(|product| product["name"].as_str()).unwrap_or("Product").to_string()
}

pub(super) fn line_json(line: &Line, invoice_id: &str, currency: &str) -> Value {
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
            "price_details": line.price.as_ref().map(|price| json!({"price": price["id"], "product": price["product"]})),
            "type": "price_details",
            "unit_amount_decimal": line.price.as_ref().map(|price| price["unit_amount_decimal"].clone()).unwrap_or(json!(line.amount.to_string())),
        },
        "quantity": line.quantity,
        "quantity_decimal": line.quantity.to_string(),
        "subscription": line.subscription,
        "subtotal": line.amount,
        "taxes": [],
    })
}

/// One line per subscription item, for a service period.
pub fn item_lines(ctx: &Ctx, sub: &Value, period: (i64, i64)) -> Vec<Line> {
    let sub_id = sub["id"].as_str().unwrap_or_default();
    sub["items"]["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|si| {
            let q = si["quantity"].as_i64().unwrap_or(1);
            let name = product_name(ctx, &si["price"]);
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
pub fn invoice_item(ctx: &Ctx, new_item: NewItem) -> Value {
    let test_clock = ctx.get("customer", new_item.customer).map(|c| c["test_clock"].clone()).unwrap_or(Value::Null);
    json!({
        "id": new_id("ii"),
        "object": "invoiceitem",
        "amount": new_item.amount,
        "currency": new_item.currency,
        "customer": new_item.customer,
        "date": ctx.now_for_customer(Some(new_item.customer)),
        "description": new_item.description,
        "discountable": new_item.discountable,
        "discounts": [],
        "invoice": new_item.invoice,
        "livemode": false,
        "metadata": new_item.metadata,
        "net_amount": new_item.amount,
        "parent": new_item.subscription.map(|s| json!({"subscription_details": {"subscription": s, "subscription_item": null}, "type": "subscription_details"})),
        "period": {"end": new_item.period.1, "start": new_item.period.0},
        "pricing": {
            "price_details": new_item.price.map(|pr| json!({"price": pr["id"], "product": pr["product"]})),
            "type": "price_details",
            "unit_amount_decimal": new_item.price.map(|pr| pr["unit_amount_decimal"].clone()).unwrap_or(json!((new_item.amount / new_item.quantity.max(1)).to_string())),
        },
        "proration": new_item.proration,
        "quantity": new_item.quantity,
        "quantity_decimal": new_item.quantity.to_string(),
        "subscription": new_item.subscription,
        "tax_rates": [],
        "test_clock": test_clock,
    })
}

/// Pending invoice items of a customer (optionally only those of one subscription) become
/// lines; they are marked as invoiced.
pub fn take_pending_items(ctx: &mut Ctx, customer: &str, subscription: Option<&str>, invoice_hint: &str) -> Vec<Line> {
    let ids: Vec<String> = ctx
        .all("invoiceitem")
        .into_iter()
        .filter(|ii| ii["customer"] == customer && ii["invoice"].is_null())
        .filter(|ii| subscription.is_none_or(|s| ii["subscription"] == s || ii["subscription"].is_null()))
        .filter_map(|ii| ii["id"].as_str().map(str::to_string))
        .collect();
    let mut lines = Vec::new();
    for id in ids.iter().rev() {
        let Some(ii) = ctx.get_mut("invoiceitem", id) else { continue };
        ii["invoice"] = json!(invoice_hint);
        let ii = ii.clone();
        lines.push(Line {
            amount: ii["amount"].as_i64().unwrap_or(0),
            description: ii["description"].as_str().unwrap_or("Invoice item").to_string(),
            period: (ii["period"]["start"].as_i64().unwrap_or(0), ii["period"]["end"].as_i64().unwrap_or(0)),
            quantity: ii["quantity"].as_i64().unwrap_or(1),
            price: ii["pricing"]["price_details"]["price"]
                .as_str()
                .and_then(|price_id| ctx.get("price", price_id))
                .cloned(),
            subscription: ii["subscription"].as_str().map(str::to_string),
            subscription_item: None,
            invoice_item: Some(id.clone()),
            proration: ii["proration"].as_bool().unwrap_or(false),
        });
    }
    lines
}

/// Moves pending items' `invoice` from a placeholder to the real invoice id.
pub(super) fn relink_items(ctx: &mut Ctx, placeholder: &str, invoice_id: &str) {
    let ids: Vec<String> = ctx
        .all("invoiceitem")
        .into_iter()
        .filter(|ii| ii["invoice"] == placeholder)
        .filter_map(|ii| ii["id"].as_str().map(str::to_string))
        .collect();
    for id in ids {
        if let Some(ii) = ctx.get_mut("invoiceitem", &id) {
            ii["invoice"] = json!(invoice_id);
        }
    }
}
