//! Payment methods, payment intents and charges: what happens when money moves. Refunds and
//! disputes are in `refunds`.

use serde_json::{json, Value};

use crate::cards::{self, Behavior};
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::Ctx;
use crate::util::{new_id, random_str};

/// Resolves a payment method id: test ids (`pm_card_visa`, `tok_visa`) create a fresh card
/// payment method each time, as on Stripe.
pub fn resolve_payment_method(ctx: &mut Ctx, id: &str, param: &str) -> ApiResult<Value> {
    if let Some(card) = cards::by_test_id(id) {
        let now = ctx.now();
        let mut pm = objects::card_payment_method(&card, 12, 2034, now);
        pm["_sb_test_id"] = json!(id);
        ctx.put("payment_method", pm.clone());
        return Ok(pm);
    }
    ctx.find("payment_method", id, param)
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
            .find(|pm| pm["customer"] == customer && pm["_sb_test_id"] == id)
            .and_then(|pm| pm["id"].as_str().map(str::to_string));
    }
    ctx.get("payment_method", id).filter(|pm| pm["customer"] == customer).map(|_| id.to_string())
}

/// The error for a payment method `id` the customer does not have (subscriptions, invoices).
pub fn not_customers_payment_method(param: &str, id: &str) -> ApiError {
    ApiError::invalid_value(param, format!("The customer does not have a payment method with the ID {id}. The payment method must be attached to the customer."))
}

pub fn behavior(pm: &Value) -> Behavior {
    Behavior::parse(pm["_sb_behavior"].as_str().unwrap_or("succeed"))
}

