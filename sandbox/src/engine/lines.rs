//! Invoice lines and invoice items: what a subscription or a pending item puts on an invoice.

use serde_json::{json, Value};

use super::pricing::amount_for;
use super::usage_billing::is_metered;
use super::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::store::{public, Ctx};
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
    let product_id = price["product"].as_str().or_else(|| price["product"]["id"].as_str()).unwrap_or_default();
    ctx.get("product", product_id).and_then(|product| product["name"].as_str()).unwrap_or("Product").to_string()
}

pub(super) fn line_json(line: &Line, invoice_id: &str, currency: &str) -> Value {
    let parent = if let Some(invoice_item) = &line.invoice_item {
        json!({
            "invoice_item_details": {"invoice_item": invoice_item, "proration": line.proration, "proration_details": {"credited_items": null}, "subscription": line.subscription},
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

/// One line per licensed subscription item, billed in advance for a service period (metered
/// items are billed after theirs, see `usage_billing`).
pub fn item_lines(ctx: &Ctx, subscription: &Value, period: (i64, i64)) -> Vec<Line> {
    let subscription_id = subscription["id"].as_str().unwrap_or_default();
    SubscriptionView(subscription)
        .items()
        .iter()
        .filter(|item| !is_metered(&item["price"]))
        .map(|item| {
            let quantity = item["quantity"].as_i64().unwrap_or(1);
            let name = product_name(ctx, &item["price"]);
            Line {
                amount: amount_for(&item["price"], quantity),
                description: price_description(&item["price"], quantity, &name),
                period,
                quantity,
                price: Some(item["price"].clone()),
                subscription: Some(subscription_id.to_string()),
                subscription_item: item["id"].as_str().map(str::to_string),
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
            "price_details": new_item.price.map(|price| json!({"price": price["id"], "product": price["product"]})),
            "type": "price_details",
            "unit_amount_decimal": new_item.price.map(|price| price["unit_amount_decimal"].clone()).unwrap_or(json!((new_item.amount / new_item.quantity.max(1)).to_string())),
        },
        "proration": new_item.proration,
        "quantity": new_item.quantity,
        "quantity_decimal": new_item.quantity.to_string(),
        "subscription": new_item.subscription,
        "tax_rates": [],
        "test_clock": test_clock,
    })
}

/// Leaves `line` as a pending invoice item of `subscription` (billed on its next invoice); emits
/// `invoiceitem.created`.
pub fn pend_line(ctx: &mut Ctx, subscription: &Value, line: &Line) {
    let view = SubscriptionView(subscription);
    let item = invoice_item(
        ctx,
        NewItem {
            customer: view.customer(),
            amount: line.amount,
            currency: view.currency(),
            description: json!(line.description),
            price: line.price.as_ref(),
            quantity: line.quantity,
            subscription: Some(view.id()),
            proration: line.proration,
            period: line.period,
            invoice: None,
            metadata: json!({}),
            discountable: !line.proration,
        },
    );
    ctx.put("invoiceitem", item.clone());
    ctx.emit("invoiceitem.created", &item, None);
}

/// Creates an invoice item (`POST /v1/invoiceitems`): pending, or a line on the draft invoice
/// it names; emits `invoiceitem.created`.
pub fn add_invoice_item(ctx: &mut Ctx, new_item: NewItem) -> ApiResult<Value> {
    let (amount, currency, quantity, period) = (new_item.amount, new_item.currency, new_item.quantity, new_item.period);
    let (invoice_id, subscription) = (new_item.invoice, new_item.subscription);
    let item = invoice_item(ctx, new_item);
    ctx.put("invoiceitem", item.clone());
    if let Some(invoice_id) = invoice_id {
        let mut invoice = ctx.find("invoice", invoice_id, "invoice")?;
        if invoice["status"] != "draft" {
            return Err(ApiError::invalid_value("invoice", "You can only add invoice items to draft invoices.")
                .with_code("invoice_not_editable"));
        }
        let mut lines: Vec<Value> = invoice["lines"]["data"].as_array().cloned().unwrap_or_default();
        lines.push(json!({
            "id": new_id("il"), "object": "line_item", "amount": amount, "currency": currency, "description": item["description"],
            "discount_amounts": [], "discountable": true, "discounts": [], "invoice": invoice_id, "livemode": false, "metadata": {},
            "parent": {"invoice_item_details": {"invoice_item": item["id"], "proration": false, "proration_details": {"credited_items": null}, "subscription": subscription}, "subscription_item_details": null, "type": "invoice_item_details"},
            "period": {"end": period.1, "start": period.0}, "pretax_credit_amounts": [],
            "pricing": item["pricing"], "quantity": quantity, "quantity_decimal": quantity.to_string(), "subscription": subscription, "subtotal": amount, "taxes": [],
        }));
        let total: i64 = lines.iter().map(|line| line["amount"].as_i64().unwrap_or(0)).sum();
        invoice["lines"]["data"] = Value::Array(lines);
        for key in ["subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax"] {
            invoice[key] = json!(total);
        }
        invoice["amount_due"] = json!(total.max(0));
        invoice["amount_remaining"] = json!(total.max(0));
        ctx.put("invoice", invoice);
    }
    ctx.emit("invoiceitem.created", &item, None);
    Ok(public(&item))
}

/// Pending invoice items of a customer (optionally only those of one subscription) become
/// lines; they are marked as invoiced.
pub fn take_pending_items(ctx: &mut Ctx, customer: &str, subscription: Option<&str>, invoice_hint: &str) -> Vec<Line> {
    let ids: Vec<String> = ctx
        .all("invoiceitem")
        .into_iter()
        .filter(|item| item["customer"] == customer && item["invoice"].is_null())
        .filter(|item| subscription.is_none_or(|s| item["subscription"] == s || item["subscription"].is_null()))
        .filter_map(|item| item["id"].as_str().map(str::to_string))
        .collect();
    let mut lines = Vec::new();
    for id in ids.iter().rev() {
        let Some(item) = ctx.get_mut("invoiceitem", id) else { continue };
        item["invoice"] = json!(invoice_hint);
        let item = item.clone();
        lines.push(Line {
            amount: item["amount"].as_i64().unwrap_or(0),
            description: item["description"].as_str().unwrap_or("Invoice item").to_string(),
            period: (item["period"]["start"].as_i64().unwrap_or(0), item["period"]["end"].as_i64().unwrap_or(0)),
            quantity: item["quantity"].as_i64().unwrap_or(1),
            price: item["pricing"]["price_details"]["price"]
                .as_str()
                .and_then(|price_id| ctx.get("price", price_id))
                .cloned(),
            subscription: item["subscription"].as_str().map(str::to_string),
            subscription_item: None,
            invoice_item: Some(id.clone()),
            proration: item["proration"].as_bool().unwrap_or(false),
        });
    }
    lines
}

/// Moves pending items' `invoice` from a placeholder to the real invoice id.
pub(super) fn relink_items(ctx: &mut Ctx, placeholder: &str, invoice_id: &str) {
    let ids: Vec<String> = ctx
        .all("invoiceitem")
        .into_iter()
        .filter(|item| item["invoice"] == placeholder)
        .filter_map(|item| item["id"].as_str().map(str::to_string))
        .collect();
    for id in ids {
        if let Some(item) = ctx.get_mut("invoiceitem", &id) {
            item["invoice"] = json!(invoice_id);
        }
    }
}
