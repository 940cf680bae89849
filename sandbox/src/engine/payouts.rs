//! Payouts: money from an account's available balance to its bank account. Manual
//! (`POST /v1/payouts`) or automatic (connected accounts on the daily schedule, at 00:00 UTC of
//! the sandbox clock); `pending` until submitted to the bank, then `in_transit` until
//! `arrival_date`, then `paid`, or `failed` for Stripe's failing test bank accounts (the money
//! comes back, and the bank account is `errored`: no more automatic payouts to it).

use serde_json::{json, Value};

use super::accounts::{self, next_midnight};
use super::balance::{self, Movement};
use crate::error::{ApiError, ApiResult};
use crate::store::{apply_metadata, public, Ctx, PLATFORM};
use crate::util::new_id;

pub const KIND: &str = "payout";

/// The platform's stand-in bank account (the sandbox platform has no external account object).
pub const PLATFORM_BANK: &str = "ba_sandboxplatformbank00000000";

/// How long a payout stays `pending` before it is submitted to the bank (`in_transit`). Stripe
/// gives no figure; an hour keeps it well inside the day before it arrives.
const SUBMITTED_AFTER: i64 = 3600;

/// When a pending payout goes to the bank: [`SUBMITTED_AFTER`] its creation, or at its arrival
/// if that comes first.
pub fn submitted_at(payout: &Value) -> Option<i64> {
    let submitted = payout["created"].as_i64()? + SUBMITTED_AFTER;
    Some(payout["arrival_date"].as_i64().map_or(submitted, |arrival| submitted.min(arrival)))
}

/// Stripe's `failure_message` for a payout `failure_code`.
fn failure_message(code: &str) -> &'static str {
    match code {
        "no_account" => "The bank account details on file are probably incorrect. No bank account could be located with those details.",
        "account_closed" => "The bank account has been closed.",
        "insufficient_funds" => "Your Stripe account has insufficient funds to cover the payout.",
        "debit_not_authorized" => "Debit transactions are not approved on the bank account. (Stripe requires bank accounts to be set up for both credit and debit payouts.)",
        "invalid_currency" => "The bank was unable to process this payout because of its currency. This is probably because the bank account cannot accept payments in that currency.",
        _ => "The bank could not process this payout.",
    }
}

/// A payout to make from the context's account.
pub struct NewPayout {
    pub amount: i64,
    pub currency: String,
    pub description: Option<String>,
    pub metadata: Value,
    pub automatic: bool,
}

/// The bank account of the context's account: (id, failure code its payouts get).
fn destination(ctx: &mut Ctx) -> ApiResult<(String, Option<String>)> {
    if ctx.account == PLATFORM {
        return Ok((PLATFORM_BANK.to_string(), None));
    }
    let account_id = ctx.account.clone();
    let account = accounts::find(ctx, &account_id)?;
    let bank = accounts::payout_destination(&account).ok_or_else(|| {
        ApiError::invalid("You have no external account in this currency. Add a bank account before creating a payout.")
            .with_code("no_external_account")
    })?;
    let failure = bank["_sb_payout_failure"].as_str().map(str::to_string);
    Ok((bank["id"].as_str().unwrap_or_default().to_string(), failure))
}

