//! Setup intents: a card saved for later payments, with 3-D Secure where the card asks for it.

use serde_json::{json, Value};

use super::pay;
use crate::cards::Behavior;
use crate::error::{ApiError, ApiResult};
use crate::store::{public, Ctx};
use crate::util::{new_id, random_str};

/// A setup intent to create.
pub struct NewSetupIntent {
    pub customer: Option<String>,
    pub description: Option<String>,
    pub metadata: Value,
    /// A payment method id (or test id, which makes a card).
    pub payment_method: Option<String>,
    pub usage: String,
    /// `{"allow_redirects", "enabled"}`, or null (an intent Stripe makes for a subscription).
    pub automatic_payment_methods: Value,
    pub payment_method_types: Value,
}

/// Creates a setup intent; emits `setup_intent.created`.
pub fn create(ctx: &mut Ctx, new_intent: NewSetupIntent) -> ApiResult<Value> {
    let id = new_id("seti");
    let payment_method = pay::resolve_payment_method_id(ctx, new_intent.payment_method.as_deref())?;
    let setup_intent = json!({
        "id": id,
        "object": "setup_intent",
        "application": null,
        "automatic_payment_methods": new_intent.automatic_payment_methods,
        "cancellation_reason": null,
        "client_secret": format!("{id}_secret_{}", random_str(24)),
        "created": ctx.now(),
        "customer": new_intent.customer,
        "description": new_intent.description,
        "flow_directions": null,
        "last_setup_error": null,
        "latest_attempt": null,
        "livemode": false,
        "mandate": null,
        "metadata": new_intent.metadata,
        "next_action": null,
        "on_behalf_of": null,
        "payment_method": payment_method,
        "payment_method_options": {"card": {"mandate_options": null, "network": null, "request_three_d_secure": "automatic"}},
        "payment_method_types": new_intent.payment_method_types,
        "single_use_mandate": null,
        "status": if payment_method.is_some() { "requires_confirmation" } else { "requires_payment_method" },
        "usage": new_intent.usage,
    });
    ctx.put("setup_intent", setup_intent.clone());
    ctx.emit("setup_intent.created", &setup_intent, None);
    Ok(public(&setup_intent))
}

/// Confirms a setup intent with its (or the given) payment method: a declining card fails; a
/// card that asks for 3-D Secure on setup waits in `requires_action` (`setup_intent.requires_action`);
/// otherwise the card is attached to the intent's customer (`setup_intent.succeeded`).
pub fn confirm(ctx: &mut Ctx, id: &str, payment_method: Option<&str>) -> ApiResult<Value> {
    let mut setup_intent = ctx.find("setup_intent", id, "intent")?;
    if matches!(setup_intent["status"].as_str(), Some("succeeded" | "canceled")) {
        return Err(ApiError::invalid(format!(
            "You cannot confirm this SetupIntent because it has a status of {}.",
            setup_intent["status"].as_str().unwrap_or_default()
        ))
        .with_code("setup_intent_unexpected_state"));
    }
    if let Some(requested) = payment_method {
        setup_intent["payment_method"] = pay::resolve_payment_method(ctx, requested, "payment_method")?["id"].clone();
    }
    let payment_method_id =
        setup_intent["payment_method"].as_str().ok_or_else(|| ApiError::missing("payment_method"))?.to_string();
    let card = ctx.find("payment_method", &payment_method_id, "payment_method")?;
    match pay::behavior(&card) {
        Behavior::Decline(code) => {
            let error = pay::decline(code);
            setup_intent["status"] = json!("requires_payment_method");
            setup_intent["payment_method"] = Value::Null;
            setup_intent["last_setup_error"] = json!({
                "type": "card_error", "code": error.code, "decline_code": code, "message": error.message,
                "doc_url": format!("https://stripe.com/docs/error-codes/{}", error.code.as_deref().unwrap_or("card_declined").replace('_', "-")),
                "payment_method": public(&card),
            });
            ctx.put("setup_intent", setup_intent.clone());
            ctx.emit("setup_intent.setup_failed", &setup_intent, None);
            return Err(error.with_extra(json!({"setup_intent": public(&setup_intent)})));
        }
        Behavior::ThreeDsSetup | Behavior::ThreeDsAlways | Behavior::ThreeDsOnSession => {
            setup_intent["status"] = json!("requires_action");
            setup_intent["next_action"] = super::authentication::next_action(ctx, &setup_intent);
            setup_intent["last_setup_error"] = Value::Null;
            ctx.put("setup_intent", setup_intent.clone());
            ctx.emit("setup_intent.requires_action", &setup_intent, None);
            return Ok(public(&setup_intent));
        }
        _ => {}
    }
    succeed(ctx, setup_intent, &payment_method_id)
}

/// The card is set up: attached to the intent's customer; `setup_intent.succeeded`. A
/// subscription's `pending_setup_intent` is then done with (and may keep the card).
fn succeed(ctx: &mut Ctx, mut setup_intent: Value, payment_method_id: &str) -> ApiResult<Value> {
    if let Some(customer) = setup_intent["customer"].as_str().map(str::to_string) {
        let card = ctx.find("payment_method", payment_method_id, "payment_method")?;
        if card["customer"].is_null() {
            pay::attach(ctx, payment_method_id, &customer)?;
        }
    }
    setup_intent["status"] = json!("succeeded");
    setup_intent["next_action"] = Value::Null;
    setup_intent["last_setup_error"] = Value::Null;
    ctx.put("setup_intent", setup_intent.clone());
    ctx.emit("setup_intent.succeeded", &setup_intent, None);
    super::subscriptions::pending_setup_intent_succeeded(ctx, &setup_intent);
    Ok(public(&setup_intent))
}

/// The customer answered the 3-D Secure challenge of a setup intent in `requires_action`:
/// completed, the card is set up (and counts as authenticated for later payments); failed, the
/// intent needs another payment method (`setup_intent_authentication_failure`,
/// `setup_intent.setup_failed`).
pub fn authenticate(ctx: &mut Ctx, id: &str, completed: bool) -> ApiResult<Value> {
    let mut setup_intent = ctx.find("setup_intent", id, "intent")?;
    if setup_intent["status"] != "requires_action" {
        return Ok(public(&setup_intent));
    }
    let payment_method_id = setup_intent["payment_method"].as_str().unwrap_or_default().to_string();
    if completed {
        if let Some(card) = ctx.get_mut("payment_method", &payment_method_id) {
            card["_sb_authenticated"] = json!(true);
        }
        return succeed(ctx, setup_intent, &payment_method_id);
    }
    super::authentication::record_failure(
        ctx,
        &mut setup_intent,
        "last_setup_error",
        "setup_intent_authentication_failure",
        "The latest attempt to set up the payment method has failed because authentication failed.",
    );
    ctx.put("setup_intent", setup_intent.clone());
    ctx.emit("setup_intent.setup_failed", &setup_intent, None);
    Ok(public(&setup_intent))
}
