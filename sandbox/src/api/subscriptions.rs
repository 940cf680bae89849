//! `/v1/subscriptions` and `/v1/subscription_items`: parameters read here,
//! changes made by `engine::subscriptions`.

use serde_json::{json, Value};

use super::customers::search_kind;
use crate::engine::discounts::DiscountSpec;
use crate::engine::proration::check_proration_behavior;
use crate::engine::subscriptions::{
    self, change_item, ItemSpec, NewSubscription, PauseRequest, PaymentSettings, ResumeRequest, SubscriptionUpdate,
    COLLECTION_BEHAVIORS,
};
use crate::engine::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, new_metadata, one_of, paginate, param_bool, param_i64, param_list, param_nonempty, param_str,
    param_strings, public, Ctx,
};

pub(super) fn item_specs(params: &Value) -> ApiResult<Vec<ItemSpec>> {
    let mut out = Vec::new();
    for item in param_list(params, "items") {
        out.push(ItemSpec {
            id: param_nonempty(&item, "id").map(str::to_string),
            price: param_nonempty(&item, "price").or_else(|| param_nonempty(&item, "plan")).map(str::to_string),
            quantity: param_i64(&item, "quantity")?,
            deleted: param_bool(&item, "deleted")?.unwrap_or(false),
            metadata: item.get("metadata").cloned(),
        });
    }
    Ok(out)
}

/// `discounts[i][coupon|promotion_code]`, or the legacy `coupon` / `promotion_code`.
pub fn discount_specs(params: &Value) -> Vec<DiscountSpec> {
    let mut out: Vec<_> = param_list(params, "discounts")
        .iter()
        .map(|discount| DiscountSpec {
            coupon: param_nonempty(discount, "coupon").map(str::to_string),
            promotion_code: param_nonempty(discount, "promotion_code").map(str::to_string),
        })
        .filter(|discount| discount.coupon.is_some() || discount.promotion_code.is_some())
        .collect();
    if let Some(coupon) = param_nonempty(params, "coupon") {
        out.push(DiscountSpec { coupon: Some(coupon.to_string()), promotion_code: None });
    }
    if let Some(promotion_code) = param_nonempty(params, "promotion_code") {
        out.push(DiscountSpec { coupon: None, promotion_code: Some(promotion_code.to_string()) });
    }
    out
}

/// `payment_settings[save_default_payment_method]` and `payment_settings[payment_method_types]`
/// (an empty value clears the list), checked as Stripe checks them.
fn payment_settings_param(params: &Value) -> ApiResult<Option<PaymentSettings>> {
    let Some(settings) = params.get("payment_settings").filter(|settings| settings.is_object()) else {
        return Ok(None);
    };
    let payment_method_types = match settings.get("payment_method_types") {
        None => None,
        Some(Value::String(s)) if s.is_empty() => Some(None),
        Some(_) => Some(Some(param_strings(settings, "payment_method_types"))),
    };
    let settings = PaymentSettings {
        save_default_payment_method: param_nonempty(settings, "save_default_payment_method").map(str::to_string),
        payment_method_types,
    };
    settings.check()?;
    Ok(Some(settings))
}

/// A parameter's name under `prefix` (`subscription_data` on Checkout, none on subscriptions).
fn nested(prefix: &str, name: &str) -> String {
    match name.split_once('[') {
        Some((head, tail)) if !prefix.is_empty() => format!("{prefix}[{head}][{tail}"),
        _ if !prefix.is_empty() => format!("{prefix}[{name}]"),
        _ => name.to_string(),
    }
}

/// `billing_mode[type]`: `classic` or `flexible` (Stripe's default when absent).
pub(super) fn billing_mode_param(params: &Value, prefix: &str) -> ApiResult<Option<String>> {
    let Some(billing_mode) = params.get("billing_mode") else { return Ok(None) };
    let param = nested(prefix, "billing_mode[type]");
    let kind = param_nonempty(billing_mode, "type").ok_or_else(|| ApiError::missing(&param))?;
    Ok(Some(one_of(&param, kind, &["classic", "flexible"])?.to_string()))
}

