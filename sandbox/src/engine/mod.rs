//! The billing engine: what happens as time passes.

pub mod billing;
pub mod discounts;
pub mod pay;
pub mod schedules;

use serde_json::{json, Value};

use crate::state::{Ctx, PLATFORM};
use crate::util::DAY;

/// Which clock an object follows: a test clock id, or the sandbox-wide clock (`None`).
fn clock_of_customer(cx: &Ctx, customer: Option<&str>) -> Option<String> {
    customer.and_then(|c| cx.get("customer", c)).and_then(|c| c["test_clock"].as_str()).map(str::to_string)
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

fn due_actions(cx: &Ctx, clock: Option<&str>) -> Vec<(i64, Action)> {
    let mut out = Vec::new();
    for sub in cx.all("subscription") {
        let id = sub["id"].as_str().unwrap_or_default().to_string();
        if clock_of_customer(cx, sub["customer"].as_str()).as_deref() != clock {
            continue;
        }
        let status = sub["status"].as_str().unwrap_or_default();
        let end = sub["items"]["data"][0]["current_period_end"].as_i64();
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
    for inv in cx.all("invoice") {
        if inv["auto_advance"] != true {
            continue;
        }
        if clock_of_customer(cx, inv["customer"].as_str()).as_deref() != clock {
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
        for cs in cx.all("checkout.session") {
            if cs["status"] == "open" {
                if let Some(t) = cs["expires_at"].as_i64() {
                    out.push((t, Action::ExpireCheckout(cs["id"].as_str().unwrap_or_default().to_string())));
                }
            }
        }
    }
    out
}

fn perform(cx: &mut Ctx, action: Action) {
    let r = match &action {
        Action::FinalizeInvoice(id) => billing::finalize_and_charge(cx, id),
        Action::RetryInvoice(id) => billing::attempt_payment(cx, id, None, true, false).map(|_| ()),
        Action::TrialWillEnd(id) => {
            if let Some(sub) = cx.get_mut("subscription", id) {
                sub["_sb_twe_sent"] = json!(true);
            }
            let sub = cx.get("subscription", id).cloned().unwrap_or(Value::Null);
            cx.emit("customer.subscription.trial_will_end", &sub, None);
            Ok(())
        }
        Action::ExpireIncomplete(id) => billing::cancel(cx, id, "payment_failed").map(|_| ()),
        Action::Renew(id) => billing::renew(cx, id),
        Action::ExpireCheckout(id) => crate::api::checkout::expire(cx, id).map(|_| ()),
    };
    if let Err(e) = r {
        tracing::warn!(?action, error = %e.message, "billing engine step failed");
        // Make sure a failing step does not loop forever.
        match action {
            Action::FinalizeInvoice(id) | Action::RetryInvoice(id) => {
                if let Some(inv) = cx.get_mut("invoice", &id) {
                    inv["auto_advance"] = json!(false);
                }
            }
            Action::Renew(id) | Action::ExpireIncomplete(id) | Action::TrialWillEnd(id) => {
                if let Some(sub) = cx.get_mut("subscription", &id) {
                    sub["status"] = json!("canceled");
                }
            }
            Action::ExpireCheckout(id) => {
                if let Some(cs) = cx.get_mut("checkout.session", &id) {
                    cs["status"] = json!("expired");
                }
            }
        }
    }
}

/// Runs everything due up to `until` on one clock, moving that clock step by step so objects
/// and events carry the time they happened at.
pub fn run_until(cx: &mut Ctx, clock: Option<&str>, until: i64) {
    for _ in 0..100_000 {
        let mut due = due_actions(cx, clock);
        due.retain(|(t, _)| *t <= until);
        let Some((t, action)) = due.into_iter().min() else { break };
        set_clock(cx, clock, t);
        perform(cx, action);
    }
    set_clock(cx, clock, until);
}

fn set_clock(cx: &mut Ctx, clock: Option<&str>, t: i64) {
    match clock {
        Some(id) => {
            if let Some(c) = cx.get_mut("test_helpers.test_clock", id) {
                if c["frozen_time"].as_i64().unwrap_or(0) < t {
                    c["frozen_time"] = json!(t);
                }
            }
        }
        None => {
            let now = cx.st.now();
            if t > now {
                cx.st.clock_offset += t - now;
            }
        }
    }
}

/// Every account's due work on the sandbox-wide clock.
pub fn tick_all(st: &mut crate::state::State, base: &str) -> Vec<crate::state::Delivery> {
    let accounts: Vec<String> = st.accounts.keys().cloned().collect();
    let until = st.now();
    let mut deliveries = Vec::new();
    for acct in accounts {
        let mut cx = Ctx::new(st, &acct, base);
        run_until(&mut cx, None, until);
        deliveries.extend(cx.flush_events());
    }
    let _ = PLATFORM;
    deliveries
}
