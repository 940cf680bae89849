//! Checkout Sessions: creation, completion by a payment method (hosted page or the CLI's
//! `payment_pages/{id}/confirm`), and expiry.

use serde_json::{json, Value};

use super::discounts::{self, DiscountSpec, Redemption};
use super::invoice_payments::attempt_payment;
use super::lines::product_name;
use super::pay::{self, NewPayment, Outcome};
use super::subscriptions::{create_subscription, ItemSpec, NewSubscription};
use crate::cards::Behavior;
use crate::error::{ApiError, ApiResult};
use crate::store::{apply_metadata, new_metadata, param_nonempty, public, Ctx};
use crate::util::{new_id, random_str, DAY};

/// A Checkout Session to create, its parameters read and its prices resolved.
pub struct NewSession {
    /// `payment`, `subscription` or `setup`.
    pub mode: String,
    /// `hosted_page`, `embedded_page`, `elements` or `form`.
    pub ui_mode: String,
    pub line_items: Vec<SessionLine>,
    pub customer: Option<String>,
    pub customer_email: Option<String>,
    pub expires_at: Option<i64>,
    pub allow_promotion_codes: Option<bool>,
    pub automatic_tax: bool,
    pub billing_address_collection: Option<String>,
    pub cancel_url: Option<String>,
    pub client_reference_id: Option<String>,
    /// `customer_creation` (payment mode).
    pub customer_creation: String,
    pub locale: Option<String>,
    pub metadata: Value,
    /// `payment_method_collection` (subscription mode).
    pub payment_method_collection: String,
    pub return_url: Option<String>,
    /// `redirect_on_completion` (embedded Checkout): `always`, `if_required` or `never`.
    pub redirect_on_completion: Option<String>,
    pub submit_type: Option<String>,
    pub success_url: Option<String>,
    /// `subscription_data[trial_period_days]`.
    pub trial_period_days: Option<i64>,
    /// `subscription_data[trial_end]`.
    pub trial_end: Option<i64>,
    /// `subscription_data[metadata]`.
    pub subscription_metadata: Value,
    /// `subscription_data[description]`.
    pub subscription_description: Option<String>,
    /// `subscription_data[billing_mode][type]`.
    pub subscription_billing_mode: Option<String>,
    /// `subscription_data[trial_settings][end_behavior][missing_payment_method]`.
    pub missing_payment_method: Option<String>,
    /// `payment_intent_data[...]` as given.
    pub payment_intent_data: Value,
    pub discounts: Vec<DiscountSpec>,
}

/// A line item to sell: its price (stored), quantity (none for a metered price: usage sets
/// what it bills), and the `(minimum, maximum)` the buyer may change the quantity within
/// (`adjustable_quantity`), if any.
pub struct SessionLine {
    pub price: Value,
    pub quantity: Option<i64>,
    pub adjustable: Option<(i64, i64)>,
}

/// A session line item for `line`.
fn line_item(line: &SessionLine, description: &str) -> Value {
    let (price, quantity) = (&line.price, line.quantity);
    let amount = price["unit_amount"].as_i64().unwrap_or(0) * quantity.unwrap_or(0);
    let adjustable = line
        .adjustable
        .map_or(Value::Null, |(minimum, maximum)| json!({"enabled": true, "maximum": maximum, "minimum": minimum}));
    json!({
        "id": new_id("li"),
        "object": "item",
        "adjustable_quantity": adjustable,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": price["currency"],
        "description": description,
        "discounts": [],
        "metadata": {},
        "price": public(price),
        "quantity": quantity,
        "taxes": [],
    })
}

