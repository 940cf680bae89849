//! Customer changes the engine makes for hosted pages: a customer created by Checkout, a new
//! default card from the portal.

use serde_json::{json, Value};

use super::pay;
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::{public, Ctx};
use crate::util::new_id;

/// A new customer with just an email (what Checkout knows); emits `customer.created`.
pub fn create_with_email(ctx: &mut Ctx, email: Option<&str>) -> Value {
    let mut customer = objects::customer(&new_id("cus"), ctx.now());
    if let Some(email) = email {
        customer["email"] = if email.is_empty() { Value::Null } else { json!(email) };
    }
    ctx.put("customer", customer.clone());
    ctx.emit("customer.created", &customer, None);
    public(&customer)
}

/// The id to store as `invoice_settings.default_payment_method`: the customer's own card (a
/// test id means the latest card made from it), or Stripe's error.
pub fn default_payment_method_id(ctx: &Ctx, customer_id: &str, pm: &str) -> ApiResult<String> {
    pay::customer_payment_method_id(ctx, pm, customer_id).ok_or_else(|| {
        ApiError::invalid_value(
            "invoice_settings[default_payment_method]",
            format!("No such PaymentMethod: '{pm}'; It's possible this PaymentMethod exists on one of your connected accounts, in which case you should retry this request on that connected account."),
        )
        .with_code("resource_missing")
    })
}

/// Makes an attached card the customer's default for invoices; emits `customer.updated`.
pub fn set_default_payment_method(ctx: &mut Ctx, customer_id: &str, pm: &str) -> ApiResult<Value> {
    let old = ctx.find("customer", customer_id, "id")?;
    if old["deleted"] == true {
        return Err(ApiError::not_found("customer", customer_id, "id"));
    }
    let mut customer = old.clone();
    customer["invoice_settings"]["default_payment_method"] = json!(default_payment_method_id(ctx, customer_id, pm)?);
    Ok(ctx.save_updated("customer", "customer.updated", &old, customer))
}
