//! Card payment methods created (through the API or entered on a hosted page), changed and
//! detached, and card tokens.
//! Resolving test ids and attaching are in `pay`.

use serde_json::{json, Value};

use super::pay;
use crate::cards::TestCard;
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::{apply_metadata, public, Ctx};

/// A card payment method to create (`POST /v1/payment_methods`).
pub struct NewCard {
    pub card: TestCard,
    pub exp_month: i64,
    pub exp_year: i64,
    /// `billing_details[email|name|phone|address]` as given.
    pub billing_details: Vec<(&'static str, Value)>,
    pub metadata: Value,
}

/// Stores a new card payment method (no event, as on Stripe).
pub fn create_card(ctx: &mut Ctx, new_card: NewCard) -> Value {
    let now = ctx.now();
    let mut payment_method = objects::card_payment_method(&new_card.card, new_card.exp_month, new_card.exp_year, now);
    for (key, value) in new_card.billing_details {
        payment_method["billing_details"][key] = value;
    }
    payment_method["metadata"] = new_card.metadata;
    ctx.put("payment_method", payment_method.clone());
    public(&payment_method)
}

/// A card entered on a hosted page (Checkout, the portal, an invoice page), stored with the
/// email it was entered with; returns its id.
pub fn store_entered_card(
    ctx: &mut Ctx,
    card: &TestCard,
    (exp_month, exp_year): (i64, i64),
    now: i64,
    email: Option<&str>,
) -> String {
    let mut payment_method = objects::card_payment_method(card, exp_month, exp_year, now);
    payment_method["billing_details"]["email"] = json!(email);
    let id = payment_method["id"].as_str().unwrap_or_default().to_string();
    ctx.put("payment_method", payment_method);
    id
}

/// The card a test id (`pm_card_visa`) stands for, as retrieving it shows it (nothing is kept).
pub fn test_card(ctx: &mut Ctx, test_id: &str) -> ApiResult<Value> {
    let payment_method = pay::resolve_payment_method(ctx, test_id, "payment_method")?;
    ctx.remove("payment_method", payment_method["id"].as_str().unwrap_or_default());
    Ok(public(&payment_method))
}

/// A requested payment method change.
#[derive(Default)]
pub struct PaymentMethodUpdate {
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
    /// `billing_details[email|name|phone|address]` as given.
    pub billing_details: Vec<(&'static str, Value)>,
    /// `card[exp_month|exp_year]`.
    pub card: Vec<(&'static str, i64)>,
}

/// Changes a payment method; emits `payment_method.updated` when anything changed.
pub fn update(ctx: &mut Ctx, id: &str, change: PaymentMethodUpdate) -> ApiResult<Value> {
    let old = ctx.find("payment_method", id, "payment_method")?;
    let mut payment_method = old.clone();
    if let Some(metadata) = &change.metadata {
        payment_method["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    for (key, value) in change.billing_details {
        payment_method["billing_details"][key] = value;
    }
    for (key, value) in change.card {
        payment_method["card"][key] = json!(value);
    }
    Ok(ctx.save_updated("payment_method", "payment_method.updated", &old, payment_method))
}

/// Detaches a payment method from its customer (no longer its invoice default); emits
/// `payment_method.detached`.
pub fn detach(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let mut payment_method = ctx.find("payment_method", id, "payment_method")?;
    let Some(customer_id) = payment_method["customer"].as_str().map(str::to_string) else {
        return Err(ApiError::invalid(
            "The payment method you provided is not attached to a customer so detachment is impossible.",
        )
        .with_code("payment_method_unexpected_state"));
    };
    payment_method["customer"] = Value::Null;
    ctx.put("payment_method", payment_method.clone());
    if let Some(old) = ctx.get("customer", &customer_id).cloned() {
        if old["invoice_settings"]["default_payment_method"] == id {
            let mut customer = old.clone();
            customer["invoice_settings"]["default_payment_method"] = Value::Null;
            ctx.save_updated("customer", "customer.updated", &old, customer);
        }
    }
    ctx.emit("payment_method.detached", &payment_method, Some(json!({"customer": customer_id})));
    Ok(public(&payment_method))
}

/// A card token (`POST /v1/tokens`): a payment method usable as `source`.
pub fn create_token(ctx: &mut Ctx, card: &TestCard) -> Value {
    let payment_method = objects::card_payment_method(card, 12, 2034, ctx.now());
    ctx.put("payment_method", payment_method.clone());
    json!({"id": payment_method["id"], "object": "token", "card": payment_method["card"], "created": ctx.now(), "livemode": false, "type": "card", "used": false})
}
