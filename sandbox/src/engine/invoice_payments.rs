//! Paying invoices: payment attempts (reusing the invoice's payment intent), success, and
//! dunning after failures (retry schedule, then the configured final step).

use serde_json::{json, Value};

use super::pay::{self, NewPayment, Outcome};
use super::subscriptions::{cancel, resumption_settled, save_default_payment_method};
use super::views::{InvoiceView, SubscriptionView};
use crate::error::{ApiError, ApiResult};
use crate::store::{diff, Ctx, DunningFinal};
use crate::util::{new_id, DAY};

/// Marks an invoice paid (optionally by a payment intent); emits `invoice.paid` and
/// `invoice.payment_succeeded`, and heals the subscription's status.
pub fn mark_paid(ctx: &mut Ctx, id: &str, intent: Option<&Value>) -> ApiResult<Value> {
    let mut invoice = ctx.find("invoice", id, "invoice")?;
    let now = ctx.now_for_customer(invoice["customer"].as_str());
    let amount = invoice["amount_due"].as_i64().unwrap_or(0);
    invoice["status"] = json!("paid");
    invoice["amount_paid"] = json!(amount);
    invoice["amount_remaining"] = json!(0);
    invoice["attempted"] = json!(true);
    if intent.is_some() {
        invoice["attempt_count"] = json!(invoice["attempt_count"].as_i64().unwrap_or(0) + 1);
    }
    invoice["next_payment_attempt"] = Value::Null;
    invoice["auto_advance"] = json!(false);
    invoice["status_transitions"]["paid_at"] = json!(now);
    if let Some(intent) = intent {
        let payment = json!({
            "id": new_id("inpay"),
            "object": "invoice_payment",
            "amount_paid": amount,
            "amount_requested": amount,
            "created": now,
            "currency": invoice["currency"],
            "invoice": id,
            "is_default": true,
            "livemode": false,
            "payment": {"charge": intent["latest_charge"], "payment_intent": intent["id"], "type": "payment_intent"},
            "status": "paid",
            "status_transitions": {"canceled_at": null, "paid_at": now},
        });
        let mut list: Vec<Value> = invoice["payments"]["data"].as_array().cloned().unwrap_or_default();
        list.retain(|p| p["payment"]["payment_intent"] != intent["id"]);
        list.insert(0, payment);
        invoice["payments"]["data"] = Value::Array(list);
    }
    ctx.put("invoice", invoice.clone());
    ctx.emit("invoice.paid", &invoice, None);
    ctx.emit("invoice.payment_succeeded", &invoice, None);
    resumption_settled(ctx, &invoice, true);
    if let Some(subscription) = InvoiceView(&invoice).subscription().and_then(|id| ctx.get("subscription", id)).cloned()
    {
        let mut new = subscription.clone();
        if matches!(SubscriptionView(&subscription).status(), "incomplete" | "past_due" | "unpaid") {
            new["status"] = json!("active");
        }
        // `save_default_payment_method=on_subscription` keeps the card that paid.
        if let Some(payment_method) = intent.and_then(|intent| intent["payment_method"].as_str()) {
            save_default_payment_method(&mut new, payment_method);
        }
        if new != subscription {
            ctx.put("subscription", new.clone());
            ctx.emit("customer.subscription.updated", &new, Some(diff(&subscription, &new)));
        }
    }
    if let Some(customer) = invoice["customer"].as_str().and_then(|id| ctx.get_mut("customer", id)) {
        customer["delinquent"] = json!(false);
    }
    Ok(invoice)
}

/// The open invoice a payment intent was made to pay, if any.
fn invoice_paid_by(ctx: &Ctx, payment_intent_id: &str) -> Option<String> {
    ctx.all("invoice")
        .into_iter()
        .find(|invoice| invoice["_sb_pi"] == payment_intent_id && InvoiceView(invoice).is_open())
        .map(|invoice| InvoiceView(invoice).id().to_string())
}

