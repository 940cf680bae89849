//! Billing, named by Stripe object and action: customers, Checkout (start, confirm, fulfil),
//! subscriptions (sync, the current one, plan changes, cancel/resume), the portal, and the local
//! projections of invoices, payments, refunds, disputes, Radar's early fraud warnings and reviews,
//! entitlements and prices; `views` builds what the pricing and account pages show.

pub mod card_update;
pub mod catalog_events;
pub mod checkout;
pub mod confirm_payment;
pub mod customers;
pub mod dispute_evidence;
pub mod disputes;
pub mod email_samples;
pub mod emails;
pub mod entitlements;
pub mod fraud_warnings;
pub mod invoices;
pub mod past_due;
pub mod pause;
pub mod pay_item;
pub mod payments;
pub mod plan_change;
pub mod portal;
pub mod price_book;
pub mod refunds;
pub mod renewal;
pub mod reviews;
pub mod seats;
pub mod subscribe_embedded;
pub mod subscriptions;
pub mod views;

/// Paid actions (Checkout, the portal, plan changes) wait for a verified address: a receipt, a
/// dunning mail or a dispute alert must reach the person who pays.
pub fn require_verified_email(
    user: &crate::server::db::users::User,
) -> Result<(), crate::server::http::outcome::FormError> {
    if user.email_verified() {
        return Ok(());
    }
    Err(crate::server::http::outcome::refused(format!(
        "Confirm your email address before paying: open the link we sent to {}. No email? Send a new link from \
         your account page.",
        user.email
    )))
}

/// Reads a Stripe object a visitor named by id (a path or query parameter): an id without its
/// `prefix`, or one Stripe does not know, is refused with `missing` — the words the caller also
/// gives for another customer's object, so the answer never tells the two apart.
pub async fn retrieve_named<R>(
    stripe: &crate::server::stripe::client::StripeClient,
    id: &str,
    prefix: &str,
    missing: &str,
    request: impl FnOnce(&str) -> R,
) -> Result<R::Output, crate::server::http::outcome::FormError>
where
    R: stripe::StripeRequest,
    R::Output: miniserde::Deserialize + Clone + Send + Sync + 'static,
{
    use crate::server::http::outcome::{refused, FormError};
    let id = id.trim();
    if !id.starts_with(prefix) || id.len() > 255 {
        return Err(refused(missing));
    }
    match stripe.send(&request(id), None).await {
        Ok(object) => Ok(object),
        Err(e) if crate::server::stripe::client::api_error(&e).is_some_and(|(status, _)| status == 404) => {
            Err(refused(missing))
        }
        Err(e) => Err(FormError::Unexpected(anyhow::Error::from(e).context(format!("retrieving {id}")))),
    }
}

/// Where sync and fulfilment used to live, kept for callers outside the crate (the tests).
pub mod fulfil {
    pub use super::checkout::{fulfil_checkout_session, retrieve_session, Fulfilled};
    pub use super::subscriptions::{fetch_subscription, store_subscription, sync_subscription};
}

/// Every item of a paginated Stripe list: `page(starting_after)` fetches one page, `id` names
/// an item for the next page's cursor.
pub async fn all_pages<T, F, Fut>(mut page: F, id: fn(&T) -> String) -> anyhow::Result<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<stripe_types::List<T>>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let list = page(after.take()).await?;
        let next = if list.has_more { list.data.last().map(id) } else { None };
        items.extend(list.data);
        match next {
            Some(cursor) => after = Some(cursor),
            None => return Ok(items),
        }
    }
}
