//! Connected accounts (Stripe Connect): creation, updates, deletion, and what hosted onboarding
//! changes. Accounts live in the platform's store (`PLATFORM`); everything an account owns
//! (customers, charges, payouts…) lives in the account's own store, reached with
//! `Stripe-Account`. Their events are Connect events: emitted in the connected account, so they
//! carry `account` and go to the platform's `connect=true` endpoints.

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::store::{diff, public, Ctx, PLATFORM};
use crate::util::{new_id, random_str};

pub const KIND: &str = "account";

/// The platform's Connect application, as `application` fields name it.
pub const PLATFORM_APPLICATION: &str = "ca_sandboxplatform0000000000000";

/// An account to create, its parameters read.
pub struct NewAccount {
    /// `express`, `standard`, `custom`, or `none` (controller properties that match no type).
    pub account_type: String,
    pub controller: Value,
    pub country: String,
    pub email: Option<String>,
    pub business_type: Option<String>,
    /// Capabilities requested (`card_payments`, `transfers`…).
    pub capabilities: Vec<String>,
    pub metadata: Value,
    pub business_profile: Value,
    pub default_currency: Option<String>,
}

/// The `controller` hash Stripe shows for each legacy account type.
pub fn controller_for_type(account_type: &str) -> Value {
    let (payer, losses, collection, dashboard) = match account_type {
        "standard" => ("account", "stripe", "stripe", "full"),
        "custom" => ("application_custom", "application", "application", "none"),
        _ => ("application_express", "application", "stripe", "express"),
    };
    json!({
        "fees": {"payer": payer},
        "is_controller": true,
        "losses": {"payments": losses},
        "requirement_collection": collection,
        "stripe_dashboard": {"type": dashboard},
        "type": "application",
    })
}

/// The legacy `type` of an account made with `controller[...]` properties.
pub fn type_for_controller(controller: &Value) -> &'static str {
    let dashboard = controller["stripe_dashboard"]["type"].as_str().unwrap_or("full");
    let collection = controller["requirement_collection"].as_str().unwrap_or("stripe");
    let losses = controller["losses"]["payments"].as_str().unwrap_or("stripe");
    let payer = controller["fees"]["payer"].as_str().unwrap_or("account");
    match (dashboard, collection, losses, payer) {
        ("express", "stripe", "application", "application") => "express",
        ("full", "stripe", "stripe", "account") => "standard",
        ("none", "application", "application", "application") => "custom",
        _ => "none",
    }
}

fn requirements(due: &[String], disabled_reason: Option<&str>, past_due: bool) -> Value {
    json!({
        "alternatives": [],
        "current_deadline": null,
        "currently_due": due,
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": due,
        "past_due": if past_due { due.to_vec() } else { Vec::new() },
        "pending_verification": [],
    })
}

/// What a new account has to provide before it can charge and pay out, as Stripe lists it for a
/// fresh US account (its API reference's example: `business_profile.mcc`, `business_profile.url`,
/// `business_type`, `external_account`, `representative.first_name`, `representative.last_name`,
/// `tos_acceptance.date`, `tos_acceptance.ip`); once the business type is known, the individual's
/// or the company's fields instead.
fn initial_due(business_type: Option<&str>) -> Vec<String> {
    let mut due = vec!["business_profile.mcc".to_string(), "business_profile.url".to_string()];
    match business_type {
        Some("company") => due.extend(
            [
                "company.address.city",
                "company.address.line1",
                "company.address.postal_code",
                "company.address.state",
                "company.name",
                "company.phone",
                "company.tax_id",
                "representative.first_name",
                "representative.last_name",
            ]
            .map(str::to_string),
        ),
        Some(_) => due.extend(
            [
                "individual.address.city",
                "individual.address.line1",
                "individual.address.postal_code",
                "individual.address.state",
                "individual.dob.day",
                "individual.dob.month",
                "individual.dob.year",
                "individual.email",
                "individual.first_name",
                "individual.last_name",
                "individual.phone",
                "individual.ssn_last_4",
            ]
            .map(str::to_string),
        ),
        None => {
            due.extend(["business_type", "representative.first_name", "representative.last_name"].map(str::to_string))
        }
    }
    due.extend(["external_account", "tos_acceptance.date", "tos_acceptance.ip"].map(str::to_string));
    // Stripe lists them in alphabetical order.
    due.sort();
    due
}