/// `POST /v1/payment_intents/{id}/confirm` (and the 3-D Secure page): an invoice's payment
/// intent that succeeds pays the invoice, which activates its subscription; one that fails or
/// needs authentication counts as a failed attempt of the invoice, as on Stripe.
pub fn confirm_intent(
    ctx: &mut Ctx,
    payment_intent_id: &str,
    payment_method: Option<&str>,
    off_session: bool,
    authenticated: bool,
) -> ApiResult<(Value, Outcome)> {
    let invoice = invoice_paid_by(ctx, payment_intent_id);
    let (intent, outcome) = pay::confirm(ctx, payment_intent_id, payment_method, off_session, authenticated)?;
    if let Some(invoice_id) = invoice {
        match outcome {
            Outcome::Succeeded => {
                mark_paid(ctx, &invoice_id, Some(&intent))?;
            }
            _ => {
                add_open_payment(ctx, &invoice_id, &intent);
                record_failure(ctx, &invoice_id, off_session, &outcome)?;
            }
        }
    }
    Ok((intent, outcome))
}

/// The payment method an invoice is charged with.
pub fn invoice_payment_method(ctx: &Ctx, invoice: &Value) -> Option<String> {
    if let Some(payment_method_id) = invoice["default_payment_method"].as_str() {
        return Some(payment_method_id.to_string());
    }
    if let Some(subscription) = invoice["subscription"].as_str().and_then(|id| ctx.get("subscription", id)) {
        if let Some(payment_method_id) = subscription["default_payment_method"].as_str() {
            return Some(payment_method_id.to_string());
        }
    }
    let customer = ctx.get("customer", invoice["customer"].as_str()?)?;
    customer["invoice_settings"]["default_payment_method"].as_str().map(str::to_string)
}

/// Attempts to pay an open invoice. `off_session` for automatic attempts. Returns the outcome.
pub fn attempt_payment(
    ctx: &mut Ctx,
    id: &str,
    payment_method: Option<&str>,
    off_session: bool,
    authenticated: bool,
) -> ApiResult<Outcome> {
    let invoice = ctx.find("invoice", id, "invoice")?;
    if !InvoiceView(&invoice).is_open() {
        return Err(ApiError::invalid("Invoice is already paid").with_code("invoice_not_open"));
    }
    if InvoiceView(&invoice).amount_due() == 0 {
        mark_paid(ctx, id, None)?;
        return Ok(Outcome::Succeeded);
    }
    let outcome = match payment_method.map(str::to_string).or_else(|| invoice_payment_method(ctx, &invoice)) {
        None => Outcome::Failed(
            ApiError::invalid("This customer has no attached payment source or default payment method. Please consider adding a default payment method.")
                .with_code("invoice_no_customer_line_items"),
        ),
        Some(payment_method_id) => match charge(ctx, &invoice, &payment_method_id, off_session, authenticated)? {
            Outcome::Succeeded => return Ok(Outcome::Succeeded),
            failed_or_action => failed_or_action,
        },
    };
    record_failure(ctx, id, off_session, &outcome)?;
    Ok(outcome)
}

/// Confirms the invoice's payment intent (reused across attempts, as Stripe does) with a payment method;
/// a success pays the invoice.
fn charge(
    ctx: &mut Ctx,
    invoice: &Value,
    payment_method_id: &str,
    off_session: bool,
    authenticated: bool,
) -> ApiResult<Outcome> {
    let id = InvoiceView(invoice).id();
    let existing = InvoiceView(invoice)
        .payment_intent()
        .and_then(|intent_id| ctx.get("payment_intent", intent_id))
        .filter(|intent| intent["status"] != "succeeded" && intent["status"] != "canceled")
        .cloned();
    let intent = match existing {
        Some(intent) => intent,
        None => pay::create_intent(
            ctx,
            NewPayment {
                customer: Some(InvoiceView(invoice).customer()),
                amount: InvoiceView(invoice).amount_due(),
                currency: invoice["currency"].as_str().unwrap_or("usd"),
                payment_method: Some(payment_method_id),
                description: Some(match invoice["billing_reason"].as_str() {
                    Some("subscription_create") => "Subscription creation".to_string(),
                    Some("subscription_cycle") | Some("subscription_update") => "Subscription update".to_string(),
                    _ => format!("Invoice {}", invoice["number"].as_str().unwrap_or_default()),
                }),
                metadata: json!({}),
                setup_future_usage: None,
            },
        ),
    };
    let intent_id = intent["id"].as_str().unwrap_or_default().to_string();
    if let Some(stored) = ctx.get_mut("invoice", id) {
        stored["_sb_pi"] = json!(intent_id);
    }
    let (intent, outcome) = pay::confirm(ctx, &intent_id, Some(payment_method_id), off_session, authenticated)?;
    if let Outcome::Succeeded = outcome {
        mark_paid(ctx, id, Some(&intent))?;
        return Ok(outcome);
    }
    add_open_payment(ctx, id, &intent);
    Ok(outcome)
}

