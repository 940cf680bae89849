//! Stripe Connect endpoints: `/v1/accounts` (and `/v1/account`), account links, login links.
//! Parameters are read here; `engine::accounts` makes the changes.

use serde_json::{json, Value};

use crate::engine::accounts::{self, AccountUpdate, NewAccount};
use crate::error::{ApiError, ApiResult};
use crate::store::{created_matches, new_metadata, paginate, param_bool, param_nonempty, public, Ctx, PLATFORM};

const TYPES: [&str; 3] = ["custom", "express", "standard"];
const BUSINESS_TYPES: [&str; 4] = ["company", "government_entity", "individual", "non_profit"];

/// `capabilities[name][requested]=true` entries.
fn requested_capabilities(params: &Value) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    if let Some(Value::Object(capabilities)) = params.get("capabilities") {
        for (name, value) in capabilities {
            if param_bool(value, "requested")? == Some(true) {
                out.push(name.clone());
            }
        }
    }
    Ok(out)
}

fn business_type(params: &Value) -> ApiResult<Option<String>> {
    match param_nonempty(params, "business_type") {
        Some(kind) if BUSINESS_TYPES.contains(&kind) => Ok(Some(kind.to_string())),
        Some(kind) => Err(ApiError::invalid_value(
            "business_type",
            format!("Invalid business_type: must be one of company, government_entity, individual, or non_profit (got {kind})"),
        )),
        None => Ok(None),
    }
}

pub fn create_account(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let metadata = new_metadata(params)?;
    let business_type = business_type(params)?;
    let mut capabilities = requested_capabilities(params)?;
    let (account_type, controller) = match (param_nonempty(params, "type"), params.get("controller")) {
        (Some(kind), _) if !TYPES.contains(&kind) => {
            return Err(ApiError::invalid_value("type", "Invalid type: must be one of custom, express, or standard"))
        }
        (Some(kind), Some(_)) => {
            return Err(ApiError::invalid_value(
                "controller",
                format!("You cannot specify both `type` ({kind}) and `controller`. Use only one."),
            ))
        }
        (Some(kind), None) => (kind.to_string(), accounts::controller_for_type(kind)),
        (None, Some(Value::Object(given))) => {
            let mut controller = accounts::controller_for_type("standard");
            for (key, value) in given {
                if let (Value::Object(inner), Some(Value::Object(target))) = (value, controller.get_mut(key)) {
                    for (k, v) in inner {
                        target.insert(k.clone(), v.clone());
                    }
                } else {
                    controller[key] = value.clone();
                }
            }
            let kind = accounts::type_for_controller(&controller).to_string();
            (kind, controller)
        }
        _ => ("standard".to_string(), accounts::controller_for_type("standard")),
    };
    if capabilities.is_empty() && account_type == "standard" {
        capabilities = vec!["card_payments".into(), "transfers".into()];
    }
    let country = param_nonempty(params, "country").unwrap_or("US").to_uppercase();
    let new_account = NewAccount {
        account_type,
        controller,
        country,
        email: param_nonempty(params, "email").map(str::to_string),
        business_type,
        capabilities,
        metadata,
        business_profile: params.get("business_profile").cloned().unwrap_or(Value::Null),
        default_currency: param_nonempty(params, "default_currency").map(str::to_lowercase),
    };
    Ok(accounts::create(ctx, new_account))
}

pub fn retrieve_account(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    accounts::find(ctx, id).map(|account| public(&account))
}

/// `GET /v1/account`: the connected account named by `Stripe-Account`, or the platform.
pub fn current_account(ctx: &mut Ctx) -> ApiResult<Value> {
    if ctx.account == PLATFORM {
        return Ok(super::account(ctx));
    }
    let id = ctx.account.clone();
    retrieve_account(ctx, &id)
}

pub fn update_account(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let change = AccountUpdate {
        metadata: params.get("metadata").cloned(),
        email: params.get("email").map(|email| if email == "" { Value::Null } else { email.clone() }),
        business_type: business_type(params)?,
        business_profile: params.get("business_profile").cloned(),
        capabilities: requested_capabilities(params)?,
        default_currency: param_nonempty(params, "default_currency").map(str::to_lowercase),
        payout_schedule: params.get("settings").and_then(|s| s.get("payouts")).and_then(|p| p.get("schedule")).cloned(),
    };
    accounts::update(ctx, id, change)
}

pub fn list_accounts(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    ctx.in_account(PLATFORM, |ctx| {
        let mut items = Vec::new();
        for account in ctx.all(accounts::KIND) {
            if created_matches(params, "created", account["created"].as_i64().unwrap_or(0))? {
                items.push(account);
            }
        }
        paginate(items, params, "/v1/accounts")
    })
}

pub fn delete_account(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    accounts::delete(ctx, id)
}

