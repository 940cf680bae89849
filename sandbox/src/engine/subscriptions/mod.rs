//! Subscriptions: the shared item/price helpers, cancellation and renewal at period end.
//! Creation lives in `create`, changes requested through the API or the portal in `update`,
//! paused payment collection in `collection`, pausing the subscription itself in `pause` and
//! `resume`.

mod collection;
mod create;
mod pause;
mod payment_settings;
mod resume;
mod update;

use serde_json::{json, Value};

pub use collection::{collection_resumes_at, resume_collection, COLLECTION_BEHAVIORS};
pub use create::{create_subscription, NewSubscription};
pub use pause::{pause, PauseRequest};
pub use payment_settings::{pending_setup_intent_succeeded, save_default_payment_method, PaymentSettings};
pub use resume::{resume, resumption_settled, unattempted_resumption_expires_at, ResumeRequest};
pub use update::{cancel_with_details, change_item, check_editable, delete_discounts, update, SubscriptionUpdate};

use super::invoice_payments::invoice_payment_method;
use super::invoices::{finalize_and_charge, invoice_subscription, void};
use super::lines::item_lines;
use super::usage_billing::{is_metered, unbilled_usage_lines, usage_lines, usage_start};
use super::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::objects;
use crate::store::{diff, obj_mut, public, Ctx};
use crate::util::{day_of_month, new_id, period_end};

/// One entry of `items[]`: a new item (`price`), or a change to an existing one (`id`).
#[derive(Clone, Debug, Default)]
pub struct ItemSpec {
    pub id: Option<String>,
    pub price: Option<String>,
    pub quantity: Option<i64>,
    pub deleted: bool,
    pub metadata: Option<Value>,
}

/// A new subscription item on `price` for the current period.
pub fn subscription_item(
    subscription_id: &str,
    price: &Value,
    quantity: i64,
    metadata: Value,
    period: (i64, i64),
    now: i64,
) -> Value {
    let mut item = json!({
        "id": new_id("si"),
        "object": "subscription_item",
        "billing_thresholds": null,
        "created": now,
        "current_period_end": period.1,
        "current_period_start": period.0,
        "discounts": [],
        "metadata": metadata,
        "plan": objects::plan_from_price(price),
        "price": public(price),
        "quantity": quantity,
        "subscription": subscription_id,
        "tax_rates": [],
    });
    // A metered item has no quantity: its usage is what it bills.
    if is_metered(price) {
        obj_mut(&mut item).remove("quantity");
    }
    item
}

/// `billing_mode` as Stripe shows it: `flexible` (the default since 2025-09-30.clover; discounts
/// are included in prorations) or `classic`. `updated_at` is when the mode was adopted.
pub fn billing_mode(kind: Option<&str>, now: i64) -> Value {
    match kind {
        Some("classic") => json!({"flexible": null, "type": "classic", "updated_at": null}),
        _ => json!({"flexible": {"proration_discounts": "included"}, "type": "flexible", "updated_at": now}),
    }
}

pub(super) fn recurring_price(ctx: &Ctx, id: &str, param: &str) -> ApiResult<Value> {
    let price = ctx.find("price", id, param)?;
    if price["type"] != "recurring" {
        return Err(ApiError::invalid_value(param, format!("The price specified ({id}) is set to `type=one_time` but this field only accepts prices with `type=recurring`.")));
    }
    if price["active"] == false {
        return Err(ApiError::invalid_value(
            param,
            format!("The price specified ({id}) is inactive. This field only accepts active prices."),
        ));
    }
    Ok(price)
}

pub(super) fn interval_of(price: &Value) -> (String, i64) {
    (
        price["recurring"]["interval"].as_str().unwrap_or("month").to_string(),
        price["recurring"]["interval_count"].as_i64().unwrap_or(1),
    )
}

/// Cancels a subscription now; emits `customer.subscription.deleted`.
pub fn cancel(ctx: &mut Ctx, id: &str, reason: &str) -> ApiResult<Value> {
    let old = ctx.find("subscription", id, "subscription")?;
    let subscription = SubscriptionView(&old);
    if subscription.is_ended() {
        return Err(ApiError::invalid(
            "A canceled subscription can only update its cancellation_details and metadata.",
        )
        .with_code("resource_missing"));
    }
    let was_incomplete = subscription.status() == "incomplete";
    let now = ctx.now_for(&old);
    let mut new = old.clone();
    new["status"] = json!(if was_incomplete { "incomplete_expired" } else { "canceled" });
    new["canceled_at"] = json!(now);
    new["ended_at"] = json!(now);
    new["cancellation_details"]["reason"] = json!(reason);
    ctx.put("subscription", new.clone());
    // Stripe voids the open first invoice of an expiring incomplete subscription.
    if was_incomplete {
        if let Some(invoice) = subscription.latest_invoice() {
            if ctx.get("invoice", invoice).is_some_and(|i| i["status"] == "open") {
                void(ctx, invoice)?;
            }
        }
    }
    // Open renewal invoices stop being retried.
    let open: Vec<String> = ctx
        .all("invoice")
        .into_iter()
        .filter(|i| i["subscription"] == id && i["status"] == "open")
        .filter_map(|i| i["id"].as_str().map(str::to_string))
        .collect();
    for invoice_id in open {
        if let Some(invoice) = ctx.get_mut("invoice", &invoice_id) {
            invoice["next_payment_attempt"] = Value::Null;
            invoice["auto_advance"] = json!(false);
        }
    }
    ctx.emit("customer.subscription.deleted", &new, None);
    Ok(new)
}

