//! Changes to a live subscription (from `POST /v1/subscriptions/{id}`, subscription items, and
//! the Customer Portal): items with prorations, cancellation settings, trial changes, and the
//! one `customer.subscription.updated` event that carries them.

use serde_json::{json, Value};

use super::{cancel, renew, ItemSpec, PaymentSettings};
use crate::engine::invoices::{create_invoice, finalize_and_charge, NewInvoice};
use crate::engine::lines::take_pending_items;
use crate::engine::pay;
use crate::engine::proration::{change_items, check_proration_behavior};
use crate::engine::usage_billing::unbilled_usage_lines;
use crate::engine::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::store::{apply_metadata, diff, public, Ctx, PendingEvent};
use crate::util::{new_id, DAY};

/// A requested change, already read from the parameters. `None` leaves a field alone.
#[derive(Clone, Debug)]
pub struct SubscriptionUpdate {
    pub items: Vec<ItemSpec>,
    /// `create_prorations`, `always_invoice` or `none`.
    pub proration_behavior: String,
    pub proration_date: Option<i64>,
    /// `billing_cycle_anchor=now`.
    pub reset_anchor: bool,
    /// The request's `metadata` parameter (merged with Stripe's rules).
    pub metadata: Option<Value>,
    pub cancel_at_period_end: Option<bool>,
    /// `Some(None)` clears `cancel_at`.
    pub cancel_at: Option<Option<i64>>,
    pub cancellation_details: Option<Value>,
    /// An empty string clears the default payment method.
    pub default_payment_method: Option<String>,
    pub description: Option<String>,
    pub collection_method: Option<String>,
    pub days_until_due: Option<i64>,
    /// `Some(None)` resumes collection.
    pub pause_collection: Option<Option<Value>>,
    pub trial_end: Option<i64>,
    /// `payment_settings[...]` (checked by the caller).
    pub payment_settings: Option<PaymentSettings>,
}

impl Default for SubscriptionUpdate {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            proration_behavior: "create_prorations".into(),
            proration_date: None,
            reset_anchor: false,
            metadata: None,
            cancel_at_period_end: None,
            cancel_at: None,
            cancellation_details: None,
            default_payment_method: None,
            description: None,
            collection_method: None,
            days_until_due: None,
            pause_collection: None,
            trial_end: None,
            payment_settings: None,
        }
    }
}

impl SubscriptionUpdate {
    /// Only `metadata` / `cancellation_details`: what a canceled subscription still takes.
    fn touches_only_metadata(&self) -> bool {
        self.items.is_empty()
            && !self.reset_anchor
            && self.cancel_at_period_end.is_none()
            && self.cancel_at.is_none()
            && self.default_payment_method.is_none()
            && self.description.is_none()
            && self.collection_method.is_none()
            && self.days_until_due.is_none()
            && self.pause_collection.is_none()
            && self.trial_end.is_none()
            && self.payment_settings.is_none()
    }
}

/// A canceled subscription only takes metadata and cancellation details.
pub fn check_editable(subscription: &Value, only_metadata: bool) -> ApiResult<()> {
    if SubscriptionView(subscription).is_ended() && !only_metadata {
        return Err(ApiError::invalid(
            "A canceled subscription can only update its cancellation_details and metadata.",
        ));
    }
    Ok(())
}