/// Creates a payout (a `payout` balance transaction); emits `payout.created`.
pub fn create(ctx: &mut Ctx, new: NewPayout) -> ApiResult<Value> {
    balance::refresh(ctx);
    if balance::available(ctx, &new.currency) < new.amount {
        return Err(super::transfers::insufficient_funds("payout"));
    }
    let (bank, failure) = destination(ctx)?;
    let now = ctx.now();
    let id = new_id("po");
    let txn = balance::record(
        ctx,
        Movement {
            kind: "payout",
            amount: -new.amount,
            currency: &new.currency,
            source: Some(&id),
            description: Some("STRIPE PAYOUT".into()),
            fees: vec![],
            immediate: true,
        },
    );
    let payout = json!({
        "id": id,
        "object": "payout",
        "amount": new.amount,
        "application_fee": null,
        "application_fee_amount": null,
        "arrival_date": next_midnight(now),
        "automatic": new.automatic,
        "balance_transaction": txn,
        "created": now,
        "currency": new.currency,
        "description": new.description.unwrap_or_else(|| "STRIPE PAYOUT".into()),
        "destination": bank,
        "failure_balance_transaction": null,
        "failure_code": null,
        "failure_message": null,
        "livemode": false,
        "metadata": new.metadata,
        "method": "standard",
        "original_payout": null,
        "payout_method": null,
        "reconciliation_status": "not_applicable",
        "reversed_by": null,
        "source_type": "card",
        "statement_descriptor": null,
        "status": "pending",
        "trace_id": {"status": "pending", "value": null},
        "type": "bank_account",
        "_sb_failure": failure,
    });
    ctx.put(KIND, payout.clone());
    // The balance transactions this payout settles (`GET /v1/balance_transactions?payout=`).
    let settled: Vec<String> = ctx
        .all(balance::KIND)
        .into_iter()
        .filter(|t| t["_sb_payout"].is_null() && t["status"] == "available")
        .filter_map(|t| t["id"].as_str().map(str::to_string))
        .collect();
    for txn_id in settled {
        if let Some(txn) = ctx.get_mut(balance::KIND, &txn_id) {
            txn["_sb_payout"] = json!(id);
        }
    }
    ctx.emit("payout.created", &payout, None);
    Ok(public(&payout))
}

/// Changes a payout's metadata; emits `payout.updated` when it changed.
pub fn update(ctx: &mut Ctx, id: &str, metadata: Option<&Value>) -> ApiResult<Value> {
    let old = ctx.find(KIND, id, "payout")?;
    let mut payout = old.clone();
    if let Some(metadata) = metadata {
        payout["metadata"] = apply_metadata(&old["metadata"], metadata)?;
    }
    Ok(ctx.save_updated(KIND, "payout.updated", &old, payout))
}

/// Cancels a pending payout: the money comes back; emits `payout.canceled`.
pub fn cancel(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let old = ctx.find(KIND, id, "payout")?;
    if old["status"] != "pending" {
        return Err(ApiError::invalid(format!(
            "Payouts can only be canceled while they are pending. This payout has a status of {}.",
            old["status"].as_str().unwrap_or_default()
        )));
    }
    let mut payout = old.clone();
    refund_to_balance(ctx, &mut payout, "payout_cancel");
    payout["status"] = json!("canceled");
    ctx.put(KIND, payout.clone());
    ctx.emit("payout.canceled", &payout, Some(crate::store::diff(&old, &payout)));
    Ok(public(&payout))
}

/// A pending payout is submitted to the bank: `in_transit` (`payout.updated`); it can no longer
/// be canceled.
pub fn submit(ctx: &mut Ctx, id: &str) -> ApiResult<()> {
    let old = ctx.find(KIND, id, "payout")?;
    if old["status"] == "pending" {
        let mut payout = old.clone();
        payout["status"] = json!("in_transit");
        ctx.save_updated(KIND, "payout.updated", &old, payout);
    }
    Ok(())
}

/// Puts a payout's amount back in the balance (`payout_failure` / `payout_cancel`).
fn refund_to_balance(ctx: &mut Ctx, payout: &mut Value, kind: &str) {
    let id = payout["id"].as_str().unwrap_or_default().to_string();
    let currency = payout["currency"].as_str().unwrap_or("usd").to_string();
    let txn = balance::record(
        ctx,
        Movement {
            kind,
            amount: payout["amount"].as_i64().unwrap_or(0),
            currency: &currency,
            source: Some(&id),
            description: None,
            fees: vec![],
            immediate: true,
        },
    );
    payout["failure_balance_transaction"] = json!(txn);
}