/// Bills a just-canceled subscription's metered usage up to `until` on a final invoice, charged
/// at once (nothing without metered items).
fn bill_final_usage(ctx: &mut Ctx, canceled: &Value, until: i64, billing_reason: &str) -> ApiResult<()> {
    let lines = unbilled_usage_lines(ctx, canceled, until);
    let Some(start) = SubscriptionView(canceled).current_period_start().filter(|_| !lines.is_empty()) else {
        return Ok(());
    };
    let invoice_id =
        invoice_subscription(ctx, SubscriptionView(canceled).id(), billing_reason, lines, (start, until), true)?;
    finalize_and_charge(ctx, &invoice_id)
}

/// Renews a subscription at the end of its period (or ends it).
pub fn renew(ctx: &mut Ctx, id: &str) -> ApiResult<()> {
    let old = ctx.find("subscription", id, "subscription")?;
    let now = ctx.now_for(&old);
    let period_end_ts = SubscriptionView(&old).current_period_end().unwrap_or(now);
    if old["cancel_at_period_end"] == true || old["cancel_at"].as_i64().is_some_and(|c| c <= period_end_ts) {
        let canceled = cancel(ctx, id, "cancellation_requested")?;
        // The usage of the last (possibly cut short) period is billed on a final invoice.
        bill_final_usage(ctx, &canceled, now, "subscription_cycle")?;
        return Ok(());
    }
    // A schedule's next phase takes effect at the period boundary.
    if let Some(schedule_id) = old["schedule"].as_str() {
        super::schedules::apply_phase_at(ctx, schedule_id, period_end_ts)?;
    }
    let old = ctx.find("subscription", id, "subscription")?;
    // A schedule that ends with `end_behavior=cancel` has just canceled it.
    if SubscriptionView(&old).is_ended() {
        return Ok(());
    }
    let subscription = SubscriptionView(&old);
    let customer = subscription.customer();
    let was_trialing = subscription.status() == "trialing";
    let (interval, count) = interval_of(subscription.first_price());
    let anchor_day = day_of_month(old["billing_cycle_anchor"].as_i64().unwrap_or(period_end_ts));
    let start = period_end_ts;
    let end = period_end(start, &interval, count, anchor_day);
    let mut new = old.clone();
    for item in new["items"]["data"].as_array_mut().into_iter().flatten() {
        item["current_period_start"] = json!(start);
        item["current_period_end"] = json!(end);
    }
    if was_trialing {
        new["status"] = json!("active");
        let missing_payment_method =
            invoice_payment_method(ctx, &json!({"subscription": id, "customer": customer})).is_none();
        match old["trial_settings"]["end_behavior"]["missing_payment_method"].as_str() {
            Some("cancel") if missing_payment_method => {
                ctx.put("subscription", new);
                cancel(ctx, id, "cancellation_requested")?;
                return Ok(());
            }
            // Paused where the trial ended: no invoice, no new period until it is resumed.
            Some("pause") if missing_payment_method => {
                pause::enter_pause(ctx, &old, "trial_end_without_payment_method");
                return Ok(());
            }
            _ => {}
        }
    }
    if subscription.status() == "unpaid" {
        // No invoice is attempted for unpaid subscriptions; the period still moves.
        ctx.put("subscription", new.clone());
        ctx.emit("customer.subscription.updated", &new, Some(diff(&old, &new)));
        return Ok(());
    }
    // Paused collection still renews and invoices; the pause decides what becomes of the invoice.
    let paused_collection = collection::paused_collection(&old).map(str::to_string);
    let keep_as_draft = paused_collection.as_deref() == Some("keep_as_draft");
    ctx.put("subscription", new.clone());
    let previous_start = subscription.current_period_start().unwrap_or(start);
    // The new period's licensed items in advance, then the ended period's usage in arrears (usage
    // during a trial is free; a pause may have billed part of it).
    let mut lines = item_lines(ctx, &new, (start, end));
    if !was_trialing {
        lines.extend(usage_lines(ctx, &old, (usage_start(&old).unwrap_or(previous_start), start)));
    }
    let invoice_id =
        invoice_subscription(ctx, id, "subscription_cycle", lines, (previous_start, start), !keep_as_draft)?;
    if let Some(behavior) = &paused_collection {
        collection::mark_paused_invoice(ctx, &invoice_id, behavior);
    }
    let updated = ctx.find("subscription", id, "subscription")?;
    // Stripe sends the subscription update (new period) right before the new invoice.
    let invoice_created = ctx.events.pop();
    ctx.emit("customer.subscription.updated", &updated, Some(diff(&old, &updated)));
    if let Some(event) = invoice_created {
        ctx.events.push(event);
    }
    if ctx.state.settings.finalize_delay_secs <= 0 && !keep_as_draft {
        finalize_and_charge(ctx, &invoice_id)?;
    }
    Ok(())
}
