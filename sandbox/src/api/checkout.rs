//! `/v1/checkout/sessions` and the CLI's `/v1/payment_pages`: parameters read here; creation,
//! completion and expiry are in `engine::checkout`.

use serde_json::{json, Value};

use crate::engine::checkout::{self, complete, Completion, NewSession, SessionLine};
use crate::engine::usage_billing::is_metered;
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, new_metadata, paginate, param_bool, param_i64, param_list, param_nonempty, param_str, public, Ctx,
};

pub fn create(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let mode = param_nonempty(params, "mode").unwrap_or("payment").to_string();
    if !matches!(mode.as_str(), "payment" | "subscription" | "setup") {
        return Err(ApiError::invalid_value("mode", "Invalid mode: must be one of payment, setup, or subscription"));
    }
    // The 2026-03-25.dahlia names (hosted → hosted_page, embedded → embedded_page, custom → elements).
    let ui_mode = param_nonempty(params, "ui_mode").unwrap_or("hosted_page");
    if !matches!(ui_mode, "hosted_page" | "embedded_page" | "elements" | "form") {
        return Err(ApiError::invalid_value(
            "ui_mode",
            "Invalid ui_mode: must be one of hosted_page, embedded_page, elements, or form",
        ));
    }
    let success_url = param_nonempty(params, "success_url");
    if ui_mode == "hosted_page" && success_url.is_none() {
        return Err(ApiError::missing("success_url"));
    }
    redirect_urls_fit_ui_mode(params, ui_mode)?;
    let customer = param_nonempty(params, "customer").map(str::to_string);
    let customer_email = param_nonempty(params, "customer_email").map(str::to_string);
    if customer.is_some() && customer_email.is_some() {
        return Err(ApiError::invalid_value(
            "customer_email",
            "You may only specify one of these parameters: customer, customer_email.",
        ));
    }
    if let Some(customer) = &customer {
        ctx.find("customer", customer, "customer")?;
    }
    let line_items = line_item_prices(ctx, params)?;
    if mode != "setup" && line_items.is_empty() {
        return Err(ApiError::missing("line_items"));
    }
    let recurring = |line: &SessionLine| line.price["type"] == "recurring";
    if mode == "subscription" && !line_items.iter().any(recurring) {
        return Err(ApiError::invalid_value(
            "line_items",
            "You must provide at least one recurring price in `subscription` mode when using prices.",
        ));
    }
    if mode == "payment" && line_items.iter().any(recurring) {
        return Err(ApiError::invalid_value("line_items", "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices."));
    }
    let intent_data = params.get("payment_intent_data").cloned().unwrap_or(json!({}));
    let terms = crate::engine::transfers::Terms::read(&intent_data)?;
    if !terms.is_empty() {
        let amount: i64 = line_items
            .iter()
            .map(|line| line.price["unit_amount"].as_i64().unwrap_or(0) * line.quantity.unwrap_or(1))
            .sum();
        crate::engine::transfers::check(ctx, &terms, amount, "payment_intent_data[").map_err(bracket_param)?;
    }
    let expires_at = param_i64(params, "expires_at")?;
    let branding = branding_settings(params)?;
    let subscription_data = params.get("subscription_data").cloned().unwrap_or(json!({}));
    let new_session = NewSession {
        ui_mode: ui_mode.to_string(),
        line_items,
        customer,
        customer_email,
        expires_at,
        trial_period_days: param_i64(&subscription_data, "trial_period_days")?,
        trial_end: param_i64(&subscription_data, "trial_end")?,
        allow_promotion_codes: param_bool(params, "allow_promotion_codes")?,
        automatic_tax: params
            .get("automatic_tax")
            .map(|automatic_tax| param_bool(automatic_tax, "enabled"))
            .transpose()?
            .flatten()
            .unwrap_or(false),
        billing_address_collection: param_nonempty(params, "billing_address_collection").map(str::to_string),
        cancel_url: param_nonempty(params, "cancel_url").map(str::to_string),
        client_reference_id: param_nonempty(params, "client_reference_id").map(str::to_string),
        customer_creation: param_nonempty(params, "customer_creation").unwrap_or("if_required").to_string(),
        locale: param_nonempty(params, "locale").map(str::to_string),
        metadata: new_metadata(params)?,
        payment_method_collection: param_nonempty(params, "payment_method_collection").unwrap_or("always").to_string(),
        return_url: param_nonempty(params, "return_url").map(str::to_string),
        redirect_on_completion: param_nonempty(params, "redirect_on_completion").map(str::to_string),
        submit_type: param_nonempty(params, "submit_type").map(str::to_string),
        success_url: success_url.map(str::to_string),
        subscription_metadata: new_metadata(&subscription_data)?,
        subscription_description: param_nonempty(&subscription_data, "description").map(str::to_string),
        subscription_billing_mode: super::subscriptions::billing_mode_param(&subscription_data, "subscription_data")?,
        missing_payment_method: super::subscriptions::missing_payment_method_param(
            &subscription_data,
            "subscription_data",
        )?,
        payment_intent_data: intent_data,
        discounts: super::subscriptions::discount_specs(params),
        mode,
    };
    let mut session = checkout::create(ctx, new_session)?;
    if let Some(branding) = branding {
        let id = session["id"].as_str().unwrap_or_default().to_string();
        let mut stored = ctx.find("checkout.session", &id, "session")?;
        stored["branding_settings"] = branding.clone();
        ctx.put("checkout.session", stored);
        session["branding_settings"] = branding;
    }
    Ok(session)
}