/// Applies a change and emits one `customer.subscription.updated` carrying all of it.
pub fn update(ctx: &mut Ctx, id: &str, change: SubscriptionUpdate) -> ApiResult<Value> {
    let old = ctx.find("subscription", id, "id")?;
    check_editable(&old, change.touches_only_metadata())?;
    check_proration_behavior(&change.proration_behavior)?;
    let status = SubscriptionView(&old).status();
    let now = ctx.now_for(&old);
    if !change.items.is_empty() || change.reset_anchor {
        change_items(ctx, id, &change.items, &change.proration_behavior, change.proration_date, change.reset_anchor)?;
    }
    let mut subscription = ctx.find("subscription", id, "id")?;
    if let Some(metadata) = &change.metadata {
        subscription["metadata"] = apply_metadata(&subscription["metadata"], metadata)?;
    }
    if let Some(cancel_at_period_end) = change.cancel_at_period_end {
        subscription["cancel_at_period_end"] = json!(cancel_at_period_end);
        if cancel_at_period_end {
            subscription["cancel_at"] = json!(SubscriptionView(&subscription).current_period_end());
            subscription["canceled_at"] = json!(now);
            subscription["cancellation_details"]["reason"] = json!("cancellation_requested");
        } else {
            subscription["cancel_at"] = Value::Null;
            subscription["canceled_at"] = Value::Null;
            subscription["cancellation_details"] = json!({"comment": null, "feedback": null, "reason": null});
        }
    }
    match change.cancel_at {
        Some(None) => {
            subscription["cancel_at"] = Value::Null;
            subscription["cancel_at_period_end"] = json!(false);
        }
        Some(Some(at)) => {
            subscription["cancel_at"] = json!(at);
            subscription["canceled_at"] = json!(now);
        }
        None => {}
    }
    if let Some(details) = &change.cancellation_details {
        copy_cancellation_details(&mut subscription, details);
    }
    if let Some(payment_method) = &change.default_payment_method {
        if payment_method.is_empty() {
            subscription["default_payment_method"] = Value::Null;
        } else {
            let customer = subscription["customer"].as_str().unwrap_or_default();
            let payment_method_id = pay::customer_payment_method_id(ctx, payment_method, customer)
                .ok_or_else(|| pay::not_customers_payment_method("default_payment_method", payment_method))?;
            subscription["default_payment_method"] = json!(payment_method_id);
        }
    }
    for (key, value) in [("description", &change.description), ("collection_method", &change.collection_method)] {
        if let Some(value) = value {
            subscription[key] = if value.is_empty() { Value::Null } else { json!(value) };
        }
    }
    if let Some(settings) = &change.payment_settings {
        settings.apply(&mut subscription);
    }
    if let Some(days) = change.days_until_due {
        subscription["days_until_due"] = json!(days);
    }
    if let Some(pause) = &change.pause_collection {
        subscription["pause_collection"] = pause.clone().unwrap_or(Value::Null);
    }
    // Ending a trial now starts the paid period at once.
    let end_trial_now = change.trial_end.is_some_and(|t| t <= now) && status == "trialing";
    if let Some(trial_end) = change.trial_end {
        if !end_trial_now && trial_end > now {
            subscription["trial_end"] = json!(trial_end);
            for item in subscription["items"]["data"].as_array_mut().into_iter().flatten() {
                item["current_period_end"] = json!(trial_end);
            }
            subscription["_sb_twe_sent"] = json!(trial_end - now <= 3 * DAY && old["_sb_twe_sent"] == true);
            if status == "active" {
                subscription["status"] = json!("trialing");
                subscription["trial_start"] = json!(now);
            }
        }
    }
    // Emit one update carrying every change (item changes included); an update the engine
    // emitted on the way (e.g. a status change) is folded into it.
    ctx.put("subscription", subscription.clone());
    ctx.events.retain(|e| !(e.kind == "customer.subscription.updated" && e.object["id"] == id));
    emit_subscription_update(ctx, &old, &subscription);
    if end_trial_now {
        end_trial(ctx, id, now)?;
    }
    Ok(public(&ctx.find("subscription", id, "id")?))
}

/// The trial ends now: the period ends, renewal invoices and charges at once.
fn end_trial(ctx: &mut Ctx, id: &str, now: i64) -> ApiResult<()> {
    let mut subscription = ctx.find("subscription", id, "id")?;
    subscription["trial_end"] = json!(now);
    for item in subscription["items"]["data"].as_array_mut().into_iter().flatten() {
        item["current_period_end"] = json!(now);
    }
    ctx.put("subscription", subscription);
    renew(ctx, id)?;
    let renewed = ctx.find("subscription", id, "id")?;
    let invoice = SubscriptionView(&renewed).latest_invoice().unwrap_or_default();
    // A draft kept by paused collection (`keep_as_draft`) stays one.
    if ctx.get("invoice", invoice).is_some_and(|i| i["status"] == "draft" && i["auto_advance"] == true) {
        finalize_and_charge(ctx, invoice)?;
    }
    Ok(())
}

