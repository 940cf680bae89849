//! Money between the platform and connected accounts: destination charges (a transfer of the
//! charge to `transfer_data[destination]`, the application fee taken back), direct charges'
//! application fees, transfers and their reversals, application fee refunds. Every movement is
//! a balance transaction in the account it touches (`balance`).

use serde_json::{json, Value};

use super::accounts::{self, PLATFORM_APPLICATION};
use super::balance::{self, Movement};
use crate::error::{ApiError, ApiResult};
use crate::store::{param_i64, param_nonempty, prepend_to_list, public, Ctx, PLATFORM};
use crate::util::new_id;

/// The Connect terms of a payment: where it goes, what the platform keeps.
#[derive(Default, Debug, Clone)]
pub struct Terms {
    pub destination: Option<String>,
    pub transfer_amount: Option<i64>,
    pub application_fee_amount: Option<i64>,
    pub on_behalf_of: Option<String>,
    pub transfer_group: Option<String>,
}

impl Terms {
    /// Reads `transfer_data[destination|amount]`, `application_fee_amount`, `on_behalf_of` and
    /// `transfer_group` (a payment intent's parameters, or a session's `payment_intent_data`).
    pub fn read(params: &Value) -> ApiResult<Terms> {
        let transfer_data = params.get("transfer_data").cloned().unwrap_or(Value::Null);
        Ok(Terms {
            destination: param_nonempty(&transfer_data, "destination").map(str::to_string),
            transfer_amount: param_i64(&transfer_data, "amount").map_err(|e| e.with_param("transfer_data[amount]"))?,
            application_fee_amount: param_i64(params, "application_fee_amount")?,
            on_behalf_of: param_nonempty(params, "on_behalf_of").map(str::to_string),
            transfer_group: param_nonempty(params, "transfer_group").map(str::to_string),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.destination.is_none()
            && self.application_fee_amount.is_none()
            && self.on_behalf_of.is_none()
            && self.transfer_group.is_none()
    }
}

/// The error for a destination the platform cannot transfer to.
fn check_destination(ctx: &mut Ctx, destination: &str, param: &str) -> ApiResult<()> {
    let account =
        accounts::find(ctx, destination).map_err(|_| ApiError::not_found("destination", destination, param))?;
    // Standard accounts manage their own onboarding with Stripe; as in Stripe's test mode (its
    // CLI fixtures transfer to a fresh `POST /v1/accounts`), their capability is not enforced.
    if account["capabilities"]["transfers"] != "active" && account["type"] != "standard" {
        return Err(ApiError::invalid(
            "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
        )
        .with_code("insufficient_capabilities_for_transfer")
        .with_param(param));
    }
    Ok(())
}

/// Refuses terms Stripe refuses, for a payment of `amount` made in the context's account.
pub fn check(ctx: &mut Ctx, terms: &Terms, amount: i64, prefix: &str) -> ApiResult<()> {
    let param = |name: &str| format!("{prefix}{name}");
    if let Some(destination) = &terms.destination {
        if ctx.account != PLATFORM {
            return Err(ApiError::invalid_value(
                &param("transfer_data[destination]"),
                "You cannot create a destination charge on a connected account (a request with the Stripe-Account header).",
            ));
        }
        check_destination(ctx, destination, &param("transfer_data[destination]"))?;
    }
    if let Some(on_behalf_of) = &terms.on_behalf_of {
        if !accounts::exists(ctx, on_behalf_of) {
            return Err(ApiError::not_found("account", on_behalf_of, &param("on_behalf_of")));
        }
    }
    if let Some(fee) = terms.application_fee_amount {
        if terms.destination.is_none() && ctx.account == PLATFORM {
            return Err(ApiError::invalid("Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).")
                .with_code("parameter_missing")
                .with_param(&param("application_fee_amount")));
        }
        if fee < 0 || fee > amount {
            return Err(ApiError::invalid_value(
                &param("application_fee_amount"),
                format!("The application fee amount ({fee}) must be a positive integer no greater than the payment amount ({amount})."),
            ));
        }
    }
    if let Some(transfer_amount) = terms.transfer_amount {
        if terms.destination.is_none() {
            return Err(ApiError::missing(&param("transfer_data[destination]")));
        }
        if transfer_amount <= 0 || transfer_amount > amount {
            return Err(ApiError::invalid_value(
                &param("transfer_data[amount]"),
                format!("The transfer amount ({transfer_amount}) must be a positive integer no greater than the payment amount ({amount})."),
            ));
        }
    }
    Ok(())
}

/// Writes the terms onto a payment intent (`transfer_data`, `application_fee_amount`,
/// `on_behalf_of`, `transfer_group`).
pub fn apply(payment_intent: &mut Value, terms: &Terms) {
    if let Some(destination) = &terms.destination {
        payment_intent["transfer_data"] = json!({"amount": terms.transfer_amount, "destination": destination});
    }
    if let Some(fee) = terms.application_fee_amount {
        payment_intent["application_fee_amount"] = json!(fee);
    }
    if let Some(on_behalf_of) = &terms.on_behalf_of {
        payment_intent["on_behalf_of"] = json!(on_behalf_of);
    }
    if let Some(group) = &terms.transfer_group {
        payment_intent["transfer_group"] = json!(group);
    }
}

/// Writes the terms onto a stored payment intent just created (and onto its pending
/// `payment_intent.created` event). Returns the payment intent.
pub fn apply_to_new_intent(ctx: &mut Ctx, payment_intent_id: &str, terms: &Terms) -> Value {
    let Some(mut payment_intent) = ctx.get("payment_intent", payment_intent_id).cloned() else { return Value::Null };
    apply(&mut payment_intent, terms);
    ctx.put("payment_intent", payment_intent.clone());
    if let Some(event) =
        ctx.events.iter_mut().rev().find(|e| e.kind == "payment_intent.created" && e.object["id"] == payment_intent_id)
    {
        event.object = public(&payment_intent);
    }
    payment_intent
}

/// An event to emit once the charge's own events are out: (account, type, object).
pub type Later = Vec<(String, &'static str, Value)>;

/// Emits events kept for later, each in its account.
pub fn emit_later(ctx: &mut Ctx, later: Later) {
    for (account, kind, object) in later {
        ctx.in_account(&account, |ctx| ctx.emit(kind, &object, None));
    }
}

/// Settles a succeeded charge (not yet stored): its balance transaction (with Stripe's fee), and
/// for a destination charge the transfer, the payment on the connected account and the
/// application fee; for a direct charge with `application_fee_amount` the fee to the platform.
/// `immediate`: the card skips the pending balance. Returns the events for after `charge.succeeded`.
pub fn settle_charge(ctx: &mut Ctx, charge: &mut Value, payment_intent: &Value, immediate: bool) -> Later {
    let amount = charge["amount"].as_i64().unwrap_or(0);
    let currency = charge["currency"].as_str().unwrap_or("usd").to_string();
    let charge_id = charge["id"].as_str().unwrap_or_default().to_string();
    let fee_amount = payment_intent["application_fee_amount"].as_i64();
    let destination = payment_intent["transfer_data"]["destination"].as_str().map(str::to_string);
    let direct = ctx.account != PLATFORM;
    let mut fees = vec![("stripe_fee", balance::stripe_fee(amount), None)];
    if let (Some(fee), true) = (fee_amount, direct) {
        fees.push(("application_fee", fee, Some(PLATFORM_APPLICATION.to_string())));
    }
    let txn = balance::record(
        ctx,
        Movement {
            kind: "charge",
            amount,
            currency: &currency,
            source: Some(&charge_id),
            description: None,
            fees,
            immediate,
        },
    );
    charge["balance_transaction"] = json!(txn);
    charge["on_behalf_of"] = payment_intent["on_behalf_of"].clone();
    charge["transfer_group"] = payment_intent["transfer_group"].clone();
    let mut later = Later::new();
    if direct {
        charge["application"] = json!(PLATFORM_APPLICATION);
        if let Some(fee) = fee_amount {
            let account = ctx.account.clone();
            let fee_object = ctx.in_account(PLATFORM, |ctx| {
                new_application_fee(ctx, &account, fee, &currency, &charge_id, None, immediate)
            });
            charge["application_fee"] = fee_object["id"].clone();
            charge["application_fee_amount"] = json!(fee);
            later.push((PLATFORM.to_string(), "application_fee.created", fee_object));
        }
        return later;
    }
    let Some(destination) = destination else { return later };
    let transfer_amount = payment_intent["transfer_data"]["amount"].as_i64().unwrap_or(amount);
    let group = payment_intent["transfer_group"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("group_{}", payment_intent["id"].as_str().unwrap_or_default()));
    let transfer = create_transfer(
        ctx,
        NewTransfer {
            amount: transfer_amount,
            currency: currency.clone(),
            destination: destination.clone(),
            source_transaction: Some(charge_id.clone()),
            transfer_group: Some(group.clone()),
            description: None,
            metadata: json!({}),
            application_fee: fee_amount,
            immediate,
        },
    );
    charge["transfer"] = transfer["id"].clone();
    charge["transfer_group"] = json!(group);
    charge["transfer_data"] = json!({"amount": payment_intent["transfer_data"]["amount"], "destination": destination});
    later.push((PLATFORM.to_string(), "transfer.created", transfer.clone()));
    if let Some(fee) = fee_amount {
        let payment_id = transfer["destination_payment"].as_str().unwrap_or_default().to_string();
        let fee_object =
            new_application_fee(ctx, &destination, fee, &currency, &payment_id, Some(&charge_id), immediate);
        ctx.in_account(&destination, |ctx| {
            if let Some(payment) = ctx.get_mut("charge", &payment_id) {
                payment["application_fee"] = fee_object["id"].clone();
                payment["application_fee_amount"] = json!(fee);
            }
        });
        charge["application_fee"] = fee_object["id"].clone();
        charge["application_fee_amount"] = json!(fee);
        later.push((PLATFORM.to_string(), "application_fee.created", fee_object));
    }
    later
}

/// An application fee (in the platform's store) taken from `charge` of connected `account`, and
/// its balance transaction on the platform. Returns the fee.
fn new_application_fee(
    ctx: &mut Ctx,
    account: &str,
    amount: i64,
    currency: &str,
    charge: &str,
    originating_transaction: Option<&str>,
    immediate: bool,
) -> Value {
    let id = new_id("fee");
    let txn = balance::record(
        ctx,
        Movement {
            kind: "application_fee",
            amount,
            currency,
            source: Some(&id),
            description: None,
            fees: vec![],
            immediate,
        },
    );
    let fee = json!({
        "id": id,
        "object": "application_fee",
        "account": account,
        "amount": amount,
        "amount_refunded": 0,
        "application": PLATFORM_APPLICATION,
        "balance_transaction": txn,
        "charge": charge,
        "created": ctx.now(),
        "currency": currency,
        "fee_source": {"charge": charge, "type": "charge"},
        "livemode": false,
        "originating_transaction": originating_transaction,
        "refunded": false,
        "refunds": {"object": "list", "data": [], "has_more": false, "total_count": 0, "url": format!("/v1/application_fees/{id}/refunds")},
    });
    ctx.put("application_fee", fee.clone());
    fee
}

/// A transfer to make from the platform.
pub struct NewTransfer {
    pub amount: i64,
    pub currency: String,
    pub destination: String,
    pub source_transaction: Option<String>,
    pub transfer_group: Option<String>,
    pub description: Option<String>,
    pub metadata: Value,
    /// The application fee taken from the payment it makes (destination charges).
    pub application_fee: Option<i64>,
    pub immediate: bool,
}

/// Moves money from the platform to a connected account: the transfer (`tr_`, platform) and the
/// payment it makes there (`py_`, a charge of the connected account). No event (the caller
/// emits `transfer.created`).
pub fn create_transfer(ctx: &mut Ctx, new: NewTransfer) -> Value {
    let id = new_id("tr");
    let now = ctx.now();
    let currency = new.currency.as_str();
    let txn = ctx.in_account(PLATFORM, |ctx| {
        balance::record(
            ctx,
            Movement {
                kind: "transfer",
                amount: -new.amount,
                currency,
                source: Some(&id),
                description: None,
                fees: vec![],
                immediate: true,
            },
        )
    });
    let payment_id = new_id("py");
    let payment_txn = ctx.in_account(&new.destination, |ctx| {
        let fees = new.application_fee.map(|f| vec![("application_fee", f, Some(PLATFORM_APPLICATION.to_string()))]);
        balance::record(
            ctx,
            Movement {
                kind: "payment",
                amount: new.amount,
                currency,
                source: Some(&payment_id),
                description: None,
                fees: fees.unwrap_or_default(),
                immediate: new.immediate,
            },
        )
    });
    let payment = json!({
        "id": payment_id,
        "object": "charge",
        "amount": new.amount,
        "amount_captured": new.amount,
        "amount_refunded": 0,
        "application": null,
        "application_fee": null,
        "application_fee_amount": null,
        "balance_transaction": payment_txn,
        "billing_details": {"address": crate::objects::null_address(), "email": null, "name": null, "phone": null, "tax_id": null},
        "calculated_statement_descriptor": null,
        "captured": true,
        "created": now,
        "currency": currency,
        "customer": null,
        "description": null,
        "disputed": false,
        "failure_balance_transaction": null,
        "failure_code": null,
        "failure_message": null,
        "fraud_details": {},
        "livemode": false,
        "metadata": {},
        "on_behalf_of": null,
        "outcome": null,
        "paid": true,
        "payment_intent": null,
        "payment_method": null,
        "payment_method_details": {"stripe_account": {}, "type": "stripe_account"},
        "receipt_email": null,
        "receipt_number": null,
        "receipt_url": null,
        "refunded": false,
        "refunds": crate::objects::empty_list(&format!("/v1/charges/{payment_id}/refunds")),
        "review": null,
        "shipping": null,
        "source": null,
        "source_transfer": id,
        "statement_descriptor": null,
        "statement_descriptor_suffix": null,
        "status": "succeeded",
        "transfer_data": null,
        "transfer_group": new.transfer_group,
    });
    ctx.in_account(&new.destination, |ctx| ctx.put("charge", payment));
    let transfer = json!({
        "id": id,
        "object": "transfer",
        "amount": new.amount,
        "amount_reversed": 0,
        "balance_transaction": txn,
        "created": now,
        "currency": currency,
        "description": new.description,
        "destination": new.destination,
        "destination_payment": payment_id,
        "livemode": false,
        "metadata": new.metadata,
        "reversals": {"object": "list", "data": [], "has_more": false, "total_count": 0, "url": format!("/v1/transfers/{id}/reversals")},
        "reversed": false,
        "source_transaction": new.source_transaction,
        "source_type": "card",
        "transfer_group": new.transfer_group,
    });
    ctx.in_account(PLATFORM, |ctx| ctx.put("transfer", transfer.clone()));
    transfer
}

/// `POST /v1/transfers`: checks the destination (and the charge named by
/// `source_transaction`); emits `transfer.created`.
pub fn transfer(ctx: &mut Ctx, new: NewTransfer) -> ApiResult<Value> {
    if ctx.account != PLATFORM {
        return Err(ApiError::invalid(
            "Transfers can only be created by the platform (without the Stripe-Account header).",
        ));
    }
    check_destination(ctx, &new.destination, "destination")?;
    if let Some(source) = &new.source_transaction {
        let charge = ctx.find("charge", source, "source_transaction")?;
        let charge_amount = charge["amount"].as_i64().unwrap_or(0) - charge["amount_refunded"].as_i64().unwrap_or(0);
        if new.amount > charge_amount {
            return Err(ApiError::invalid_value(
                "amount",
                format!("Transfer amount ({}) exceeds the source transaction's amount ({charge_amount}).", new.amount),
            ));
        }
    }
    // The platform's balance may go negative: test-mode platforms usually hold a balance, and
    // Stripe's CLI fixtures transfer a charge's whole amount (its Stripe fee already taken).
    let transfer = create_transfer(ctx, new);
    ctx.emit("transfer.created", &transfer, None);
    Ok(public(&transfer))
}

/// Stripe's refusal when the available balance does not cover a transfer or payout.
pub fn insufficient_funds(what: &str) -> ApiError {
    ApiError::invalid(format!("You have insufficient funds in your Stripe account for this {what}. Your card balance is too low. You can use the /v1/balance endpoint to view your Stripe balance (for more details, see stripe.com/docs/api#balance)."))
        .with_code("balance_insufficient")
}

/// `amount * part / whole`, rounded half up (proportional reversals and fee refunds).
pub fn share(amount: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    (2 * amount * part + whole) / (2 * whole)
}

/// Reverses (part of) a transfer: the platform gets the money back (`transfer_refund`), the
/// connected account's payment is refunded (`payment_refund`); emits `transfer.reversed`.
/// `amount`: `None` reverses what is left. `source_refund`: the charge refund that caused it.
pub fn reverse(
    ctx: &mut Ctx,
    transfer_id: &str,
    amount: Option<i64>,
    source_refund: Option<&str>,
    metadata: Value,
) -> ApiResult<Value> {
    let mut transfer = ctx.in_account(PLATFORM, |ctx| ctx.find("transfer", transfer_id, "id"))?;
    let total = transfer["amount"].as_i64().unwrap_or(0);
    let reversed = transfer["amount_reversed"].as_i64().unwrap_or(0);
    let amount = amount.unwrap_or(total - reversed);
    if amount <= 0 || reversed + amount > total {
        return Err(ApiError::invalid_value(
            "amount",
            format!("You have attempted to reverse more than the amount of the transfer. The transfer has {} left to reverse.", total - reversed),
        ));
    }
    let currency = transfer["currency"].as_str().unwrap_or("usd").to_string();
    let destination = transfer["destination"].as_str().unwrap_or_default().to_string();
    let id = new_id("trr");
    let now = ctx.now();
    let txn = ctx.in_account(PLATFORM, |ctx| {
        balance::record(
            ctx,
            Movement {
                kind: "transfer_refund",
                amount,
                currency: &currency,
                source: Some(&id),
                description: None,
                fees: vec![],
                immediate: true,
            },
        )
    });
    let payment_id = transfer["destination_payment"].as_str().unwrap_or_default().to_string();
    let payment_refund = ctx.in_account(&destination, |ctx| refund_payment(ctx, &payment_id, amount, &currency, now));
    let reversal = json!({
        "id": id,
        "object": "transfer_reversal",
        "amount": amount,
        "balance_transaction": txn,
        "created": now,
        "currency": currency,
        "destination_payment_refund": payment_refund,
        "metadata": metadata,
        "source_refund": source_refund,
        "transfer": transfer_id,
    });
    prepend_to_list(&mut transfer["reversals"], reversal.clone());
    transfer["amount_reversed"] = json!(reversed + amount);
    transfer["reversed"] = json!(reversed + amount == total);
    ctx.in_account(PLATFORM, |ctx| {
        ctx.put("transfer_reversal", reversal.clone());
        ctx.put("transfer", transfer.clone());
        ctx.emit("transfer.reversed", &transfer, None);
    });
    Ok(reversal)
}

/// Refunds (part of) a connected account's payment `py_…` (a transfer reversed): a `pyr_…`
/// refund and a `payment_refund` balance transaction. Returns the refund's id.
fn refund_payment(ctx: &mut Ctx, payment_id: &str, amount: i64, currency: &str, now: i64) -> Option<String> {
    let mut payment = ctx.get("charge", payment_id).cloned()?;
    let id = new_id("pyr");
    let txn = balance::record(
        ctx,
        Movement {
            kind: "payment_refund",
            amount: -amount,
            currency,
            source: Some(&id),
            description: None,
            fees: vec![],
            immediate: true,
        },
    );
    let refund = json!({
        "id": id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn,
        "charge": payment_id,
        "created": now,
        "currency": currency,
        "destination_details": null,
        "metadata": {},
        "payment_intent": null,
        "reason": null,
        "receipt_number": null,
        "source_transfer_reversal": null,
        "status": "succeeded",
        "transfer_reversal": null,
    });
    ctx.put("refund", refund.clone());
    let refunded = payment["amount_refunded"].as_i64().unwrap_or(0) + amount;
    payment["amount_refunded"] = json!(refunded);
    payment["refunded"] = json!(refunded >= payment["amount"].as_i64().unwrap_or(0));
    prepend_to_list(&mut payment["refunds"], refund);
    ctx.put("charge", payment);
    Some(id)
}

/// Refunds (part of) an application fee: the platform gives it back (`application_fee_refund`,
/// negative), the connected account gets it (`application_fee_refund`, positive); emits
/// `application_fee.refunded`. `amount`: `None` refunds what is left.
pub fn refund_fee(ctx: &mut Ctx, fee_id: &str, amount: Option<i64>, metadata: Value) -> ApiResult<Value> {
    let mut fee = ctx.in_account(PLATFORM, |ctx| ctx.find("application_fee", fee_id, "id"))?;
    let total = fee["amount"].as_i64().unwrap_or(0);
    let refunded = fee["amount_refunded"].as_i64().unwrap_or(0);
    if fee["refunded"] == true {
        return Err(ApiError::invalid(format!("Application fee {fee_id} has already been refunded."))
            .with_code("charge_already_refunded"));
    }
    let amount = amount.unwrap_or(total - refunded);
    let currency = fee["currency"].as_str().unwrap_or("usd").to_string();
    if amount <= 0 || refunded + amount > total {
        return Err(ApiError::invalid_value(
            "amount",
            format!(
                "Refund amount ({}) is greater than unrefunded amount on fee ({}).",
                crate::util::money(amount, &currency),
                crate::util::money(total - refunded, &currency)
            ),
        ));
    }
    let id = new_id("fr");
    let account = fee["account"].as_str().unwrap_or_default().to_string();
    let movement = |sign: i64| Movement {
        kind: "application_fee_refund",
        amount: sign * amount,
        currency: &currency,
        source: Some(&id),
        description: None,
        fees: vec![],
        immediate: true,
    };
    let txn = ctx.in_account(PLATFORM, |ctx| balance::record(ctx, movement(-1)));
    ctx.in_account(&account, |ctx| balance::record(ctx, movement(1)));
    let fee_refund = json!({
        "id": id,
        "object": "fee_refund",
        "amount": amount,
        "balance_transaction": txn,
        "created": ctx.now(),
        "currency": currency,
        "fee": fee_id,
        "metadata": metadata,
    });
    prepend_to_list(&mut fee["refunds"], fee_refund.clone());
    fee["amount_refunded"] = json!(refunded + amount);
    fee["refunded"] = json!(refunded + amount == total);
    ctx.in_account(PLATFORM, |ctx| {
        ctx.put("fee_refund", fee_refund.clone());
        ctx.put("application_fee", fee.clone());
        ctx.emit("application_fee.refunded", &fee, None);
    });
    Ok(fee_refund)
}

/// After a refund of `refunded` out of `charge` (of the context's account): reverses the
/// transfer and refunds the application fee in proportion (all that is left when the charge is
/// now fully refunded), as `reverse_transfer` and `refund_application_fee` ask. Returns the
/// transfer reversal's id, if any.
pub fn follow_refund(
    ctx: &mut Ctx,
    charge: &Value,
    refund_id: &str,
    refunded: i64,
    reverse_transfer: bool,
    refund_application_fee: bool,
) -> ApiResult<Option<String>> {
    let total = charge["amount"].as_i64().unwrap_or(0);
    let fully = charge["amount_refunded"].as_i64().unwrap_or(0) >= total;
    let mut reversal_id = None;
    if reverse_transfer {
        if let Some(transfer_id) = charge["transfer"].as_str() {
            let transfer = ctx.in_account(PLATFORM, |ctx| ctx.find("transfer", transfer_id, "transfer"))?;
            let left = transfer["amount"].as_i64().unwrap_or(0) - transfer["amount_reversed"].as_i64().unwrap_or(0);
            let amount =
                if fully { left } else { share(transfer["amount"].as_i64().unwrap_or(0), refunded, total).min(left) };
            if amount > 0 {
                let reversal = reverse(ctx, transfer_id, Some(amount), Some(refund_id), json!({}))?;
                reversal_id = reversal["id"].as_str().map(str::to_string);
            }
        }
    }
    if refund_application_fee {
        if let Some(fee_id) = charge["application_fee"].as_str() {
            let fee = ctx.in_account(PLATFORM, |ctx| ctx.find("application_fee", fee_id, "application_fee"))?;
            let left = fee["amount"].as_i64().unwrap_or(0) - fee["amount_refunded"].as_i64().unwrap_or(0);
            let amount =
                if fully { left } else { share(fee["amount"].as_i64().unwrap_or(0), refunded, total).min(left) };
            if amount > 0 {
                refund_fee(ctx, fee_id, Some(amount), json!({}))?;
            }
        }
    }
    Ok(reversal_id)
}
