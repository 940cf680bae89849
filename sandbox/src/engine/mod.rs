//! The billing engine: every state change and the events it causes, and what happens as time
//! passes (`run_until`). The `api` layer reads parameters and calls in here, as do the hosted
//! pages; the engine works on the store and never calls back into `api`.

pub mod catalog;
pub mod checkout;
pub mod customers;
pub mod discounts;
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
    ExpireCheckout(String),
}

fn due_actions(ctx: &Ctx, clock: Option<&str>) -> Vec<(i64, Action)> {
    let mut out = Vec::new();
    for sub in ctx.all("subscription") {
        let id = sub["id"].as_str().unwrap_or_default().to_string();
        if clock_of_customer(ctx, sub["customer"].as_str()).as_deref() != clock {
            continue;
        }
        let status = sub["status"].as_str().unwrap_or_default();
        let end = SubscriptionView(sub).current_period_end();
        match status {
            "trialing" => {
                if sub["_sb_twe_sent"] != true {
                    if let Some(t) = sub["trial_end"].as_i64() {
                        out.push((
                            (t - 3 * DAY).max(sub["created"].as_i64().unwrap_or(0)),
                            Action::TrialWillEnd(id.clone()),
                        ));
                    }
                }
                if let Some(e) = end {
                    out.push((e, Action::Renew(id.clone())));
                }
            }
            "active" | "past_due" | "unpaid" => {
                let cancel_at = sub["cancel_at"].as_i64();
                match (end, cancel_at) {
                    (_, Some(c)) if end.is_none_or(|e| c < e) => out.push((c, Action::Renew(id.clone()))),
                    (Some(e), _) => out.push((e, Action::Renew(id.clone()))),
                    _ => {}
                }
            }
            "incomplete" => {
                out.push((sub["created"].as_i64().unwrap_or(0) + 23 * 3600, Action::ExpireIncomplete(id.clone())));
            }
            _ => {}
        }
    }
    for inv in ctx.all("invoice") {
        if inv["auto_advance"] != true {
            continue;
        }
        if clock_of_customer(ctx, inv["customer"].as_str()).as_deref() != clock {
            continue;
        }
        let id = inv["id"].as_str().unwrap_or_default().to_string();
        match inv["status"].as_str() {
            Some("draft") => {
                if let Some(t) = inv["automatically_finalizes_at"].as_i64() {
                    out.push((t, Action::FinalizeInvoice(id)));
                }
            }
            Some("open") => {
                if let Some(t) = inv["next_payment_attempt"].as_i64() {
                    out.push((t, Action::RetryInvoice(id)));
                }
            }
            _ => {}
        }
    }
    if clock.is_none() {
        for cs in ctx.all("checkout.session") {
            if cs["status"] == "open" {
                if let Some(t) = cs["expires_at"].as_i64() {
                    out.push((t, Action::ExpireCheckout(cs["id"].as_str().unwrap_or_default().to_string())));
                }
            }
        }
    }
    out
}

fn perform(ctx: &mut Ctx, action: Action) {
    let r = match &action {
        Action::FinalizeInvoice(id) => invoices::finalize_and_charge(ctx, id),
        Action::RetryInvoice(id) => invoice_payments::attempt_payment(ctx, id, None, true, false).map(|_| ()),
        Action::TrialWillEnd(id) => {
            if let Some(sub) = ctx.get_mut("subscription", id) {
                sub["_sb_twe_sent"] = json!(true);
            }
            let sub = ctx.get("subscription", id).cloned().unwrap_or(Value::Null);
            ctx.emit("customer.subscription.trial_will_end", &sub, None);
            Ok(())
        }
        Action::ExpireIncomplete(id) => subscriptions::cancel(ctx, id, "payment_failed").map(|_| ()),
        Action::Renew(id) => subscriptions::renew(ctx, id),
        Action::ExpireCheckout(id) => checkout::expire(ctx, id).map(|_| ()),
    };
    if let Err(e) = r {
        tracing::warn!(?action, error = %e.message, "billing engine step failed");
        // Make sure a failing step does not loop forever.
        match action {
            Action::FinalizeInvoice(id) | Action::RetryInvoice(id) => {
                if let Some(inv) = ctx.get_mut("invoice", &id) {
                    inv["auto_advance"] = json!(false);
                }
            }
            Action::Renew(id) | Action::ExpireIncomplete(id) | Action::TrialWillEnd(id) => {
                if let Some(sub) = ctx.get_mut("subscription", &id) {
                    sub["status"] = json!("canceled");
                }
            }
            Action::ExpireCheckout(id) => {
                if let Some(cs) = ctx.get_mut("checkout.session", &id) {
                    cs["status"] = json!("expired");
                }
            }
        }
    }
}

/// Runs everything due up to `until` on one clock, moving that clock step by step so objects
/// and events carry the time they happened at.
pub fn run_until(ctx: &mut Ctx, clock: Option<&str>, until: i64) {
    for _ in 0..100_000 {
        let mut due = due_actions(ctx, clock);
        due.retain(|(t, _)| *t <= until);
        let Some((t, action)) = due.into_iter().min() else { break };
        set_clock(ctx, clock, t);
        perform(ctx, action);
    }
    set_clock(ctx, clock, until);
}

fn set_clock(ctx: &mut Ctx, clock: Option<&str>, t: i64) {
    match clock {
        Some(id) => {
            if let Some(c) = ctx.get_mut("test_helpers.test_clock", id) {
                if c["frozen_time"].as_i64().unwrap_or(0) < t {
                    c["frozen_time"] = json!(t);
                }
            }
        }
        None => {
            let now = ctx.state.now();
            if t > now {
                ctx.state.clock_offset += t - now;
            }
        }
    }
}

/// Every account's due work on the sandbox-wide clock.
pub fn tick_all(state: &mut crate::store::State, base: &str) -> Vec<crate::store::Delivery> {
    let accounts: Vec<String> = state.accounts.keys().cloned().collect();
    let until = state.now();
    let mut deliveries = Vec::new();
    for account in accounts {
        let mut ctx = Ctx::new(state, &account, base);
        run_until(&mut ctx, None, until);
        deliveries.extend(ctx.flush_events());
    }
    deliveries
}
