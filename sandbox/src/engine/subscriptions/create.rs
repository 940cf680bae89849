//! Creating a subscription and its first invoice, one function per Stripe payment behaviour
//! (`allow_incomplete` / `error_if_incomplete` charge at once, `default_incomplete` leaves a
//! payment intent for the client, or a SetupIntent when nothing is due now).

use serde_json::{json, Value};

use super::payment_settings::{self, intent_payment_method_types, PaymentSettings};
use super::{billing_mode, interval_of, recurring_price, subscription_item, ItemSpec};
use crate::cards::Behavior;
use crate::engine::discounts::{self, DiscountSpec, Redemption};
use crate::engine::invoice_payments::{add_open_payment, attempt_payment};
use crate::engine::invoices::{create_invoice, finalize, NewInvoice};
use crate::engine::lines::{price_description, product_name, Line};
use crate::engine::pay::{self, NewPayment};
use crate::engine::pricing::amount_for;
use crate::engine::setup_intents::{self, NewSetupIntent};
use crate::engine::usage_billing::{advance_amount, is_metered};
use crate::engine::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::store::{list_of, public, Ctx, PendingEvent};
use crate::util::{day_of_month, new_id, period_end, DAY};

#[derive(Clone, Debug, Default)]
pub struct NewSubscription {
    pub customer: String,
    pub items: Vec<ItemSpec>,
    pub trial_end: Option<i64>,
    pub trial_period_days: Option<i64>,
    pub default_payment_method: Option<String>,
    pub metadata: Value,
    pub description: Option<String>,
    pub payment_behavior: String,
    pub collection_method: String,
    pub days_until_due: Option<i64>,
    pub cancel_at_period_end: bool,
    pub cancel_at: Option<i64>,
    pub off_session: bool,
    /// Checkout style events: `created` while incomplete, then `updated` to active.
    pub checkout: bool,
    /// The customer completed 3-D Secure on a hosted page.
    pub authenticated: bool,
    /// Coupons / promotion codes to apply (`discounts[i][coupon|promotion_code]`).
    pub discounts: Vec<DiscountSpec>,
    /// Pays the first invoice with this payment method rather than the defaults (a card
    /// entered on Checkout that is not saved unless the payment succeeds).
    pub first_payment_method: Option<String>,
    /// `payment_settings[...]` (checked by the caller).
    pub payment_settings: PaymentSettings,
    /// `billing_mode[type]`: `classic` or `flexible` (the default).
    pub billing_mode: Option<String>,
    /// `trial_settings[end_behavior][missing_payment_method]`: `cancel`, `create_invoice` (the
    /// default) or `pause`.
    pub missing_payment_method: Option<String>,
}

/// A price on the new subscription with its quantity and item metadata.
struct PricedItem {
    price: Value,
    quantity: i64,
    metadata: Value,
}

/// What is decided before anything is stored.
struct Plan {
    id: String,
    now: i64,
    /// End of the first period (the trial end with a trial).
    period_end: i64,
    trial_end: Option<i64>,
    currency: String,
    status_before_payment: &'static str,
}