/// An account's `settings`, with its dashboard name and statement descriptor.
pub fn settings(display_name: Option<&str>, statement_descriptor: Option<&str>) -> Value {
    json!({
        "bacs_debit_payments": {"display_name": null, "service_user_number": null},
        "branding": {"icon": null, "logo": null, "primary_color": null, "secondary_color": null},
        "card_issuing": {"tos_acceptance": {"date": null, "ip": null}},
        "card_payments": {
            "decline_on": {"avs_failure": false, "cvc_failure": true},
            "statement_descriptor_prefix": null, "statement_descriptor_prefix_kana": null,
            "statement_descriptor_prefix_kanji": null,
        },
        "dashboard": {"display_name": display_name, "timezone": "Etc/UTC"},
        "invoices": {"default_account_tax_ids": null, "hosted_payment_method_save": null},
        "payments": {
            "statement_descriptor": statement_descriptor, "statement_descriptor_kana": null, "statement_descriptor_kanji": null,
            "statement_descriptor_prefix_kana": null, "statement_descriptor_prefix_kanji": null,
        },
        "payouts": {"debit_negative_balances": true, "schedule": {"delay_days": 2, "interval": "daily"}, "statement_descriptor": null},
        "sepa_debit_payments": {},
    })
}

/// Creates a connected account (in the platform's store); no event, as on Stripe.
pub fn create(ctx: &mut Ctx, new_account: NewAccount) -> Value {
    let now = ctx.now();
    let id = format!("acct_1{}", random_str(15));
    let due = initial_due(new_account.business_type.as_deref());
    let mut capabilities = serde_json::Map::new();
    for capability in &new_account.capabilities {
        capabilities.insert(capability.clone(), json!("inactive"));
    }
    let mut business_profile = json!({
        "annual_revenue": null, "estimated_worker_count": null, "mcc": null,
        "minority_owned_business_designation": null, "name": null, "product_description": null,
        "support_address": null, "support_email": null, "support_phone": null, "support_url": null, "url": null,
    });
    if let Value::Object(given) = &new_account.business_profile {
        for (key, value) in given {
            if business_profile.get(key).is_some() {
                business_profile[key] = value.clone();
            }
        }
    }
    let account = json!({
        "id": id,
        "object": "account",
        "business_profile": business_profile,
        "business_type": new_account.business_type,
        "capabilities": capabilities,
        "charges_enabled": false,
        "controller": new_account.controller,
        "country": new_account.country,
        "created": now,
        "default_currency": new_account.default_currency.unwrap_or_else(|| "usd".into()),
        "details_submitted": false,
        "email": new_account.email,
        "external_accounts": {"object": "list", "data": [], "has_more": false, "total_count": 0, "url": format!("/v1/accounts/{id}/external_accounts")},
        "future_requirements": requirements(&[], None, false),
        "metadata": new_account.metadata,
        "payouts_enabled": false,
        "requirements": requirements(&due, Some("requirements.past_due"), true),
        "settings": settings(None, None),
        "tos_acceptance": {"date": null, "ip": null, "user_agent": null},
        "type": new_account.account_type,
        "_sb_next_payout": next_midnight(now),
    });
    ctx.in_account(PLATFORM, |ctx| ctx.put(KIND, account.clone()));
    public(&account)
}

/// The next 00:00 UTC after `t` (automatic payouts run daily then).
pub fn next_midnight(t: i64) -> i64 {
    (t.div_euclid(crate::util::DAY) + 1) * crate::util::DAY
}

/// Stripe's answer to a `Stripe-Account` (or account id) the platform has no access to.
pub fn no_access(key: &str, account: &str) -> ApiError {
    let shown = if key.len() > 12 {
        format!("{}{}{}", &key[..8], "*".repeat(key.len() - 12), &key[key.len() - 4..])
    } else {
        key.to_string()
    };
    let mut error = ApiError::invalid(format!(
        "The provided key '{shown}' does not have access to account '{account}' (or that account does not exist). Application access may have been revoked."
    ))
    .with_code("account_invalid");
    error.status = 403;
    error
}