/// `branding_settings` as the session shows it: what was given, Stripe's defaults for the rest.
/// `None` when not given (the hosted page then uses the sandbox's own look).
fn branding_settings(params: &Value) -> ApiResult<Option<Value>> {
    let Some(given) = params.get("branding_settings") else { return Ok(None) };
    let color = |field: &str, default: &str| -> ApiResult<String> {
        match param_nonempty(given, field) {
            None => Ok(default.to_string()),
            Some(hex) if crate::util::hex_color(hex).is_some() => Ok(hex.to_ascii_lowercase()),
            Some(_) => Err(ApiError::invalid_value(
                &format!("branding_settings[{field}]"),
                "Invalid hex color: must be a # followed by 6 hexadecimal digits.",
            )),
        }
    };
    let border_style = param_nonempty(given, "border_style").unwrap_or("rounded");
    if !matches!(border_style, "rounded" | "rectangular" | "pill") {
        return Err(ApiError::invalid_value(
            "branding_settings[border_style]",
            "Invalid border_style: must be one of rounded, rectangular, or pill",
        ));
    }
    let logo = match given.get("logo") {
        None => Value::Null,
        Some(logo) => match (param_nonempty(logo, "type"), param_nonempty(logo, "url")) {
            (Some("url"), Some(url)) => json!({"file": null, "type": "url", "url": url}),
            (Some("url"), None) => return Err(ApiError::missing("branding_settings[logo][url]")),
            _ => {
                return Err(ApiError::invalid_value(
                    "branding_settings[logo][type]",
                    "Invalid type: must be one of file or url",
                ))
            }
        },
    };
    Ok(Some(json!({
        "background_color": color("background_color", "#ffffff")?,
        "border_style": border_style,
        "button_color": color("button_color", "#0074d4")?,
        "display_name": param_nonempty(given, "display_name").unwrap_or_default(),
        "font_family": param_nonempty(given, "font_family").unwrap_or("default"),
        "icon": null,
        "logo": logo,
    })))
}

