//! Payment intents, charges, refunds, disputes, setup intents, tokens: parameters read here,
//! changes made by the engine (`pay`, `refunds`, `setup_intents`, `payment_methods`).

use serde_json::{json, Value};

use crate::engine::authentication;
use crate::engine::pay::{self, IntentUpdate, NewPayment, Outcome};
use crate::engine::refunds::{self, DisputeUpdate};
use crate::engine::setup_intents::{self, NewSetupIntent};
use crate::engine::transfers::{self, Terms};
use crate::engine::{invoice_payments, payment_methods};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, new_metadata, paginate, param_bool, param_clearable_str, param_i64, param_nonempty, param_str,
    public, Ctx,
};

pub fn create_intent(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let amount = param_i64(params, "amount")?.ok_or_else(|| ApiError::missing("amount"))?;
    let currency = param_nonempty(params, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
    if amount < 50 && currency == "usd" {
        return Err(
            ApiError::invalid_value("amount", "Amount must be at least $0.50 usd").with_code("amount_too_small")
        );
    }
    let customer = param_nonempty(params, "customer").map(str::to_string);
    if let Some(customer_id) = &customer {
        ctx.find("customer", customer_id, "customer")?;
    }
    let terms = Terms::read(params)?;
    transfers::check(ctx, &terms, amount, "")?;
    let automatic_payment_methods = automatic_payment_methods(params)?;
    let payment_method = pay::resolve_payment_method_id(ctx, param_nonempty(params, "payment_method"))?;
    let mut payment_intent = pay::create_intent_with(
        ctx,
        NewPayment {
            customer: customer.as_deref(),
            amount,
            currency: &currency,
            payment_method: payment_method.as_deref(),
            description: param_nonempty(params, "description").map(str::to_string),
            metadata: new_metadata(params)?,
            setup_future_usage: param_nonempty(params, "setup_future_usage").map(str::to_string),
        },
        json!({"automatic_payment_methods": automatic_payment_methods}),
    );
    if !terms.is_empty() {
        let id = payment_intent["id"].as_str().unwrap_or_default().to_string();
        payment_intent = transfers::apply_to_new_intent(ctx, &id, &terms);
    }
    if param_bool(params, "confirm")? == Some(true) {
        let id = payment_intent["id"].as_str().unwrap_or_default().to_string();
        remember_confirmation(ctx, "payment_intent", &id, params);
        return confirm_result(
            ctx,
            &id,
            payment_method.as_deref(),
            param_bool(params, "off_session")?.unwrap_or(false),
        );
    }
    Ok(public(&payment_intent))
}

/// `automatic_payment_methods[enabled|allow_redirects]` of a PaymentIntent or SetupIntent
/// created through the API: on by default (since API version 2023-08-16) with `allow_redirects`
/// `always`; `enabled=false` leaves cards only (`null`).
fn automatic_payment_methods(params: &Value) -> ApiResult<Value> {
    let Some(given) = params.get("automatic_payment_methods").filter(|given| given.is_object()) else {
        return Ok(json!({"allow_redirects": "always", "enabled": true}));
    };
    let enabled = param_bool(given, "enabled")
        .map_err(|e| e.with_param("automatic_payment_methods[enabled]"))?
        .ok_or_else(|| ApiError::missing("automatic_payment_methods[enabled]"))?;
    let allow_redirects = param_nonempty(given, "allow_redirects").unwrap_or("always");
    if !matches!(allow_redirects, "always" | "never") {
        return Err(ApiError::invalid_value(
            "automatic_payment_methods[allow_redirects]",
            "Invalid automatic_payment_methods[allow_redirects]: must be one of always or never",
        ));
    }
    Ok(if enabled { json!({"allow_redirects": allow_redirects, "enabled": true}) } else { Value::Null })
}

fn confirm_result(ctx: &mut Ctx, id: &str, payment_method: Option<&str>, off_session: bool) -> ApiResult<Value> {
    let (payment_intent, outcome) = invoice_payments::confirm_intent(ctx, id, payment_method, off_session, false)?;
    match outcome {
        Outcome::Failed(e) => Err(
            e.with_extra(json!({"payment_intent": public(&payment_intent), "charge": payment_intent["latest_charge"]}))
        ),
        Outcome::RequiresAction if off_session => Err(ApiError::card(
            "authentication_required",
            Some("authentication_required"),
            crate::cards::decline_message("authentication_required"),
        )
        .with_extra(json!({"payment_intent": public(&payment_intent)}))),
        _ => Ok(public(&payment_intent)),
    }
}

pub fn confirm_intent(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    ctx.find("payment_intent", id, "intent")?;
    let payment_method = confirmation_payment_method(ctx, params)?;
    remember_confirmation(ctx, "payment_intent", id, params);
    confirm_result(ctx, id, payment_method.as_deref(), param_bool(params, "off_session")?.unwrap_or(false))
}

/// The payment method a confirmation names: `payment_method` (an id or test id), or a new card
/// from `payment_method_data` (as Stripe.js's Payment Element sends it).
fn confirmation_payment_method(ctx: &mut Ctx, params: &Value) -> ApiResult<Option<String>> {
    match params.get("payment_method_data") {
        Some(data) => {
            let payment_method =
                super::customers::create_payment_method(ctx, data).map_err(|e| match e.param.clone() {
                    Some(param) => {
                        let (head, rest) = param
                            .split_once('[')
                            .map_or((param.as_str(), String::new()), |(h, r)| (h, format!("[{r}")));
                        e.with_param(&format!("payment_method_data[{head}]{rest}"))
                    }
                    None => e,
                })?;
            Ok(payment_method["id"].as_str().map(str::to_string))
        }
        None => pay::resolve_payment_method_id(ctx, param_nonempty(params, "payment_method")),
    }
}

/// Keeps the confirmation's `return_url` (and whether Stripe.js confirmed without one) for the
/// 3-D Secure step.
fn remember_confirmation(ctx: &mut Ctx, kind: &str, id: &str, params: &Value) {
    let stripe_js = crate::api::publishable::is_publishable(ctx);
    authentication::remember_confirmation(ctx, kind, id, param_nonempty(params, "return_url"), stripe_js);
}

pub fn update_intent(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let change = IntentUpdate {
        metadata: params.get("metadata").cloned(),
        amount: param_i64(params, "amount")?,
        fields: ["description", "receipt_email", "customer", "setup_future_usage"]
            .into_iter()
            .filter_map(|key| param_clearable_str(params, key).map(|value| (key, value)))
            .collect(),
        payment_method: param_nonempty(params, "payment_method").map(str::to_string),
    };
    pay::update_intent(ctx, id, change)
}

pub fn cancel_intent(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    pay::cancel_intent(ctx, id, param_nonempty(params, "cancellation_reason").unwrap_or("requested_by_customer"))
}

pub fn list_intents(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let mut items = Vec::new();
    for payment_intent in ctx.all("payment_intent") {
        if customer.is_some_and(|c| payment_intent["customer"] != c)
            || !created_matches(params, "created", payment_intent["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(payment_intent);
    }
    paginate(items, params, "/v1/payment_intents")
}

/// `POST /v1/charges` (legacy): a payment intent confirmed at once, answering the charge.
pub fn create_charge(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let source = param_nonempty(params, "source")
        .or_else(|| param_nonempty(params, "payment_method"))
        .unwrap_or("tok_visa")
        .to_string();
    let mut intent_params = params.clone();
    intent_params["payment_method"] = json!(source);
    intent_params["confirm"] = json!("true");
    let payment_intent = create_intent(ctx, &intent_params)?;
    let charge = payment_intent["latest_charge"].as_str().unwrap_or_default().to_string();
    Ok(public(&ctx.find("charge", &charge, "charge")?))
}

pub fn list_charges(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let payment_intent = param_str(params, "payment_intent");
    let mut items = Vec::new();
    for charge in ctx.all("charge") {
        if customer.is_some_and(|c| charge["customer"] != c)
            || payment_intent.is_some_and(|x| charge["payment_intent"] != x)
            || !created_matches(params, "created", charge["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(charge);
    }
    paginate(items, params, "/v1/charges")
}

pub fn create_refund(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let charge = match (param_nonempty(params, "charge"), param_nonempty(params, "payment_intent")) {
        (Some(c), _) => c.to_string(),
        (None, Some(payment_intent)) => {
            let payment_intent = ctx.find("payment_intent", payment_intent, "payment_intent")?;
            payment_intent["latest_charge"].as_str().map(str::to_string).ok_or_else(|| {
                ApiError::invalid("This PaymentIntent does not have a successful charge to refund.")
                    .with_code("charge_not_refundable")
            })?
        }
        (None, None) => return Err(ApiError::missing("charge")),
    };
    let refund = refunds::refund(
        ctx,
        &charge,
        param_i64(params, "amount")?,
        param_nonempty(params, "reason"),
        new_metadata(params)?,
        refund_connect(params)?,
    )?;
    Ok(public(&refund))
}

/// `reverse_transfer` and `refund_application_fee` of a refund request.
fn refund_connect(params: &Value) -> ApiResult<refunds::RefundConnect> {
    Ok(refunds::RefundConnect {
        reverse_transfer: param_bool(params, "reverse_transfer")?.unwrap_or(false),
        refund_application_fee: param_bool(params, "refund_application_fee")?.unwrap_or(false),
    })
}

pub fn refund_charge(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let connect = refund_connect(params)?;
    refunds::refund(
        ctx,
        id,
        param_i64(params, "amount")?,
        param_nonempty(params, "reason"),
        new_metadata(params)?,
        connect,
    )?;
    Ok(public(&ctx.find("charge", id, "charge")?))
}

pub fn list_refunds(ctx: &mut Ctx, filter: &Value, params: &Value) -> ApiResult<Value> {
    let charge = param_str(filter, "charge");
    let payment_intent = param_str(filter, "payment_intent");
    let items: Vec<Value> = ctx
        .all("refund")
        .into_iter()
        .filter(|refund| {
            charge.is_none_or(|c| refund["charge"] == c) && payment_intent.is_none_or(|x| refund["payment_intent"] == x)
        })
        .map(public)
        .collect();
    paginate(items, params, "/v1/refunds")
}

pub fn list_disputes(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    list_about_charges(ctx, "dispute", params, "/v1/disputes")
}

/// A list of objects about charges (disputes, early fraud warnings), filtered as Stripe filters
/// them: `charge`, `payment_intent`, `created`.
pub fn list_about_charges(ctx: &mut Ctx, kind: &str, params: &Value, url: &str) -> ApiResult<Value> {
    let charge = param_str(params, "charge");
    let payment_intent = param_str(params, "payment_intent");
    let mut items = Vec::new();
    for item in ctx.all(kind) {
        if charge.is_some_and(|c| item["charge"] != c)
            || payment_intent.is_some_and(|x| item["payment_intent"] != x)
            || !created_matches(params, "created", item["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(item);
    }
    paginate(items, params, url)
}

pub fn update_dispute(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let change = DisputeUpdate {
        evidence: params.get("evidence").cloned(),
        metadata: params.get("metadata").cloned(),
        submit: param_bool(params, "submit")?.unwrap_or(true),
    };
    refunds::update_dispute(ctx, id, change)
}

pub fn close_dispute(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    refunds::close_dispute(ctx, id)
}

pub fn create_setup_intent(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let new_intent = NewSetupIntent {
        customer: param_nonempty(params, "customer").map(str::to_string),
        description: param_nonempty(params, "description").map(str::to_string),
        metadata: new_metadata(params)?,
        payment_method: param_nonempty(params, "payment_method").map(str::to_string),
        usage: param_nonempty(params, "usage").unwrap_or("off_session").to_string(),
        automatic_payment_methods: automatic_payment_methods(params)?,
        payment_method_types: json!(["card"]),
    };
    let setup_intent = setup_intents::create(ctx, new_intent)?;
    if param_bool(params, "confirm")? == Some(true) {
        let id = setup_intent["id"].as_str().unwrap_or_default().to_string();
        remember_confirmation(ctx, "setup_intent", &id, params);
        return setup_intents::confirm(ctx, &id, None);
    }
    Ok(setup_intent)
}

pub fn confirm_setup_intent(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    ctx.find("setup_intent", id, "intent")?;
    let payment_method = confirmation_payment_method(ctx, params)?;
    remember_confirmation(ctx, "setup_intent", id, params);
    setup_intents::confirm(ctx, id, payment_method.as_deref())
}

/// `POST /v1/tokens` with card details: a card token usable as `source`.
pub fn create_token(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let number = params.get("card").and_then(|card| param_nonempty(card, "number")).unwrap_or("4242424242424242");
    let card = crate::cards::by_number(number)
        .ok_or_else(|| ApiError::card("incorrect_number", None, "Your card number is incorrect."))?;
    Ok(payment_methods::create_token(ctx, &card))
}