/// Creates an open session (no event, as on Stripe); it expires after a day unless
/// `expires_at` says otherwise (between 30 minutes and 24 hours).
pub fn create(ctx: &mut Ctx, new_session: NewSession) -> ApiResult<Value> {
    let now = ctx.now();
    let expires_at =
        match new_session.expires_at {
            Some(at) if at < now + 1800 || at > now + DAY => return Err(ApiError::invalid_value(
                "expires_at",
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.",
            )),
            Some(at) => at,
            None => now + DAY,
        };
    let clock_now = ctx.now_for_customer(new_session.customer.as_deref());
    let items: Vec<Value> =
        new_session.line_items.iter().map(|line| line_item(line, &product_name(ctx, &line.price))).collect();
    let currency = items.first().map(|item| item["currency"].clone()).unwrap_or(Value::Null);
    let total: i64 = items.iter().map(|item| item["amount_total"].as_i64().unwrap_or(0)).sum();
    let mode = new_session.mode;
    let hosted = new_session.ui_mode == "hosted_page";
    let id = new_id("cs_test");
    let mut session = json!({
        "id": id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": false},
        "after_expiration": null,
        "allow_promotion_codes": new_session.allow_promotion_codes,
        "amount_subtotal": total,
        "amount_total": total,
        "automatic_tax": {"enabled": new_session.automatic_tax, "liability": null, "provider": null, "status": null},
        "billing_address_collection": new_session.billing_address_collection,
        "cancel_url": new_session.cancel_url,
        "client_reference_id": new_session.client_reference_id,
        "client_secret": if hosted { Value::Null } else { json!(format!("{id}_secret_{}", random_str(20))) },
        "collected_information": null,
        "consent": null,
        "consent_collection": null,
        "created": now,
        "currency": currency,
        "currency_conversion": null,
        "custom_fields": [],
        "custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
        "customer": new_session.customer,
        "customer_creation": if mode == "payment" { json!(new_session.customer_creation) } else { Value::Null },
        "customer_details": null,
        "customer_email": new_session.customer_email,
        "discounts": [],
        "expires_at": expires_at,
        "invoice": null,
        "invoice_creation": if mode == "payment" { json!({"enabled": false, "invoice_data": {"account_tax_ids": null, "custom_fields": null, "description": null, "footer": null, "issuer": null, "metadata": {}, "rendering_options": null}}) } else { Value::Null },
        "livemode": false,
        "locale": new_session.locale,
        "metadata": new_session.metadata,
        "mode": mode,
        "origin_context": null,
        "payment_intent": null,
        "payment_link": null,
        "payment_method_collection": if mode == "subscription" { json!(new_session.payment_method_collection) } else { json!("always") },
        "payment_method_configuration_details": null,
        "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"],
        "payment_status": if mode == "setup" { "no_payment_required" } else { "unpaid" },
        "phone_number_collection": {"enabled": false},
        "recovered_from": null,
        "redirect_on_completion": if hosted { Value::Null } else { json!(new_session.redirect_on_completion.as_deref().unwrap_or("always")) },
        "return_url": new_session.return_url,
        "saved_payment_method_options": null,
        "setup_intent": null,
        "shipping_address_collection": null,
        "shipping_cost": null,
        "shipping_options": [],
        "status": "open",
        "submit_type": new_session.submit_type,
        "subscription": null,
        "success_url": new_session.success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": new_session.ui_mode,
        "url": if hosted { json!(format!("{}/checkout/{}", ctx.base_url, id)) } else { Value::Null },
        "wallet_options": null,
        "_sb_items": items,
        "_sb_trial_days": new_session.trial_period_days,
        "_sb_trial_end": new_session.trial_end,
        "_sb_sub_metadata": new_session.subscription_metadata,
        "_sb_sub_description": new_session.subscription_description,
        "_sb_sub_billing_mode": new_session.subscription_billing_mode,
        "_sb_missing_pm": new_session.missing_payment_method,
        "_sb_pi_data": new_session.payment_intent_data,
        "_sb_clock_now": clock_now,
        "_sb_discounts": new_session.discounts.iter().map(|discount| json!({"coupon": discount.coupon, "promotion_code": discount.promotion_code})).collect::<Vec<_>>(),
    });
    // The amounts reflect `discounts[]` from the start, as on Stripe.
    apply_discounts(ctx, &mut session)?;
    ctx.put("checkout.session", session.clone());
    Ok(public(&session))
}

