//! Stripe customers as last retrieved, for pages that show the card on file. A deleted customer
//! is marked, and its user unlinked so the next purchase creates a fresh one. A user's customer is
//! created on first need (at sign-up, else at the first purchase).

use std::collections::HashMap;

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_core::customer::{CreateCustomer, RetrieveCustomer, RetrieveCustomerReturned};
use stripe_shared::{Customer, CustomerId};

use crate::server::stripe::client::StripeClient;
use crate::server::{db, db::users::User, state::AppState};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerRow {
    pub id: String,
    pub email: Option<String>,
    pub pm_brand: Option<String>,
    pub pm_last4: Option<String>,
    pub pm_exp_month: Option<i64>,
    pub pm_exp_year: Option<i64>,
}

impl CustomerRow {
    pub fn from_stripe(customer: &Customer) -> Self {
        let card =
            customer.invoice_settings.as_ref().and_then(|s| s.default_payment_method.as_ref()).and_then(
                |pm| match pm {
                    stripe_types::Expandable::Object(pm) => pm.card.as_ref(),
                    stripe_types::Expandable::Id(_) => None,
                },
            );
        Self {
            id: customer.id.as_str().to_string(),
            email: customer.email.clone(),
            pm_brand: card.map(|c| c.brand.clone()),
            pm_last4: card.map(|c| c.last4.clone()),
            pm_exp_month: card.map(|c| c.exp_month),
            pm_exp_year: card.map(|c| c.exp_year),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synced {
    /// Stored; `ours` when a user is linked to it.
    Stored {
        ours: bool,
    },
    Deleted {
        ours: bool,
    },
}

/// A customer as Stripe has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Customer(CustomerRow),
    Deleted,
}

/// What a stored customer needs expanded: its default card.
pub const CARD_EXPAND: &str = "invoice_settings.default_payment_method";

/// Re-fetches the customer (with its default card); writes nothing.
pub async fn fetch(stripe: &StripeClient, customer_id: &CustomerId) -> anyhow::Result<Fetched> {
    let retrieve = RetrieveCustomer::new(customer_id).expand(vec![CARD_EXPAND.to_string()]);
    let fetched = stripe.send(&retrieve, None).await.with_context(|| format!("retrieving customer {customer_id}"))?;
    Ok(match fetched {
        RetrieveCustomerReturned::Customer(customer) => Fetched::Customer(CustomerRow::from_stripe(&customer)),
        RetrieveCustomerReturned::DeletedCustomer(_) => Fetched::Deleted,
    })
}

/// Stores what [`fetch`] found, in `tx`.
pub async fn store_fetched(
    tx: &mut Transaction<'_, Any>,
    customer_id: &CustomerId,
    fetched: &Fetched,
    now: i64,
) -> anyhow::Result<Synced> {
    Ok(match fetched {
        Fetched::Customer(row) => Synced::Stored { ours: store_in(tx, row, now).await? },
        Fetched::Deleted => Synced::Deleted { ours: mark_deleted_in(tx, customer_id, now).await? },
    })
}

async fn user_of(tx: &mut Transaction<'_, Any>, customer_id: &str) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM users WHERE stripe_customer_id = $1")
        .bind(customer_id)
        .fetch_optional(&mut **tx)
        .await
        .context("finding the customer's user")
}

/// Returns whether the customer is one of ours.
#[cfg(test)]
pub async fn store(pool: &AnyPool, row: &CustomerRow, now: i64) -> anyhow::Result<bool> {
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    let ours = store_in(&mut tx, row, now).await?;
    tx.commit().await.context("committing the customer")?;
    Ok(ours)
}

/// [`store`], in the caller's transaction.
pub async fn store_in(tx: &mut Transaction<'_, Any>, row: &CustomerRow, now: i64) -> anyhow::Result<bool> {
    let user_id = user_of(tx, &row.id).await?;
    sqlx::query(
        "INSERT INTO customers (id, user_id, email, pm_brand, pm_last4, pm_exp_month, pm_exp_year, \
           deleted, synced_at) VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8) \
         ON CONFLICT (id) DO UPDATE SET user_id = COALESCE(excluded.user_id, customers.user_id), \
           email = excluded.email, pm_brand = excluded.pm_brand, pm_last4 = excluded.pm_last4, \
           pm_exp_month = excluded.pm_exp_month, pm_exp_year = excluded.pm_exp_year, \
           synced_at = excluded.synced_at \
         WHERE NOT customers.deleted",
    )
    .bind(&row.id)
    .bind(user_id)
    .bind(row.email.as_deref())
    .bind(row.pm_brand.as_deref())
    .bind(row.pm_last4.as_deref())
    .bind(row.pm_exp_month)
    .bind(row.pm_exp_year)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("storing customer {}", row.id))?;
    Ok(user_id.is_some())
}

/// Deleted is final: later (older) updates never bring the customer back.
#[cfg(test)]
pub async fn mark_deleted(pool: &AnyPool, customer_id: &CustomerId, now: i64) -> anyhow::Result<bool> {
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    let ours = mark_deleted_in(&mut tx, customer_id, now).await?;
    tx.commit().await.context("committing the deletion")?;
    Ok(ours)
}

/// [`mark_deleted`], in the caller's transaction.
pub async fn mark_deleted_in(
    tx: &mut Transaction<'_, Any>,
    customer_id: &CustomerId,
    now: i64,
) -> anyhow::Result<bool> {
    let user_id = user_of(tx, customer_id).await?;
    sqlx::query(
        "INSERT INTO customers (id, user_id, deleted, synced_at) VALUES ($1, $2, TRUE, $3) \
         ON CONFLICT (id) DO UPDATE SET deleted = TRUE, \
           user_id = COALESCE(excluded.user_id, customers.user_id), synced_at = excluded.synced_at",
    )
    .bind(customer_id.as_str())
    .bind(user_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("marking customer {customer_id} deleted"))?;
    if let Some(user_id) = user_id {
        sqlx::query("UPDATE users SET stripe_customer_id = NULL, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(&mut **tx)
            .await
            .context("unlinking the deleted customer")?;
    }
    Ok(user_id.is_some())
}

/// The user's Stripe customer id, creating the customer (metadata `user_id`) on first need.
pub async fn ensure_customer(
    pool: &AnyPool,
    stripe: &StripeClient,
    user_id: i64,
    email: &str,
    now: i64,
) -> anyhow::Result<String> {
    let existing: Option<String> = sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(pool)
        .await
        .with_context(|| format!("reading user {user_id}"))?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let create =
        CreateCustomer::new().email(email).metadata(HashMap::from([("user_id".to_string(), user_id.to_string())]));
    // One customer per user, even when two requests race here.
    let customer = stripe
        .send(&create, Some(&format!("customer-for-user-{user_id}")))
        .await
        .context("creating the Stripe customer")?;
    sqlx::query(
        "UPDATE users SET stripe_customer_id = $1, updated_at = $2 \
         WHERE id = $3 AND stripe_customer_id IS NULL",
    )
    .bind(customer.id.as_str())
    .bind(now)
    .bind(user_id)
    .execute(pool)
    .await
    .context("storing the Stripe customer id")?;
    Ok(customer.id.as_str().to_string())
}

/// Creates the Stripe customer of a user who just verified their address (not at sign-up: the
/// sign-up form must take as long for a taken address as for a new one). A Stripe outage must
/// not refuse the verification: the customer is then created at the first Subscribe instead
/// (`ensure_customer` is idempotent).
pub async fn create_customer_at_verification(state: &AppState, user: &User) {
    let created = ensure_customer(state.db.pool(), &state.stripe_client, user.id, user.email.as_ref(), db::now()).await;
    if let Err(error) = created {
        tracing::warn!(
            user_id = user.id,
            error = format!("{error:#}"),
            "Stripe customer not created at verification; will retry at checkout"
        );
    }
}

/// The user's Stripe customer id (see [`ensure_customer`]).
pub async fn customer_of(state: &AppState, user: &User) -> anyhow::Result<String> {
    ensure_customer(state.db.pool(), &state.stripe_client, user.id, user.email.as_ref(), db::now()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::test_db;

    #[tokio::test]
    async fn a_deleted_customer_unlinks_its_user_and_stays_deleted() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        sqlx::query(
            "INSERT INTO users (email, password_hash, role, had_trial, stripe_customer_id, created_at, updated_at) \
             VALUES ('a@b.co', 'x', 'customer', FALSE, 'cus_1', 0, 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let row = CustomerRow { id: "cus_1".into(), pm_last4: Some("4242".into()), ..Default::default() };
        assert!(store(&pool, &row, 1).await.unwrap());
        assert!(mark_deleted(&pool, &"cus_1".into(), 2).await.unwrap());
        // An older update applied late does not resurrect it.
        store(&pool, &row, 3).await.unwrap();
        let (deleted, user_id): (i64, Option<i64>) =
            sqlx::query_as("SELECT CAST(deleted AS INTEGER), user_id FROM customers WHERE id = 'cus_1'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(deleted, 1);
        assert!(user_id.is_some(), "the row remembers whose it was");
        let link: Option<String> =
            sqlx::query_scalar("SELECT stripe_customer_id FROM users").fetch_one(&pool).await.unwrap();
        assert_eq!(link, None);
    }
}