/// `trial_settings[end_behavior][missing_payment_method]`: what a trial ending without a
/// payment method does.
pub(super) fn missing_payment_method_param(params: &Value, prefix: &str) -> ApiResult<Option<String>> {
    let behavior = params
        .get("trial_settings")
        .and_then(|settings| settings.get("end_behavior"))
        .and_then(|end_behavior| param_nonempty(end_behavior, "missing_payment_method"));
    let Some(behavior) = behavior else { return Ok(None) };
    let param = nested(prefix, "trial_settings[end_behavior][missing_payment_method]");
    Ok(Some(one_of(&param, behavior, &["cancel", "create_invoice", "pause"])?.to_string()))
}

fn trial_end_param(params: &Value, now: i64) -> ApiResult<Option<i64>> {
    match param_str(params, "trial_end") {
        Some("now") => Ok(Some(now)),
        Some(_) => param_i64(params, "trial_end"),
        None => Ok(None),
    }
}

pub fn create_subscription(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?.to_string();
    let now = ctx.now_for_customer(Some(&customer));
    let mut trial_days = param_i64(params, "trial_period_days")?;
    if param_bool(params, "trial_from_plan")? == Some(true) && trial_days.is_none() {
        let specs = item_specs(params)?;
        if let Some(price_id) = specs.first().and_then(|s| s.price.clone()) {
            trial_days = ctx.get("price", &price_id).and_then(|price| price["recurring"]["trial_period_days"].as_i64());
        }
    }
    let subscription = subscriptions::create_subscription(
        ctx,
        NewSubscription {
            customer,
            items: item_specs(params)?,
            trial_end: trial_end_param(params, now)?,
            trial_period_days: trial_days,
            default_payment_method: param_nonempty(params, "default_payment_method").map(str::to_string),
            metadata: new_metadata(params)?,
            description: param_nonempty(params, "description").map(str::to_string),
            payment_behavior: param_nonempty(params, "payment_behavior").unwrap_or("allow_incomplete").to_string(),
            collection_method: param_nonempty(params, "collection_method")
                .unwrap_or("charge_automatically")
                .to_string(),
            days_until_due: param_i64(params, "days_until_due")?,
            cancel_at_period_end: param_bool(params, "cancel_at_period_end")?.unwrap_or(false),
            cancel_at: param_i64(params, "cancel_at")?,
            off_session: param_bool(params, "off_session")?.unwrap_or(false),
            checkout: false,
            authenticated: false,
            discounts: discount_specs(params),
            first_payment_method: None,
            payment_settings: payment_settings_param(params)?.unwrap_or_default(),
            billing_mode: billing_mode_param(params, "")?,
            missing_payment_method: missing_payment_method_param(params, "")?,
        },
    )?;
    Ok(public(&subscription))
}

pub fn update_subscription(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let old = ctx.find("subscription", id, "id")?;
    let only_metadata = params
        .as_object()
        .is_some_and(|m| m.keys().all(|k| k == "metadata" || k == "cancellation_details" || k == "expand"));
    subscriptions::check_editable(&old, only_metadata)?;
    let now = ctx.now_for(&old);
    let change = subscription_update(params, now)?;
    subscriptions::update(ctx, id, change)
}

/// Reads `POST /v1/subscriptions/{id}` parameters.
/// `pause_collection[behavior|resumes_at]`; an empty value resumes collection.
fn pause_collection_param(params: &Value, now: i64) -> ApiResult<Option<Option<Value>>> {
    Ok(match params.get("pause_collection") {
        Some(Value::String(s)) if s.is_empty() => Some(None),
        Some(pause @ Value::Object(_)) => {
            let behavior =
                param_nonempty(pause, "behavior").ok_or_else(|| ApiError::missing("pause_collection[behavior]"))?;
            let behavior = one_of("pause_collection[behavior]", behavior, &COLLECTION_BEHAVIORS)?;
            let resumes_at = param_i64(pause, "resumes_at")?;
            if resumes_at.is_some_and(|at| at <= now) {
                return Err(ApiError::invalid_value(
                    "pause_collection[resumes_at]",
                    "The `resumes_at` timestamp must be in the future.",
                ));
            }
            Some(Some(json!({"behavior": behavior, "resumes_at": resumes_at})))
        }
        _ => None,
    })
}

