//! `/billing/confirm/:payment_intent`: a payment the customer's bank wants confirmed (3-D Secure
//! after the fact: a renewal or a plan change charged while they were away), finished on the
//! app's own page with Stripe.js.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmPaymentView {
    pub payment_intent: String,
    /// Formatted money (`$29.00`).
    pub amount: String,
    pub stage: ConfirmStage,
    /// Where Stripe.js loads from (`https://js.stripe.com/v3/`, or the sandbox's stand-in).
    pub stripe_js_url: String,
    /// Present only while the bank waits for the customer, and only with a publishable key.
    pub confirm: Option<BrowserConfirm>,
    /// Stripe's hosted invoice page: the way to pay without JavaScript.
    pub hosted_invoice_url: Option<String>,
}

/// What Stripe.js needs to show the bank's challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrowserConfirm {
    pub publishable_key: String,
    pub client_secret: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfirmStage {
    /// The bank waits for the customer to authenticate.
    NeedsAuthentication,
    /// Authenticated; the payment is being processed.
    Processing,
    Succeeded,
    /// The last attempt failed (authentication refused, card declined): another card is needed.
    Failed,
    Canceled,
}

impl ConfirmStage {
    /// Stripe's PaymentIntent status → the stage shown.
    pub fn of_status(status: &str) -> Self {
        match status {
            "requires_action" | "requires_confirmation" => Self::NeedsAuthentication,
            "processing" | "requires_capture" => Self::Processing,
            "succeeded" => Self::Succeeded,
            "canceled" => Self::Canceled,
            _ => Self::Failed,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Self::NeedsAuthentication => "Your bank asks you to confirm this payment.",
            Self::Processing => "Your payment is being processed.",
            Self::Succeeded => "Payment complete. Thank you.",
            Self::Failed => "This payment did not go through. Update your payment method, then pay the open invoice.",
            Self::Canceled => "This payment was canceled; nothing was charged.",
        }
    }
}