/// Changes a session's metadata (no event).
pub fn update_metadata(ctx: &mut Ctx, id: &str, metadata: Option<&Value>) -> ApiResult<Value> {
    let old = ctx.find("checkout.session", id, "session")?;
    let mut session = old.clone();
    if let Some(metadata) = metadata {
        session["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    ctx.put("checkout.session", session.clone());
    Ok(public(&session))
}

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

/// Whether the session asks for a payment method: always, except a subscription with
/// `payment_method_collection=if_required` that charges nothing today (a trial, or a discount of
/// the whole amount), as Stripe's page does.
pub fn collects_payment_method(session: &Value) -> bool {
    !(session["mode"] == "subscription"
        && session["payment_method_collection"] == "if_required"
        && !charges_now(session))
}

/// Whether completing the session charges today: a payment, or a subscription without a trial,
/// for more than zero (a setup never does).
fn charges_now(session: &Value) -> bool {
    let trial = session["_sb_trial_days"].as_i64().is_some_and(|d| d > 0) || session["_sb_trial_end"].is_i64();
    let mode = session["mode"].as_str().unwrap_or("payment");
    session["amount_total"].as_i64().unwrap_or(0) > 0 && (mode == "payment" || (mode == "subscription" && !trial))
}

/// Completes an open session with a payment method (from the hosted page or the CLI's
/// `payment_pages/{id}/confirm`), or without one when the session does not collect it
/// ([`collects_payment_method`]). Declines leave the session open and return a card error.
pub fn complete(
    ctx: &mut Ctx,
    id: &str,
    payment_method_id: Option<&str>,
    email: Option<&str>,
    authenticated: bool,
) -> ApiResult<Completion> {
    let mut session = ctx.find("checkout.session", id, "session")?;
    if session["status"] != "open" {
        return Err(ApiError::invalid(format!(
            "This Checkout Session is no longer active (status: {}).",
            session["status"].as_str().unwrap_or_default()
        ))
        .with_code("checkout_session_not_open"));
    }
    let discount_specs = apply_discounts(ctx, &mut session)?;
    let mode = session["mode"].as_str().unwrap_or("payment").to_string();
    let Some(payment_method_id) = payment_method_id else {
        if collects_payment_method(&session) {
            return Err(ApiError::missing("payment_method"));
        }
        return complete_without_payment_method(ctx, session, email, discount_specs);
    };
    let payment_method = pay::resolve_payment_method(ctx, payment_method_id, "payment_method")?;
    let payment_method_id = payment_method["id"].as_str().unwrap_or_default().to_string();
    // Nothing is charged today with a trial, a 100% discount, or in setup mode.
    let charges_now = charges_now(&session);
    let behaviour = pay::behavior(&payment_method);
    // A card whose charge fails: the attempt confirms the payment intent and leaves a failed
    // charge (`charge.failed`, `payment_intent.payment_failed`); the session stays open and the
    // next attempt confirms the same payment intent.
    let charge_fails =
        charges_now && matches!(behaviour, Behavior::Decline(_) | Behavior::AttachThenFail | Behavior::RadarBlock);
    match behaviour {
        Behavior::Decline(code) if !charges_now => return Err(pay::decline(code)),
        Behavior::ThreeDsSetup | Behavior::ThreeDsAlways | Behavior::ThreeDsOnSession if !authenticated => {
            return Ok(Completion::NeedsAuthentication)
        }
        _ => {}
    }
    if mode == "payment" && charge_fails {
        let intent_id = session_intent(ctx, &session, session["customer"].as_str(), &payment_method_id)?;
        let (_, outcome) = pay::confirm(ctx, &intent_id, Some(&payment_method_id), false, authenticated)?;
        return Err(match outcome {
            Outcome::Failed(e) => e,
            _ => pay::decline("generic_decline"),
        });
    }
    let email = email
        .map(str::to_string)
        .or_else(|| session["customer_email"].as_str().map(str::to_string))
        .or_else(|| payment_method["billing_details"]["email"].as_str().map(str::to_string));
    let customer = session_customer(ctx, &session, &mode, email.as_deref())?;
    if let Some(customer_id) = customer.as_deref().filter(|_| !charge_fails) {
        save_card(ctx, customer_id, &payment_method_id, mode == "subscription")?;
    }
    let mut completed = with_customer(ctx, &session, customer.as_deref(), email);
    match mode.as_str() {
        "subscription" => {
            let attempt = PaymentAttempt { payment_method_id: Some(&payment_method_id), charge_fails, authenticated };
            let subscription =
                match subscribe(ctx, &session, customer.unwrap_or_default(), discount_specs.clone(), &attempt)? {
                    Completion::Done(subscription) => subscription,
                    Completion::NeedsAuthentication => return Ok(Completion::NeedsAuthentication),
                };
            completed["subscription"] = subscription["id"].clone();
            completed["invoice"] = subscription["latest_invoice"].clone();
            completed["payment_status"] = json!(if charges_now { "paid" } else { "no_payment_required" });
        }
        "payment" if charges_now => {
            let intent_id = session_intent(ctx, &session, customer.as_deref(), &payment_method_id)?;
            let (_, outcome) = pay::confirm(ctx, &intent_id, Some(&payment_method_id), false, authenticated)?;
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
    if mode == "payment" {
        count_payment_redemptions(ctx, &discount_specs)?;
    }
    Ok(finish(ctx, completed))
}

/// A subscription session that collects no payment method (`if_required` with nothing due
/// today): the customer and a subscription without a card, whose trial's end decides
/// (`trial_settings.end_behavior.missing_payment_method`).
fn complete_without_payment_method(
    ctx: &mut Ctx,
    session: Value,
    email: Option<&str>,
    discount_specs: Vec<DiscountSpec>,
) -> ApiResult<Completion> {
    let email = email.map(str::to_string).or_else(|| session["customer_email"].as_str().map(str::to_string));
    let customer = session_customer(ctx, &session, "subscription", email.as_deref())?;
    let mut completed = with_customer(ctx, &session, customer.as_deref(), email);
    let attempt = PaymentAttempt { payment_method_id: None, charge_fails: false, authenticated: false };
    let subscription = match subscribe(ctx, &session, customer.unwrap_or_default(), discount_specs, &attempt)? {
        Completion::Done(subscription) => subscription,
        Completion::NeedsAuthentication => return Ok(Completion::NeedsAuthentication),
    };
    completed["subscription"] = subscription["id"].clone();
    completed["invoice"] = subscription["latest_invoice"].clone();
    completed["payment_status"] = json!("no_payment_required");
    Ok(finish(ctx, completed))
}

/// The session with its customer and the details the buyer gave.
fn with_customer(ctx: &Ctx, session: &Value, customer: Option<&str>, email: Option<String>) -> Value {
    let mut completed = session.clone();
    completed["customer"] = json!(customer);
    let customer_object = customer.and_then(|c| ctx.get("customer", c)).cloned();
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
    completed
}

/// The session complete: stored, `checkout.session.completed` emitted.
fn finish(ctx: &mut Ctx, mut completed: Value) -> Completion {
    completed["status"] = json!("complete");
    completed["url"] = Value::Null;
    ctx.put("checkout.session", completed.clone());
    ctx.emit("checkout.session.completed", &completed, None);
    Completion::Done(public(&completed))
}

/// Keeps the promotion code entered on the hosted page for `complete` (empty: none).
pub fn enter_promotion_code(ctx: &mut Ctx, id: &str, code: &str) {
    if let Some(session) = ctx.get_mut("checkout.session", id) {
        session["_sb_entered_code"] = json!(code);
    }
}

/// The buyer's quantities from the hosted page (line item id → quantity) for the items whose
/// `adjustable_quantity` is enabled, each within its bounds; a quantity of 0 removes the item,
/// but never the last one (as Stripe's page does). The amounts follow; discounts are worked out
/// again on completion.
pub fn set_quantities(ctx: &mut Ctx, id: &str, quantities: &[(String, i64)]) -> ApiResult<()> {
    if quantities.is_empty() {
        return Ok(());
    }
    let mut session = ctx.find("checkout.session", id, "session")?;
    let mut items = session["_sb_items"].as_array().cloned().unwrap_or_default();
    for (item_id, quantity) in quantities {
        let Some(item) = items.iter_mut().find(|item| item["id"] == item_id.as_str()) else { continue };
        let bounds = &item["adjustable_quantity"];
        if bounds["enabled"] != true {
            continue;
        }
        let (minimum, maximum) = (bounds["minimum"].as_i64().unwrap_or(0), bounds["maximum"].as_i64().unwrap_or(99));
        if !(minimum..=maximum).contains(quantity) {
            return Err(ApiError::invalid_value(
                "quantity",
                format!("The quantity must be between {minimum} and {maximum}."),
            ));
        }
        let amount = item["price"]["unit_amount"].as_i64().unwrap_or(0) * quantity;
        item["quantity"] = json!(quantity);
        item["amount_subtotal"] = json!(amount);
        item["amount_total"] = json!(amount);
    }
    items.retain(|item| item["quantity"].as_i64() != Some(0));
    if items.is_empty() {
        return Err(ApiError::invalid_value("quantity", "At least one item must remain in the order."));
    }
    let total: i64 = items.iter().map(|item| item["amount_subtotal"].as_i64().unwrap_or(0)).sum();
    session["_sb_items"] = Value::Array(items);
    session["amount_subtotal"] = json!(total);
    session["amount_total"] = json!(total);
    session["total_details"]["amount_discount"] = json!(0);
    session["discounts"] = json!([]);
    apply_discounts(ctx, &mut session)?;
    ctx.put("checkout.session", session);
    Ok(())
}

/// Completes the session from the hosted page. A card that needs 3-D Secure first leaves
/// nothing behind but itself and the email, kept on the session for the challenge
/// ([`take_pending_card`]).
pub fn complete_on_page(
    ctx: &mut Ctx,
    id: &str,
    payment_method_id: Option<&str>,
    email: Option<&str>,
    authenticated: bool,
) -> ApiResult<Completion> {
    let mark = ctx.events.len();
    let completion = complete(ctx, id, payment_method_id, email, authenticated)?;
    if let Completion::NeedsAuthentication = completion {
        ctx.events.truncate(mark);
        if let Some(session) = ctx.get_mut("checkout.session", id) {
            session["_sb_pending_pm"] = json!(payment_method_id);
            session["_sb_pending_email"] = json!(email);
        }
    }
    Ok(completion)
}

/// The card (and email) waiting for the 3-D Secure challenge, taken off the session.
pub fn take_pending_card(ctx: &mut Ctx, id: &str) -> Option<(String, Option<String>)> {
    let session = ctx.get_mut("checkout.session", id)?;
    let payment_method_id = session["_sb_pending_pm"].as_str()?.to_string();
    let email = session["_sb_pending_email"].as_str().map(str::to_string);
    session["_sb_pending_pm"] = Value::Null;
    Some((payment_method_id, email))
}

/// The session's discounts plus a promotion code entered on the page (kept while 3-D Secure
/// is pending), each checked as Stripe checks a redemption (the code's restrictions against the
/// customer, if known yet, and the amount before discounts); the session's amounts after them
/// (payment mode charges them, subscription invoices apply them). A coupon limited to some
/// products discounts only their line items.
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
    let items = session["_sb_items"].as_array().cloned().unwrap_or_default();
    let product = |item: &Value| item["price"]["product"].as_str().map(str::to_string);
    let subtotal = session["amount_subtotal"].as_i64().unwrap_or(0);
    let redemption = Redemption {
        customer: session["customer"].as_str().or_else(|| session["_sb_customer"].as_str()),
        amount: subtotal,
        currency: session["currency"].as_str().unwrap_or("usd"),
        products: items.iter().filter_map(product).collect(),
    };
    for (i, spec) in specs.iter().enumerate() {
        discounts::check(ctx, spec, &redemption, &format!("discounts[{i}]"))?;
    }
    if let Some(code) = session["_sb_entered_code"].as_str().filter(|c| !c.is_empty()) {
        let invalid = |message: &str| {
            ApiError::invalid_value("promotion_code", message.to_string()).with_code("promotion_code_invalid")
        };
        let promotion = discounts::find_code(ctx, code).ok_or_else(|| invalid("This code is invalid."))?;
        let spec = DiscountSpec { coupon: None, promotion_code: promotion["id"].as_str().map(str::to_string) };
        // The hosted page says why a code it knows cannot be used.
        discounts::check(ctx, &spec, &redemption, "promotion_code").map_err(|e| invalid(&e.message))?;
        specs.push(spec);
    }
    let mut discount_total = 0;
    let mut discount_rows = Vec::new();
    for spec in &specs {
        let (coupon, _) = discounts::check(ctx, spec, &redemption, "discounts")?;
        let eligible: i64 = items
            .iter()
            .filter(|item| discounts::applies_to_product(&coupon, product(item).as_deref()))
            .map(|item| item["amount_subtotal"].as_i64().unwrap_or(0))
            .sum();
        discount_total += discounts::amount_off(&coupon, eligible.min(subtotal - discount_total));
        discount_rows.push(json!({"coupon": coupon["id"], "promotion_code": spec.promotion_code}));
    }
    if discount_total > 0 {
        session["amount_total"] = json!(subtotal - discount_total);
        session["total_details"]["amount_discount"] = json!(discount_total);
        session["discounts"] = Value::Array(discount_rows);
    }
    Ok(specs)
}

/// Counts the redemptions of a payment-mode session's discounts once it completes (a
/// subscription counts them when its discounts are made).
fn count_payment_redemptions(ctx: &mut Ctx, specs: &[DiscountSpec]) -> ApiResult<()> {
    for spec in specs {
        let coupon = match (&spec.coupon, &spec.promotion_code) {
            (Some(coupon), _) => coupon.clone(),
            (None, Some(code)) => ctx.find("promotion_code", code, "promotion_code")?["promotion"]["coupon"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            _ => continue,
        };
        discounts::count_redemption(ctx, &coupon, spec.promotion_code.as_deref());
    }
    Ok(())
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
fn save_card(ctx: &mut Ctx, customer_id: &str, payment_method_id: &str, for_subscription: bool) -> ApiResult<()> {
    pay::attach(ctx, payment_method_id, customer_id)?;
    if for_subscription {
        let old = ctx.find("customer", customer_id, "customer")?;
        let mut customer = old.clone();
        customer["invoice_settings"]["default_payment_method"] = json!(payment_method_id);
        ctx.save_updated("customer", "customer.updated", &old, customer);
    }
    Ok(())
}

/// One attempt at paying for the session.
struct PaymentAttempt<'a> {
    /// `None`: the session collected none (a card-less trial).
    payment_method_id: Option<&'a str>,
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
                stored["default_payment_method"] = json!(attempt.payment_method_id);
            }
        }
        let invoice_id = subscription["latest_invoice"].as_str().unwrap_or_default();
        match attempt_payment(ctx, invoice_id, attempt.payment_method_id, false, attempt.authenticated)? {
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
    let payment_method_id = attempt.payment_method_id.map(str::to_string);
    let subscription = create_subscription(
        ctx,
        NewSubscription {
            customer,
            items,
            trial_end: session["_sb_trial_end"].as_i64(),
            trial_period_days: session["_sb_trial_days"].as_i64(),
            // A card whose payment fails is not saved.
            default_payment_method: payment_method_id.clone().filter(|_| !attempt.charge_fails),
            first_payment_method: payment_method_id.filter(|_| attempt.charge_fails),
            metadata: session["_sb_sub_metadata"].clone(),
            description: session["_sb_sub_description"].as_str().map(str::to_string),
            billing_mode: session["_sb_sub_billing_mode"].as_str().map(str::to_string),
            missing_payment_method: session["_sb_missing_pm"].as_str().map(str::to_string),
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
fn session_intent(
    ctx: &mut Ctx,
    session: &Value,
    customer: Option<&str>,
    payment_method_id: &str,
) -> ApiResult<String> {
    let amount = session["amount_total"].as_i64().unwrap_or(0);
    let existing = session["payment_intent"]
        .as_str()
        .and_then(|intent| ctx.get("payment_intent", intent))
        .filter(|intent| intent["status"] != "succeeded" && intent["status"] != "canceled")
        .cloned();
    let payment_intent_id = match existing {
        Some(mut payment_intent) => {
            payment_intent["amount"] = json!(amount);
            if let Some(customer_id) = customer {
                payment_intent["customer"] = json!(customer_id);
            }
            ctx.put("payment_intent", payment_intent.clone());
            payment_intent["id"].as_str().unwrap_or_default().to_string()
        }
        None => {
            let intent_data = session["_sb_pi_data"].clone();
            let payment_intent = pay::create_intent(
                ctx,
                NewPayment {
                    customer,
                    amount,
                    currency: session["currency"].as_str().unwrap_or("usd"),
                    payment_method: Some(payment_method_id),
                    description: param_nonempty(&intent_data, "description").map(str::to_string),
                    metadata: new_metadata(&intent_data)?,
                    setup_future_usage: param_nonempty(&intent_data, "setup_future_usage").map(str::to_string),
                },
            );
            let id = payment_intent["id"].as_str().unwrap_or_default().to_string();
            let terms = super::transfers::Terms::read(&intent_data)?;
            if !terms.is_empty() {
                super::transfers::apply_to_new_intent(ctx, &id, &terms);
            }
            id
        }
    };
    if let Some(stored) = ctx.get_mut("checkout.session", session["id"].as_str().unwrap_or_default()) {
        stored["payment_intent"] = json!(payment_intent_id);
    }
    Ok(payment_intent_id)
}

/// The card error of a subscription's failed first payment.
fn first_invoice_error(ctx: &Ctx, subscription: &Value) -> ApiError {
    let invoice = subscription["latest_invoice"].as_str().and_then(|i| ctx.get("invoice", i));
    let payment_intent =
        invoice.and_then(|i| i["_sb_pi"].as_str()).and_then(|intent_id| ctx.get("payment_intent", intent_id));
    pay::decline(
        payment_intent
            .and_then(|intent| intent["last_payment_error"]["decline_code"].as_str())
            .unwrap_or("generic_decline"),
    )
}
