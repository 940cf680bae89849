//! Payment methods, payment intents and charges: what happens when money moves. Refunds and
//! disputes are in `refunds`.

use serde_json::{json, Value};

use crate::cards::{self, Behavior};
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::{apply_metadata, public, Ctx};
use crate::util::{new_id, random_str};

/// Resolves a payment method id: test ids (`pm_card_visa`, `tok_visa`) create a fresh card
/// payment method each time, as on Stripe.
pub fn resolve_payment_method(ctx: &mut Ctx, id: &str, param: &str) -> ApiResult<Value> {
    if let Some(card) = cards::by_test_id(id) {
        let now = ctx.now();
        let mut payment_method = objects::card_payment_method(&card, 12, 2034, now);
        payment_method["_sb_test_id"] = json!(id);
        ctx.put("payment_method", payment_method.clone());
        return Ok(payment_method);
    }
    ctx.find("payment_method", id, param)
}

/// The id of the payment method a request names, if it names one (a test id makes a new card).
pub fn resolve_payment_method_id(ctx: &mut Ctx, id: Option<&str>) -> ApiResult<Option<String>> {
    match id {
        Some(id) => {
            Ok(Some(resolve_payment_method(ctx, id, "payment_method")?["id"].as_str().unwrap_or_default().to_string()))
        }
        None => Ok(None),
    }
}

/// A payment method id given where one attached to `customer` is required
/// (`invoice_settings[default_payment_method]`, a subscription's or invoice's
/// `default_payment_method`). A test id (`pm_card_visa`) stands for the customer's card made
/// from it, the latest one attached (as when the same request attaches `payment_method=pm_card_visa`).
/// `None` when the customer has no such payment method.
pub fn customer_payment_method_id(ctx: &Ctx, id: &str, customer: &str) -> Option<String> {
    if cards::by_test_id(id).is_some() {
        return ctx
            .all("payment_method")
            .into_iter()
            .find(|payment_method| payment_method["customer"] == customer && payment_method["_sb_test_id"] == id)
            .and_then(|payment_method| payment_method["id"].as_str().map(str::to_string));
    }
    ctx.get("payment_method", id)
        .filter(|payment_method| payment_method["customer"] == customer)
        .map(|_| id.to_string())
}

/// The error for a payment method `id` the customer does not have (subscriptions, invoices).
pub fn not_customers_payment_method(param: &str, id: &str) -> ApiError {
    ApiError::invalid_value(param, format!("The customer does not have a payment method with the ID {id}. The payment method must be attached to the customer."))
}

pub fn behavior(payment_method: &Value) -> Behavior {
    Behavior::parse(payment_method["_sb_behavior"].as_str().unwrap_or("succeed"))
}

/// Attaches a payment method to a customer (declining cards fail here, as on Stripe).
pub fn attach(ctx: &mut Ctx, payment_method_id: &str, customer: &str) -> ApiResult<Value> {
    let mut payment_method = resolve_payment_method(ctx, payment_method_id, "payment_method")?;
    ctx.find("customer", customer, "customer")?;
    if let Some(existing) = payment_method["customer"].as_str() {
        if existing == customer {
            return Ok(payment_method);
        }
        return Err(ApiError::invalid("The payment method you provided has already been attached to a customer.")
            .with_code("payment_method_unexpected_state"));
    }
    if let Behavior::Decline(code) = behavior(&payment_method) {
        return Err(decline(code));
    }
    payment_method["customer"] = json!(customer);
    ctx.put("payment_method", payment_method.clone());
    ctx.emit("payment_method.attached", &payment_method, None);
    Ok(payment_method)
}

/// The outcome of confirming a payment.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded,
    Failed(ApiError),
    RequiresAction,
}

pub struct NewPayment<'a> {
    pub customer: Option<&'a str>,
    pub amount: i64,
    pub currency: &'a str,
    pub payment_method: Option<&'a str>,
    pub description: Option<String>,
    pub metadata: Value,
    pub setup_future_usage: Option<String>,
}

/// Creates a payment intent and emits `payment_intent.created`.
pub fn create_intent(ctx: &mut Ctx, payment: NewPayment) -> Value {
    create_intent_with(ctx, payment, json!({}))
}

