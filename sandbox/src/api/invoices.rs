//! `/v1/invoices`, `/v1/invoiceitems`, `/v1/invoice_payments` and invoice previews:
//! parameters read here, changes made by the engine.

use serde_json::{json, Value};

use super::customers::search_kind;
use super::subscriptions::item_specs;
use crate::engine::invoice_payments::{attempt_payment, mark_paid};
use crate::engine::invoices::{self, finalize, InvoiceUpdate, ManualInvoice};
use crate::engine::lines::{add_invoice_item, product_name, NewItem};
use crate::engine::pay::{self, Outcome};
use crate::engine::preview::{self, PreviewRequest};
use crate::error::{ApiError, ApiResult};
use crate::store::{
    created_matches, new_metadata, paginate, param_bool, param_clearable_str, param_i64, param_nonempty, param_str,
    public, Ctx,
};

// Invoices

pub fn create_invoice(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?;
    let request = ManualInvoice {
        customer: customer.to_string(),
        subscription: param_nonempty(params, "subscription").map(str::to_string),
        default_payment_method: param_nonempty(params, "default_payment_method").map(str::to_string),
        include_pending_items: param_nonempty(params, "pending_invoice_items_behavior") == Some("include"),
        currency: param_nonempty(params, "currency").map(str::to_lowercase),
        collection_method: param_nonempty(params, "collection_method").unwrap_or("charge_automatically").to_string(),
        days_until_due: param_i64(params, "days_until_due")?,
        auto_advance: param_bool(params, "auto_advance")?.unwrap_or(false),
        metadata: new_metadata(params)?,
        description: param_nonempty(params, "description").map(str::to_string),
    };
    invoices::create_manual(ctx, request)
}

pub fn update_invoice(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let change = InvoiceUpdate {
        metadata: params.get("metadata").cloned(),
        auto_advance: param_bool(params, "auto_advance")?,
        fields: ["description", "footer"]
            .into_iter()
            .filter_map(|key| param_clearable_str(params, key).map(|value| (key, value)))
            .collect(),
        default_payment_method: param_str(params, "default_payment_method").map(str::to_string),
    };
    invoices::update(ctx, id, change)
}

pub fn delete_invoice(ctx: &mut Ctx, id: &str) -> ApiResult<Value> {
    invoices::delete(ctx, id)
}

pub fn list_invoices(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let subscription = param_str(params, "subscription");
    let status = param_str(params, "status");
    let collection_method = param_str(params, "collection_method");
    let mut items = Vec::new();
    for invoice in ctx.all("invoice") {
        if customer.is_some_and(|c| invoice["customer"] != c)
            || subscription.is_some_and(|s| invoice["subscription"] != s)
            || status.is_some_and(|s| invoice["status"] != s)
            || collection_method.is_some_and(|c| invoice["collection_method"] != c)
        {
            continue;
        }
        if !created_matches(params, "created", invoice["created"].as_i64().unwrap_or(0))?
            || !created_matches(params, "due_date", invoice["due_date"].as_i64().unwrap_or(0))?
        {
            continue;
        }
        items.push(invoice);
    }
    paginate(items, params, "/v1/invoices")
}

pub fn search_invoices(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    search_kind(ctx, "invoice", params, "/v1/invoices/search")
}

pub fn invoice_lines(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let invoice = ctx.find("invoice", id, "invoice")?;
    let lines = invoice["lines"]["data"].as_array().cloned().unwrap_or_default();
    // Lines are listed in invoice order; paginate expects newest first, so keep as is.
    paginate(lines, params, &format!("/v1/invoices/{id}/lines"))
}

pub fn pay_invoice(ctx: &mut Ctx, id: &str, params: &Value) -> ApiResult<Value> {
    let invoice = ctx.find("invoice", id, "invoice")?;
    match invoice["status"].as_str() {
        Some("paid") => return Err(ApiError::invalid("Invoice is already paid").with_code("invoice_already_paid")),
        Some("void") | Some("uncollectible") if param_bool(params, "paid_out_of_band")? != Some(true) => {
            return Err(ApiError::invalid(format!(
                "This invoice can not be paid because it is {}.",
                invoice["status"].as_str().unwrap_or_default()
            ))
            .with_code("invoice_not_open"))
        }
        Some("draft") => {
            finalize(ctx, id)?;
        }
        _ => {}
    }
    if param_bool(params, "paid_out_of_band")? == Some(true) {
        return mark_paid(ctx, id, None).map(|v| public(&v));
    }
    if ctx.get("invoice", id).is_some_and(|i| i["status"] == "paid") {
        return Ok(public(&ctx.find("invoice", id, "invoice")?));
    }
    let payment_method = pay::resolve_payment_method_id(ctx, param_nonempty(params, "payment_method"))?;
    let off_session = param_bool(params, "off_session")?.unwrap_or(true);
    match attempt_payment(ctx, id, payment_method.as_deref(), off_session, false)? {
        Outcome::Succeeded => Ok(public(&ctx.find("invoice", id, "invoice")?)),
        Outcome::Failed(e) => Err(e),
        Outcome::RequiresAction => Err(ApiError::card("invoice_payment_intent_requires_action", None, "This payment requires additional user action before it can be completed successfully. Payment can be completed using the PaymentIntent associated with the invoice.")),
    }
}