fn subscription_update(params: &Value, now: i64) -> ApiResult<SubscriptionUpdate> {
    let items = item_specs(params)?;
    let proration_behavior = param_nonempty(params, "proration_behavior").unwrap_or("create_prorations").to_string();
    check_proration_behavior(&proration_behavior)?;
    let cancel_at = match param_str(params, "cancel_at") {
        Some("") => Some(None),
        Some(_) => Some(param_i64(params, "cancel_at")?),
        None => None,
    };
    Ok(SubscriptionUpdate {
        items,
        proration_behavior,
        proration_date: param_i64(params, "proration_date")?,
        reset_anchor: param_str(params, "billing_cycle_anchor") == Some("now"),
        metadata: params.get("metadata").cloned(),
        cancel_at_period_end: param_bool(params, "cancel_at_period_end")?,
        cancel_at,
        cancellation_details: params.get("cancellation_details").cloned(),
        default_payment_method: param_str(params, "default_payment_method").map(str::to_string),
        description: param_str(params, "description").map(str::to_string),
        collection_method: param_str(params, "collection_method").map(str::to_string),
        days_until_due: param_i64(params, "days_until_due")?,
        pause_collection: pause_collection_param(params, now)?,
        trial_end: trial_end_param(params, now)?,
        payment_settings: payment_settings_param(params)?,
    })
}

pub fn cancel_subscription(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let details = params.get("cancellation_details");
    // `invoice_now` only matters without cancellation details.
    let invoice_now = details.is_none() && param_bool(params, "invoice_now")? == Some(true);
    subscriptions::cancel_with_details(ctx, id, details, invoice_now)
}

/// `POST /v1/subscriptions/{id}/pause`: `type` (`subscription`), `invoicing_behavior` and
/// `bill_for[unused_time_from|outstanding_usage_through][type]`.
pub fn pause_subscription(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    if let Some(kind) = param_nonempty(params, "type") {
        one_of("type", kind, &["subscription"])?;
    }
    let invoicing = param_nonempty(params, "invoicing_behavior").unwrap_or("pending_invoice_item");
    one_of("invoicing_behavior", invoicing, &["invoice", "pending_invoice_item"])?;
    let bill_for = params.get("bill_for").cloned().unwrap_or(json!({}));
    let unused_time_from = bill_for_type(&bill_for, "unused_time_from", &["item_current_period_start", "none", "now"])?;
    let usage_through = bill_for_type(&bill_for, "outstanding_usage_through", &["none", "now"])?;
    let request = PauseRequest {
        invoice_now: invoicing == "invoice",
        unused_time_from: unused_time_from.to_string(),
        bill_usage: usage_through == "now",
    };
    subscriptions::pause(ctx, id, request)
}

/// `bill_for[{key}][type]`, `now` when absent.
fn bill_for_type<'v>(bill_for: &'v Value, key: &str, allowed: &[&str]) -> ApiResult<&'v str> {
    let Some(setting) = bill_for.get(key) else { return Ok("now") };
    let param = format!("bill_for[{key}][type]");
    one_of(&param, param_nonempty(setting, "type").ok_or_else(|| ApiError::missing(&param))?, allowed)
}

/// `POST /v1/subscriptions/{id}/resume`: `billing_cycle_anchor[type]`, `proration_behavior`,
/// `proration_date` and `payment_behavior`.
pub fn resume_subscription(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let anchor = match params.get("billing_cycle_anchor") {
        None => "now",
        Some(anchor @ Value::Object(_)) => {
            let param = "billing_cycle_anchor[type]";
            let kind = param_nonempty(anchor, "type").ok_or_else(|| ApiError::missing(param))?;
            one_of(param, kind, &["now", "unchanged"])?
        }
        // An object since 2026-09-30.endive.
        Some(_) => return Err(ApiError::invalid_value("billing_cycle_anchor", "Invalid object")),
    };
    let payment_behavior = param_nonempty(params, "payment_behavior").unwrap_or("resume_on_payment_attempt");
    one_of("payment_behavior", payment_behavior, &["resume_on_payment_attempt", "resume_on_payment_success"])?;
    let request = ResumeRequest {
        reset_anchor: anchor == "now",
        proration_behavior: param_nonempty(params, "proration_behavior").unwrap_or("create_prorations").to_string(),
        proration_date: param_i64(params, "proration_date")?,
        on_payment_success: payment_behavior == "resume_on_payment_success",
    };
    subscriptions::resume(ctx, id, request)
}

