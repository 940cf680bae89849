//! Resuming a paused subscription (`POST /v1/subscriptions/{id}/resume`): a new period from now
//! (`billing_cycle_anchor[type]=now`, billed on a resumption invoice with the pending items, the
//! pause's credit among them), or the period that surrounds now (`unchanged`, with prorations as
//! asked). A resumption invoice is finalized at once and the subscription leaves `paused` as
//! `payment_behavior` says: `resume_on_payment_attempt` (the default) when the invoice is paid or
//! marked uncollectible, or `past_due` when a payment attempt fails; `resume_on_payment_success`
//! only once it is paid (Stripe attempts it during the request and retries a failure). Without a
//! resumption invoice it is `active` at once. An unattempted resumption invoice is voided after
//! 23 hours and the subscription stays paused.

use serde_json::{json, Value};

use super::interval_of;
use super::pause::prorated_time;
use super::update::emit_subscription_update;
use crate::engine::invoice_payments::attempt_payment;
use crate::engine::invoices::{finalize, invoice_subscription};
use crate::engine::lines::{item_lines, pend_line};
use crate::engine::proration::check_proration_behavior;
use crate::engine::usage_billing::{unbilled_usage_lines, usage_start};
use crate::engine::views::{InvoiceView, SubscriptionView};
use crate::error::{ApiError, ApiResult};
use crate::store::{public, Ctx};
use crate::util::{day_of_month, period_end};

/// A requested resumption, its parameters read.
#[derive(Clone, Debug)]
pub struct ResumeRequest {
    /// `billing_cycle_anchor[type]=now` (the default): a new period starts now.
    pub reset_anchor: bool,
    /// `create_prorations`, `always_invoice` or `none` (with an unchanged anchor only).
    pub proration_behavior: String,
    pub proration_date: Option<i64>,
    /// `payment_behavior=resume_on_payment_success`.
    pub on_payment_success: bool,
}

/// Where a resumption invoice keeps its `payment_behavior` (private).
const RESUMES: &str = "_sb_resumes";

/// How long a resumption invoice waits for a payment attempt before Stripe voids it.
const UNATTEMPTED_FOR: i64 = 23 * 3600;

pub fn resume(ctx: &mut Ctx, id: &str, request: ResumeRequest) -> ApiResult<Value> {
    let old = ctx.find("subscription", id, "id")?;
    // `pause_collection` keeps a subscription `active`: it is lifted by an update, not resumed.
    if old["status"] != "paused" {
        return Err(
            ApiError::invalid("Only a paused subscription can be resumed.").with_code("subscription_not_paused")
        );
    }
    check_proration_behavior(&request.proration_behavior)?;
    let now = ctx.now_for(&old);
    let period = if request.reset_anchor { period_from(&old, now) } else { surrounding_period(&old, now) };
    let mut subscription = old.clone();
    for item in subscription["items"]["data"].as_array_mut().into_iter().flatten() {
        item["current_period_start"] = json!(period.0);
        item["current_period_end"] = json!(period.1);
    }
    if request.reset_anchor {
        subscription["billing_cycle_anchor"] = json!(now);
    }
    ctx.put("subscription", subscription.clone());
    let invoice = if request.reset_anchor {
        // The new period in advance, and the usage before the pause that no invoice billed yet.
        let mut lines = item_lines(ctx, &subscription, period);
        let paused_at = old["status_details"]["paused"]["transitioned_at"].as_i64().unwrap_or(now);
        if usage_start(&old).is_some_and(|start| start < paused_at) {
            lines.extend(unbilled_usage_lines(ctx, &old, paused_at));
        }
        Some(invoice_subscription(ctx, id, "subscription_update", lines, (now, now), request.on_payment_success)?)
    } else {
        prorate_resumption(ctx, &subscription, &request, now)?
    };
    let updated = ctx.find("subscription", id, "id")?;
    match invoice {
        // Nothing to collect: one update carries the period and the status.
        None => leave_pause(ctx, &old, updated, "active"),
        Some(invoice_id) => {
            emit_subscription_update(ctx, &old, &updated);
            collect_resumption(ctx, &invoice_id, request.on_payment_success)?;
        }
    }
    Ok(public(&ctx.find("subscription", id, "id")?))
}

