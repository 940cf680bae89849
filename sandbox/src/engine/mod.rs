//! The billing engine: every state change and the events it causes, and what happens as time
//! passes (`run_until`). The `api` layer reads parameters and calls in here, as do the hosted
//! pages; the engine works on the store and never calls back into `api`.

pub mod accounts;
pub mod authentication;
pub mod balance;
pub mod catalog;
pub mod checkout;
pub mod customers;
pub mod discounts;
pub mod entitlements;
pub mod invoice_payments;
pub mod invoices;
pub mod lines;
pub mod meter_events;
pub mod meters;
pub mod pay;
pub mod payment_methods;
pub mod payouts;
pub mod portal;
pub mod preview;
pub mod pricing;
pub mod proration;
pub mod radar;
pub mod refunds;
pub mod schedules;
pub mod setup_intents;
pub mod subscriptions;
pub mod tax_settings;
pub mod test_clocks;
pub mod transfers;
pub mod usage_billing;
pub mod views;
pub mod webhook_endpoints;

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::store::Ctx;
use crate::util::DAY;
use views::SubscriptionView;

/// Which clock an object follows: a test clock id, or the sandbox-wide clock (`None`).
fn clock_of_customer(ctx: &Ctx, customer: Option<&str>) -> Option<String> {
    customer.and_then(|c| ctx.get("customer", c)).and_then(|c| c["test_clock"].as_str()).map(str::to_string)
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    // Order matters for ties: finish invoices before renewing.
    FinalizeInvoice(String),
    RetryInvoice(String),
    VoidUnattemptedResumption(String),
    TrialWillEnd(String),
    ExpireIncomplete(String),
    // Collection resuming at a period's end charges that renewal.
    ResumeCollection(String),
    Renew(String),
    StartSchedule(String),
    ExpireCheckout(String),
    AutomaticPayout(String),
    PayoutSubmitted(String),
    PayoutArrives(String),
    /// A repeating coupon's discount reached its `end`: off the subscription.
    EndDiscounts(String),
}

impl Action {
    /// The kind and id of the object the action works on.
    fn object(&self) -> (&'static str, &str) {
        match self {
            Action::FinalizeInvoice(id) | Action::RetryInvoice(id) | Action::VoidUnattemptedResumption(id) => {
                ("invoice", id)
            }
            Action::TrialWillEnd(id)
            | Action::ExpireIncomplete(id)
            | Action::ResumeCollection(id)
            | Action::EndDiscounts(id)
            | Action::Renew(id) => ("subscription", id),
            Action::StartSchedule(id) => ("subscription_schedule", id),
            Action::ExpireCheckout(id) => ("checkout.session", id),
            Action::AutomaticPayout(id) => ("account", id),
            Action::PayoutSubmitted(id) | Action::PayoutArrives(id) => ("payout", id),
        }
    }
}

/// Where a failed engine step leaves its error on the object (private: never shown).
const ENGINE_ERROR: &str = "_sb_engine_error";

/// Whether an engine step already failed on this object.
fn stalled(object: &Value) -> bool {
    !object[ENGINE_ERROR].is_null()
}

/// The kinds of object that can fall due.
const TIMED_KINDS: [&str; 6] =
    ["subscription", "subscription_schedule", "invoice", "checkout.session", "account", "payout"];

/// Everything due on `clock`, over every object.
fn due_actions(ctx: &Ctx, clock: Option<&str>) -> Vec<(i64, Action)> {
    let mut out = Vec::new();
    for kind in TIMED_KINDS {
        for object in ctx.all(kind) {
            due_of(ctx, kind, object, clock, &mut out);
        }
    }
    out
}

/// What one object has due on `clock`, and when.
fn due_of(ctx: &Ctx, kind: &str, object: &Value, clock: Option<&str>, out: &mut Vec<(i64, Action)>) {
    if stalled(object) {
        return;
    }
    let id = || object["id"].as_str().unwrap_or_default().to_string();
    let on_clock = || clock_of_customer(ctx, object["customer"].as_str()).as_deref() == clock;
    match kind {
        "subscription" if on_clock() => {
            if let Some(end) = discounts::next_end(ctx, object).filter(|_| !SubscriptionView(object).is_ended()) {
                out.push((end, Action::EndDiscounts(id())));
            }
            subscription_due(object, id(), out)
        }
        "subscription_schedule" if object["status"] == "not_started" && on_clock() => {
            if let Some(start) = object["phases"][0]["start_date"].as_i64() {
                out.push((start, Action::StartSchedule(id())));
            }
        }
        "invoice" if on_clock() => invoice_due(object, id(), out),
        // Checkout Sessions expire on the sandbox-wide clock only.
        "checkout.session" if clock.is_none() && object["status"] == "open" => {
            if let Some(expires_at) = object["expires_at"].as_i64() {
                out.push((expires_at, Action::ExpireCheckout(id())));
            }
        }
        // Connected accounts pay out daily, and payouts arrive, on the sandbox-wide clock.
        "account" if clock.is_none() => {
            if let Some(at) = object["_sb_next_payout"].as_i64() {
                out.push((at, Action::AutomaticPayout(id())));
            }
        }
        "payout" if clock.is_none() => match object["status"].as_str() {
            Some("pending") => {
                if let Some(at) = payouts::submitted_at(object) {
                    out.push((at, Action::PayoutSubmitted(id())));
                }
            }
            Some("in_transit") => {
                if let Some(at) = object["arrival_date"].as_i64() {
                    out.push((at, Action::PayoutArrives(id())));
                }
            }
            _ => {}
        },
        _ => {}
    }
}

