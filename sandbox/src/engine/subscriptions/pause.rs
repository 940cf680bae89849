//! Pausing a subscription: on request (`POST /v1/subscriptions/{id}/pause`, flexible billing
//! mode only) or when a trial ends without a payment method and
//! `trial_settings[end_behavior][missing_payment_method]=pause`. A `paused` subscription says why
//! in `status_details`, gets no invoices and no new periods until it is resumed (`resume`).

use serde_json::{json, Value};

use crate::engine::invoices::{finalize_and_charge, invoice_subscription};
use crate::engine::lines::{pend_line, product_name, Line};
use crate::engine::pricing::amount_for;
use crate::engine::proration::prorate;
use crate::engine::usage_billing::{is_metered, unbilled_usage_lines, USAGE_BILLED_UNTIL};
use crate::engine::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::store::{public, Ctx};
use crate::util::ymd;

/// A requested pause, its parameters read.
#[derive(Clone, Debug)]
pub struct PauseRequest {
    /// `invoicing_behavior=invoice`: what the pause bills is invoiced and charged now, rather
    /// than left as pending invoice items for the next invoice (`pending_invoice_item`).
    pub invoice_now: bool,
    /// `bill_for[unused_time_from][type]`: the licensed items' unused time is credited from
    /// `now`, from the period start (`item_current_period_start`), or not at all (`none`).
    pub unused_time_from: String,
    /// `bill_for[outstanding_usage_through][type]=now`: the period's metered usage so far is billed.
    pub bill_usage: bool,
}

/// `POST /v1/subscriptions/{id}/pause`: the subscription is `paused` now; the unused time is
/// credited and the usage so far billed as asked. Emits `customer.subscription.updated` and
/// `customer.subscription.paused`, then the billing's events.
pub fn pause(ctx: &mut Ctx, id: &str, request: PauseRequest) -> ApiResult<Value> {
    let old = ctx.find("subscription", id, "id")?;
    check_pausable(&old)?;
    let now = ctx.now_for(&old);
    enter_pause(ctx, &old, "pause_requested");
    let from = match request.unused_time_from.as_str() {
        "now" => Some(now),
        "item_current_period_start" => SubscriptionView(&old).current_period_start(),
        _ => None,
    };
    // A trial was free: there is nothing to credit.
    let from = from.filter(|_| SubscriptionView(&old).status() != "trialing");
    let mut lines = from.map(|from| prorated_time(ctx, &old, from, true)).unwrap_or_default();
    if request.bill_usage {
        lines.extend(unbilled_usage_lines(ctx, &old, now).into_iter().filter(|line| line.quantity > 0));
        if let Some(subscription) = ctx.get_mut("subscription", id) {
            subscription[USAGE_BILLED_UNTIL] = json!(now);
        }
    }
    for line in &lines {
        pend_line(ctx, &old, line);
    }
    if request.invoice_now && !lines.is_empty() {
        let invoice_id = invoice_subscription(ctx, id, "subscription_update", Vec::new(), (now, now), true)?;
        finalize_and_charge(ctx, &invoice_id)?;
    }
    Ok(public(&ctx.find("subscription", id, "id")?))
}

/// Stripe pauses live, charged-automatically subscriptions in flexible billing mode that no
/// schedule manages.
fn check_pausable(subscription: &Value) -> ApiResult<()> {
    let status = SubscriptionView(subscription).status();
    if !matches!(status, "active" | "past_due" | "trialing") {
        return Err(ApiError::invalid(format!(
            "Only `active`, `past_due` or `trialing` subscriptions can be paused; this subscription is `{status}`."
        )));
    }
    if subscription["billing_mode"]["type"] != "flexible" {
        return Err(ApiError::invalid(
            "Pausing a subscription requires flexible billing mode; this subscription uses `billing_mode[type]=classic`.",
        ));
    }
    if subscription["schedule"].is_string() {
        return Err(ApiError::invalid("Cannot pause subscriptions with attached schedules."));
    }
    if subscription["collection_method"] != "charge_automatically" {
        return Err(ApiError::invalid(
            "Only subscriptions with `collection_method=charge_automatically` can be paused.",
        ));
    }
    Ok(())
}

/// The subscription becomes `paused` now, for `reason` (`status_details.paused.subscription.type`:
/// `pause_requested`, `trial_end_without_payment_method`, ...); its period stays as it is.
/// Emits `customer.subscription.updated` and `customer.subscription.paused`.
pub(super) fn enter_pause(ctx: &mut Ctx, old: &Value, reason: &str) {
    let now = ctx.now_for(old);
    let mut subscription = old.clone();
    subscription["status"] = json!("paused");
    subscription["status_details"] = json!({
        "paused": {"subscription": {"type": reason}, "transitioned_at": now, "type": "subscription"},
    });
    ctx.save_updated("subscription", "customer.subscription.updated", old, subscription.clone());
    ctx.emit("customer.subscription.paused", &subscription, None);
}

/// One proration line per licensed item for its time from `at` to the period end: a credit for
/// the unused time when pausing, a charge for the remaining time when resuming into a period the
/// subscription keeps (`billing_cycle_anchor[type]=unchanged`).
pub(super) fn prorated_time(ctx: &Ctx, subscription: &Value, at: i64, credit: bool) -> Vec<Line> {
    let view = SubscriptionView(subscription);
    let (Some(start), Some(end)) = (view.current_period_start(), view.current_period_end()) else {
        return Vec::new();
    };
    let (sign, wording) = if credit { (-1, "Unused") } else { (1, "Remaining") };
    view.items()
        .iter()
        .filter(|item| !is_metered(&item["price"]))
        .filter_map(|item| {
            let quantity = item["quantity"].as_i64().unwrap_or(1);
            let amount = prorate(amount_for(&item["price"], quantity), (start, end), at);
            let name = product_name(ctx, &item["price"]);
            (amount != 0).then(|| Line {
                amount: sign * amount,
                description: format!("{wording} time on {quantity} × {name} after {}", ymd(at)),
                period: (at, end),
                quantity,
                price: Some(item["price"].clone()),
                subscription: Some(view.id().to_string()),
                subscription_item: item["id"].as_str().map(str::to_string),
                invoice_item: None,
                proration: true,
            })
        })
        .collect()
}
