//! Invoices: creation (with discounts), changes, finalisation, void, uncollectible, deletion.

use serde_json::{json, Value};

use super::invoice_payments::{attempt_payment, mark_paid};
use super::lines::{line_json, relink_items, take_pending_items, Line};
use super::pay;
use super::subscriptions::resumption_settled;
use crate::error::{ApiError, ApiResult};
use crate::store::{apply_metadata, list_of, public, Ctx};
use crate::util::{new_id, DAY};

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
        subscription: &'a Value,
        billing_reason: &'a str,
        lines: Vec<Line>,
        period: (i64, i64),
        auto_advance: bool,
    ) -> Self {
        NewInvoice {
            customer,
            subscription: Some(subscription),
            billing_reason,
            currency: subscription["currency"].as_str().unwrap_or("usd"),
            lines,
            period,
            collection_method: subscription["collection_method"].as_str().unwrap_or("charge_automatically"),
            days_until_due: subscription["days_until_due"].as_i64(),
            auto_advance,
            metadata: json!({}),
            description: None,
        }
    }
}

/// Creates a subscription's invoice from its pending items plus `lines`, links the items and
/// sets `latest_invoice`. Returns the invoice id. Without `auto_advance` it stays a draft.
pub(super) fn invoice_subscription(
    ctx: &mut Ctx,
    subscription_id: &str,
    billing_reason: &str,
    mut lines: Vec<Line>,
    period: (i64, i64),
    auto_advance: bool,
) -> ApiResult<String> {
    let subscription = ctx.find("subscription", subscription_id, "subscription")?;
    let customer = subscription["customer"].as_str().unwrap_or_default().to_string();
    let mut all_lines = take_pending_items(ctx, &customer, Some(subscription_id), "pending");
    all_lines.append(&mut lines);
    let invoice = create_invoice(
        ctx,
        NewInvoice::for_subscription(&customer, &subscription, billing_reason, all_lines, period, auto_advance),
    )?;
    let invoice_id = invoice["id"].as_str().unwrap_or_default().to_string();
    relink_items(ctx, "pending", &invoice_id);
    if let Some(stored) = ctx.get_mut("subscription", subscription_id) {
        stored["latest_invoice"] = json!(invoice_id);
    }
    Ok(invoice_id)
}