/// A connected account of the platform (clone), or Stripe's 403.
pub fn find(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    ctx.in_account(PLATFORM, |ctx| ctx.get(KIND, id).cloned()).ok_or_else(|| no_access(&ctx.api_key, id))
}

/// Whether the platform has this connected account.
pub fn exists(ctx: &mut Ctx, id: &str) -> bool {
    ctx.in_account(PLATFORM, |ctx| ctx.get(KIND, id).is_some())
}

/// An account's capability as Stripe's `capability` object.
pub fn capability(account: &Value, name: &str) -> Value {
    json!({
        "id": name,
        "object": "capability",
        "account": account["id"],
        "future_requirements": account["future_requirements"],
        "requested": true,
        "requested_at": account["created"],
        "requirements": account["requirements"],
        "status": account["capabilities"][name],
    })
}

/// Stores a changed account and, when anything visible changed, emits `account.updated` (with
/// `previous_attributes`), and `capability.updated` for each capability whose status changed,
/// as Connect events of that account.
pub fn save(ctx: &mut Ctx, old: &Value, new: Value) -> Value {
    let id = new["id"].as_str().unwrap_or_default().to_string();
    let previous = diff(old, &new);
    ctx.in_account(PLATFORM, |ctx| ctx.put(KIND, new.clone()));
    if previous.as_object().is_some_and(|m| !m.is_empty()) {
        ctx.in_account(&id, |ctx| {
            ctx.emit("account.updated", &new, Some(previous.clone()));
            if let Some(changed) = previous["capabilities"].as_object() {
                for (name, was) in changed {
                    let previous = json!({"status": was});
                    ctx.emit("capability.updated", &capability(&new, name), Some(previous));
                }
            }
        });
    }
    public(&new)
}

/// A requested account change; `None` leaves a field alone.
#[derive(Default)]
pub struct AccountUpdate {
    pub metadata: Option<Value>,
    pub email: Option<Value>,
    pub business_type: Option<String>,
    pub business_profile: Option<Value>,
    pub capabilities: Vec<String>,
    pub default_currency: Option<String>,
    pub payout_schedule: Option<Value>,
}

pub fn update(ctx: &mut Ctx, id: &str, change: AccountUpdate) -> ApiResult<Value> {
    let old = find(ctx, id)?;
    let mut account = old.clone();
    if let Some(metadata) = &change.metadata {
        account["metadata"] = crate::store::apply_metadata(&old["metadata"], metadata)?;
    }
    if let Some(email) = change.email {
        account["email"] = email;
    }
    if let Some(business_type) = change.business_type {
        account["business_type"] = json!(business_type);
        if account["details_submitted"] != true {
            let due = initial_due(Some(&business_type));
            account["requirements"] = requirements(&due, Some("requirements.past_due"), true);
        }
    }
    if let Some(Value::Object(profile)) = change.business_profile {
        for (key, value) in profile {
            if account["business_profile"].get(&key).is_some() {
                account["business_profile"][&key] = if value == "" { Value::Null } else { value };
            }
        }
    }
    if let Some(currency) = change.default_currency {
        account["default_currency"] = json!(currency);
    }
    if let Some(Value::Object(schedule)) = change.payout_schedule {
        for (key, value) in schedule {
            let value = match key.as_str() {
                "delay_days" => json!(value.as_str().and_then(|v| v.parse::<i64>().ok()).unwrap_or(2)),
                _ => value,
            };
            account["settings"]["payouts"]["schedule"][&key] = value;
        }
    }
    for capability in change.capabilities {
        if account["capabilities"].get(&capability).is_none() {
            let status = if account["details_submitted"] == true { "active" } else { "inactive" };
            account["capabilities"][&capability] = json!(status);
        }
    }
    Ok(save(ctx, &old, account))
}

/// Deletes a connected account: its objects are gone and the platform loses access, which
/// Stripe announces with `account.application.deauthorized` (a Connect event of that account).
pub fn delete(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    find(ctx, id)?;
    ctx.in_account(PLATFORM, |ctx| ctx.remove(KIND, id));
    let application = json!({"id": PLATFORM_APPLICATION, "object": "application", "name": "Sandbox platform"});
    ctx.in_account(id, |ctx| ctx.emit("account.application.deauthorized", &application, None));
    Ok(json!({"id": id, "object": "account", "deleted": true}))
}

