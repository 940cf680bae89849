//! What the marketplace's pages show.

use serde::{Deserialize, Serialize};

use crate::domain::{marketplace::PayoutStatus, money::Money};

/// `/creator`: the user's standing as a creator; `None` when they are not one yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatorPageView {
    pub creator: Option<CreatorView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatorView {
    /// `pending`, `restricted` or `enabled`.
    pub state: String,
    /// What Stripe still needs, in words (`Identity document`).
    pub due: Vec<String>,
    /// The creator's products, newest first, drafts included.
    pub products: Vec<ProductCardView>,
    /// Sales and payouts, once onboarding is done (`None` while `pending`).
    pub report: Option<CreatorReportView>,
}

/// The creator's own dashboard: what they sold and kept, and what Stripe paid out to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatorReportView {
    /// One per currency they sold in, by currency code.
    pub totals: Vec<SalesTotalsView>,
    /// Sales by day over the last 30 days, one chart per currency sold in then.
    pub charts: Vec<SalesChartView>,
    /// Payouts on their way to the bank, the soonest first.
    pub upcoming_payouts: Vec<PayoutView>,
    /// Paid and failed payouts, the newest first.
    pub past_payouts: Vec<PayoutView>,
}

/// A creator's sales in one currency, all time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesTotalsView {
    /// Paid orders, refunded and disputed ones included.
    pub sales: i64,
    /// What buyers paid.
    pub gross: Money,
    /// The platform's fees, less the part it refunded.
    pub fees: Money,
    /// What was refunded to buyers.
    pub refunds: Money,
    /// What the creator keeps.
    pub net: Money,
}

/// Sales by day in one currency: a bar chart (an SVG image) and its figures as a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesChartView {
    /// `USD`.
    pub currency: String,
    /// `data:image/svg+xml;base64,…`: an image, so the page's CSP needs no inline styles.
    pub image: String,
    /// The days with sales, oldest first.
    pub days: Vec<SalesDayView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesDayView {
    /// `3 December 2026`.
    pub day: String,
    pub sales: i64,
    pub gross: Money,
}

/// A payout to the creator's bank account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutView {
    pub id: String,
    pub amount: Money,
    pub status: PayoutStatus,
    /// When it arrives (or arrived, or was due): `3 December 2026`.
    pub arrival: Option<String>,
    /// Stripe's reason, for a failed payout.
    pub failure_message: Option<String>,
}

impl PayoutView {
    /// The status in words: `In transit`.
    pub fn status_words(&self) -> &'static str {
        match self.status {
            PayoutStatus::Pending => "Pending",
            PayoutStatus::InTransit => "In transit",
            PayoutStatus::Paid => "Paid",
            PayoutStatus::Failed => "Failed",
            PayoutStatus::Canceled => "Canceled",
        }
    }

    /// What a failed payout tells the creator: the amount, Stripe's reason, what to do.
    pub fn failure_notice(&self) -> Option<String> {
        (self.status == PayoutStatus::Failed).then(|| {
            let reason = self.failure_message.as_deref().map(|m| m.trim().trim_end_matches('.')).unwrap_or_default();
            let reason = if reason.is_empty() { "the bank refused it" } else { reason };
            format!("Payout of {} failed: {reason}. Update your bank account in the Stripe dashboard.", self.amount)
        })
    }
}

/// A product in a list (the store, the creator's page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCardView {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub description: String,
    /// `$12.50`.
    pub price: String,
    pub published: bool,
}

/// `/p/{slug}`: the product, and where "Buy" leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductPageView {
    pub product: ProductCardView,
    /// Paid on the app's own page (`/p/{slug}/pay`, the Payment Element) rather than on
    /// Stripe's Checkout page (`CHECKOUT_UI=elements`).
    pub pay_on_page: bool,
}

/// `/library`: what the user bought, with what it delivers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryView {
    /// After coming back from Checkout: how the purchase went.
    pub notice: Option<String>,
    pub items: Vec<LibraryItemView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryItemView {
    pub slug: String,
    pub title: String,
    pub content: String,
    /// e.g. `3 December 2026`.
    pub bought_on: String,
}

/// `/store`: what is on sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreView {
    pub products: Vec<ProductCardView>,
}

/// A Stripe requirement in words: `individual.verification.document` → `Individual verification
/// document`; `external_account` → `Bank account`.
pub fn requirement_words(requirement: &str) -> String {
    match requirement {
        "external_account" => return "Bank account".into(),
        "tos_acceptance.date" | "tos_acceptance.ip" => return "Accepting Stripe's terms".into(),
        _ => {}
    }
    crate::domain::text::capitalise(&requirement.replace(['.', '_'], " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payout(status: PayoutStatus, failure_message: Option<&str>) -> PayoutView {
        PayoutView {
            id: "po_1".into(),
            amount: Money::new(2250, crate::domain::money::Currency::parse("usd").unwrap()),
            status,
            arrival: Some("3 December 2026".into()),
            failure_message: failure_message.map(str::to_owned),
        }
    }

    #[test]
    fn a_failed_payout_says_how_much_why_and_what_to_do() {
        let failed = payout(PayoutStatus::Failed, Some("The bank account has been closed."));
        assert_eq!(
            failed.failure_notice().as_deref(),
            Some("Payout of $22.50 failed: The bank account has been closed. Update your bank account in the Stripe dashboard.")
        );
        let no_reason = payout(PayoutStatus::Failed, None).failure_notice().unwrap();
        assert!(no_reason.starts_with("Payout of $22.50 failed: the bank refused it."), "{no_reason}");
        assert_eq!(payout(PayoutStatus::Paid, None).failure_notice(), None);
        assert_eq!(payout(PayoutStatus::InTransit, None).status_words(), "In transit");
    }

    #[test]
    fn requirements_read_as_words() {
        assert_eq!(requirement_words("individual.verification.document"), "Individual verification document");
        assert_eq!(requirement_words("external_account"), "Bank account");
        assert_eq!(requirement_words("business_profile.url"), "Business profile url");
    }
}
