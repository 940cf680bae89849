//! Balances: every movement of money in an account is a balance transaction (`txn_…`), and an
//! account's balance is their sum per currency, `available` once `available_on` has passed and
//! `pending` before. Credits from card payments become available two days after the day they
//! happen (the account's `delay_days`, as Stripe's test mode does for US accounts); debits
//! (refunds, transfers out, payouts) count at once.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::store::Ctx;
use crate::util::{new_id, DAY};

pub const KIND: &str = "balance_transaction";

/// Stripe's US card pricing in test mode: 2.9% + 30¢ per successful charge.
pub fn stripe_fee(amount: i64) -> i64 {
    (amount * 29 + 500) / 1000 + 30
}

/// When funds of a credit made at `created` become available: 00:00 UTC, `delay_days` later.
pub fn available_on(created: i64, delay_days: i64) -> i64 {
    (created.div_euclid(DAY) + delay_days) * DAY
}

/// One balance movement to record.
pub struct Movement<'a> {
    /// Stripe's `type`: `charge`, `payment`, `refund`, `payment_refund`, `application_fee`,
    /// `application_fee_refund`, `transfer`, `transfer_refund`, `payout`, `payout_failure`,
    /// `adjustment`, `stripe_fee`.
    pub kind: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub source: Option<&'a str>,
    pub description: Option<String>,
    /// `fee_details` entries: (type, amount, application).
    pub fees: Vec<(&'static str, i64, Option<String>)>,
    /// Counts at once (debits, and credits that skip the pending balance).
    pub immediate: bool,
}

fn reporting_category(kind: &str) -> &'static str {
    match kind {
        "charge" | "payment" => "charge",
        "refund" | "payment_refund" => "refund",
        "application_fee" => "platform_earning",
        "application_fee_refund" => "platform_earning_refund",
        "transfer" => "transfer",
        "transfer_refund" => "transfer_reversal",
        "payout" => "payout",
        "payout_failure" | "payout_cancel" => "payout_reversal",
        "adjustment" => "dispute",
        "stripe_fee" => "fee",
        _ => "other_adjustment",
    }
}

/// Records a movement in the context's account; returns the balance transaction's id.
pub fn record(ctx: &mut Ctx, movement: Movement) -> String {
    let now = ctx.now();
    let delay = delay_days(ctx);
    let available_on = if movement.immediate || movement.amount < 0 { now } else { available_on(now, delay) };
    let fee: i64 = movement.fees.iter().map(|(_, amount, _)| amount).sum();
    let fee_details: Vec<Value> = movement
        .fees
        .iter()
        .map(|(kind, amount, application)| {
            let description = match *kind {
                "application_fee" => "Application fee",
                _ => "Stripe processing fees",
            };
            json!({"amount": amount, "application": application, "currency": movement.currency, "description": description, "type": kind})
        })
        .collect();
    let id = new_id("txn");
    let txn = json!({
        "id": id,
        "object": "balance_transaction",
        "amount": movement.amount,
        "available_on": available_on,
        "balance_type": "payments",
        "created": now,
        "currency": movement.currency,
        "description": movement.description,
        "exchange_rate": null,
        "fee": fee,
        "fee_details": fee_details,
        "net": movement.amount - fee,
        "reporting_category": reporting_category(movement.kind),
        "source": movement.source,
        "status": if available_on <= now { "available" } else { "pending" },
        "type": movement.kind,
    });
    ctx.put(KIND, txn);
    if movement.immediate && movement.amount > 0 && matches!(movement.kind, "charge" | "payment") {
        // Funds that skip the pending balance are available now.
        let current = balance(ctx);
        ctx.emit("balance.available", &current, None);
    }
    id
}

/// The account's payout delay (`settings.payouts.schedule.delay_days`; 2 for the platform).
fn delay_days(ctx: &mut Ctx) -> i64 {
    let account = ctx.account.clone();
    if account == crate::store::PLATFORM {
        return 2;
    }
    super::accounts::find(ctx, &account)
        .ok()
        .and_then(|a| a["settings"]["payouts"]["schedule"]["delay_days"].as_i64())
        .unwrap_or(2)
}

/// Brings `status` up to date with the clock (`pending` → `available`); whether any changed.
pub fn refresh(ctx: &mut Ctx) -> bool {
    let now = ctx.now();
    let ids: Vec<String> = ctx
        .all(KIND)
        .into_iter()
        .filter(|t| t["status"] == "pending" && t["available_on"].as_i64().is_some_and(|at| at <= now))
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect();
    let changed = !ids.is_empty();
    for id in ids {
        if let Some(txn) = ctx.get_mut(KIND, &id) {
            txn["status"] = json!("available");
        }
    }
    changed
}

/// (available, pending) per currency, in the context's account.
pub fn totals(ctx: &Ctx) -> BTreeMap<String, (i64, i64)> {
    let now = ctx.now();
    let mut out: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for txn in ctx.all(KIND) {
        let currency = txn["currency"].as_str().unwrap_or("usd").to_string();
        let net = txn["net"].as_i64().unwrap_or(0);
        let entry = out.entry(currency).or_default();
        if txn["available_on"].as_i64().unwrap_or(0) <= now {
            entry.0 += net;
        } else {
            entry.1 += net;
        }
    }
    out
}

/// The available balance in `currency`.
pub fn available(ctx: &Ctx, currency: &str) -> i64 {
    totals(ctx).get(currency).map_or(0, |t| t.0)
}

/// `GET /v1/balance` of the context's account.
pub fn balance(ctx: &Ctx) -> Value {
    let mut totals = totals(ctx);
    if totals.is_empty() {
        totals.insert("usd".into(), (0, 0));
    }
    let amounts = |pick: fn(&(i64, i64)) -> i64| -> Vec<Value> {
        totals
            .iter()
            .map(|(currency, t)| json!({"amount": pick(t), "currency": currency, "source_types": {"card": pick(t)}}))
            .collect()
    };
    let mut balance = json!({
        "object": "balance",
        "available": amounts(|t| t.0),
        "livemode": false,
        "pending": amounts(|t| t.1),
    });
    if ctx.account == crate::store::PLATFORM {
        balance["connect_reserved"] =
            totals.keys().map(|currency| json!({"amount": 0, "currency": currency})).collect::<Vec<_>>().into();
    }
    balance
}