/// Creates a payment intent whose fields in `overrides` (an object) differ from the defaults
/// (`automatic_payment_methods`, `payment_method_types`); emits `payment_intent.created`.
pub fn create_intent_with(ctx: &mut Ctx, payment: NewPayment, overrides: Value) -> Value {
    let now = ctx.now_for_customer(payment.customer);
    let id = new_id("pi");
    let mut payment_intent = json!({
        "id": id,
        "object": "payment_intent",
        "amount": payment.amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": null,
        "application_fee_amount": null,
        "automatic_payment_methods": null,
        "canceled_at": null,
        "cancellation_reason": null,
        "capture_method": "automatic",
        "client_secret": format!("{id}_secret_{}", random_str(25)),
        "confirmation_method": "automatic",
        "created": now,
        "currency": payment.currency,
        "customer": payment.customer,
        "description": payment.description,
        "last_payment_error": null,
        "latest_charge": null,
        "livemode": false,
        "metadata": payment.metadata,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": payment.payment_method,
        "payment_method_configuration_details": null,
        "payment_method_options": {"card": {"installments": null, "mandate_options": null, "network": null, "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "processing": null,
        "receipt_email": null,
        "review": null,
        "setup_future_usage": payment.setup_future_usage,
        "shipping": null,
        "source": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": if payment.payment_method.is_some() { "requires_confirmation" } else { "requires_payment_method" },
        "transfer_data": null,
        "transfer_group": null,
    });
    if let (Value::Object(fields), Value::Object(overrides)) = (&mut payment_intent, overrides) {
        fields.extend(overrides);
    }
    ctx.put("payment_intent", payment_intent.clone());
    ctx.emit("payment_intent.created", &payment_intent, None);
    payment_intent
}

/// A requested payment intent change; `None` leaves a field alone.
#[derive(Default)]
pub struct IntentUpdate {
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
    pub amount: Option<i64>,
    /// `description`, `receipt_email`, `customer`, `setup_future_usage` (`null` clears).
    pub fields: Vec<(&'static str, Value)>,
    pub payment_method: Option<String>,
}

/// Changes a payment intent (no event, as on Stripe); a payment method makes it ready to confirm.
pub fn update_intent(ctx: &mut Ctx, id: &str, change: IntentUpdate) -> ApiResult<Value> {
    let old = ctx.find("payment_intent", id, "intent")?;
    let mut payment_intent = old.clone();
    if let Some(metadata) = &change.metadata {
        payment_intent["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    if let Some(amount) = change.amount {
        payment_intent["amount"] = json!(amount);
    }
    for (key, value) in change.fields {
        payment_intent[key] = value;
    }
    if let Some(payment_method_id) = change.payment_method.as_deref() {
        let payment_method = resolve_payment_method(ctx, payment_method_id, "payment_method")?;
        payment_intent["payment_method"] = payment_method["id"].clone();
        if payment_intent["status"] == "requires_payment_method" {
            payment_intent["status"] = json!("requires_confirmation");
        }
    }
    ctx.put("payment_intent", payment_intent.clone());
    Ok(public(&payment_intent))
}

/// Cancels a payment intent that has not succeeded; emits `payment_intent.canceled`.
pub fn cancel_intent(ctx: &mut Ctx, id: &str, reason: &str) -> ApiResult<Value> {
    let mut payment_intent = ctx.find("payment_intent", id, "intent")?;
    if payment_intent["status"] == "succeeded" || payment_intent["status"] == "canceled" {
        return Err(ApiError::invalid(format!(
            "You cannot cancel this PaymentIntent because it has a status of {}.",
            payment_intent["status"].as_str().unwrap_or_default()
        ))
        .with_code("payment_intent_unexpected_state"));
    }
    payment_intent["status"] = json!("canceled");
    payment_intent["canceled_at"] = json!(ctx.now());
    payment_intent["cancellation_reason"] = json!(reason);
    ctx.put("payment_intent", payment_intent.clone());
    ctx.emit("payment_intent.canceled", &payment_intent, None);
    Ok(public(&payment_intent))
}

/// A charge of a payment intent with a payment method; `failure` is (failure code, decline code,
/// message).
fn new_charge(
    ctx: &Ctx,
    payment_intent: &Value,
    payment_method: &Value,
    now: i64,
    failure: Option<(&str, &str, &str)>,
) -> Value {
    let id = new_id("ch");
    let succeeded = failure.is_none();
    json!({
        "id": id,
        "object": "charge",
        "amount": payment_intent["amount"],
        "amount_captured": if succeeded { payment_intent["amount"].clone() } else { json!(0) },
        "amount_refunded": 0,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": null,
        "billing_details": payment_method["billing_details"],
        "calculated_statement_descriptor": "SANDBOX",
        "captured": succeeded,
        "created": now,
        "currency": payment_intent["currency"],
        "customer": payment_intent["customer"],
        "description": payment_intent["description"],
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": failure.map(|f| f.0),
        "failure_message": failure.map(|f| f.2),
        "fraud_details": {},
        "livemode": false,
        "metadata": payment_intent["metadata"],
        "on_behalf_of": null,
        "outcome": super::radar::outcome(behavior(payment_method), failure.map(|f| f.1)),
        "paid": succeeded,
        "payment_intent": payment_intent["id"],
        "payment_method": payment_method["id"],
        "payment_method_details": objects::charge_payment_method_details(payment_method),
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": format!("{}/receipts/{}", ctx.base_url, id),
        "refunded": false,
        "refunds": objects::empty_list(&format!("/v1/charges/{id}/refunds")),
        "review": null,
        "shipping": null,
        "source": null,
        "source_transfer": null,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": if succeeded { "succeeded" } else { "failed" },
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// Confirms a payment intent with its (or the given) payment method. `authenticated` is true
/// when the customer completed 3-D Secure on a hosted page.
pub fn confirm(
    ctx: &mut Ctx,
    payment_intent_id: &str,
    payment_method_id: Option<&str>,
    off_session: bool,
    authenticated: bool,
) -> ApiResult<(Value, Outcome)> {
    let mut payment_intent = ctx.find("payment_intent", payment_intent_id, "intent")?;
    if payment_intent["status"] == "succeeded" || payment_intent["status"] == "canceled" {
        return Err(ApiError::invalid(format!(
            "You cannot confirm this PaymentIntent because it has a status of {}.",
            payment_intent["status"].as_str().unwrap_or_default()
        ))
        .with_code("payment_intent_unexpected_state"));
    }
    let payment_method_id =
        payment_method_id.map(str::to_string).or_else(|| payment_intent["payment_method"].as_str().map(str::to_string));
    let Some(payment_method_id) = payment_method_id else {
        return Err(ApiError::invalid("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, you must provide a payment method.")
            .with_code("payment_intent_unexpected_state"));
    };
    let payment_method = resolve_payment_method(ctx, &payment_method_id, "payment_method")?;
    let now = ctx.now_for_customer(payment_intent["customer"].as_str());
    payment_intent["payment_method"] = payment_method["id"].clone();
    let behaviour = behavior(&payment_method);
    let outcome = match behaviour {
        Behavior::Succeed | Behavior::Dispute(_) | Behavior::ElevatedRisk | Behavior::EarlyFraudWarning => {
            Outcome::Succeeded
        }
        Behavior::Decline(code) => Outcome::Failed(decline(code)),
        // Radar blocks before the network sees it: a decline in the issuer's words.
        Behavior::RadarBlock => Outcome::Failed(decline("fraudulent")),
        Behavior::AttachThenFail => Outcome::Failed(decline("generic_decline")),
        Behavior::ThreeDsSetup => {
            if off_session || authenticated || payment_method["_sb_authenticated"].as_bool() == Some(true) {
                Outcome::Succeeded
            } else {
                Outcome::RequiresAction
            }
        }
        Behavior::ThreeDsOnSession if off_session => Outcome::Succeeded,
        Behavior::ThreeDsAlways | Behavior::ThreeDsOnSession => {
            if authenticated {
                Outcome::Succeeded
            } else {
                Outcome::RequiresAction
            }
        }
    };
    if authenticated {
        if let Some(stored) = ctx.get_mut("payment_method", payment_method["id"].as_str().unwrap_or_default()) {
            stored["_sb_authenticated"] = json!(true);
        }
    }
    match &outcome {
        Outcome::Succeeded => {
            let mut charge = new_charge(ctx, &payment_intent, &payment_method, now, None);
            let immediate = payment_method["_sb_bypass_pending"] == true;
            let later = super::transfers::settle_charge(ctx, &mut charge, &payment_intent, immediate);
            let review = (behaviour == Behavior::ElevatedRisk).then(|| super::radar::open_review(ctx, &charge, now));
            if let Some(review) = &review {
                charge["review"] = review["id"].clone();
                payment_intent["review"] = review["id"].clone();
            }
            payment_intent["status"] = json!("succeeded");
            payment_intent["amount_received"] = payment_intent["amount"].clone();
            payment_intent["latest_charge"] = charge["id"].clone();
            payment_intent["last_payment_error"] = Value::Null;
            payment_intent["next_action"] = Value::Null;
            ctx.put("charge", charge.clone());
            ctx.put("payment_intent", payment_intent.clone());
            save_for_future_usage(ctx, &payment_intent)?;
            ctx.emit("charge.succeeded", &charge, None);
            ctx.emit("payment_intent.succeeded", &payment_intent, None);
            super::transfers::emit_later(ctx, later);
            if let Some(review) = &review {
                ctx.emit("review.opened", review, None);
            }
            let charge_id = charge["id"].as_str().unwrap_or_default();
            match behaviour {
                Behavior::Dispute(reason) => {
                    super::refunds::create_dispute(ctx, charge_id, reason)?;
                }
                Behavior::EarlyFraudWarning => {
                    super::radar::create_early_fraud_warning(ctx, charge_id)?;
                }
                _ => {}
            }
        }
        Outcome::Failed(err) => {
            let code = err.decline_code.clone().unwrap_or_else(|| "generic_decline".into());
            let charge = new_charge(
                ctx,
                &payment_intent,
                &payment_method,
                now,
                Some((err.code.as_deref().unwrap_or("card_declined"), &code, &err.message)),
            );
            payment_intent["status"] = json!("requires_payment_method");
            payment_intent["latest_charge"] = charge["id"].clone();
            payment_intent["last_payment_error"] = json!({
                "type": "card_error",
                "charge": charge["id"],
                "code": err.code,
                "decline_code": code,
                "doc_url": format!("https://stripe.com/docs/error-codes/{}", err.code.as_deref().unwrap_or("card_declined").replace('_', "-")),
                "message": err.message,
                "payment_method": public(&payment_method),
            });
            ctx.put("charge", charge.clone());
            ctx.put("payment_intent", payment_intent.clone());
            ctx.emit("charge.failed", &charge, None);
            ctx.emit("payment_intent.payment_failed", &payment_intent, None);
        }
        Outcome::RequiresAction => {
            payment_intent["status"] = json!("requires_action");
            payment_intent["next_action"] = super::authentication::next_action(ctx, &payment_intent);
            if off_session {
                payment_intent["last_payment_error"] = json!({
                    "type": "card_error",
                    "code": "authentication_required",
                    "decline_code": "authentication_required",
                    "doc_url": "https://stripe.com/docs/error-codes/authentication-required",
                    "message": cards::decline_message("authentication_required"),
                    "payment_method": public(&payment_method),
                });
            }
            ctx.put("payment_intent", payment_intent.clone());
            ctx.emit("payment_intent.requires_action", &payment_intent, None);
        }
    }
    Ok((payment_intent, outcome))
}

/// A payment intent with `setup_future_usage` and a customer saves its payment method on
/// success: attached to the customer, as Stripe does.
fn save_for_future_usage(ctx: &mut Ctx, payment_intent: &Value) -> ApiResult<()> {
    let (Some(customer), Some(payment_method)) =
        (payment_intent["customer"].as_str(), payment_intent["payment_method"].as_str())
    else {
        return Ok(());
    };
    let unattached = ctx.get("payment_method", payment_method).is_some_and(|pm| pm["customer"].is_null());
    if payment_intent["setup_future_usage"].is_string() && unattached {
        attach(ctx, payment_method, customer)?;
    }
    Ok(())
}

/// The customer failed 3-D Secure: the intent needs another payment method
/// (`payment_intent_authentication_failure`) and Stripe sends `payment_intent.payment_failed`.
pub fn fail_authentication(ctx: &mut Ctx, payment_intent_id: &str) -> ApiResult<Value> {
    let mut payment_intent = ctx.find("payment_intent", payment_intent_id, "intent")?;
    if payment_intent["status"] != "requires_action" {
        return Ok(public(&payment_intent));
    }
    super::authentication::record_failure(
        ctx,
        &mut payment_intent,
        "last_payment_error",
        "payment_intent_authentication_failure",
        "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
    );
    ctx.put("payment_intent", payment_intent.clone());
    ctx.emit("payment_intent.payment_failed", &payment_intent, None);
    Ok(public(&payment_intent))
}

pub fn decline(code: &str) -> ApiError {
    ApiError::card(cards::error_code(code), Some(code), cards::decline_message(code))
}