/// What an invoice has due: a resumption invoice nobody attempted to pay expires; with
/// `auto_advance` a draft finalizes and an open one is retried.
fn invoice_due(invoice: &Value, id: String, out: &mut Vec<(i64, Action)>) {
    if let Some(at) = subscriptions::unattempted_resumption_expires_at(invoice) {
        out.push((at, Action::VoidUnattemptedResumption(id.clone())));
    }
    if invoice["auto_advance"] != true {
        return;
    }
    match invoice["status"].as_str() {
        Some("draft") => {
            if let Some(finalizes_at) = invoice["automatically_finalizes_at"].as_i64() {
                out.push((finalizes_at, Action::FinalizeInvoice(id)));
            }
        }
        Some("open") => {
            if let Some(next_attempt) = invoice["next_payment_attempt"].as_i64() {
                out.push((next_attempt, Action::RetryInvoice(id)));
            }
        }
        _ => {}
    }
}

fn subscription_due(subscription: &Value, id: String, out: &mut Vec<(i64, Action)>) {
    let status = subscription["status"].as_str().unwrap_or_default();
    let end = SubscriptionView(subscription).current_period_end();
    if let Some(resumes_at) = subscriptions::collection_resumes_at(subscription) {
        if !SubscriptionView(subscription).is_ended() {
            out.push((resumes_at, Action::ResumeCollection(id.clone())));
        }
    }
    match status {
        "trialing" => {
            if subscription["_sb_twe_sent"] != true {
                if let Some(trial_end) = subscription["trial_end"].as_i64() {
                    out.push((
                        (trial_end - 3 * DAY).max(subscription["created"].as_i64().unwrap_or(0)),
                        Action::TrialWillEnd(id.clone()),
                    ));
                }
            }
            if let Some(period_end) = end {
                out.push((period_end, Action::Renew(id)));
            }
        }
        "active" | "past_due" | "unpaid" => {
            let cancel_at = subscription["cancel_at"].as_i64();
            match (end, cancel_at) {
                (_, Some(cancel_at)) if end.is_none_or(|period_end| cancel_at < period_end) => {
                    out.push((cancel_at, Action::Renew(id)))
                }
                (Some(period_end), _) => out.push((period_end, Action::Renew(id))),
                _ => {}
            }
        }
        "incomplete" => {
            out.push((subscription["created"].as_i64().unwrap_or(0) + 23 * 3600, Action::ExpireIncomplete(id)));
        }
        _ => {}
    }
}

/// What the object with `kind`/`id` has due now (nothing when it is gone).
fn due_of_object(ctx: &Ctx, kind: &str, id: &str, clock: Option<&str>) -> Vec<(i64, Action)> {
    let mut out = Vec::new();
    if let Some(object) = ctx.get(kind, id) {
        due_of(ctx, kind, object, clock, &mut out);
    }
    out
}

