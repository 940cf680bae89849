//! Invoices: creation (with discounts), finalisation, void, uncollectible.

use serde_json::{json, Value};

use super::invoice_payments::{attempt_payment, mark_paid};
use super::lines::{line_json, relink_items, take_pending_items, Line};
use crate::error::{ApiError, ApiResult};
use crate::store::{list_of, Ctx};
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

/// Creates a subscription's invoice from its pending items plus `lines`, links the items and
/// sets `latest_invoice`. Returns the invoice id.
pub(super) fn invoice_subscription(
    ctx: &mut Ctx,
    sub_id: &str,
    billing_reason: &str,
    mut lines: Vec<Line>,
    period: (i64, i64),
) -> ApiResult<String> {
    let sub = ctx.find("subscription", sub_id, "subscription")?;
    let customer = sub["customer"].as_str().unwrap_or_default().to_string();
    let mut all = take_pending_items(ctx, &customer, Some(sub_id), "pending");
    all.append(&mut lines);
    let inv = create_invoice(ctx, NewInvoice::for_subscription(&customer, &sub, billing_reason, all, period, true))?;
    let inv_id = inv["id"].as_str().unwrap_or_default().to_string();
    relink_items(ctx, "pending", &inv_id);
    if let Some(s) = ctx.get_mut("subscription", sub_id) {
        s["latest_invoice"] = json!(inv_id);
    }
    Ok(inv_id)
}

/// Creates a draft invoice; emits `invoice.created`.
pub fn create_invoice(ctx: &mut Ctx, new_invoice: NewInvoice) -> ApiResult<Value> {
    let cus = ctx.find("customer", new_invoice.customer, "customer")?;
    let now = ctx.now_for_customer(Some(new_invoice.customer));
    let id = new_id("in");
    let subtotal: i64 = new_invoice.lines.iter().map(|l| l.amount).sum();
    let mut lines: Vec<Value> = new_invoice.lines.iter().map(|l| line_json(l, &id, new_invoice.currency)).collect();
    // Subscription discounts still in force reduce the discountable lines.
    let discountable: i64 = new_invoice.lines.iter().filter(|l| !l.proration && l.amount > 0).map(|l| l.amount).sum();
    let mut discount_ids = Vec::new();
    let mut discount_amounts = Vec::new();
    for di in
        new_invoice.subscription.map(|s| s["discounts"].as_array().cloned().unwrap_or_default()).unwrap_or_default()
    {
        let Some(di_id) = di.as_str() else { continue };
        let Some(amount) =
            super::discounts::take(ctx, di_id, discountable - discount_amounts.iter().map(|(a, _)| *a).sum::<i64>())
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
    let sub_id = new_invoice.subscription.map(|s| s["id"].clone()).unwrap_or(Value::Null);
    let parent = new_invoice.subscription.map(|s| {
        json!({"quote_details": null, "subscription_details": {"metadata": s["metadata"], "subscription": s["id"]}, "type": "subscription_details"})
    });
    let finalizes = if new_invoice.auto_advance && new_invoice.subscription.is_some() {
        Some(now + ctx.state.settings.finalize_delay_secs)
    } else {
        None
    };
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
        "_sb_days_until_due": new_invoice.days_until_due,
    });
    ctx.put("invoice", inv.clone());
    ctx.emit("invoice.created", &inv, None);
    Ok(inv)
}

/// Finalizes a draft invoice; emits `invoice.finalized`. Zero-amount invoices are paid at once.
pub fn finalize(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut inv = ctx.find("invoice", id, "invoice")?;
    if inv["status"] != "draft" {
        return Err(ApiError::invalid("This invoice is already finalized, you can't re-finalize a non-draft invoice.")
            .with_code("invoice_not_editable"));
    }
    let customer = inv["customer"].as_str().unwrap_or_default().to_string();
    let now = ctx.now_for_customer(Some(&customer));
    let seq = {
        let cus = ctx.get_mut("customer", &customer);
        match cus {
            Some(c) => {
                let sequence = c["next_invoice_sequence"].as_i64().unwrap_or(1);
                c["next_invoice_sequence"] = json!(sequence + 1);
                format!("{}-{:04}", c["invoice_prefix"].as_str().unwrap_or("SANDBOX"), sequence)
            }
            None => "SANDBOX-0001".into(),
        }
    };
    inv["status"] = json!("open");
    inv["number"] = json!(seq);
    inv["status_transitions"]["finalized_at"] = json!(now);
    inv["effective_at"] = json!(now);
    inv["automatically_finalizes_at"] = Value::Null;
    inv["hosted_invoice_url"] = json!(format!("{}/invoice/{}", ctx.base_url, id));
    inv["invoice_pdf"] = json!(format!("{}/invoice/{}/pdf", ctx.base_url, id));
    inv["ending_balance"] = json!(0);
    if inv["collection_method"] == "send_invoice" {
        let days = inv["_sb_days_until_due"].as_i64().unwrap_or(30);
        inv["due_date"] = json!(now + days * DAY);
    }
    ctx.put("invoice", inv.clone());
    ctx.emit("invoice.finalized", &inv, None);
    if inv["amount_due"].as_i64().unwrap_or(0) == 0 {
        mark_paid(ctx, id, None)?;
    }
    ctx.find("invoice", id, "invoice")
}

/// Automatic finalisation of a renewal invoice, then the first payment attempt.
pub fn finalize_and_charge(ctx: &mut Ctx, inv_id: &str) -> ApiResult<()> {
    let inv = finalize(ctx, inv_id)?;
    if inv["status"] == "open" && inv["collection_method"] == "charge_automatically" {
        attempt_payment(ctx, inv_id, None, true, false)?;
    }
    Ok(())
}

/// Voids an open invoice.
pub fn void(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut inv = ctx.find("invoice", id, "invoice")?;
    if inv["status"] != "open" {
        return Err(ApiError::invalid(format!(
            "You can only pass in open invoices. This invoice is {}.",
            inv["status"].as_str().unwrap_or_default()
        ))
        .with_code("invoice_not_open"));
    }
    let now = ctx.now_for_customer(inv["customer"].as_str());
    inv["status"] = json!("void");
    inv["status_transitions"]["voided_at"] = json!(now);
    inv["next_payment_attempt"] = Value::Null;
    inv["auto_advance"] = json!(false);
    inv["amount_remaining"] = json!(0);
    ctx.put("invoice", inv.clone());
    ctx.emit("invoice.voided", &inv, None);
    Ok(inv)
}

pub fn mark_uncollectible(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut inv = ctx.find("invoice", id, "invoice")?;
    if inv["status"] != "open" {
        return Err(
            ApiError::invalid("You can only mark open invoices as uncollectible.").with_code("invoice_not_open")
        );
    }
    let now = ctx.now_for_customer(inv["customer"].as_str());
    inv["status"] = json!("uncollectible");
    inv["status_transitions"]["marked_uncollectible_at"] = json!(now);
    inv["next_payment_attempt"] = Value::Null;
    inv["auto_advance"] = json!(false);
    ctx.put("invoice", inv.clone());
    ctx.emit("invoice.marked_uncollectible", &inv, None);
    Ok(inv)
}
