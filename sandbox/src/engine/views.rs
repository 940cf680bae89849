//! Typed read accessors over the stored Stripe JSON of the hot objects (subscriptions,
//! invoices), so engine code reads `subscription.current_period_end()` rather than index chains.
//! Objects stay stored as Stripe JSON; these are borrowed views.

use serde_json::Value;

/// `id`, `customer` and `status`, read alike on every view.
macro_rules! common_fields {
    ($view:ident) => {
        impl<'a> $view<'a> {
            pub fn id(self) -> &'a str {
                self.0["id"].as_str().unwrap_or_default()
            }
            pub fn customer(self) -> &'a str {
                self.0["customer"].as_str().unwrap_or_default()
            }
            pub fn status(self) -> &'a str {
                self.0["status"].as_str().unwrap_or_default()
            }
        }
    };
}

/// A subscription as stored.
#[derive(Clone, Copy)]
pub struct SubscriptionView<'a>(pub &'a Value);

impl<'a> SubscriptionView<'a> {
    pub fn currency(self) -> &'a str {
        self.0["currency"].as_str().unwrap_or("usd")
    }
    /// Canceled or expired while incomplete: only metadata can change any more.
    pub fn is_ended(self) -> bool {
        matches!(self.status(), "canceled" | "incomplete_expired")
    }
    /// The subscription items (a copy of `items.data`).
    pub fn items(self) -> Vec<Value> {
        self.0["items"]["data"].as_array().cloned().unwrap_or_default()
    }
    /// The first item: every item shares the billing period and interval.
    pub fn first_item(self) -> &'a Value {
        let subscription: &'a Value = self.0;
        &subscription["items"]["data"][0]
    }
    pub fn first_price(self) -> &'a Value {
        &self.first_item()["price"]
    }
    pub fn current_period_start(self) -> Option<i64> {
        self.first_item()["current_period_start"].as_i64()
    }
    pub fn current_period_end(self) -> Option<i64> {
        self.first_item()["current_period_end"].as_i64()
    }
    pub fn latest_invoice(self) -> Option<&'a str> {
        self.0["latest_invoice"].as_str()
    }
}

/// An invoice as stored.
#[derive(Clone, Copy)]
pub struct InvoiceView<'a>(pub &'a Value);

impl<'a> InvoiceView<'a> {
    pub fn is_open(self) -> bool {
        self.status() == "open"
    }
    pub fn amount_due(self) -> i64 {
        self.0["amount_due"].as_i64().unwrap_or(0)
    }
    pub fn subscription(self) -> Option<&'a str> {
        self.0["subscription"].as_str()
    }
    /// The payment intent the sandbox confirms for this invoice (kept across attempts).
    pub fn payment_intent(self) -> Option<&'a str> {
        self.0["_sb_pi"].as_str()
    }
}

common_fields!(SubscriptionView);
common_fields!(InvoiceView);