fn perform(ctx: &mut Ctx, action: Action) {
    let result = match &action {
        Action::FinalizeInvoice(id) => invoices::finalize_and_charge(ctx, id),
        Action::RetryInvoice(id) => invoice_payments::attempt_payment(ctx, id, None, true, false).map(|_| ()),
        // Nobody attempted to pay it: Stripe voids it and the subscription stays paused.
        Action::VoidUnattemptedResumption(id) => invoices::void(ctx, id).map(|_| ()),
        Action::TrialWillEnd(id) => {
            if let Some(subscription) = ctx.get_mut("subscription", id) {
                subscription["_sb_twe_sent"] = json!(true);
            }
            let subscription = ctx.get("subscription", id).cloned().unwrap_or(Value::Null);
            ctx.emit("customer.subscription.trial_will_end", &subscription, None);
            Ok(())
        }
        Action::ExpireIncomplete(id) => subscriptions::cancel(ctx, id, "payment_failed").map(|_| ()),
        Action::ResumeCollection(id) => subscriptions::resume_collection(ctx, id),
        Action::EndDiscounts(id) => discounts::end_on_subscription(ctx, id),
        Action::Renew(id) => subscriptions::renew(ctx, id),
        Action::StartSchedule(id) => schedules::start(ctx, id).map(|_| ()),
        Action::ExpireCheckout(id) => checkout::expire(ctx, id).map(|_| ()),
        Action::AutomaticPayout(id) => payouts::automatic(ctx, id),
        Action::PayoutSubmitted(id) => payouts::submit(ctx, id),
        Action::PayoutArrives(id) => payouts::arrive(ctx, id),
    };
    if let Err(e) = result {
        // The object stays as it was (a failing step never ends a subscription behind the
        // client's back) and is not tried again, so the clock cannot loop on it.
        tracing::warn!(?action, error = %e.message, "billing engine step failed; it will not be retried");
        let (kind, id) = action.object();
        if let Some(object) = ctx.get_mut(kind, id) {
            object[ENGINE_ERROR] = json!(e.message);
        }
    }
}

/// Runs everything due up to `until` on one clock, moving that clock step by step so objects
/// and events carry the time they happened at.
///
/// One scan finds what is due; after each step only the objects it touched (the step's own and
/// those its events carry) are looked at again, so a clock jump over N renewals costs N log N,
/// not N² rescans. A last scan catches any change made without an event.
pub fn run_until(ctx: &mut Ctx, clock: Option<&str>, until: i64) {
    let mut steps = 0;
    loop {
        let mut queue: BTreeSet<(i64, Action)> =
            due_actions(ctx, clock).into_iter().filter(|(time, _)| *time <= until).collect();
        if queue.is_empty() {
            break;
        }
        while let Some((time, action)) = queue.pop_first() {
            let (kind, id) = action.object();
            // An entry made stale by an earlier step (paid, renewed, retried later) is skipped.
            if !due_of_object(ctx, kind, id, clock).contains(&(time, action.clone())) {
                continue;
            }
            steps += 1;
            if steps > MAX_STEPS {
                tracing::warn!(until, "billing engine stopped after {MAX_STEPS} steps in one clock move");
                set_clock(ctx, clock, until);
                return;
            }
            let (kind, id) = (kind.to_string(), id.to_string());
            let events_before = ctx.events.len();
            set_clock(ctx, clock, time);
            perform(ctx, action);
            let mut touched: Vec<(String, String)> = vec![(kind, id)];
            touched.extend(ctx.events[events_before..].iter().filter_map(|event| {
                let kind = event.object["object"].as_str().filter(|kind| TIMED_KINDS.contains(kind))?;
                Some((kind.to_string(), event.object["id"].as_str()?.to_string()))
            }));
            touched.sort();
            touched.dedup();
            for (kind, id) in touched {
                queue.extend(due_of_object(ctx, &kind, &id, clock).into_iter().filter(|(time, _)| *time <= until));
            }
        }
    }
    set_clock(ctx, clock, until);
}

/// A bound on one clock move, so a step that keeps itself due cannot loop forever.
const MAX_STEPS: usize = 1_000_000;

fn set_clock(ctx: &mut Ctx, clock: Option<&str>, time: i64) {
    match clock {
        Some(id) => {
            if let Some(test_clock) = ctx.get_mut("test_helpers.test_clock", id) {
                if test_clock["frozen_time"].as_i64().unwrap_or(0) < time {
                    test_clock["frozen_time"] = json!(time);
                }
            }
        }
        None => {
            let now = ctx.state.now();
            if time > now {
                ctx.state.clock_offset += time - now;
            }
        }
    }
}

/// Ends a request or engine run: what follows from its changes (the active entitlements of the
/// customers whose subscriptions changed), then its events stored and their deliveries returned.
pub fn finish(ctx: &mut Ctx) -> Vec<crate::store::Delivery> {
    entitlements::follow_subscriptions(ctx);
    ctx.flush_events()
}

/// Every account's due work on the sandbox-wide clock.
pub fn tick_all(state: &mut crate::store::State, base: &str) -> Vec<crate::store::Delivery> {
    let accounts: Vec<String> = state.accounts.keys().cloned().collect();
    let until = state.now();
    let mut deliveries = Vec::new();
    for account in accounts {
        let mut ctx = Ctx::new(state, &account, base);
        run_until(&mut ctx, None, until);
        deliveries.extend(finish(&mut ctx));
    }
    deliveries
}
