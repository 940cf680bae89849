//! The billing engine: every state change and the events it causes, and what happens as time
//! passes (`run_until`). The `api` layer reads parameters and calls in here, as do the hosted
//! pages; the engine works on the store and never calls back into `api`.

pub mod catalog;
pub mod checkout;
pub mod customers;
pub mod discounts;
pub mod entitlements;
pub mod invoice_payments;
pub mod invoices;
pub mod lines;
pub mod pay;
pub mod payment_methods;
pub mod portal;
pub mod preview;
pub mod proration;
pub mod refunds;
pub mod schedules;
pub mod setup_intents;
pub mod subscriptions;
pub mod tax_settings;
pub mod test_clocks;
pub mod views;
pub mod webhook_endpoints;

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
    TrialWillEnd(String),
    ExpireIncomplete(String),
    Renew(String),
    StartSchedule(String),
    ExpireCheckout(String),
}

impl Action {
    /// The kind and id of the object the action works on.
    fn object(&self) -> (&'static str, &str) {
        match self {
            Action::FinalizeInvoice(id) | Action::RetryInvoice(id) => ("invoice", id),
            Action::TrialWillEnd(id) | Action::ExpireIncomplete(id) | Action::Renew(id) => ("subscription", id),
            Action::StartSchedule(id) => ("subscription_schedule", id),
            Action::ExpireCheckout(id) => ("checkout.session", id),
        }
    }
}

/// Where a failed engine step leaves its error on the object (private: never shown).
const ENGINE_ERROR: &str = "_sb_engine_error";

/// Whether an engine step already failed on this object.
fn stalled(object: &Value) -> bool {
    !object[ENGINE_ERROR].is_null()
}

fn due_actions(ctx: &Ctx, clock: Option<&str>) -> Vec<(i64, Action)> {
    let mut out = Vec::new();
    for subscription in ctx.all("subscription") {
        let id = subscription["id"].as_str().unwrap_or_default().to_string();
        if stalled(subscription) || clock_of_customer(ctx, subscription["customer"].as_str()).as_deref() != clock {
            continue;
        }
        let status = subscription["status"].as_str().unwrap_or_default();
        let end = SubscriptionView(subscription).current_period_end();
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
                    out.push((period_end, Action::Renew(id.clone())));
                }
            }
            "active" | "past_due" | "unpaid" => {
                let cancel_at = subscription["cancel_at"].as_i64();
                match (end, cancel_at) {
                    (_, Some(cancel_at)) if end.is_none_or(|period_end| cancel_at < period_end) => {
                        out.push((cancel_at, Action::Renew(id.clone())))
                    }
                    (Some(period_end), _) => out.push((period_end, Action::Renew(id.clone()))),
                    _ => {}
                }
            }
            "incomplete" => {
                out.push((
                    subscription["created"].as_i64().unwrap_or(0) + 23 * 3600,
                    Action::ExpireIncomplete(id.clone()),
                ));
            }
            _ => {}
        }
    }
    for schedule in ctx.all("subscription_schedule") {
        if schedule["status"] != "not_started"
            || stalled(schedule)
            || clock_of_customer(ctx, schedule["customer"].as_str()).as_deref() != clock
        {
            continue;
        }
        if let Some(start) = schedule["phases"][0]["start_date"].as_i64() {
            out.push((start, Action::StartSchedule(schedule["id"].as_str().unwrap_or_default().to_string())));
        }
    }
    for invoice in ctx.all("invoice") {
        if invoice["auto_advance"] != true || stalled(invoice) {
            continue;
        }
        if clock_of_customer(ctx, invoice["customer"].as_str()).as_deref() != clock {
            continue;
        }
        let id = invoice["id"].as_str().unwrap_or_default().to_string();
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
    if clock.is_none() {
        for session in ctx.all("checkout.session") {
            if session["status"] == "open" && !stalled(session) {
                if let Some(expires_at) = session["expires_at"].as_i64() {
                    out.push((
                        expires_at,
                        Action::ExpireCheckout(session["id"].as_str().unwrap_or_default().to_string()),
                    ));
                }
            }
        }
    }
    out
}

fn perform(ctx: &mut Ctx, action: Action) {
    let result = match &action {
        Action::FinalizeInvoice(id) => invoices::finalize_and_charge(ctx, id),
        Action::RetryInvoice(id) => invoice_payments::attempt_payment(ctx, id, None, true, false).map(|_| ()),
        Action::TrialWillEnd(id) => {
            if let Some(subscription) = ctx.get_mut("subscription", id) {
                subscription["_sb_twe_sent"] = json!(true);
            }
            let subscription = ctx.get("subscription", id).cloned().unwrap_or(Value::Null);
            ctx.emit("customer.subscription.trial_will_end", &subscription, None);
            Ok(())
        }
        Action::ExpireIncomplete(id) => subscriptions::cancel(ctx, id, "payment_failed").map(|_| ()),
        Action::Renew(id) => subscriptions::renew(ctx, id),
        Action::StartSchedule(id) => schedules::start(ctx, id).map(|_| ()),
        Action::ExpireCheckout(id) => checkout::expire(ctx, id).map(|_| ()),
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
pub fn run_until(ctx: &mut Ctx, clock: Option<&str>, until: i64) {
    for _ in 0..100_000 {
        let mut due = due_actions(ctx, clock);
        due.retain(|(time, _)| *time <= until);
        let Some((time, action)) = due.into_iter().min() else { break };
        set_clock(ctx, clock, time);
        perform(ctx, action);
    }
    set_clock(ctx, clock, until);
}

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
