//! Billing: Stripe customers, Checkout, and the local projections of subscriptions, invoices,
//! payments, refunds, disputes, entitlements and prices.

pub mod account;
pub mod actions;
pub mod catalog_events;
pub mod checkout;
pub mod customers;
pub mod disputes;
pub mod emails;
pub mod entitlements;
pub mod fulfil;
pub mod invoices;
pub mod payments;
pub mod plan_change;
pub mod price_book;
pub mod refunds;
pub mod subscriptions;

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