/// Embedded Checkout (and Elements) return the buyer to `return_url`, which Stripe requires
/// (unless `redirect_on_completion=never`), and refuses the hosted page's `success_url` and
/// `cancel_url`.
fn redirect_urls_fit_ui_mode(params: &Value, ui_mode: &str) -> ApiResult<()> {
    if ui_mode == "hosted_page" {
        return Ok(());
    }
    let refused: Vec<&str> =
        ["cancel_url", "success_url"].into_iter().filter(|key| param_nonempty(params, key).is_some()).collect();
    if !refused.is_empty() {
        return Err(ApiError::invalid(format!(
            "The following parameters are not supported with 'ui_mode: {ui_mode}': {}.",
            refused.join(", ")
        )));
    }
    let redirect = param_nonempty(params, "redirect_on_completion").unwrap_or("always");
    if !matches!(redirect, "always" | "if_required" | "never") {
        return Err(ApiError::invalid_value(
            "redirect_on_completion",
            "Invalid redirect_on_completion: must be one of always, if_required, or never",
        ));
    }
    match (redirect, param_nonempty(params, "return_url")) {
        ("never", Some(_)) => Err(ApiError::invalid_value(
            "return_url",
            "You cannot specify `return_url` when `redirect_on_completion` is `never`.",
        )),
        ("never", None) | (_, Some(_)) => Ok(()),
        (_, None) => Err(ApiError::missing("return_url")),
    }
}

/// `line_items[i][adjustable_quantity]`: the bounds (0 and 99 unless given, 999,999 at most) the
/// buyer may change the quantity within, which must hold the quantity given.
fn adjustable_quantity(line_item: &Value, i: usize, quantity: i64) -> ApiResult<Option<(i64, i64)>> {
    let Some(adjustable) = line_item.get("adjustable_quantity") else { return Ok(None) };
    let param = |name: &str| format!("line_items[{i}][adjustable_quantity][{name}]");
    let enabled = param_bool(adjustable, "enabled").map_err(|e| e.with_param(&param("enabled")))?;
    let Some(enabled) = enabled else { return Err(ApiError::missing(&param("enabled"))) };
    let minimum = param_i64(adjustable, "minimum").map_err(|e| e.with_param(&param("minimum")))?.unwrap_or(0);
    let maximum = param_i64(adjustable, "maximum").map_err(|e| e.with_param(&param("maximum")))?.unwrap_or(99);
    if !enabled {
        return Ok(None);
    }
    if !(0..=999_999).contains(&maximum) {
        return Err(ApiError::invalid_value(&param("maximum"), "The maximum must be between 0 and 999999."));
    }
    if minimum < 0 || minimum > maximum {
        return Err(ApiError::invalid_value(
            &param("minimum"),
            "The minimum must be a non-negative integer no greater than the maximum.",
        ));
    }
    if !(minimum..=maximum).contains(&quantity) {
        return Err(ApiError::invalid_value(
            &format!("line_items[{i}][quantity]"),
            format!("The quantity ({quantity}) must be between adjustable_quantity.minimum ({minimum}) and adjustable_quantity.maximum ({maximum})."),
        ));
    }
    Ok(Some((minimum, maximum)))
}

/// The prices of `line_items[]` with their quantities; `price_data` (and the CLI fixtures'
/// legacy `name`/`amount`) make new inactive prices.
fn line_item_prices(ctx: &mut Ctx, params: &Value) -> ApiResult<Vec<SessionLine>> {
    let mut prices = Vec::new();
    for (i, line_item) in param_list(params, "line_items").iter().enumerate() {
        let asked = param_i64(line_item, "quantity")?;
        let price = if let Some(price_id) = param_nonempty(line_item, "price") {
            ctx.find("price", price_id, &format!("line_items[{i}][price]"))?
        } else if let Some(price_data) = line_item.get("price_data") {
            let mut price_params = price_data.clone();
            if price_params.get("product").is_none() && price_params.get("product_data").is_none() {
                return Err(ApiError::missing(&format!("line_items[{i}][price_data][product]")));
            }
            price_params["active"] = json!("false");
            let price = super::catalog::create_price(ctx, &price_params)?;
            ctx.find("price", price["id"].as_str().unwrap_or_default(), "price")?
        } else if let (Some(name), Some(_)) = (param_nonempty(line_item, "name"), param_i64(line_item, "amount")?) {
            // Legacy line items (name/amount/currency), still used by the Stripe CLI fixtures.
            let price = super::catalog::create_price(
                ctx,
                &json!({"currency": param_str(line_item, "currency").unwrap_or("usd"), "unit_amount": line_item["amount"], "product_data": {"name": name, "description": line_item.get("description").cloned().unwrap_or(Value::Null)}, "active": "false"}),
            )?;
            ctx.find("price", price["id"].as_str().unwrap_or_default(), "price")?
        } else {
            return Err(ApiError::missing(&format!("line_items[{i}][price]")));
        };
        // A metered price bills usage in arrears: Stripe refuses a quantity (or a buyer's) on it.
        if is_metered(&price) {
            if asked.is_some() || line_item.get("adjustable_quantity").is_some() {
                return Err(ApiError::invalid_value(
                    &format!("line_items[{i}][quantity]"),
                    format!("Quantity should not be specified where usage_type is `metered`. Remove quantity from `line_items[{i}]` and try again."),
                ));
            }
            prices.push(SessionLine { price, quantity: None, adjustable: None });
            continue;
        }
        let quantity = asked.unwrap_or(1);
        let adjustable = adjustable_quantity(line_item, i, quantity)?;
        prices.push(SessionLine { price, quantity: Some(quantity), adjustable });
    }
    Ok(prices)
}