pub fn list_invoice_payments(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let invoice = param_nonempty(params, "invoice").ok_or_else(|| ApiError::missing("invoice"))?;
    let invoice = ctx.find("invoice", invoice, "invoice")?;
    paginate(invoice["payments"]["data"].as_array().cloned().unwrap_or_default(), params, "/v1/invoice_payments")
}

/// `POST /v1/invoices/create_preview` (and the legacy `GET /v1/invoices/upcoming`): the invoice
/// a subscription change (or the next renewal) would produce.
pub fn create_preview(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let details = params.get("subscription_details").cloned().unwrap_or(json!({}));
    let subscription = param_nonempty(params, "subscription").map(str::to_string);
    let items = item_specs(&details)?;
    let reset_anchor = param_str(&details, "billing_cycle_anchor") == Some("now");
    // Read only where they are used: an item change of a subscription, a new subscription.
    let changes_items = subscription.is_some() && (!items.is_empty() || reset_anchor);
    let proration_date = if changes_items {
        let from_details = param_i64(&details, "proration_date")?;
        from_details.or(param_i64(params, "subscription_proration_date")?)
    } else {
        None
    };
    let trial_end = if subscription.is_none() && !items.is_empty() { param_i64(&details, "trial_end")? } else { None };
    let request = PreviewRequest {
        customer: param_nonempty(params, "customer").map(str::to_string),
        subscription,
        items,
        proration_behavior: param_nonempty(&details, "proration_behavior")
            .or_else(|| param_nonempty(params, "subscription_proration_behavior"))
            .unwrap_or("create_prorations")
            .to_string(),
        proration_date,
        reset_anchor,
        trial_end,
        currency: param_str(params, "currency").unwrap_or("usd").to_string(),
    };
    preview::preview(ctx, request)
}

// ---------------------------------------------------------------------------------------------
// Invoice items

pub fn create_invoiceitem(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_nonempty(params, "customer").ok_or_else(|| ApiError::missing("customer"))?.to_string();
    ctx.find("customer", &customer, "customer")?;
    let now = ctx.now_for_customer(Some(&customer));
    let (amount, currency, price, quantity) = match params
        .get("pricing")
        .and_then(|pricing| param_nonempty(pricing, "price"))
        .or_else(|| param_nonempty(params, "price"))
    {
        Some(price_id) => {
            let price = ctx.find("price", price_id, "price")?;
            let quantity = param_i64(params, "quantity")?.unwrap_or(1);
            (
                price["unit_amount"].as_i64().unwrap_or(0) * quantity,
                price["currency"].as_str().unwrap_or("usd").to_string(),
                Some(price),
                quantity,
            )
        }
        None => {
            let quantity = param_i64(params, "quantity")?.unwrap_or(1);
            let amount = match param_i64(params, "amount")? {
                Some(amount) => amount,
                None => {
                    param_i64(params, "unit_amount")?
                        .or(params.get("price_data").map(|data| param_i64(data, "unit_amount")).transpose()?.flatten())
                        .ok_or_else(|| ApiError::missing("amount"))?
                        * quantity
                }
            };
            let currency =
                param_nonempty(params, "currency").ok_or_else(|| ApiError::missing("currency"))?.to_lowercase();
            (amount, currency, None, quantity)
        }
    };
    let invoice = param_nonempty(params, "invoice").map(str::to_string);
    let subscription = param_nonempty(params, "subscription").map(str::to_string);
    let description = param_nonempty(params, "description")
        .map(str::to_string)
        .or_else(|| price.as_ref().map(|price| product_name(ctx, price)));
    let new_item = NewItem {
        customer: &customer,
        amount,
        currency: &currency,
        description: json!(description),
        price: price.as_ref(),
        quantity,
        subscription: subscription.as_deref(),
        proration: false,
        period: (now, now),
        invoice: invoice.as_deref(),
        metadata: new_metadata(params)?,
        discountable: param_bool(params, "discountable")?.unwrap_or(true),
    };
    add_invoice_item(ctx, new_item)
}

pub fn list_invoiceitems(ctx: &mut Ctx, params: &Value) -> ApiResult<Value> {
    let customer = param_str(params, "customer");
    let invoice = param_str(params, "invoice");
    let pending = param_bool(params, "pending")?;
    let items: Vec<Value> = ctx
        .all("invoiceitem")
        .into_iter()
        .filter(|item| {
            customer.is_none_or(|c| item["customer"] == c)
                && invoice.is_none_or(|i| item["invoice"] == i)
                && pending.is_none_or(|pending| item["invoice"].is_null() == pending)
        })
        .map(public)
        .collect();
    paginate(items, params, "/v1/invoiceitems")
}