/// A failed (or authentication-needing) attempt: counted; automatic attempts schedule the next
/// retry or end dunning; the customer is delinquent and a renewing subscription past due.
fn record_failure(ctx: &mut Ctx, id: &str, off_session: bool, outcome: &Outcome) -> ApiResult<()> {
    let mut invoice = ctx.find("invoice", id, "invoice")?;
    let customer = InvoiceView(&invoice).customer().to_string();
    let now = ctx.now_for_customer(Some(&customer));
    let attempts = invoice["attempt_count"].as_i64().unwrap_or(0) + 1;
    invoice["attempt_count"] = json!(attempts);
    invoice["attempted"] = json!(true);
    let automatic = off_session && invoice["auto_advance"] == true && invoice["subscription"].is_string();
    let mut exhausted = false;
    if automatic {
        match ctx.state.settings.dunning_retry_days.get(attempts as usize - 1) {
            Some(days) => invoice["next_payment_attempt"] = json!(now + days * DAY),
            None => {
                invoice["next_payment_attempt"] = Value::Null;
                invoice["auto_advance"] = json!(false);
                exhausted = true;
            }
        }
    }
    ctx.put("invoice", invoice.clone());
    match outcome {
        Outcome::RequiresAction => ctx.emit("invoice.payment_action_required", &invoice, None),
        _ => ctx.emit("invoice.payment_failed", &invoice, None),
    }
    if let Some(stored) = ctx.get_mut("customer", &customer) {
        stored["delinquent"] = json!(true);
    }
    let Some(subscription_id) = InvoiceView(&invoice).subscription() else { return Ok(()) };
    // A failed attempt on a resumption invoice may end the pause (as `past_due`).
    resumption_settled(ctx, &invoice, false);
    let Some(subscription) = ctx.get("subscription", subscription_id).cloned() else { return Ok(()) };
    // The first invoice failing leaves the subscription `incomplete` instead.
    if invoice["billing_reason"] != "subscription_create" && subscription["status"] == "active" {
        set_status(ctx, &subscription, "past_due");
    }
    // Retries of a resumption invoice end without touching the still paused subscription.
    if exhausted && subscription["status"] != "paused" {
        end_dunning(ctx, subscription_id)?;
    }
    Ok(())
}

/// Every retry failed: the settings say whether the subscription is canceled, `unpaid`, or
/// left `past_due`.
fn end_dunning(ctx: &mut Ctx, subscription_id: &str) -> ApiResult<()> {
    match ctx.state.settings.dunning_final.clone() {
        DunningFinal::Cancel => {
            cancel(ctx, subscription_id, "payment_failed")?;
        }
        DunningFinal::Unpaid => {
            let subscription = ctx.find("subscription", subscription_id, "subscription")?;
            if subscription["status"] != "canceled" {
                set_status(ctx, &subscription, "unpaid");
            }
        }
        DunningFinal::PastDue => {}
    }
    Ok(())
}

/// A subscription status change with its `customer.subscription.updated`.
fn set_status(ctx: &mut Ctx, subscription: &Value, status: &str) {
    let mut new = subscription.clone();
    new["status"] = json!(status);
    ctx.put("subscription", new.clone());
    ctx.emit("customer.subscription.updated", &new, Some(diff(subscription, &new)));
}

pub(super) fn add_open_payment(ctx: &mut Ctx, invoice_id: &str, payment_intent: &Value) {
    let now = ctx.now_for_customer(payment_intent["customer"].as_str());
    if let Some(invoice) = ctx.get_mut("invoice", invoice_id) {
        let mut list: Vec<Value> = invoice["payments"]["data"].as_array().cloned().unwrap_or_default();
        if !list.iter().any(|p| p["payment"]["payment_intent"] == payment_intent["id"]) {
            list.insert(
                0,
                json!({
                    "id": new_id("inpay"),
                    "object": "invoice_payment",
                    "amount_paid": 0,
                    "amount_requested": invoice["amount_due"],
                    "created": now,
                    "currency": invoice["currency"],
                    "invoice": invoice_id,
                    "is_default": true,
                    "livemode": false,
                    "payment": {"charge": null, "payment_intent": payment_intent["id"], "type": "payment_intent"},
                    "status": "open",
                    "status_transitions": {"canceled_at": null, "paid_at": null},
                }),
            );
            invoice["payments"]["data"] = Value::Array(list);
        }
    }
}