pub fn delete_discount(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    subscriptions::delete_discounts(ctx, id)
}

pub fn list_subscriptions(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let price = param_str(params, "price").or_else(|| param_str(params, "plan"));
    let status = param_str(params, "status");
    let clock = param_str(params, "test_clock");
    let mut items = Vec::new();
    for subscription in ctx.all("subscription") {
        let subscription_status = subscription["status"].as_str().unwrap_or_default();
        let status_ok = match status {
            None => !matches!(subscription_status, "canceled" | "incomplete_expired"),
            Some("all") => true,
            Some("ended") => matches!(subscription_status, "canceled" | "incomplete_expired"),
            Some(wanted) => subscription_status == wanted,
        };
        if !status_ok
            || customer.is_some_and(|c| subscription["customer"] != c)
            || clock.is_some_and(|c| subscription["test_clock"] != c)
        {
            continue;
        }
        if price.is_some_and(|price_id| {
            !SubscriptionView(subscription).items().iter().any(|item| item["price"]["id"] == price_id)
        }) {
            continue;
        }
        if !created_matches(params, "created", subscription["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(subscription);
    }
    paginate(items, params, "/v1/subscriptions")
}

pub fn search_subscriptions(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    search_kind(ctx, "subscription", params, "/v1/subscriptions/search")
}

// ---------------------------------------------------------------------------------------------
// Subscription items

pub fn list_items(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let subscription_id = param_nonempty(params, "subscription").ok_or_else(|| ApiError::missing("subscription"))?;
    let subscription = ctx.find("subscription", subscription_id, "subscription")?;
    let items: Vec<Value> = SubscriptionView(&subscription).items().iter().map(public).collect();
    paginate(items, params, "/v1/subscription_items")
}

pub fn retrieve_item(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    ctx.find_subscription_item(id)
        .map(|(_, item)| public(&item))
        .ok_or_else(|| ApiError::not_found("subscription_item", id, "id"))
}

pub fn create_item(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let subscription_id =
        param_nonempty(params, "subscription").ok_or_else(|| ApiError::missing("subscription"))?.to_string();
    let price = param_nonempty(params, "price").ok_or_else(|| ApiError::missing("price"))?.to_string();
    ctx.find("subscription", &subscription_id, "subscription")?;
    let spec = ItemSpec {
        id: None,
        price: Some(price.clone()),
        quantity: param_i64(params, "quantity")?,
        deleted: false,
        metadata: params.get("metadata").cloned(),
    };
    let subscription =
        change_item(ctx, &subscription_id, spec, proration_behavior(params), param_i64(params, "proration_date")?)?;
    let item = SubscriptionView(&subscription)
        .items()
        .into_iter()
        .find(|item| item["price"]["id"] == price.as_str())
        .unwrap_or(Value::Null);
    Ok(public(&item))
}

pub fn update_item(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let subscription_id = item_subscription(ctx, id)?;
    let spec = ItemSpec {
        id: Some(id.to_string()),
        price: param_nonempty(params, "price").or_else(|| param_nonempty(params, "plan")).map(str::to_string),
        quantity: param_i64(params, "quantity")?,
        deleted: false,
        metadata: params.get("metadata").cloned(),
    };
    change_item(ctx, &subscription_id, spec, proration_behavior(params), param_i64(params, "proration_date")?)?;
    retrieve_item(ctx, id)
}

pub fn delete_item(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let subscription_id = item_subscription(ctx, id)?;
    let spec = ItemSpec { id: Some(id.to_string()), deleted: true, ..Default::default() };
    change_item(ctx, &subscription_id, spec, proration_behavior(params), None)?;
    Ok(json!({"id": id, "object": "subscription_item", "deleted": true}))
}

/// The subscription holding an item, or a 404.
fn item_subscription(ctx: &Ctx, item_id: &str) -> ApiResult<String> {
    let (subscription_id, _) =
        ctx.find_subscription_item(item_id).ok_or_else(|| ApiError::not_found("subscription_item", item_id, "id"))?;
    Ok(subscription_id)
}

/// Item endpoints take `proration_behavior` as given (the engine checks subscription updates).
fn proration_behavior(params: &Value) -> &str {
    param_nonempty(params, "proration_behavior").unwrap_or("create_prorations")
}
