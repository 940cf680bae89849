//! Which user an imported Stripe customer belongs to. `metadata.user_id` first (tollgate puts
//! it on every customer it creates, and only the Stripe account's owner can set it), when that
//! user exists and has no other customer; else a user with the customer's email, only when the
//! user has verified that address (an unverified sign-up could otherwise claim someone else's
//! billing history) and has no customer yet; else none: the customer is stored unlinked and
//! listed at the end.

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_shared::Customer;

use super::report::Report;
use crate::server::billing::customers::{self, CustomerRow};

/// How a customer was linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// A user already had this customer (an earlier import, or tollgate created it).
    Already,
    ByMetadata,
    ByEmail,
    None,
}

/// Links the customer to its user (when one is found) and stores it as the webhook path does.
pub async fn store(
    tx: &mut Transaction<'static, Any>,
    customer: &Customer,
    report: &mut Report,
    now: i64,
) -> anyhow::Result<()> {
    match link(tx, customer, now).await? {
        Link::ByMetadata => report.links.by_metadata += 1,
        Link::ByEmail => report.links.by_email += 1,
        Link::None => report.unlinked.push((customer.id.as_str().to_string(), customer.email.clone())),
        Link::Already => {}
    }
    customers::store_in(tx, &CustomerRow::from_stripe(customer), now).await?;
    Ok(())
}

async fn link(tx: &mut Transaction<'static, Any>, customer: &Customer, now: i64) -> anyhow::Result<Link> {
    let id = customer.id.as_str();
    let linked: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE stripe_customer_id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .context("finding the customer's user")?;
    if linked.is_some() {
        return Ok(Link::Already);
    }
    let by_metadata = customer.metadata.as_ref().and_then(|m| m.get("user_id")).and_then(|v| v.parse::<i64>().ok());
    if let Some(user_id) = by_metadata {
        if set_customer(tx, "id = $3", user_id, id, now).await? {
            return Ok(Link::ByMetadata);
        }
    }
    if let Some(email) = customer.email.as_deref().map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty()) {
        if set_customer(tx, "LOWER(email) = $3 AND email_verified_at IS NOT NULL", email, id, now).await? {
            return Ok(Link::ByEmail);
        }
    }
    Ok(Link::None)
}

/// Gives the customer to the user `matching` (with `$3` bound to `value`) when that user has none.
async fn set_customer<V>(
    tx: &mut Transaction<'static, Any>,
    matching: &str,
    value: V,
    customer_id: &str,
    now: i64,
) -> anyhow::Result<bool>
where
    V: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Send,
{
    let done = sqlx::query(&format!(
        "UPDATE users SET stripe_customer_id = $1, updated_at = $2 \
         WHERE id = (SELECT id FROM users WHERE {matching} AND stripe_customer_id IS NULL ORDER BY id LIMIT 1)"
    ))
    .bind(customer_id)
    .bind(now)
    .bind(value)
    .execute(&mut **tx)
    .await
    .context("linking the customer to its user")?;
    Ok(done.rows_affected() > 0)
}

/// Every stored customer without a user, with Stripe's email.
pub async fn unlinked(pool: &AnyPool) -> anyhow::Result<Vec<(String, Option<String>)>> {
    sqlx::query_as("SELECT id, email FROM customers WHERE user_id IS NULL AND NOT deleted ORDER BY id")
        .fetch_all(pool)
        .await
        .context("listing unlinked customers")
}
