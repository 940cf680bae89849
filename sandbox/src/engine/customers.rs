//! Customers: created, changed and deleted through the API, created by Checkout, given a new
//! default card from the portal.

use serde_json::{json, Value};

use super::subscriptions::{self, SubscriptionUpdate};
use super::{invoice_payments, pay};
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::{apply_metadata, public, Ctx};
use crate::util::new_id;

/// Fields a customer is created or updated with; `None` leaves a field alone.
#[derive(Default)]
pub struct CustomerFields {
    /// `email`, `name`, `description`, `phone`, `preferred_locales` as given (`null` clears).
    pub fields: Vec<(&'static str, Value)>,
    /// `null` clears.
    pub address: Option<Value>,
    /// `null` clears.
    pub shipping: Option<Value>,
    /// The request's `metadata` parameter.
    pub metadata: Option<Value>,
    /// `balance`; an invalid value fails when the fields are applied (after a card is attached).
    pub balance: Option<ApiResult<i64>>,
    /// `invoice_settings[default_payment_method]`: one of the customer's cards; empty clears.
    pub default_payment_method: Option<String>,
}

fn apply_fields(ctx: &Ctx, customer: &mut Value, fields: &CustomerFields) -> ApiResult<()> {
    for (key, value) in &fields.fields {
        customer[*key] = value.clone();
    }
    if let Some(address) = &fields.address {
        customer["address"] = address.clone();
    }
    if let Some(shipping) = &fields.shipping {
        customer["shipping"] = shipping.clone();
    }
    if let Some(metadata) = &fields.metadata {
        customer["metadata"] = apply_metadata(&customer["metadata"], metadata)?;
    }
    if let Some(balance) = &fields.balance {
        customer["balance"] = json!(balance.clone()?);
    }
    if let Some(payment_method) = fields.default_payment_method.as_deref() {
        if payment_method.is_empty() {
            customer["invoice_settings"]["default_payment_method"] = Value::Null;
        } else {
            let customer_id = customer["id"].as_str().unwrap_or_default().to_string();
            customer["invoice_settings"]["default_payment_method"] =
                json!(default_payment_method_id(ctx, &customer_id, payment_method)?);
        }
    }
    Ok(())
}

/// A customer to create (`POST /v1/customers`).
pub struct NewCustomer {
    /// A custom id; a new `cus_…` without one.
    pub id: Option<String>,
    /// The test clock the customer lives on.
    pub test_clock: Option<String>,
    pub metadata: Value,
    /// The default payment method among them is set once `attach` is attached.
    pub fields: CustomerFields,
    /// A payment method to attach (`payment_method` or `source`).
    pub attach: Option<String>,
    /// The attached payment method becomes the invoice default (`source`).
    pub attached_is_default: bool,
}

/// Creates a customer; emits `customer.created` (carrying the final state) and, for a card
/// attached on the way, `payment_method.attached`. A card that cannot be attached fails the
/// whole request.
pub fn create(ctx: &mut Ctx, mut new_customer: NewCustomer) -> ApiResult<Value> {
    let id = new_customer.id.unwrap_or_else(|| new_id("cus"));
    if ctx.get("customer", &id).is_some() {
        return Err(ApiError::invalid_value("id", "Customer already exists.").with_code("resource_already_exists"));
    }
    let now = match &new_customer.test_clock {
        Some(clock) => ctx.find("test_helpers.test_clock", clock, "test_clock")?["frozen_time"].as_i64().unwrap_or(0),
        None => ctx.now(),
    };
    let mut customer = objects::customer(&id, now);
    customer["test_clock"] = json!(new_customer.test_clock);
    customer["metadata"] = new_customer.metadata;
    // Fields other than default_payment_method first; the payment method must be attached before.
    let default_payment_method = new_customer.fields.default_payment_method.take();
    apply_fields(ctx, &mut customer, &new_customer.fields)?;
    ctx.put("customer", customer.clone());
    ctx.emit("customer.created", &customer, None);
    if let Some(payment_method) = new_customer.attach {
        let attached = match pay::attach(ctx, &payment_method, &id) {
            Ok(attached) => attached,
            Err(e) => {
                ctx.remove("customer", &id);
                ctx.events.clear();
                return Err(e);
            }
        };
        if new_customer.attached_is_default {
            let mut stored = ctx.find("customer", &id, "id")?;
            stored["invoice_settings"]["default_payment_method"] = attached["id"].clone();
            ctx.put("customer", stored);
        }
    }
    if let Some(payment_method) = default_payment_method {
        let mut stored = ctx.find("customer", &id, "id")?;
        let fields = CustomerFields { default_payment_method: Some(payment_method), ..Default::default() };
        apply_fields(ctx, &mut stored, &fields)?;
        ctx.put("customer", stored);
    }
    let customer = ctx.find("customer", &id, "id")?;
    // The created event carries the final state.
    if let Some(event) = ctx.events.iter_mut().find(|e| e.kind == "customer.created") {
        event.object = public(&customer);
    }
    Ok(public(&customer))
}

/// A requested customer change.
#[derive(Default)]
pub struct CustomerUpdate {
    /// A payment method to attach and make the invoice default (`source` or `payment_method`).
    pub attach: Option<String>,
    pub fields: CustomerFields,
}

/// Changes a customer; emits `customer.updated` when anything changed.
pub fn update(ctx: &mut Ctx, id: &str, change: CustomerUpdate) -> ApiResult<Value> {
    let old = ctx.find("customer", id, "id")?;
    if old["deleted"] == true {
        return Err(ApiError::not_found("customer", id, "id"));
    }
    let mut customer = old.clone();
    if let Some(payment_method) = change.attach.as_deref() {
        let attached = pay::attach(ctx, payment_method, id)?;
        customer["invoice_settings"]["default_payment_method"] = attached["id"].clone();
    }
    apply_fields(ctx, &mut customer, &change.fields)?;
    Ok(ctx.save_updated("customer", "customer.updated", &old, customer))
}

/// Deletes a customer, canceling its live subscriptions first; emits `customer.deleted`.
pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let customer = ctx.find("customer", id, "id")?;
    let live_subscriptions: Vec<String> = ctx
        .all("subscription")
        .into_iter()
        .filter(|subscription| {
            subscription["customer"] == id
                && !matches!(subscription["status"].as_str(), Some("canceled") | Some("incomplete_expired"))
        })
        .filter_map(|subscription| subscription["id"].as_str().map(str::to_string))
        .collect();
    for subscription_id in live_subscriptions {
        super::subscriptions::cancel(ctx, &subscription_id, "cancellation_requested")?;
    }
    ctx.remove("customer", id);
    ctx.emit("customer.deleted", &customer, None);
    Ok(json!({"id": id, "object": "customer", "deleted": true}))
}

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
pub fn default_payment_method_id(ctx: &Ctx, customer_id: &str, payment_method: &str) -> ApiResult<String> {
    pay::customer_payment_method_id(ctx, payment_method, customer_id).ok_or_else(|| {
        ApiError::invalid_value(
            "invoice_settings[default_payment_method]",
            format!("No such PaymentMethod: '{payment_method}'; It's possible this PaymentMethod exists on one of your connected accounts, in which case you should retry this request on that connected account."),
        )
        .with_code("resource_missing")
    })
}

