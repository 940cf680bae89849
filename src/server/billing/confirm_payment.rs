//! `/billing/confirm/:payment_intent`: the customer confirms with their bank a payment Stripe
//! tried while they were away (a renewal, a plan change) and that needs 3-D Secure. The page
//! reads the PaymentIntent from Stripe, shows it only to the customer it belongs to, and hands
//! Stripe.js its client secret while the bank waits; without JavaScript, Stripe's hosted invoice
//! page does the same. What the payment settles arrives as `invoice.paid`, as for any renewal.

use anyhow::Context;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_shared::PaymentIntentId;

use crate::server::db::users::User;
use crate::server::http::outcome::{refused, FormError};
use crate::server::state::AppState;
use crate::server::stripe::browser::{publishable_key, stripe_js_url};
use crate::views::confirm_payment::{BrowserConfirm, ConfirmPaymentView, ConfirmStage};
use crate::views::format::money;

/// The same answer for a payment that does not exist and one of another customer.
const NO_SUCH_PAYMENT: &str = "No such payment.";

pub async fn page(state: &AppState, user: &User, id: &str) -> Result<ConfirmPaymentView, FormError> {
    let id = id.trim();
    let customer = user.stripe_customer_id.as_deref().ok_or_else(|| refused(NO_SUCH_PAYMENT))?;
    let intent = super::retrieve_named(&state.stripe_client, id, "pi_", NO_SUCH_PAYMENT, |id| {
        RetrievePaymentIntent::new(PaymentIntentId::from(id))
    })
    .await?;
    if intent.customer.as_ref().map(|c| c.id().as_str()) != Some(customer) {
        return Err(refused(NO_SUCH_PAYMENT));
    }
    let hosted_invoice_url: Option<String> = sqlx::query_scalar(
        "SELECT i.hosted_invoice_url FROM invoice_payment_links l JOIN invoices i ON i.id = l.invoice_id \
         WHERE l.payment_intent_id = $1",
    )
    .bind(id)
    .fetch_optional(state.db.pool())
    .await
    .context("reading the payment's invoice")?
    .flatten();
    let stage = ConfirmStage::of_status(intent.status.as_str());
    let confirm = match (
        stage,
        intent.client_secret,
        publishable_key(&state.stripe.api_base, state.stripe.publishable_key.as_deref()),
    ) {
        (ConfirmStage::NeedsAuthentication, Some(client_secret), Some(publishable_key)) => {
            Some(BrowserConfirm { publishable_key, client_secret })
        }
        _ => None,
    };
    Ok(ConfirmPaymentView {
        payment_intent: id.to_owned(),
        amount: money(intent.amount, &intent.currency.to_string()),
        stage,
        stripe_js_url: stripe_js_url(&state.stripe.api_base),
        confirm,
        hosted_invoice_url,
    })
}

/// Where the customer confirms payment `payment_intent` in the app.
pub fn confirm_path(payment_intent: &str) -> String {
    format!("/billing/confirm/{payment_intent}")
}
