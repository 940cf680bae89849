//! Checkout Sessions changing state: completion by a payment method (hosted page or the CLI's
//! `payment_pages/{id}/confirm`), and expiry.

use serde_json::{json, Value};

use super::discounts::{self, DiscountSpec};
use super::invoice_payments::attempt_payment;
use super::pay::{self, NewPayment, Outcome};
use super::subscriptions::{create_subscription, ItemSpec, NewSubscription};
use crate::cards::Behavior;
use crate::error::{ApiError, ApiResult};
use crate::store::{new_metadata, param_nonempty, public, Ctx};

/// Expires an open session (`POST …/expire`, or its `expires_at` passing); emits
/// `checkout.session.expired`.
pub fn expire(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = ctx.find("checkout.session", id, "session")?;
    if old["status"] != "open" {
        return Err(ApiError::invalid(format!("Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{}\".", old["status"].as_str().unwrap_or_default()))
            .with_code("checkout_session_not_open"));
    }
    let mut session = old.clone();
    session["status"] = json!("expired");
    session["url"] = Value::Null;
    ctx.put("checkout.session", session.clone());
    ctx.emit("checkout.session.expired", &session, None);
    Ok(public(&session))
}

/// What completing a session led to.
pub enum Completion {
    Done(Value),
    /// The card needs 3-D Secure first (hosted page shows the challenge).
    NeedsAuthentication,
}

/// Completes an open session with a payment method (from the hosted page or the CLI's
/// `payment_pages/{id}/confirm`). Declines leave the session open and return a card error.
pub fn complete(
    ctx: &mut Ctx,
    id: &str,
    pm_id: &str,
    email: Option<&str>,
    authenticated: bool,
) -> ApiResult<Completion> {
    let mut session = ctx.find("checkout.session", id, "session")?;
    let discount_specs = apply_discounts(ctx, &mut session)?;
    if session["status"] != "open" {
        return Err(ApiError::invalid(format!(
            "This Checkout Session is no longer active (status: {}).",
            session["status"].as_str().unwrap_or_default()
        ))
        .with_code("checkout_session_not_open"));
    }
    let pm = pay::resolve_payment_method(ctx, pm_id, "payment_method")?;
    let pm_id = pm["id"].as_str().unwrap_or_default().to_string();
    let mode = session["mode"].as_str().unwrap_or("payment").to_string();
    let trial = session["_sb_trial_days"].as_i64().is_some_and(|d| d > 0) || session["_sb_trial_end"].is_i64();
    // Nothing is charged today with a trial, a 100% discount, or in setup mode.
    let charges_now =
        session["amount_total"].as_i64().unwrap_or(0) > 0 && (mode == "payment" || (mode == "subscription" && !trial));
    let behaviour = pay::behavior(&pm);
    // A card whose charge fails: the attempt confirms the payment intent and leaves a failed
    // charge (`charge.failed`, `payment_intent.payment_failed`); the session stays open and the
    // next attempt confirms the same payment intent.
    let charge_fails = charges_now && matches!(behaviour, Behavior::Decline(_) | Behavior::AttachThenFail);
    match behaviour {
        Behavior::Decline(code) if !charges_now => return Err(pay::decline(code)),
        Behavior::ThreeDsSetup | Behavior::ThreeDsAlways if !authenticated => {
            return Ok(Completion::NeedsAuthentication)
        }
        _ => {}
    }
    if mode == "payment" && charge_fails {
        let intent_id = session_intent(ctx, &session, session["customer"].as_str(), &pm_id)?;
        let (_, outcome) = pay::confirm(ctx, &intent_id, Some(&pm_id), false, authenticated)?;
        return Err(match outcome {
            Outcome::Failed(e) => e,
            _ => pay::decline("generic_decline"),
        });
    }
    let email = email
        .map(str::to_string)
        .or_else(|| session["customer_email"].as_str().map(str::to_string))
        .or_else(|| pm["billing_details"]["email"].as_str().map(str::to_string));
    let customer = session_customer(ctx, &session, &mode, email.as_deref())?;
    if let Some(customer_id) = customer.as_deref().filter(|_| !charge_fails) {
        save_card(ctx, customer_id, &pm_id, mode == "subscription")?;
    }
    let mut completed = session.clone();
    completed["customer"] = json!(customer);
    let customer_object = customer.as_deref().and_then(|c| ctx.get("customer", c)).cloned();
    completed["customer_details"] = json!({
        "address": null,
        "business_name": null,
        "email": email.or_else(|| customer_object.as_ref().and_then(|c| c["email"].as_str().map(str::to_string))),
        "individual_name": null,
        "name": customer_object.as_ref().map(|c| c["name"].clone()).unwrap_or(Value::Null),
        "phone": null,
        "tax_exempt": "none",
        "tax_ids": [],
    });
    match mode.as_str() {
        "subscription" => {
            let attempt = PaymentAttempt { pm_id: &pm_id, charge_fails, authenticated };
            let subscription = match subscribe(ctx, &session, customer.unwrap_or_default(), discount_specs, &attempt)? {
                Completion::Done(subscription) => subscription,
                Completion::NeedsAuthentication => return Ok(Completion::NeedsAuthentication),
            };
            completed["subscription"] = subscription["id"].clone();
            completed["invoice"] = subscription["latest_invoice"].clone();
            completed["payment_status"] = json!(if charges_now { "paid" } else { "no_payment_required" });
        }
        "payment" if charges_now => {
            let intent_id = session_intent(ctx, &session, customer.as_deref(), &pm_id)?;
            let (_, outcome) = pay::confirm(ctx, &intent_id, Some(&pm_id), false, authenticated)?;
            match outcome {
                Outcome::Succeeded => {}
                Outcome::Failed(e) => return Err(e),
                Outcome::RequiresAction => return Ok(Completion::NeedsAuthentication),
            }
            completed["payment_intent"] = json!(intent_id);
            completed["payment_status"] = json!("paid");
        }
        _ => {
            completed["payment_status"] = json!("no_payment_required");
        }
    }
    completed["status"] = json!("complete");
    completed["url"] = Value::Null;
    ctx.put("checkout.session", completed.clone());
    ctx.emit("checkout.session.completed", &completed, None);
    Ok(Completion::Done(public(&completed)))
}