/// `capabilities` of an account as Stripe's capability objects (`GET /v1/accounts/{id}/capabilities`).
pub fn list_capabilities(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let account = accounts::find(ctx, id)?;
    let data: Vec<Value> = account["capabilities"]
        .as_object()
        .map(|capabilities| capabilities.keys().map(|name| accounts::capability(&account, name)).collect())
        .unwrap_or_default();
    Ok(json!({"object": "list", "data": data, "has_more": false, "url": format!("/v1/accounts/{id}/capabilities")}))
}

const LINK_TYPES: [&str; 2] = ["account_onboarding", "account_update"];

pub fn create_account_link(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let account = crate::store::param_required(params, "account")?.to_string();
    let link_type = crate::store::param_required(params, "type")?;
    if !LINK_TYPES.contains(&link_type) {
        return Err(ApiError::invalid_value(
            "type",
            format!("Invalid type: must be one of account_onboarding or account_update (got {link_type})"),
        ));
    }
    let collect = match param_nonempty(params, "collect")
        .or_else(|| params.get("collection_options").and_then(|c| c.get("fields")).and_then(Value::as_str))
    {
        Some(c @ ("currently_due" | "eventually_due")) => Some(c.to_string()),
        Some(other) => {
            return Err(ApiError::invalid_value(
                "collect",
                format!("Invalid collect: must be one of currently_due or eventually_due (got {other})"),
            ))
        }
        None => None,
    };
    let refresh_url = param_nonempty(params, "refresh_url").map(str::to_string);
    let return_url = param_nonempty(params, "return_url").map(str::to_string);
    if refresh_url.is_none() {
        return Err(ApiError::missing("refresh_url"));
    }
    if return_url.is_none() {
        return Err(ApiError::missing("return_url"));
    }
    let link = accounts::NewLink { account, link_type: link_type.to_string(), refresh_url, return_url, collect };
    accounts::create_link(ctx, link)
}

pub fn create_login_link(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    accounts::create_login_link(ctx, id)
}

// Money: transfers, application fees, balances.

use crate::engine::{balance, transfers};
use crate::store::{param_i64, param_required, param_str};

/// A platform-only list (transfers, application fees) filtered by `field=value` pairs and `created`.
fn list_platform(ctx: &mut Ctx, kind: &str, params: &Value, filters: &[(&str, &str)], url: &str) -> ApiResult<Value> {
    ctx.in_account(PLATFORM, |ctx| {
        let mut items = Vec::new();
        for object in ctx.all(kind) {
            let matches =
                filters.iter().all(|(param, field)| param_str(params, param).is_none_or(|v| object[*field] == v));
            if matches && created_matches(params, "created", object["created"].as_i64().unwrap_or(0))? {
                items.push(object);
            }
        }
        paginate(items, params, url)
    })
}

fn find_platform(ctx: &mut Ctx, kind: &str, id: &str) -> ApiResult<Value> {
    ctx.in_account(PLATFORM, |ctx| ctx.find(kind, id, "id")).map(|v| public(&v))
}

pub fn create_transfer(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let amount = param_i64(params, "amount")?.ok_or_else(|| ApiError::missing("amount"))?;
    if amount <= 0 {
        return Err(ApiError::invalid_value("amount", "This value must be greater than or equal to 1."));
    }
    let currency = param_required(params, "currency")?.to_lowercase();
    let destination = param_required(params, "destination")?.to_string();
    let new = transfers::NewTransfer {
        amount,
        currency,
        destination,
        source_transaction: param_nonempty(params, "source_transaction").map(str::to_string),
        transfer_group: param_nonempty(params, "transfer_group").map(str::to_string),
        description: param_nonempty(params, "description").map(str::to_string),
        metadata: new_metadata(params)?,
        application_fee: None,
        immediate: false,
    };
    transfers::transfer(ctx, new)
}

pub fn list_transfers(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let filters = [("destination", "destination"), ("transfer_group", "transfer_group")];
    list_platform(ctx, "transfer", params, &filters, "/v1/transfers")
}

pub fn retrieve_transfer(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    find_platform(ctx, "transfer", id)
}

pub fn update_transfer(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    ctx.in_account(PLATFORM, |ctx| super::catalog::update_simple(ctx, "transfer", id, params))
}