fn copy_cancellation_details(subscription: &mut Value, details: &Value) {
    for key in ["comment", "feedback"] {
        if let Some(value) = details.get(key) {
            subscription["cancellation_details"][key] = value.clone();
        }
    }
}

/// Cancels now (`DELETE /v1/subscriptions/{id}`), keeping the customer's cancellation details,
/// and with `invoice_now` invoices the pending items at once.
pub fn cancel_with_details(ctx: &mut Ctx, id: &str, details: Option<&Value>, invoice_now: bool) -> ApiResult<Value> {
    let subscription = cancel(ctx, id, "cancellation_requested")?;
    if let Some(details) = details {
        let mut with_details = subscription.clone();
        copy_cancellation_details(&mut with_details, details);
        ctx.put("subscription", with_details.clone());
        if let Some(event) = ctx.events.iter_mut().rev().find(|e| e.kind == "customer.subscription.deleted") {
            event.object = public(&with_details);
        }
        return Ok(public(&with_details));
    }
    if invoice_now {
        let customer = SubscriptionView(&subscription).customer().to_string();
        let mut lines = take_pending_items(ctx, &customer, Some(id), "pending");
        // `invoice_now` also bills the metered usage not yet invoiced (without it, Stripe drops it).
        let now = ctx.now_for(&subscription);
        lines.extend(unbilled_usage_lines(ctx, &subscription, now));
        if !lines.is_empty() {
            let invoice = create_invoice(
                ctx,
                NewInvoice::for_subscription(&customer, &subscription, "subscription_update", lines, (now, now), true),
            )?;
            finalize_and_charge(ctx, invoice["id"].as_str().unwrap_or_default())?;
        }
    }
    Ok(public(&subscription))
}

/// Removes a subscription's discounts; emits `customer.subscription.updated`.
pub fn delete_discounts(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = ctx.find("subscription", id, "id")?;
    let mut subscription = old.clone();
    subscription["discounts"] = json!([]);
    ctx.save_updated("subscription", "customer.subscription.updated", &old, subscription);
    Ok(json!({"id": new_id("di"), "object": "discount", "deleted": true}))
}

/// Changes one item (`/v1/subscription_items`) with prorations, and emits the subscription's
/// update. Returns the subscription.
pub fn change_item(
    ctx: &mut Ctx,
    subscription_id: &str,
    spec: ItemSpec,
    proration_behavior: &str,
    proration_date: Option<i64>,
) -> ApiResult<Value> {
    let old = ctx.find("subscription", subscription_id, "subscription")?;
    change_items(ctx, subscription_id, &[spec], proration_behavior, proration_date, false)?;
    let new = ctx.find("subscription", subscription_id, "subscription")?;
    emit_subscription_update(ctx, &old, &new);
    Ok(new)
}

/// Queues `customer.subscription.updated` (if anything changed) before the first invoice event
/// of the request, where Stripe sends it.
pub(super) fn emit_subscription_update(ctx: &mut Ctx, old: &Value, new: &Value) {
    let previous = diff(old, new);
    if previous.as_object().is_some_and(|m| !m.is_empty()) {
        let first_invoice =
            ctx.events.iter().position(|e| e.kind.starts_with("invoice.") || e.kind.starts_with("invoiceitem."));
        let created = ctx.now_for(new);
        let event = PendingEvent {
            account: ctx.account.clone(),
            kind: "customer.subscription.updated".into(),
            object: public(new),
            previous: Some(previous),
            created,
        };
        match first_invoice {
            Some(position) => ctx.events.insert(position, event),
            None => ctx.events.push(event),
        }
    }
}
