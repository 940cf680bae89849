//! Setup intents: a card saved for later payments, confirmed at once.

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
}

/// Creates a setup intent; emits `setup_intent.created`.
pub fn create(ctx: &mut Ctx, new_intent: NewSetupIntent) -> ApiResult<Value> {
    let id = new_id("seti");
    let payment_method = pay::resolve_payment_method_id(ctx, new_intent.payment_method.as_deref())?;
    let setup_intent = json!({
        "id": id,
        "object": "setup_intent",
        "application": null,
        "automatic_payment_methods": null,
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
        "payment_method_types": ["card"],
        "single_use_mandate": null,
        "status": if payment_method.is_some() { "requires_confirmation" } else { "requires_payment_method" },
        "usage": new_intent.usage,
    });
    ctx.put("setup_intent", setup_intent.clone());
    ctx.emit("setup_intent.created", &setup_intent, None);
    Ok(public(&setup_intent))
}

/// Confirms a setup intent with its (or the given) payment method: a declining card fails,
/// otherwise the card is attached to the intent's customer; emits `setup_intent.succeeded`.
pub fn confirm(ctx: &mut Ctx, id: &str, payment_method: Option<&str>) -> ApiResult<Value> {
    let mut setup_intent = ctx.find("setup_intent", id, "intent")?;
    if let Some(requested) = payment_method {
        setup_intent["payment_method"] = pay::resolve_payment_method(ctx, requested, "payment_method")?["id"].clone();
    }
    let payment_method_id =
        setup_intent["payment_method"].as_str().ok_or_else(|| ApiError::missing("payment_method"))?.to_string();
    let card = ctx.find("payment_method", &payment_method_id, "payment_method")?;
    if let Behavior::Decline(code) = pay::behavior(&card) {
        return Err(pay::decline(code));
    }
    if let Some(customer) = setup_intent["customer"].as_str().map(str::to_string) {
        if card["customer"].is_null() {
            pay::attach(ctx, &payment_method_id, &customer)?;
        }
    }
    setup_intent["status"] = json!("succeeded");
    ctx.put("setup_intent", setup_intent.clone());
    ctx.emit("setup_intent.succeeded", &setup_intent, None);
    Ok(public(&setup_intent))
}