/// The session's discounts plus a promotion code entered on the page (kept while 3-D Secure
/// is pending); the session's amounts after them (payment mode charges them, subscription
/// invoices apply them).
fn apply_discounts(ctx: &Ctx, session: &mut Value) -> ApiResult<Vec<DiscountSpec>> {
    let mut specs: Vec<DiscountSpec> = session["_sb_discounts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|d| DiscountSpec {
            coupon: d["coupon"].as_str().map(str::to_string),
            promotion_code: d["promotion_code"].as_str().map(str::to_string),
        })
        .collect();
    if let Some(code) = session["_sb_entered_code"].as_str().filter(|c| !c.is_empty()) {
        let promotion = discounts::find_code(ctx, code).ok_or_else(|| {
            ApiError::invalid_value("promotion_code", "This code is invalid.").with_code("promotion_code_invalid")
        })?;
        specs.push(DiscountSpec { coupon: None, promotion_code: promotion["id"].as_str().map(str::to_string) });
    }
    let subtotal = session["amount_subtotal"].as_i64().unwrap_or(0);
    let mut discount_total = 0;
    let mut discount_rows = Vec::new();
    for spec in &specs {
        let coupon_id = match (&spec.coupon, &spec.promotion_code) {
            (Some(coupon), _) => coupon.clone(),
            (None, Some(code)) => ctx.find("promotion_code", code, "promotion_code")?["promotion"]["coupon"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            _ => continue,
        };
        let coupon = ctx.find("coupon", &coupon_id, "coupon")?;
        discount_total += discounts::amount_off(&coupon, subtotal - discount_total);
        discount_rows.push(json!({"coupon": coupon_id, "promotion_code": spec.promotion_code}));
    }
    if discount_total > 0 {
        session["amount_total"] = json!(subtotal - discount_total);
        session["total_details"]["amount_discount"] = json!(discount_total);
        session["discounts"] = Value::Array(discount_rows);
    }
    Ok(specs)
}

/// The customer: given, created by an earlier (failed) attempt, or created now (always in
/// subscription mode).
fn session_customer(ctx: &mut Ctx, session: &Value, mode: &str, email: Option<&str>) -> ApiResult<Option<String>> {
    let mut customer = session["customer"].as_str().or_else(|| session["_sb_customer"].as_str()).map(str::to_string);
    if customer.is_none() && (mode != "payment" || session["customer_creation"] == "always") {
        let created = super::customers::create_with_email(ctx, email);
        customer = created["id"].as_str().map(str::to_string);
        let session_id = session["id"].as_str().unwrap_or_default();
        if let Some(stored) = ctx.get_mut("checkout.session", session_id) {
            stored["_sb_customer"] = json!(customer);
        }
    }
    Ok(customer)
}

/// Attaches the card; for a subscription it also becomes the customer's invoice default.
fn save_card(ctx: &mut Ctx, customer_id: &str, pm_id: &str, for_subscription: bool) -> ApiResult<()> {
    pay::attach(ctx, pm_id, customer_id)?;
    if for_subscription {
        let old = ctx.find("customer", customer_id, "customer")?;
        let mut customer = old.clone();
        customer["invoice_settings"]["default_payment_method"] = json!(pm_id);
        ctx.save_updated("customer", "customer.updated", &old, customer);
    }
    Ok(())
}

/// One attempt at paying for the session.
struct PaymentAttempt<'a> {
    pm_id: &'a str,
    /// The card's charge will fail (it is then used for this attempt only, not saved).
    charge_fails: bool,
    authenticated: bool,
}