/// A new period of the subscription's interval starting at `start`.
fn period_from(subscription: &Value, start: i64) -> (i64, i64) {
    let (interval, count) = interval_of(SubscriptionView(subscription).first_price());
    (start, period_end(start, &interval, count, day_of_month(start)))
}

/// The period, on the subscription's own anchor, that surrounds `now`.
fn surrounding_period(subscription: &Value, now: i64) -> (i64, i64) {
    let view = SubscriptionView(subscription);
    let (interval, count) = interval_of(view.first_price());
    let anchor_day = day_of_month(subscription["billing_cycle_anchor"].as_i64().unwrap_or(now));
    let mut period = (view.current_period_start().unwrap_or(now), view.current_period_end().unwrap_or(now));
    while period.1 <= now {
        period = (period.1, period_end(period.1, &interval, count, anchor_day));
    }
    period
}

/// `billing_cycle_anchor[type]=unchanged`: the remaining time of the period is charged as
/// pending prorations (`create_prorations`), on a resumption invoice now (`always_invoice`), or
/// not at all (`none`). Returns the invoice, if any.
fn prorate_resumption(
    ctx: &mut Ctx,
    subscription: &Value,
    request: &ResumeRequest,
    now: i64,
) -> ApiResult<Option<String>> {
    if request.proration_behavior == "none" {
        return Ok(None);
    }
    let lines = prorated_time(ctx, subscription, request.proration_date.unwrap_or(now), false);
    for line in &lines {
        pend_line(ctx, subscription, line);
    }
    if request.proration_behavior != "always_invoice" || lines.is_empty() {
        return Ok(None);
    }
    let id = SubscriptionView(subscription).id();
    Ok(Some(invoice_subscription(ctx, id, "subscription_update", Vec::new(), (now, now), request.on_payment_success)?))
}

/// The resumption invoice is finalized at once (a free one is paid, which resumes the
/// subscription); `resume_on_payment_success` also attempts the payment now.
fn collect_resumption(ctx: &mut Ctx, invoice_id: &str, on_payment_success: bool) -> ApiResult<()> {
    let behavior = if on_payment_success { "resume_on_payment_success" } else { "resume_on_payment_attempt" };
    if let Some(invoice) = ctx.get_mut("invoice", invoice_id) {
        invoice[RESUMES] = json!(behavior);
    }
    let invoice = finalize(ctx, invoice_id)?;
    if on_payment_success && InvoiceView(&invoice).is_open() {
        attempt_payment(ctx, invoice_id, None, true, false)?;
    }
    Ok(())
}

/// A resumption invoice was paid or marked uncollectible (`paid`), or a payment attempt on it
/// failed: the subscription leaves `paused` if its `payment_behavior` says so.
pub fn resumption_settled(ctx: &mut Ctx, invoice: &Value, paid: bool) {
    let Some(behavior) = invoice[RESUMES].as_str() else { return };
    let Some(subscription) = InvoiceView(invoice).subscription().and_then(|id| ctx.get("subscription", id)).cloned()
    else {
        return;
    };
    if subscription["status"] != "paused" {
        return;
    }
    match (paid, behavior) {
        (true, _) => leave_pause(ctx, &subscription, subscription.clone(), "active"),
        (false, "resume_on_payment_attempt") => leave_pause(ctx, &subscription, subscription.clone(), "past_due"),
        _ => {}
    }
}

/// When an open resumption invoice nobody attempted to pay is voided.
pub fn unattempted_resumption_expires_at(invoice: &Value) -> Option<i64> {
    let unattempted = invoice[RESUMES].is_string() && InvoiceView(invoice).is_open() && invoice["attempted"] != true;
    unattempted.then(|| invoice["created"].as_i64().unwrap_or(0) + UNATTEMPTED_FOR)
}

/// The subscription (`old` as last announced, `subscription` as it is now) leaves `paused` for
/// `status`; emits `customer.subscription.updated` and `customer.subscription.resumed`.
fn leave_pause(ctx: &mut Ctx, old: &Value, mut subscription: Value, status: &str) {
    subscription["status"] = json!(status);
    subscription["status_details"] = Value::Null;
    ctx.save_updated("subscription", "customer.subscription.updated", old, subscription.clone());
    ctx.emit("customer.subscription.resumed", &subscription, None);
}