/// Makes an attached card the customer's default for invoices; emits `customer.updated`.
pub fn set_default_payment_method(ctx: &mut Ctx, customer_id: &str, payment_method: &str) -> ApiResult<Value> {
    let old = ctx.find("customer", customer_id, "id")?;
    if old["deleted"] == true {
        return Err(ApiError::not_found("customer", customer_id, "id"));
    }
    let mut customer = old.clone();
    customer["invoice_settings"]["default_payment_method"] =
        json!(default_payment_method_id(ctx, customer_id, payment_method)?);
    Ok(ctx.save_updated("customer", "customer.updated", &old, customer))
}

/// A new card entered in the portal: attached and made the customer's default; subscriptions
/// with a default payment method of their own switch to it, and open subscription invoices are
/// retried with it (as Stripe does for past-due subscriptions).
pub fn replace_default_card(ctx: &mut Ctx, customer_id: &str, payment_method_id: &str) -> ApiResult<()> {
    pay::attach(ctx, payment_method_id, customer_id)?;
    set_default_payment_method(ctx, customer_id, payment_method_id)?;
    let subscription_ids: Vec<String> = ctx
        .all("subscription")
        .into_iter()
        .filter(|subscription| {
            subscription["customer"] == customer_id && subscription["default_payment_method"].is_string()
        })
        .filter_map(|subscription| subscription["id"].as_str().map(str::to_string))
        .collect();
    for subscription_id in subscription_ids {
        let change =
            SubscriptionUpdate { default_payment_method: Some(payment_method_id.to_string()), ..Default::default() };
        subscriptions::update(ctx, &subscription_id, change)?;
    }
    let open_invoices: Vec<String> = ctx
        .all("invoice")
        .into_iter()
        .filter(|invoice| {
            invoice["customer"] == customer_id && invoice["status"] == "open" && invoice["subscription"].is_string()
        })
        .filter_map(|invoice| invoice["id"].as_str().map(str::to_string))
        .collect();
    for invoice_id in open_invoices {
        let _ = invoice_payments::attempt_payment(ctx, &invoice_id, Some(payment_method_id), false, false);
    }
    Ok(())
}