/// Creates a subscription and its first invoice, following Stripe's payment behaviours.
pub fn create_subscription(ctx: &mut Ctx, mut new_subscription: NewSubscription) -> ApiResult<Value> {
    let customer = ctx.find("customer", &new_subscription.customer, "customer")?;
    let items = priced_items(ctx, &new_subscription.items)?;
    if let Some(payment_method) = &new_subscription.default_payment_method {
        new_subscription.default_payment_method = Some(
            pay::customer_payment_method_id(ctx, payment_method, &new_subscription.customer)
                .ok_or_else(|| pay::not_customers_payment_method("default_payment_method", payment_method))?,
        );
    }
    let plan = plan(ctx, &new_subscription, &items);
    // error_if_incomplete: decide before changing anything.
    let charge_now = plan.trial_end.is_none() && new_subscription.collection_method != "send_invoice";
    if new_subscription.payment_behavior == "error_if_incomplete" && charge_now && total(&items) > 0 {
        refuse_if_incomplete(ctx, &new_subscription, &customer)?;
    }
    // Discounts are checked before anything is stored: a refused code leaves nothing behind.
    let redemption = Redemption {
        customer: Some(&new_subscription.customer),
        amount: total(&items),
        currency: &plan.currency,
        // A subscription takes a coupon for other products too: `applies_to` decides per invoice line.
        products: Vec::new(),
    };
    for (i, discount) in new_subscription.discounts.iter().enumerate() {
        discounts::check(ctx, discount, &redemption, &format!("discounts[{i}]"))?;
    }
    let id = plan.id.clone();
    let stored_items: Vec<Value> = items
        .iter()
        .map(|item| {
            subscription_item(
                &id,
                &item.price,
                item.quantity,
                item.metadata.clone(),
                (plan.now, plan.period_end),
                plan.now,
            )
        })
        .collect();
    ctx.put("subscription", subscription_json(&new_subscription, &customer, &plan, stored_items));
    if !new_subscription.discounts.is_empty() {
        let mut ids = Vec::new();
        for discount in &new_subscription.discounts {
            ids.push(json!(discounts::create(ctx, discount, &redemption, Some(&id), None)?["id"]));
        }
        if let Some(subscription) = ctx.get_mut("subscription", &id) {
            subscription["discounts"] = Value::Array(ids);
        }
    }
    let subscription = ctx.find("subscription", &id, "subscription")?;
    let mark = ctx.events.len();
    if new_subscription.checkout {
        ctx.emit("customer.subscription.created", &subscription, None);
    }
    let invoice = first_invoice(ctx, &new_subscription, &plan, &items, &subscription)?;
    let invoice_id = invoice["id"].as_str().unwrap_or_default().to_string();
    let client_confirms = new_subscription.payment_behavior == "default_incomplete"
        && new_subscription.collection_method != "send_invoice";
    if invoice["status"] == "open" {
        match new_subscription.payment_behavior.as_str() {
            "default_incomplete" => leave_for_client_confirmation(ctx, &new_subscription, &plan, &invoice),
            _ if new_subscription.collection_method != "send_invoice" => {
                charge_first_invoice(ctx, &new_subscription, &invoice_id)?
            }
            _ => {}
        }
    } else if client_confirms {
        leave_setup_for_client(ctx, &new_subscription, &id)?;
    }
    let subscription = ctx.find("subscription", &id, "subscription")?;
    if !new_subscription.checkout {
        announce_created(ctx, &subscription, mark);
    }
    if let Some(trial_end) = plan.trial_end {
        if trial_end - plan.now <= 3 * DAY {
            ctx.emit("customer.subscription.trial_will_end", &subscription, None);
            if let Some(subscription) = ctx.get_mut("subscription", &id) {
                subscription["_sb_twe_sent"] = json!(true);
            }
        }
    }
    ctx.find("subscription", &id, "subscription")
}

/// The requested prices, checked: recurring, active, one interval for all.
fn priced_items(ctx: &Ctx, specs: &[ItemSpec]) -> ApiResult<Vec<PricedItem>> {
    if specs.is_empty() {
        return Err(ApiError::missing("items"));
    }
    let mut items = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let price_id = spec.price.as_deref().ok_or_else(|| ApiError::missing(&format!("items[{i}][price]")))?;
        let price = recurring_price(ctx, price_id, &format!("items[{i}][price]"))?;
        // Usage sets what a metered item bills; Stripe refuses a quantity on one.
        if is_metered(&price) && spec.quantity.is_some() {
            return Err(ApiError::invalid_value(
                &format!("items[{i}][quantity]"),
                format!("Quantity should not be specified where usage_type is `metered`. Remove quantity from `items[{i}]` and try again."),
            ));
        }
        items.push(PricedItem {
            price,
            quantity: spec.quantity.unwrap_or(1).max(0),
            metadata: spec.metadata.clone().unwrap_or(json!({})),
        });
    }
    let interval = interval_of(&items[0].price);
    if items.iter().any(|item| interval_of(&item.price) != interval) {
        return Err(ApiError::invalid_value(
            "items",
            "Currency and interval fields must match across all plans on this subscription.",
        ));
    }
    Ok(items)
}

fn total(items: &[PricedItem]) -> i64 {
    items.iter().map(|item| advance_amount(&item.price, item.quantity)).sum()
}

fn plan(ctx: &Ctx, new_subscription: &NewSubscription, items: &[PricedItem]) -> Plan {
    let now = ctx.now_for_customer(Some(&new_subscription.customer));
    let trial_end = match (new_subscription.trial_end, new_subscription.trial_period_days) {
        (Some(t), _) if t > now => Some(t),
        (Some(_), _) => None,
        (None, Some(days)) if days > 0 => Some(now + days * DAY),
        _ => None,
    };
    let (interval, count) = interval_of(&items[0].price);
    let status_before_payment = if trial_end.is_some() {
        "trialing"
    } else if new_subscription.collection_method == "send_invoice" || total(items) == 0 {
        "active"
    } else {
        "incomplete"
    };
    Plan {
        id: new_id("sub"),
        now,
        period_end: trial_end.unwrap_or_else(|| period_end(now, &interval, count, day_of_month(now))),
        trial_end,
        currency: items[0].price["currency"].as_str().unwrap_or("usd").to_string(),
        status_before_payment,
    }
}

