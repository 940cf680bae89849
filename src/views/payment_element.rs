//! Paying on the app's own pages with Stripe.js (issue 15): a one-time item with the Payment
//! Element, a subscription with the Payment Element or embedded Checkout, and a new card through
//! a SetupIntent. The server makes every intent; the browser only confirms it.

use serde::{Deserialize, Serialize};

/// Where the pricing page's buttons lead: Stripe's hosted Checkout (the default), embedded
/// Checkout on the app's page, or the Payment Element (`CHECKOUT_UI`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CheckoutUi {
    #[default]
    Hosted,
    Embedded,
    Elements,
}

impl CheckoutUi {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value.trim() {
            "" | "hosted" => Ok(Self::Hosted),
            "embedded" => Ok(Self::Embedded),
            "elements" => Ok(Self::Elements),
            other => Err(format!("CHECKOUT_UI must be hosted, embedded or elements, not {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hosted => "hosted",
            Self::Embedded => "embedded",
            Self::Elements => "elements",
        }
    }
}

/// A page with an embedded payment form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentPageView {
    /// "Onboarding session", "Pro plan".
    pub title: String,
    /// What the buyer pays, in words: "$199.00", "$29.00 per month", "14 days free, then …".
    pub price: String,
    /// Where Stripe.js loads from (Stripe's, or the sandbox's stand-in).
    pub stripe_js_url: String,
    /// What the browser needs; `None` when no publishable key is configured (then only the
    /// hosted way is offered).
    pub form: Option<EmbeddedForm>,
}

/// What `/payment-element.js` needs to mount the form and start the intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbeddedForm {
    pub publishable_key: String,
    pub kind: FormKind,
    /// Minor units: what the Payment Element shows in its deferred `payment` mode.
    pub amount: i64,
    /// Lower-case ISO code, as Stripe.js takes it.
    pub currency: String,
    /// One per page view: the server's idempotency key for the intent this form starts, so a
    /// double click, or a retry after a decline, confirms the same intent.
    pub attempt: String,
    /// The submit button's words ("Pay $199.00", "Start free trial", "Save card"); embedded
    /// Checkout brings its own.
    pub button: String,
    /// The connected account the intent lives on (a marketplace direct charge): Stripe.js is
    /// made with `stripeAccount` then.
    pub stripe_account: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormKind {
    /// The Payment Element, confirming a PaymentIntent.
    Payment,
    /// The Payment Element, confirming a SetupIntent (a card for later).
    Setup,
    /// Embedded Checkout, mounted from a Checkout Session's client secret.
    EmbeddedCheckout,
}

impl FormKind {
    /// Stripe.js's Elements `mode` (and the name `/payment-element.js` reads).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Payment => "payment",
            Self::Setup => "setup",
            Self::EmbeddedCheckout => "embedded_checkout",
        }
    }
}

/// What the server started for the browser to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartedIntent {
    /// A PaymentIntent's, SetupIntent's or Checkout Session's client secret.
    pub client_secret: String,
    /// `payment` (confirmPayment) or `setup` (confirmSetup); `embedded_checkout` mounts it.
    pub kind: String,
    /// Where Stripe.js sends the browser afterwards.
    pub return_url: String,
}

/// What the return page says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOutcome {
    pub stage: OutcomeStage,
    pub headline: String,
    /// Where to go next: try again, the account, the library.
    pub next_href: String,
    pub next_label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutcomeStage {
    Succeeded,
    /// Stripe is still processing, or the bank still waits.
    Pending,
    /// Declined or not authenticated: nothing was charged.
    Failed,
}

impl OutcomeStage {
    /// Stripe's PaymentIntent / SetupIntent status → what the page shows.
    pub fn of_status(status: &str) -> Self {
        match status {
            "succeeded" => Self::Succeeded,
            "processing" | "requires_capture" | "requires_action" | "requires_confirmation" => Self::Pending,
            _ => Self::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_takes_stripes_three_ways_and_refuses_others() {
        assert_eq!(CheckoutUi::parse(""), Ok(CheckoutUi::Hosted));
        assert_eq!(CheckoutUi::parse("embedded"), Ok(CheckoutUi::Embedded));
        assert_eq!(CheckoutUi::parse(" elements "), Ok(CheckoutUi::Elements));
        assert!(CheckoutUi::parse("embedded_page").unwrap_err().contains("hosted, embedded or elements"));
    }

    #[test]
    fn only_a_succeeded_intent_counts_as_paid() {
        assert_eq!(OutcomeStage::of_status("succeeded"), OutcomeStage::Succeeded);
        assert_eq!(OutcomeStage::of_status("requires_action"), OutcomeStage::Pending);
        assert_eq!(OutcomeStage::of_status("requires_payment_method"), OutcomeStage::Failed);
        assert_eq!(OutcomeStage::of_status("canceled"), OutcomeStage::Failed);
    }
}