/// Attaches a payment method to a customer (declining cards fail here, as on Stripe).
pub fn attach(ctx: &mut Ctx, pm_id: &str, customer: &str) -> ApiResult<Value> {
    let mut pm = resolve_payment_method(ctx, pm_id, "payment_method")?;
    ctx.find("customer", customer, "customer")?;
    if let Some(existing) = pm["customer"].as_str() {
        if existing == customer {
            return Ok(pm);
        }
        return Err(ApiError::invalid("The payment method you provided has already been attached to a customer.")
            .with_code("payment_method_unexpected_state"));
    }
    if let Behavior::Decline(code) = behavior(&pm) {
        return Err(decline(code));
    }
    pm["customer"] = json!(customer);
    ctx.put("payment_method", pm.clone());
    ctx.emit("payment_method.attached", &pm, None);
    Ok(pm)
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
    let now = ctx.now_for_customer(payment.customer);
    let id = new_id("pi");
    let pi = json!({
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
    ctx.put("payment_intent", pi.clone());
    ctx.emit("payment_intent.created", &pi, None);
    pi
}

/// A charge of `pi` with `pm`; `failure` is (failure code, decline code, message).
fn new_charge(ctx: &Ctx, pi: &Value, pm: &Value, now: i64, failure: Option<(&str, &str, &str)>) -> Value {
    let id = new_id("ch");
    let ok = failure.is_none();
    json!({
        "id": id,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": if ok { pi["amount"].clone() } else { json!(0) },
        "amount_refunded": 0,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": if ok { json!(new_id("txn")) } else { Value::Null },
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "SANDBOX",
        "captured": ok,
        "created": now,
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": failure.map(|f| f.0),
        "failure_message": failure.map(|f| f.2),
        "fraud_details": {},
        "livemode": false,
        "metadata": pi["metadata"],
        "on_behalf_of": null,
        "outcome": if ok {
            json!({"network_status": "approved_by_network", "reason": null, "risk_level": "normal", "risk_score": 32, "seller_message": "Payment complete.", "type": "authorized"})
        } else {
            json!({"network_status": "declined_by_network", "reason": failure.map(|f| f.1), "risk_level": "normal", "risk_score": 40, "seller_message": "The bank did not return any further details with this decline.", "type": "issuer_declined"})
        },
        "paid": ok,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": objects::charge_payment_method_details(pm),
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
        "status": if ok { "succeeded" } else { "failed" },
        "transfer_data": null,
        "transfer_group": null,
    })
}

/// Confirms a payment intent with its (or the given) payment method. `authenticated` is true
/// when the customer completed 3-D Secure on a hosted page.
pub fn confirm(
    ctx: &mut Ctx,
    pi_id: &str,
    pm_id: Option<&str>,
    off_session: bool,
    authenticated: bool,
) -> ApiResult<(Value, Outcome)> {
    let mut pi = ctx.find("payment_intent", pi_id, "intent")?;
    if pi["status"] == "succeeded" || pi["status"] == "canceled" {
        return Err(ApiError::invalid(format!(
            "You cannot confirm this PaymentIntent because it has a status of {}.",
            pi["status"].as_str().unwrap_or_default()
        ))
        .with_code("payment_intent_unexpected_state"));
    }
    let pm_id = pm_id.map(str::to_string).or_else(|| pi["payment_method"].as_str().map(str::to_string));
    let Some(pm_id) = pm_id else {
        return Err(ApiError::invalid("You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent, you must provide a payment method.")
            .with_code("payment_intent_unexpected_state"));
    };
    let pm = resolve_payment_method(ctx, &pm_id, "payment_method")?;
    let now = ctx.now_for_customer(pi["customer"].as_str());
    pi["payment_method"] = pm["id"].clone();
    let behaviour = behavior(&pm);
    let outcome = match behaviour {
        Behavior::Succeed | Behavior::Dispute(_) => Outcome::Succeeded,
        Behavior::Decline(code) => Outcome::Failed(decline(code)),
        Behavior::AttachThenFail => Outcome::Failed(decline("generic_decline")),
        Behavior::ThreeDsSetup => {
            if off_session || authenticated || pm["_sb_authenticated"].as_bool() == Some(true) {
                Outcome::Succeeded
            } else {
                Outcome::RequiresAction
            }
        }
        Behavior::ThreeDsAlways => {
            if authenticated {
                Outcome::Succeeded
            } else {
                Outcome::RequiresAction
            }
        }
    };
    if authenticated {
        if let Some(pmv) = ctx.get_mut("payment_method", pm["id"].as_str().unwrap_or_default()) {
            pmv["_sb_authenticated"] = json!(true);
        }
    }
    match &outcome {
        Outcome::Succeeded => {
            let ch = new_charge(ctx, &pi, &pm, now, None);
            pi["status"] = json!("succeeded");
            pi["amount_received"] = pi["amount"].clone();
            pi["latest_charge"] = ch["id"].clone();
            pi["last_payment_error"] = Value::Null;
            pi["next_action"] = Value::Null;
            ctx.put("charge", ch.clone());
            ctx.put("payment_intent", pi.clone());
            ctx.emit("charge.succeeded", &ch, None);
            ctx.emit("payment_intent.succeeded", &pi, None);
            if let Behavior::Dispute(reason) = behaviour {
                super::refunds::create_dispute(ctx, ch["id"].as_str().unwrap_or_default(), reason)?;
            }
        }
        Outcome::Failed(err) => {
            let code = err.decline_code.clone().unwrap_or_else(|| "generic_decline".into());
            let ch = new_charge(
                ctx,
                &pi,
                &pm,
                now,
                Some((err.code.as_deref().unwrap_or("card_declined"), &code, &err.message)),
            );
            pi["status"] = json!("requires_payment_method");
            pi["latest_charge"] = ch["id"].clone();
            pi["last_payment_error"] = json!({
                "type": "card_error",
                "charge": ch["id"],
                "code": err.code,
                "decline_code": code,
                "doc_url": format!("https://stripe.com/docs/error-codes/{}", err.code.as_deref().unwrap_or("card_declined").replace('_', "-")),
                "message": err.message,
                "payment_method": crate::store::public(&pm),
            });
            ctx.put("charge", ch.clone());
            ctx.put("payment_intent", pi.clone());
            ctx.emit("charge.failed", &ch, None);
            ctx.emit("payment_intent.payment_failed", &pi, None);
        }
        Outcome::RequiresAction => {
            pi["status"] = json!("requires_action");
            pi["next_action"] = json!({
                "type": "redirect_to_url",
                "redirect_to_url": {"return_url": null, "url": format!("{}/3ds/{}", ctx.base_url, pi["id"].as_str().unwrap_or_default())},
            });
            if off_session {
                pi["last_payment_error"] = json!({
                    "type": "card_error",
                    "code": "authentication_required",
                    "decline_code": "authentication_required",
                    "doc_url": "https://stripe.com/docs/error-codes/authentication-required",
                    "message": cards::decline_message("authentication_required"),
                    "payment_method": crate::store::public(&pm),
                });
            }
            ctx.put("payment_intent", pi.clone());
            ctx.emit("payment_intent.requires_action", &pi, None);
        }
    }
    Ok((pi, outcome))
}

pub fn decline(code: &str) -> ApiError {
    ApiError::card(cards::error_code(code), Some(code), cards::decline_message(code))
}