/// `error_if_incomplete`: a payment that would not succeed at once fails the request before
/// anything is created.
fn refuse_if_incomplete(ctx: &Ctx, new_subscription: &NewSubscription, customer: &Value) -> ApiResult<()> {
    let payment_method = new_subscription
        .default_payment_method
        .clone()
        .or_else(|| customer["invoice_settings"]["default_payment_method"].as_str().map(str::to_string));
    match payment_method.and_then(|id| ctx.get("payment_method", &id).cloned()) {
        None => Err(ApiError::invalid("This customer has no attached payment source or default payment method.")
            .with_code("resource_missing")),
        Some(payment_method) => match pay::behavior(&payment_method) {
            Behavior::Decline(code) => Err(pay::decline(code)),
            Behavior::AttachThenFail => Err(pay::decline("generic_decline")),
            Behavior::RadarBlock => Err(pay::decline("fraudulent")),
            Behavior::ThreeDsAlways if !new_subscription.authenticated => Err(ApiError::card(
                "subscription_payment_intent_requires_action",
                None,
                "Payment for this subscription requires additional user action before it can be completed successfully.",
            )),
            _ => Ok(()),
        },
    }
}

fn subscription_json(new_subscription: &NewSubscription, customer: &Value, plan: &Plan, items: Vec<Value>) -> Value {
    json!({
        "id": plan.id,
        "object": "subscription",
        "application": null,
        "application_fee_percent": null,
        "automatic_tax": {"disabled_reason": null, "enabled": false, "liability": null},
        "billing_cycle_anchor": plan.trial_end.unwrap_or(plan.now),
        "billing_cycle_anchor_config": null,
        "billing_mode": billing_mode(new_subscription.billing_mode.as_deref(), plan.now),
        "billing_schedules": [],
        "billing_thresholds": null,
        "cancel_at": new_subscription.cancel_at,
        "cancel_at_period_end": new_subscription.cancel_at_period_end,
        "canceled_at": null,
        "cancellation_details": {"comment": null, "feedback": null, "reason": null},
        "collection_method": new_subscription.collection_method,
        "created": plan.now,
        "currency": plan.currency,
        "customer": new_subscription.customer,
        "customer_account": null,
        "days_until_due": new_subscription.days_until_due,
        "default_payment_method": new_subscription.default_payment_method,
        "default_source": null,
        "default_tax_rates": [],
        "description": new_subscription.description,
        "discounts": [],
        "ended_at": null,
        "invoice_settings": {"account_tax_ids": null, "issuer": {"type": "self"}},
        "items": list_of(items, &format!("/v1/subscription_items?subscription={}", plan.id)),
        "latest_invoice": null,
        "livemode": false,
        "metadata": new_subscription.metadata,
        "next_pending_invoice_item_invoice": null,
        "on_behalf_of": null,
        "pause_collection": null,
        "payment_settings": payment_settings::initial(&new_subscription.payment_settings),
        "pending_invoice_item_interval": null,
        "pending_setup_intent": null,
        "pending_update": null,
        "schedule": null,
        "start_date": plan.now,
        "status": plan.status_before_payment,
        "status_details": null,
        "test_clock": customer["test_clock"],
        "transfer_data": null,
        "trial_end": plan.trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": new_subscription.missing_payment_method.as_deref().unwrap_or("create_invoice")}},
        "trial_start": plan.trial_end.map(|_| plan.now),
        "_sb_twe_sent": false,
    })
}

/// The first invoice (`subscription_create`), finalised; trial lines are free.
fn first_invoice(
    ctx: &mut Ctx,
    new_subscription: &NewSubscription,
    plan: &Plan,
    items: &[PricedItem],
    subscription: &Value,
) -> ApiResult<Value> {
    // Only the licensed part is billed in advance; metered usage is billed after the period.
    let lines: Vec<Line> = items
        .iter()
        .zip(SubscriptionView(subscription).items())
        .filter(|(item, _)| !is_metered(&item.price))
        .map(|(item, stored)| {
            let name = product_name(ctx, &item.price);
            let (amount, description) = if plan.trial_end.is_some() {
                (0, format!("Trial period for {name}"))
            } else {
                (amount_for(&item.price, item.quantity), price_description(&item.price, item.quantity, &name))
            };
            Line {
                amount,
                description,
                period: (plan.now, plan.period_end),
                quantity: item.quantity,
                price: Some(item.price.clone()),
                subscription: Some(plan.id.clone()),
                subscription_item: stored["id"].as_str().map(str::to_string),
                invoice_item: None,
                proration: false,
            }
        })
        .collect();
    let invoice = create_invoice(
        ctx,
        NewInvoice {
            customer: &new_subscription.customer,
            subscription: Some(subscription),
            billing_reason: "subscription_create",
            currency: &plan.currency,
            lines,
            period: (plan.now, plan.now),
            collection_method: &new_subscription.collection_method,
            days_until_due: new_subscription.days_until_due,
            auto_advance: false,
            metadata: json!({}),
            description: None,
        },
    )?;
    let invoice_id = invoice["id"].as_str().unwrap_or_default().to_string();
    if let Some(subscription) = ctx.get_mut("subscription", &plan.id) {
        subscription["latest_invoice"] = json!(invoice_id);
    }
    finalize(ctx, &invoice_id)
}