/// What the hosted onboarding form submitted.
pub struct Onboarding {
    pub business_type: String,
    pub email: Option<String>,
    pub business_name: Option<String>,
    pub url: Option<String>,
    pub routing_number: String,
    pub account_number: String,
    /// The identity document was skipped: it stays due.
    pub skip_document: bool,
    pub ip: String,
}

/// The payout failure code a Stripe test bank account number causes, if any.
pub fn payout_failure_of(account_number: &str) -> Option<&'static str> {
    match account_number {
        "000111111116" => Some("no_account"),
        "000111111113" => Some("account_closed"),
        "000222222227" => Some("insufficient_funds"),
        "000333333335" => Some("debit_not_authorized"),
        "000444444440" => Some("invalid_currency"),
        _ => None,
    }
}

/// Onboarding submitted on the hosted page: details, the bank account (an external account,
/// `account.external_account.created`), terms accepted. Complete: charges and payouts enabled,
/// capabilities active, nothing due. With the identity document skipped, it stays currently due
/// (and past due) and payouts stay disabled, as Stripe holds payouts until it is verified.
pub fn complete_onboarding(ctx: &mut Ctx, id: &str, form: Onboarding) -> ApiResult<Value> {
    let old = find(ctx, id)?;
    let now = ctx.now();
    let mut account = old.clone();
    let currency = old["default_currency"].as_str().unwrap_or("usd").to_string();
    let last4 = form.account_number[form.account_number.len().saturating_sub(4)..].to_string();
    let bank_account = json!({
        "id": new_id("ba"),
        "object": "bank_account",
        "account": id,
        "account_holder_name": form.business_name,
        "account_holder_type": form.business_type,
        "account_type": null,
        "available_payout_methods": ["standard"],
        "bank_name": "STRIPE TEST BANK",
        "country": old["country"],
        "currency": currency,
        "default_for_currency": true,
        "fingerprint": random_str(16),
        "future_requirements": {"currently_due": [], "errors": [], "past_due": [], "pending_verification": []},
        "last4": last4,
        "metadata": {},
        "requirements": {"currently_due": [], "errors": [], "past_due": [], "pending_verification": []},
        "routing_number": form.routing_number,
        "status": "new",
        "_sb_payout_failure": payout_failure_of(&form.account_number),
    });
    let replaced_bank = old["external_accounts"]["data"].as_array().is_some_and(|d| !d.is_empty());
    account["external_accounts"]["data"] = json!([bank_account]);
    account["external_accounts"]["total_count"] = json!(1);
    account["business_type"] = json!(form.business_type);
    if form.email.is_some() {
        account["email"] = json!(form.email);
    }
    account["business_profile"]["mcc"] = json!("5734");
    if let Some(url) = form.url.filter(|u| !u.is_empty()) {
        account["business_profile"]["url"] = json!(url);
    }
    if let Some(name) = form.business_name.filter(|n| !n.is_empty()) {
        account["business_profile"]["name"] = json!(name);
        account["settings"]["dashboard"]["display_name"] = json!(name);
    }
    account["tos_acceptance"] =
        json!({"date": now, "ip": form.ip, "user_agent": "Mozilla/5.0 (stripe-sandbox onboarding)"});
    account["details_submitted"] = json!(true);
    account["charges_enabled"] = json!(true);
    let capabilities: Vec<String> =
        account["capabilities"].as_object().map(|c| c.keys().cloned().collect()).unwrap_or_default();
    for capability in capabilities {
        account["capabilities"][&capability] = json!("active");
    }
    if form.skip_document {
        let due = vec![format!(
            "{}.verification.document",
            if form.business_type == "company" { "representative" } else { "individual" }
        )];
        account["requirements"] = requirements(&due, None, true);
        account["payouts_enabled"] = json!(false);
    } else {
        account["requirements"] = requirements(&[], None, false);
        account["payouts_enabled"] = json!(true);
    }
    let saved = save(ctx, &old, account);
    if !replaced_bank {
        ctx.in_account(id, |ctx| ctx.emit("account.external_account.created", &bank_account, None));
    }
    Ok(saved)
}

