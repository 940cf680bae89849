//! Invoice previews (`create_preview`, `upcoming`): the invoice a subscription change, a new
//! subscription or the next renewal would produce, computed on a copy of the state.

use serde_json::{json, Value};

use super::invoices::{create_invoice, NewInvoice};
use super::lines::take_pending_items;
use super::proration::change_items;
use super::subscriptions::{create_subscription, renew, ItemSpec, NewSubscription};
use super::usage_billing::is_metered;
use super::views::SubscriptionView;
use crate::error::{ApiError, ApiResult};
use crate::store::{list_of, public, Ctx, State};

/// What to preview, read from the parameters.
pub struct PreviewRequest {
    /// The subscription's customer without one.
    pub customer: Option<String>,
    /// The subscription changed (or renewed); a new subscription without one.
    pub subscription: Option<String>,
    /// `subscription_details[items]`.
    pub items: Vec<ItemSpec>,
    /// `create_prorations`, `always_invoice` or `none`.
    pub proration_behavior: String,
    /// When item changes are prorated from.
    pub proration_date: Option<i64>,
    /// `subscription_details[billing_cycle_anchor]=now`.
    pub reset_anchor: bool,
    /// `subscription_details[trial_end]` of a new subscription.
    pub trial_end: Option<i64>,
    /// The currency of a preview of pending items only.
    pub currency: String,
}

/// The previewed invoice, as Stripe shows one: `upcoming_…`, a draft without number or links.
pub fn preview(ctx: &mut Ctx, request: PreviewRequest) -> ApiResult<Value> {
    let customer = match (&request.customer, &request.subscription) {
        (Some(customer), _) => customer.clone(),
        (None, Some(subscription_id)) => ctx.find("subscription", subscription_id, "subscription")?["customer"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        (None, None) => return Err(ApiError::missing("customer")),
    };
    ctx.find("customer", &customer, "customer")?;
    let serialized = serde_json::to_value(&*ctx.state).map_err(|_| ApiError::internal())?;
    let mut copy: State = serde_json::from_value(serialized).map_err(|_| ApiError::internal())?;
    let mut copy_ctx = Ctx::new(&mut copy, &ctx.account, &ctx.base_url);
    let previewed = match &request.subscription {
        Some(subscription_id) => subscription_invoice(&mut copy_ctx, &customer, subscription_id, &request)?,
        None => new_subscription_invoice(&mut copy_ctx, &customer, request)?,
    };
    let mut invoice = public(&previewed);
    let real_id = invoice["id"].as_str().unwrap_or_default().to_string();
    invoice["id"] = json!(format!("upcoming_{real_id}"));
    invoice["status"] = json!("draft");
    invoice["number"] = Value::Null;
    invoice["hosted_invoice_url"] = Value::Null;
    invoice["invoice_pdf"] = Value::Null;
    invoice["amount_paid"] = json!(0);
    invoice["amount_remaining"] = invoice["amount_due"].clone();
    invoice["attempt_count"] = json!(0);
    invoice["attempted"] = json!(false);
    invoice["status_transitions"] =
        json!({"finalized_at": null, "marked_uncollectible_at": null, "paid_at": null, "voided_at": null});
    invoice["payments"] = list_of(vec![], "/v1/invoice_payments");
    invoice["lines"]["url"] = json!(format!("/v1/invoices/upcoming/lines"));
    Ok(invoice)
}

/// An existing subscription: the invoice its item change would make at once, or else its next
/// renewal invoice.
fn subscription_invoice(
    copy: &mut Ctx,
    customer: &str,
    subscription_id: &str,
    request: &PreviewRequest,
) -> ApiResult<Value> {
    let proration = request.proration_behavior.as_str();
    if !request.items.is_empty() || request.reset_anchor {
        // Previews never charge: compute prorations, then build the invoice by hand.
        let behavior = if proration == "always_invoice" { "create_prorations" } else { proration };
        let invoices_before = copy.all("invoice").len();
        change_items(copy, subscription_id, &request.items, behavior, request.proration_date, request.reset_anchor)?;
        if copy.all("invoice").len() > invoices_before {
            if let Some(invoice) = copy.all("invoice").first().map(|invoice| (*invoice).clone()) {
                return Ok(invoice);
            }
        } else if proration == "always_invoice" {
            let lines = take_pending_items(copy, customer, Some(subscription_id), "preview");
            let subscription = copy.find("subscription", subscription_id, "subscription")?;
            let now = copy.now_for(&subscription);
            return create_invoice(
                copy,
                NewInvoice::for_subscription(customer, &subscription, "subscription_update", lines, (now, now), false),
            );
        }
    }
    // The next renewal invoice.
    let subscription = copy.find("subscription", subscription_id, "subscription")?;
    // One ending at period end has no renewal, only its final usage invoice if it has metered items.
    let final_usage = SubscriptionView(&subscription).items().iter().any(|item| is_metered(&item["price"]));
    if SubscriptionView(&subscription).is_ended() || (subscription["cancel_at_period_end"] == true && !final_usage) {
        return Err(ApiError::invalid(format!("No upcoming invoices for customer: {customer}"))
            .with_code("invoice_upcoming_none"));
    }
    copy.state.settings.finalize_delay_secs = 3600;
    renew(copy, subscription_id)?;
    let renewed = copy.find("subscription", subscription_id, "subscription")?;
    let invoice_id = SubscriptionView(&renewed).latest_invoice().unwrap_or_default().to_string();
    copy.find("invoice", &invoice_id, "invoice")
}

/// A new subscription on `subscription_details[items]` (its first invoice), or the customer's
/// pending items alone.
fn new_subscription_invoice(copy: &mut Ctx, customer: &str, request: PreviewRequest) -> ApiResult<Value> {
    if request.items.is_empty() {
        let lines = take_pending_items(copy, customer, None, "preview");
        let now = copy.now_for_customer(Some(customer));
        return create_invoice(
            copy,
            NewInvoice {
                customer,
                subscription: None,
                billing_reason: "manual",
                currency: &request.currency,
                lines,
                period: (now, now),
                collection_method: "charge_automatically",
                days_until_due: None,
                auto_advance: false,
                metadata: json!({}),
                description: None,
            },
        );
    }
    let subscription = create_subscription(
        copy,
        NewSubscription {
            customer: customer.to_string(),
            items: request.items,
            payment_behavior: "default_incomplete".into(),
            collection_method: "charge_automatically".into(),
            metadata: json!({}),
            trial_end: request.trial_end,
            ..Default::default()
        },
    )?;
    copy.find("invoice", SubscriptionView(&subscription).latest_invoice().unwrap_or_default(), "invoice")
}