/// Creates a draft invoice; emits `invoice.created`.
pub fn create_invoice(ctx: &mut Ctx, new_invoice: NewInvoice) -> ApiResult<Value> {
    let customer = ctx.find("customer", new_invoice.customer, "customer")?;
    let now = ctx.now_for_customer(Some(new_invoice.customer));
    let id = new_id("in");
    let subtotal: i64 = new_invoice.lines.iter().map(|line| line.amount).sum();
    let mut lines: Vec<Value> =
        new_invoice.lines.iter().map(|line| line_json(line, &id, new_invoice.currency)).collect();
    // Subscription discounts still in force reduce the discountable lines.
    let discountable: i64 =
        new_invoice.lines.iter().filter(|line| !line.proration && line.amount > 0).map(|line| line.amount).sum();
    let mut discount_ids = Vec::new();
    let mut discount_amounts = Vec::new();
    for discount in new_invoice
        .subscription
        .map(|subscription| subscription["discounts"].as_array().cloned().unwrap_or_default())
        .unwrap_or_default()
    {
        let Some(discount_id) = discount.as_str() else { continue };
        let left = discountable - discount_amounts.iter().map(|(amount, _)| *amount).sum::<i64>();
        // A coupon limited to some products discounts only their lines.
        let Some(amount) = super::discounts::take(ctx, discount_id, |coupon| {
            let eligible: i64 = new_invoice
                .lines
                .iter()
                .filter(|line| !line.proration && line.amount > 0)
                .filter(|line| {
                    let product = line.price.as_ref().and_then(|price| price["product"].as_str());
                    super::discounts::applies_to_product(coupon, product)
                })
                .map(|line| line.amount)
                .sum();
            eligible.min(left)
        }) else {
            continue;
        };
        discount_ids.push(json!(discount_id));
        discount_amounts.push((amount, discount_id.to_string()));
    }
    let discount_total: i64 = discount_amounts.iter().map(|(amount, _)| amount).sum();
    if let Some(first) =
        lines.iter_mut().find(|line| line["discountable"] == true && line["amount"].as_i64().unwrap_or(0) > 0)
    {
        first["discount_amounts"] = json!(discount_amounts
            .iter()
            .map(|(amount, discount)| json!({"amount": amount, "discount": discount}))
            .collect::<Vec<_>>());
        first["discounts"] = json!(discount_ids.clone());
    }
    let total = subtotal - discount_total;
    let subscription_id =
        new_invoice.subscription.map(|subscription| subscription["id"].clone()).unwrap_or(Value::Null);
    let parent = new_invoice.subscription.map(|subscription| {
        json!({"quote_details": null, "subscription_details": {"metadata": subscription["metadata"], "subscription": subscription["id"]}, "type": "subscription_details"})
    });
    let finalizes = if new_invoice.auto_advance && new_invoice.subscription.is_some() {
        Some(now + ctx.state.settings.finalize_delay_secs)
    } else {
        None
    };
    let invoice = json!({
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
        "auto_advance": new_invoice.auto_advance,
        "automatic_tax": {"disabled_reason": null, "enabled": false, "liability": null, "provider": null, "status": null},
        "automatically_finalizes_at": finalizes,
        "billing_reason": new_invoice.billing_reason,
        "collection_method": new_invoice.collection_method,
        "confirmation_secret": null,
        "created": now,
        "currency": new_invoice.currency,
        "custom_fields": null,
        "customer": new_invoice.customer,
        "customer_account": null,
        "customer_address": customer["address"],
        "customer_email": customer["email"],
        "customer_name": customer["name"],
        "customer_phone": customer["phone"],
        "customer_shipping": customer["shipping"],
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": null,
        "default_source": null,
        "default_tax_rates": [],
        "description": new_invoice.description,
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
        "metadata": new_invoice.metadata,
        "next_payment_attempt": null,
        "number": null,
        "on_behalf_of": null,
        "parent": parent,
        "payment_settings": {"default_mandate": null, "payment_method_options": null, "payment_method_types": null},
        "payments": list_of(vec![], &format!("/v1/invoice_payments?invoice={id}")),
        "period_end": new_invoice.period.1,
        "period_start": new_invoice.period.0,
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
        "subscription": subscription_id,
        "subtotal": subtotal,
        "subtotal_excluding_tax": subtotal,
        "test_clock": customer["test_clock"],
        "total": total,
        "total_discount_amounts": discount_amounts.iter().map(|(amount, discount)| json!({"amount": amount, "discount": discount})).collect::<Vec<_>>(),
        "total_excluding_tax": total,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": null,
        "_sb_days_until_due": new_invoice.days_until_due,
    });
    ctx.put("invoice", invoice.clone());
    ctx.emit("invoice.created", &invoice, None);
    Ok(invoice)
}

/// An invoice created through the API (`POST /v1/invoices`).
pub struct ManualInvoice {
    pub customer: String,
    pub subscription: Option<String>,
    /// One of the customer's payment methods.
    pub default_payment_method: Option<String>,
    /// `pending_invoice_items_behavior=include`: the customer's pending items become lines.
    pub include_pending_items: bool,
    /// The subscription's currency (or usd) without one.
    pub currency: Option<String>,
    pub collection_method: String,
    pub days_until_due: Option<i64>,
    pub auto_advance: bool,
    pub metadata: Value,
    pub description: Option<String>,
}