/// The account's bank account that payouts go to, if any.
pub fn payout_destination(account: &Value) -> Option<Value> {
    account["external_accounts"]["data"].as_array().and_then(|d| d.first()).cloned()
}

/// How long an account link works (Stripe: a few minutes; its examples expire after 300 s).
pub const LINK_LIFETIME: i64 = 300;
const LINK: &str = "account_link";

/// A requested account link, its parameters read.
pub struct NewLink {
    pub account: String,
    pub link_type: String,
    pub refresh_url: Option<String>,
    pub return_url: Option<String>,
    pub collect: Option<String>,
}

/// Creates a single-use link to the hosted onboarding page (`/connect/onboarding/{token}`),
/// valid for [`LINK_LIFETIME`] seconds of the sandbox clock.
pub fn create_link(ctx: &mut Ctx, link: NewLink) -> ApiResult<Value> {
    let Ok(account) = find(ctx, &link.account) else {
        return Err(ApiError::not_found("account", &link.account, "account"));
    };
    // `account_update` is for accounts whose requirements the platform collects (custom); Stripe
    // refuses it for the others (Express, Standard).
    if link.link_type == "account_update" && account["controller"]["requirement_collection"] != "application" {
        return Err(ApiError::invalid_value("type", "Valid types for this account are [\"account_onboarding\"]"));
    }
    let now = ctx.now();
    let token = random_str(24);
    let url = format!("{}/connect/onboarding/{token}", ctx.base_url);
    let stored = json!({
        "id": token,
        "object": "account_link",
        "created": now,
        "expires_at": now + LINK_LIFETIME,
        "url": url,
        "_sb_account": link.account,
        "_sb_type": link.link_type,
        "_sb_refresh_url": link.refresh_url,
        "_sb_return_url": link.return_url,
        "_sb_collect": link.collect,
        "_sb_used": false,
    });
    ctx.in_account(PLATFORM, |ctx| ctx.put(LINK, stored));
    Ok(json!({"object": "account_link", "created": now, "expires_at": now + LINK_LIFETIME, "url": url}))
}

/// The stored link behind a token (private fields included).
pub fn find_link(ctx: &mut Ctx, token: &str) -> Option<Value> {
    ctx.in_account(PLATFORM, |ctx| ctx.get(LINK, token).cloned())
}

/// Whether the link still works: not used, not expired on the sandbox clock.
pub fn link_usable(ctx: &Ctx, link: &Value) -> bool {
    link["_sb_used"] != true && link["expires_at"].as_i64().is_some_and(|at| ctx.now() < at)
}

/// Marks a link used (it is single-use).
pub fn use_link(ctx: &mut Ctx, token: &str) {
    ctx.in_account(PLATFORM, |ctx| {
        if let Some(link) = ctx.get_mut(LINK, token) {
            link["_sb_used"] = json!(true);
        }
    });
}

const LOGIN_LINK: &str = "login_link";

/// A login link to the account's (stand-in) Express Dashboard; only Express accounts have one.
pub fn create_login_link(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let account = find(ctx, id)?;
    if account["controller"]["stripe_dashboard"]["type"] != "express" {
        return Err(ApiError::invalid(
            "Cannot create a login link for an account that does not have access to the Express Dashboard.",
        ));
    }
    if account["details_submitted"] != true {
        return Err(ApiError::invalid("Cannot create a login link for an account that has not completed onboarding."));
    }
    let now = ctx.now();
    let token = random_str(12);
    let url = format!("{}/express/{id}/{token}", ctx.base_url);
    let stored = json!({"id": token, "object": "login_link", "created": now, "url": url, "_sb_account": id});
    ctx.in_account(PLATFORM, |ctx| ctx.put(LOGIN_LINK, stored));
    Ok(json!({"object": "login_link", "created": now, "url": url}))
}

/// Whether `token` is a login link of account `id`.
pub fn login_link_valid(ctx: &mut Ctx, id: &str, token: &str) -> bool {
    ctx.in_account(PLATFORM, |ctx| ctx.get(LOGIN_LINK, token).is_some_and(|l| l["_sb_account"] == id))
}