/// A payout reaches its `arrival_date`: `paid` (`payout.paid`), or `failed` with the test bank
/// account's failure code and the money back in the balance (`payout.failed`), its bank account
/// then `errored`.
pub fn arrive(ctx: &mut Ctx, id: &str) -> ApiResult<()> {
    let old = ctx.find(KIND, id, "payout")?;
    let mut payout = old.clone();
    match old["_sb_failure"].as_str() {
        Some(code) => {
            refund_to_balance(ctx, &mut payout, "payout_failure");
            payout["status"] = json!("failed");
            payout["failure_code"] = json!(code);
            payout["failure_message"] = json!(failure_message(code));
            payout["trace_id"] = json!({"status": "unsupported", "value": null});
            ctx.put(KIND, payout.clone());
            ctx.emit("payout.failed", &payout, Some(crate::store::diff(&old, &payout)));
            mark_bank_errored(ctx, old["destination"].as_str().unwrap_or_default());
        }
        None => {
            payout["status"] = json!("paid");
            payout["reconciliation_status"] = json!("completed");
            payout["trace_id"] = json!({"status": "supported", "value": format!("TRACE{}", &id[3..].to_uppercase())});
            ctx.put(KIND, payout.clone());
            ctx.emit("payout.paid", &payout, Some(crate::store::diff(&old, &payout)));
        }
    }
    Ok(())
}

/// Stripe sets a bank account a payout failed to `errored` and stops scheduled payouts to it
/// until its details are updated (`account.external_account.updated`). Runs in the connected
/// account's context; the platform's stand-in bank has no object to mark.
fn mark_bank_errored(ctx: &mut Ctx, bank_id: &str) {
    let account_id = ctx.account.clone();
    if account_id == PLATFORM {
        return;
    }
    let Ok(mut account) = accounts::find(ctx, &account_id) else { return };
    let banks = account["external_accounts"]["data"].as_array_mut();
    let Some(bank) = banks.and_then(|banks| banks.iter_mut().find(|bank| bank["id"] == bank_id)) else { return };
    if bank["status"] == "errored" {
        return;
    }
    let previous = json!({"status": bank["status"]});
    bank["status"] = json!("errored");
    let bank = bank.clone();
    ctx.in_account(PLATFORM, |ctx| ctx.put(accounts::KIND, account));
    ctx.emit("account.external_account.updated", &bank, Some(previous));
}

/// The daily automatic payout of connected account `account_id` (run in the platform's
/// context): its available balance in each currency goes to its bank account, when payouts
/// are enabled and the schedule is not `manual`. Funds that became available are announced
/// with `balance.available`. The next run is the next 00:00 UTC. A bank account a payout failed
/// to (`errored`) gets none until it is replaced.
pub fn automatic(ctx: &mut Ctx, account_id: &str) -> ApiResult<()> {
    let account = accounts::find(ctx, account_id)?;
    let now = ctx.now();
    let eligible = account["payouts_enabled"] == true
        && account["settings"]["payouts"]["schedule"]["interval"] != "manual"
        && accounts::payout_destination(&account).is_some_and(|bank| bank["status"] != "errored");
    ctx.in_account(account_id, |ctx| -> ApiResult<()> {
        if balance::refresh(ctx) {
            let current = balance::balance(ctx);
            ctx.emit("balance.available", &current, None);
        }
        if !eligible {
            return Ok(());
        }
        for (currency, (available, _)) in balance::totals(ctx) {
            if available > 0 {
                create(
                    ctx,
                    NewPayout { amount: available, currency, description: None, metadata: json!({}), automatic: true },
                )?;
            }
        }
        Ok(())
    })?;
    ctx.in_account(PLATFORM, |ctx| {
        if let Some(stored) = ctx.get_mut(accounts::KIND, account_id) {
            stored["_sb_next_payout"] = json!(next_midnight(now));
        }
    });
    Ok(())
}