/// Creates a draft invoice for a customer (`billing_reason=manual`); emits `invoice.created`.
pub fn create_manual(ctx: &mut Ctx, request: ManualInvoice) -> ApiResult<Value> {
    let customer = request.customer.as_str();
    ctx.find("customer", customer, "customer")?;
    let subscription = match request.subscription.as_deref() {
        Some(id) => Some(ctx.find("subscription", id, "subscription")?),
        None => None,
    };
    let default_payment_method = match request.default_payment_method.as_deref() {
        Some(payment_method) => Some(
            pay::customer_payment_method_id(ctx, payment_method, customer)
                .ok_or_else(|| pay::not_customers_payment_method("default_payment_method", payment_method))?,
        ),
        None => None,
    };
    let lines = if request.include_pending_items {
        let subscription_id = subscription.as_ref().and_then(|subscription| subscription["id"].as_str());
        take_pending_items(ctx, customer, subscription_id, "pending")
    } else {
        Vec::new()
    };
    let currency = request
        .currency
        .or_else(|| {
            subscription.as_ref().and_then(|subscription| subscription["currency"].as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "usd".into());
    let now = ctx.now_for_customer(Some(customer));
    let invoice = create_invoice(
        ctx,
        NewInvoice {
            customer,
            subscription: subscription.as_ref(),
            billing_reason: "manual",
            currency: &currency,
            lines,
            period: (now, now),
            collection_method: &request.collection_method,
            days_until_due: request.days_until_due,
            auto_advance: request.auto_advance,
            metadata: request.metadata,
            description: request.description,
        },
    )?;
    let id = invoice["id"].as_str().unwrap_or_default().to_string();
    relink_items(ctx, "pending", &id);
    if let Some(payment_method) = default_payment_method {
        if let Some(stored) = ctx.get_mut("invoice", &id) {
            stored["default_payment_method"] = json!(payment_method);
        }
    }
    Ok(public(&ctx.find("invoice", &id, "invoice")?))
}

/// A requested invoice change; `None` leaves a field alone.
#[derive(Default)]
pub struct InvoiceUpdate {
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
    pub auto_advance: Option<bool>,
    /// `description`, `footer` (`null` clears).
    pub fields: Vec<(&'static str, Value)>,
    /// One of the customer's payment methods; empty clears.
    pub default_payment_method: Option<String>,
}

/// Changes an invoice; emits `invoice.updated` when anything changed. Turning `auto_advance` on
/// schedules a draft's finalisation an hour later.
pub fn update(ctx: &mut Ctx, id: &str, change: InvoiceUpdate) -> ApiResult<Value> {
    let old = ctx.find("invoice", id, "invoice")?;
    let mut invoice = old.clone();
    if let Some(metadata) = &change.metadata {
        invoice["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    if let Some(auto_advance) = change.auto_advance {
        invoice["auto_advance"] = json!(auto_advance);
        if auto_advance && invoice["status"] == "draft" && invoice["automatically_finalizes_at"].is_null() {
            invoice["automatically_finalizes_at"] = json!(ctx.now_for(&old) + 3600);
        }
    }
    for (key, value) in change.fields {
        invoice[key] = value;
    }
    match change.default_payment_method.as_deref() {
        Some("") => invoice["default_payment_method"] = Value::Null,
        Some(payment_method) => {
            let customer = invoice["customer"].as_str().unwrap_or_default();
            invoice["default_payment_method"] =
                json!(pay::customer_payment_method_id(ctx, payment_method, customer)
                    .ok_or_else(|| pay::not_customers_payment_method("default_payment_method", payment_method))?);
        }
        None => {}
    }
    Ok(ctx.save_updated("invoice", "invoice.updated", &old, invoice))
}

/// Deletes a draft invoice; emits `invoice.deleted`.
pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let invoice = ctx.find("invoice", id, "invoice")?;
    if invoice["status"] != "draft" {
        return Err(ApiError::invalid("You can only delete draft invoices.").with_code("invoice_not_editable"));
    }
    ctx.remove("invoice", id);
    ctx.emit("invoice.deleted", &invoice, None);
    Ok(json!({"id": id, "object": "invoice", "deleted": true}))
}

/// Finalizes a draft invoice; emits `invoice.finalized`. Zero-amount invoices are paid at once.
pub fn finalize(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut invoice = ctx.find("invoice", id, "invoice")?;
    if invoice["status"] != "draft" {
        return Err(ApiError::invalid("This invoice is already finalized, you can't re-finalize a non-draft invoice.")
            .with_code("invoice_not_editable"));
    }
    let customer = invoice["customer"].as_str().unwrap_or_default().to_string();
    let now = ctx.now_for_customer(Some(&customer));
    let number = {
        let stored = ctx.get_mut("customer", &customer);
        match stored {
            Some(customer) => {
                let sequence = customer["next_invoice_sequence"].as_i64().unwrap_or(1);
                customer["next_invoice_sequence"] = json!(sequence + 1);
                format!("{}-{:04}", customer["invoice_prefix"].as_str().unwrap_or("SANDBOX"), sequence)
            }
            None => "SANDBOX-0001".into(),
        }
    };
    invoice["status"] = json!("open");
    invoice["number"] = json!(number);
    invoice["status_transitions"]["finalized_at"] = json!(now);
    invoice["effective_at"] = json!(now);
    invoice["automatically_finalizes_at"] = Value::Null;
    invoice["hosted_invoice_url"] = json!(format!("{}/invoice/{}", ctx.base_url, id));
    invoice["invoice_pdf"] = json!(format!("{}/invoice/{}/pdf", ctx.base_url, id));
    invoice["ending_balance"] = json!(0);
    if invoice["collection_method"] == "send_invoice" {
        let days = invoice["_sb_days_until_due"].as_i64().unwrap_or(30);
        invoice["due_date"] = json!(now + days * DAY);
    }
    ctx.put("invoice", invoice.clone());
    ctx.emit("invoice.finalized", &invoice, None);
    if invoice["amount_due"].as_i64().unwrap_or(0) == 0 {
        mark_paid(ctx, id, None)?;
    }
    ctx.find("invoice", id, "invoice")
}

/// Automatic finalisation of a renewal invoice, then the first payment attempt. An invoice made
/// while the subscription's collection was paused is closed instead, as the pause says.
pub fn finalize_and_charge(ctx: &mut Ctx, invoice_id: &str) -> ApiResult<()> {
    let invoice = finalize(ctx, invoice_id)?;
    if invoice["status"] != "open" {
        return Ok(());
    }
    match invoice[PAUSED_COLLECTION].as_str() {
        Some("mark_uncollectible") => {
            mark_uncollectible(ctx, invoice_id)?;
        }
        Some("void") => {
            void(ctx, invoice_id)?;
        }
        _ if invoice["collection_method"] == "charge_automatically" => {
            attempt_payment(ctx, invoice_id, None, true, false)?;
        }
        _ => {}
    }
    Ok(())
}

/// Where an invoice keeps the `pause_collection[behavior]` in force when it was made (private).
pub const PAUSED_COLLECTION: &str = "_sb_paused_collection";

/// Voids an open invoice.
pub fn void(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut invoice = ctx.find("invoice", id, "invoice")?;
    if invoice["status"] != "open" {
        return Err(ApiError::invalid(format!(
            "You can only pass in open invoices. This invoice is {}.",
            invoice["status"].as_str().unwrap_or_default()
        ))
        .with_code("invoice_not_open"));
    }
    let now = ctx.now_for_customer(invoice["customer"].as_str());
    invoice["status"] = json!("void");
    invoice["status_transitions"]["voided_at"] = json!(now);
    invoice["next_payment_attempt"] = Value::Null;
    invoice["auto_advance"] = json!(false);
    invoice["amount_remaining"] = json!(0);
    ctx.put("invoice", invoice.clone());
    ctx.emit("invoice.voided", &invoice, None);
    Ok(invoice)
}

pub fn mark_uncollectible(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut invoice = ctx.find("invoice", id, "invoice")?;
    if invoice["status"] != "open" {
        return Err(
            ApiError::invalid("You can only mark open invoices as uncollectible.").with_code("invoice_not_open")
        );
    }
    let now = ctx.now_for_customer(invoice["customer"].as_str());
    invoice["status"] = json!("uncollectible");
    invoice["status_transitions"]["marked_uncollectible_at"] = json!(now);
    invoice["next_payment_attempt"] = Value::Null;
    invoice["auto_advance"] = json!(false);
    ctx.put("invoice", invoice.clone());
    ctx.emit("invoice.marked_uncollectible", &invoice, None);
    // A resumption invoice marked uncollectible resumes its subscription, as a paid one does.
    resumption_settled(ctx, &invoice, true);
    Ok(invoice)
}