/// Subscription mode: the subscription an earlier failed attempt left `incomplete` is paid
/// again, or a new one is created. Returns the (now paid or trialing) subscription.
fn subscribe(
    ctx: &mut Ctx,
    session: &Value,
    customer: String,
    discount_specs: Vec<DiscountSpec>,
    attempt: &PaymentAttempt,
) -> ApiResult<Completion> {
    let pending = session["_sb_subscription"]
        .as_str()
        .and_then(|id| ctx.get("subscription", id))
        .filter(|subscription| subscription["status"] == "incomplete")
        .cloned();
    if let Some(subscription) = pending {
        // An earlier attempt failed: confirm the first invoice's payment intent again.
        let subscription_id = subscription["id"].as_str().unwrap_or_default().to_string();
        if !attempt.charge_fails {
            if let Some(stored) = ctx.get_mut("subscription", &subscription_id) {
                stored["default_payment_method"] = json!(attempt.pm_id);
            }
        }
        let invoice_id = subscription["latest_invoice"].as_str().unwrap_or_default();
        match attempt_payment(ctx, invoice_id, Some(attempt.pm_id), false, attempt.authenticated)? {
            Outcome::Succeeded => {}
            Outcome::Failed(e) => return Err(e),
            Outcome::RequiresAction => return Ok(Completion::NeedsAuthentication),
        }
        return Ok(Completion::Done(ctx.find("subscription", &subscription_id, "subscription")?));
    }
    let items: Vec<ItemSpec> = session["_sb_items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|item| item["price"]["type"] == "recurring")
        .map(|item| ItemSpec {
            price: item["price"]["id"].as_str().map(str::to_string),
            quantity: item["quantity"].as_i64(),
            ..Default::default()
        })
        .collect();
    let pm_id = attempt.pm_id.to_string();
    let subscription = create_subscription(
        ctx,
        NewSubscription {
            customer,
            items,
            trial_end: session["_sb_trial_end"].as_i64(),
            trial_period_days: session["_sb_trial_days"].as_i64(),
            // A card whose payment fails is not saved.
            default_payment_method: (!attempt.charge_fails).then(|| pm_id.clone()),
            first_payment_method: attempt.charge_fails.then(|| pm_id.clone()),
            metadata: session["_sb_sub_metadata"].clone(),
            description: session["_sb_sub_description"].as_str().map(str::to_string),
            payment_behavior: "allow_incomplete".into(),
            collection_method: "charge_automatically".into(),
            checkout: true,
            authenticated: attempt.authenticated,
            discounts: discount_specs,
            ..Default::default()
        },
    )?;
    if subscription["status"] == "incomplete" {
        // The first invoice's payment failed: the session stays open, as on Stripe.
        if let Some(stored) = ctx.get_mut("checkout.session", session["id"].as_str().unwrap_or_default()) {
            stored["_sb_subscription"] = subscription["id"].clone();
        }
        return Err(first_invoice_error(ctx, &subscription));
    }
    Ok(Completion::Done(subscription))
}

/// The session's payment intent (payment mode): created by the first attempt, confirmed again
/// by each later one (with the amount after any promotion code and the customer known by then).
fn session_intent(ctx: &mut Ctx, session: &Value, customer: Option<&str>, pm_id: &str) -> ApiResult<String> {
    let amount = session["amount_total"].as_i64().unwrap_or(0);
    let existing = session["payment_intent"]
        .as_str()
        .and_then(|intent| ctx.get("payment_intent", intent))
        .filter(|intent| intent["status"] != "succeeded" && intent["status"] != "canceled")
        .cloned();
    let pi_id = match existing {
        Some(mut pi) => {
            pi["amount"] = json!(amount);
            if let Some(c) = customer {
                pi["customer"] = json!(c);
            }
            ctx.put("payment_intent", pi.clone());
            pi["id"].as_str().unwrap_or_default().to_string()
        }
        None => {
            let pi_data = session["_sb_pi_data"].clone();
            let pi = pay::create_intent(
                ctx,
                NewPayment {
                    customer,
                    amount,
                    currency: session["currency"].as_str().unwrap_or("usd"),
                    payment_method: Some(pm_id),
                    description: param_nonempty(&pi_data, "description").map(str::to_string),
                    metadata: new_metadata(&pi_data)?,
                    setup_future_usage: param_nonempty(&pi_data, "setup_future_usage").map(str::to_string),
                },
            );
            pi["id"].as_str().unwrap_or_default().to_string()
        }
    };
    if let Some(stored) = ctx.get_mut("checkout.session", session["id"].as_str().unwrap_or_default()) {
        stored["payment_intent"] = json!(pi_id);
    }
    Ok(pi_id)
}

/// The card error of a subscription's failed first payment.
fn first_invoice_error(ctx: &Ctx, subscription: &Value) -> ApiError {
    let invoice = subscription["latest_invoice"].as_str().and_then(|i| ctx.get("invoice", i));
    let pi = invoice.and_then(|i| i["_sb_pi"].as_str()).and_then(|intent_id| ctx.get("payment_intent", intent_id));
    pay::decline(
        pi.and_then(|intent| intent["last_payment_error"]["decline_code"].as_str()).unwrap_or("generic_decline"),
    )
}