pub fn update(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    checkout::update_metadata(ctx, id, params.get("metadata"))
}

pub fn list(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let payment_intent = param_str(params, "payment_intent");
    let subscription = param_str(params, "subscription");
    let status = param_str(params, "status");
    let mut items = Vec::new();
    for session in ctx.all("checkout.session") {
        if customer.is_some_and(|c| session["customer"] != c)
            || payment_intent.is_some_and(|x| session["payment_intent"] != x)
            || subscription.is_some_and(|x| session["subscription"] != x)
            || status.is_some_and(|x| session["status"] != x)
        {
            continue;
        }
        if !created_matches(params, "created", session["created"].as_i64().unwrap_or(0))? {
            continue;
        }
        items.push(public(session));
    }
    paginate(items, params, "/v1/checkout/sessions")
}

pub fn line_items(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let session = ctx.find("checkout.session", id, "session")?;
    let items = session["_sb_items"].as_array().cloned().unwrap_or_default();
    paginate(items, params, &format!("/v1/checkout/sessions/{id}/line_items"))
}

/// `GET /v1/payment_pages/{id}`: the session as the Checkout front end sees it.
pub fn payment_page(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    let session = ctx.find("checkout.session", id, "session")?;
    let mut page = public(&session);
    page["object"] = json!("checkout.session");
    page["session_id"] = session["id"].clone();
    page["line_item_group"] =
        json!({"line_items": session["_sb_items"], "total": session["amount_total"], "currency": session["currency"]});
    Ok(page)
}

/// `POST /v1/payment_pages/{id}/confirm` with `payment_method`.
pub fn payment_page_confirm(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    // Required unless the session collects none (`complete` says so).
    let payment_method = param_nonempty(params, "payment_method");
    let email = param_nonempty(params, "email");
    match complete(ctx, id, payment_method, email, param_bool(params, "_sandbox_authenticated")?.unwrap_or(false))? {
        Completion::Done(session) => Ok(session),
        Completion::NeedsAuthentication => Err(ApiError::card(
            "authentication_required",
            Some("authentication_required"),
            "This payment requires authentication; complete it on the hosted Checkout page.",
        )),
    }
}

/// `payment_intent_data[transfer_data[destination]` → `payment_intent_data[transfer_data][destination]`:
/// the terms' checks name nested parameters with one prefix; Stripe brackets each level.
fn bracket_param(mut error: ApiError) -> ApiError {
    if let Some(param) = error.param.take() {
        let inner = param.trim_start_matches("payment_intent_data[");
        let nested = match inner.split_once('[') {
            Some((head, rest)) => format!("payment_intent_data[{head}][{rest}"),
            None => format!("payment_intent_data[{inner}]"),
        };
        error.param = Some(nested);
    }
    error
}