/// `allow_incomplete` / `error_if_incomplete`: the first invoice is charged now; a failure
/// leaves the subscription `incomplete`.
fn charge_first_invoice(ctx: &mut Ctx, new_subscription: &NewSubscription, invoice_id: &str) -> ApiResult<()> {
    if let Some(invoice) = ctx.get_mut("invoice", invoice_id) {
        invoice["auto_advance"] = json!(true);
    }
    attempt_payment(
        ctx,
        invoice_id,
        new_subscription.first_payment_method.as_deref(),
        new_subscription.off_session,
        new_subscription.authenticated,
    )?;
    if let Some(invoice) = ctx.get_mut("invoice", invoice_id) {
        if invoice["status"] == "open" {
            // The first invoice is not retried; the subscription expires after 23 hours.
            invoice["next_payment_attempt"] = Value::Null;
        }
    }
    Ok(())
}

/// `default_incomplete`: a payment intent the client confirms (its secret is on the invoice).
fn leave_for_client_confirmation(ctx: &mut Ctx, new_subscription: &NewSubscription, plan: &Plan, invoice: &Value) {
    let invoice_id = invoice["id"].as_str().unwrap_or_default();
    let payment_method_types =
        ctx.get("subscription", &plan.id).map_or_else(|| json!(["card"]), intent_payment_method_types);
    let intent = pay::create_intent_with(
        ctx,
        NewPayment {
            customer: Some(&new_subscription.customer),
            amount: invoice["amount_due"].as_i64().unwrap_or(0),
            currency: &plan.currency,
            payment_method: None,
            description: Some("Subscription creation".into()),
            metadata: json!({}),
            setup_future_usage: Some("off_session".into()),
        },
        json!({"payment_method_types": payment_method_types}),
    );
    let secret = intent["client_secret"].clone();
    if let Some(stored) = ctx.get_mut("invoice", invoice_id) {
        stored["_sb_pi"] = intent["id"].clone();
        stored["confirmation_secret"] = json!({"client_secret": secret, "type": "payment_intent"});
    }
    add_open_payment(ctx, invoice_id, &intent);
}

/// `default_incomplete` with nothing to pay now (a trial, a free first invoice): Stripe makes a
/// SetupIntent for the customer (`pending_setup_intent`) that the client confirms to save the
/// card the subscription will renew on.
fn leave_setup_for_client(ctx: &mut Ctx, new_subscription: &NewSubscription, id: &str) -> ApiResult<()> {
    let subscription = ctx.find("subscription", id, "subscription")?;
    let setup_intent = setup_intents::create(
        ctx,
        NewSetupIntent {
            customer: Some(new_subscription.customer.clone()),
            description: None,
            metadata: json!({}),
            payment_method: None,
            usage: "off_session".into(),
            automatic_payment_methods: Value::Null,
            payment_method_types: intent_payment_method_types(&subscription),
        },
    )?;
    if let Some(stored) = ctx.get_mut("subscription", id) {
        stored["pending_setup_intent"] = setup_intent["id"].clone();
    }
    Ok(())
}

/// Stripe's `customer.subscription.created` carries the state at the end of the request and
/// comes before the invoice's events; the intermediate updates are dropped.
fn announce_created(ctx: &mut Ctx, subscription: &Value, mark: usize) {
    let id = subscription["id"].as_str().unwrap_or_default();
    let at = mark.min(ctx.events.len());
    ctx.events.retain(|e| !(e.kind == "customer.subscription.updated" && e.object["id"] == id));
    let created = ctx.now_for(subscription);
    ctx.events.insert(
        at.min(ctx.events.len()),
        PendingEvent {
            account: ctx.account.clone(),
            kind: "customer.subscription.created".into(),
            object: public(subscription),
            previous: None,
            created,
        },
    );
}