pub fn create_reversal(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let amount = param_i64(params, "amount")?;
    let metadata = new_metadata(params)?;
    let refund_fee = param_bool(params, "refund_application_fee")?.unwrap_or(false);
    let reversal = transfers::reverse(ctx, id, amount, None, metadata)?;
    if refund_fee {
        // The fee of the charge the transfer came from, in proportion to what was reversed.
        let fee = ctx.in_account(PLATFORM, |ctx| {
            let transfer = ctx.get("transfer", id)?.clone();
            let charge = ctx.get("charge", transfer["source_transaction"].as_str()?)?.clone();
            let fee = ctx.get("application_fee", charge["application_fee"].as_str()?)?.clone();
            Some((fee, transfer))
        });
        if let Some((fee, transfer)) = fee {
            let share = transfers::share(
                fee["amount"].as_i64().unwrap_or(0),
                reversal["amount"].as_i64().unwrap_or(0),
                transfer["amount"].as_i64().unwrap_or(0),
            );
            let left = fee["amount"].as_i64().unwrap_or(0) - fee["amount_refunded"].as_i64().unwrap_or(0);
            if share.min(left) > 0 {
                transfers::refund_fee(ctx, fee["id"].as_str().unwrap_or_default(), Some(share.min(left)), json!({}))?;
            }
        }
    }
    Ok(public(&reversal))
}

pub fn list_reversals(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    find_platform(ctx, "transfer", id)?;
    let mut filtered = params.clone();
    filtered["transfer"] = json!(id);
    list_platform(
        ctx,
        "transfer_reversal",
        &filtered,
        &[("transfer", "transfer")],
        &format!("/v1/transfers/{id}/reversals"),
    )
}

pub fn retrieve_reversal(ctx: &mut Ctx, id: &str, reversal: &str) -> ApiResult<Value> {
    let found = find_platform(ctx, "transfer_reversal", reversal)?;
    if found["transfer"] != id {
        return Err(ApiError::not_found("transfer_reversal", reversal, "id"));
    }
    Ok(found)
}

pub fn list_application_fees(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    list_platform(ctx, "application_fee", params, &[("charge", "charge")], "/v1/application_fees")
}

pub fn retrieve_application_fee(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    find_platform(ctx, "application_fee", id)
}

pub fn create_fee_refund(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let amount = param_i64(params, "amount")?;
    let refund = transfers::refund_fee(ctx, id, amount, new_metadata(params)?)?;
    Ok(public(&refund))
}

pub fn list_fee_refunds(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    find_platform(ctx, "application_fee", id)?;
    let mut filtered = params.clone();
    filtered["fee"] = json!(id);
    list_platform(ctx, "fee_refund", &filtered, &[("fee", "fee")], &format!("/v1/application_fees/{id}/refunds"))
}

pub fn retrieve_fee_refund(ctx: &mut Ctx, id: &str, refund: &str) -> ApiResult<Value> {
    let found = find_platform(ctx, "fee_refund", refund)?;
    if found["fee"] != id {
        return Err(ApiError::not_found("fee_refund", refund, "id"));
    }
    Ok(found)
}

/// `GET /v1/balance` of the platform, or of the account named by `Stripe-Account`.
pub fn get_balance(ctx: &mut Ctx) -> ApiResult<Value> {
    balance::refresh(ctx);
    Ok(balance::balance(ctx))
}

pub fn list_balance_transactions(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    balance::refresh(ctx);
    let kind = param_str(params, "type");
    let source = param_str(params, "source");
    let currency = param_str(params, "currency");
    let payout = param_str(params, "payout");
    let mut items = Vec::new();
    for txn in ctx.all(balance::KIND) {
        if kind.is_some_and(|k| txn["type"] != k)
            || source.is_some_and(|s| txn["source"] != s)
            || currency.is_some_and(|c| txn["currency"] != c)
            || payout.is_some_and(|p| txn["_sb_payout"] != p)
            || !created_matches(params, "created", txn["created"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(txn);
    }
    paginate(items, params, "/v1/balance_transactions")
}

pub fn retrieve_balance_transaction(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    balance::refresh(ctx);
    ctx.find(balance::KIND, id, "id").map(|v| public(&v))
}

// Payouts (of the platform, or of the account named by `Stripe-Account`).

use crate::engine::payouts;

pub fn create_payout(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let amount = param_i64(params, "amount")?.ok_or_else(|| ApiError::missing("amount"))?;
    if amount <= 0 {
        return Err(ApiError::invalid_value("amount", "This value must be greater than or equal to 1."));
    }
    let currency = param_required(params, "currency")?.to_lowercase();
    let new = payouts::NewPayout {
        amount,
        currency,
        description: param_nonempty(params, "description").map(str::to_string),
        metadata: new_metadata(params)?,
        automatic: false,
    };
    payouts::create(ctx, new)
}

pub fn list_payouts(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let status = param_str(params, "status");
    let destination = param_str(params, "destination");
    let mut items = Vec::new();
    for payout in ctx.all(payouts::KIND) {
        if status.is_some_and(|s| payout["status"] != s)
            || destination.is_some_and(|d| payout["destination"] != d)
            || !created_matches(params, "created", payout["created"].as_i64().unwrap_or(0))?
            || !created_matches(params, "arrival_date", payout["arrival_date"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(payout);
    }
    paginate(items, params, "/v1/payouts")
}
