//! What the marketplace's pages show.

use serde::{Deserialize, Serialize};

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

    #[test]
    fn requirements_read_as_words() {
        assert_eq!(requirement_words("individual.verification.document"), "Individual verification document");
        assert_eq!(requirement_words("external_account"), "Bank account");
        assert_eq!(requirement_words("business_profile.url"), "Business profile url");
    }
}
