//! One-time purchases' entitlements: a payment-mode Checkout grants the catalog item's `grants`
//! key to the buyer, once per paying source; a full refund revokes it (the row stays, with why).

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_shared::{CheckoutSession, CheckoutSessionPaymentStatus};

use crate::domain::catalog::Catalog;
use crate::server::catalog;
use crate::server::stripe::client::StripeClient;

pub fn grants_of(catalog: &Catalog) -> Vec<(String, String)> {
    catalog.one_time.iter().filter_map(|item| item.grants.clone().map(|g| (item.price.lookup_key.clone(), g))).collect()
}

/// What the price with `lookup_key` grants, if it is a one-time item that grants anything.
pub fn grant_for_lookup_key(lookup_key: &str) -> Option<String> {
    let catalog = catalog::shipped()?;
    grants_of(catalog).into_iter().find(|(key, _)| key == lookup_key).map(|(_, grant)| grant)
}

pub struct Grant<'a> {
    pub user_id: i64,
    pub grant_key: &'a str,
    /// The PaymentIntent that paid, or the session when nothing was charged.
    pub source_id: &'a str,
    pub checkout_session_id: Option<&'a str>,
    pub payment_intent_id: Option<&'a str>,
}

/// Grants once per source; returns whether this call granted.
pub async fn grant(tx: &mut Transaction<'_, Any>, grant: &Grant<'_>, now: i64) -> anyhow::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO entitlements (user_id, grant_key, source_id, checkout_session_id, \
           payment_intent_id, granted_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (source_id) DO NOTHING",
    )
    .bind(grant.user_id)
    .bind(grant.grant_key)
    .bind(grant.source_id)
    .bind(grant.checkout_session_id)
    .bind(grant.payment_intent_id)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("granting {} to user {}", grant.grant_key, grant.user_id))?;
    Ok(result.rows_affected() == 1)
}

/// What a completed payment-mode session granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionGrant {
    /// Keys granted by this call (empty when an earlier delivery already granted them).
    Granted(Vec<String>),
    /// Not paid yet (a delayed payment method): `async_payment_succeeded` will come.
    Unpaid,
    /// No user to grant to, or nothing in the session grants anything.
    Nothing(String),
}

/// Grants what a completed payment-mode Checkout Session bought, once per paying source.
pub async fn grant_for_session(
    pool: &AnyPool,
    stripe: &StripeClient,
    session: &CheckoutSession,
    user_id: Option<i64>,
    now: i64,
) -> anyhow::Result<SessionGrant> {
    if !matches!(
        session.payment_status,
        CheckoutSessionPaymentStatus::Paid | CheckoutSessionPaymentStatus::NoPaymentRequired
    ) {
        return Ok(SessionGrant::Unpaid);
    }
    let session_id = session.id.as_str();
    let Some(user_id) = user_id else {
        return Ok(SessionGrant::Nothing(format!("session {session_id} names no user of ours")));
    };
    let lookup_keys = session_lookup_keys(stripe, session).await?;
    let grant_keys: Vec<String> = lookup_keys.iter().filter_map(|k| grant_for_lookup_key(k)).collect();
    if grant_keys.is_empty() {
        return Ok(SessionGrant::Nothing(format!("session {session_id} bought nothing that grants")));
    }
    let payment_intent = session.payment_intent.as_ref().map(|p| p.id().as_str().to_string());
    let mut granted = Vec::new();
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    if let Some(pi) = &payment_intent {
        // Against a refund of this payment being applied at the same moment (see sync_charge).
        crate::server::db::lock_key(&mut tx, &payment_lock(pi)).await.context("locking the payment")?;
    }
    for (i, key) in grant_keys.iter().enumerate() {
        // One source per grant: the paying PaymentIntent (what a refund names), suffixed when
        // one payment bought several grants.
        let base = payment_intent.as_deref().unwrap_or(session_id);
        let source = if i == 0 { base.to_string() } else { format!("{base}#{i}") };
        let g = Grant {
            user_id,
            grant_key: key,
            source_id: &source,
            checkout_session_id: Some(session_id),
            payment_intent_id: payment_intent.as_deref(),
        };
        if grant(&mut tx, &g, now).await? {
            granted.push(key.clone());
        }
    }
    if let (Some(pi), Some(paid)) = (&payment_intent, session.amount_total) {
        revoke_if_refunded(&mut tx, pi, paid, now).await?;
    }
    tx.commit().await.context("committing the grants")?;
    Ok(SessionGrant::Granted(granted))
}

/// The metadata key naming the one-time item (its price's lookup key) a PaymentIntent made by
/// the app's own payment page pays for.
pub const ITEM_METADATA: &str = "tollgate_item";

/// Grants what a PaymentIntent from the app's payment page bought, if it succeeded: the same
/// source (the PaymentIntent) a Checkout purchase uses, so the webhook and the return page both
/// call this and the second changes nothing. Returns the keys this call granted.
pub async fn grant_for_payment_intent(
    tx: &mut Transaction<'_, Any>,
    payment_intent: &stripe_shared::PaymentIntent,
    now: i64,
) -> anyhow::Result<Vec<String>> {
    let metadata = &payment_intent.metadata;
    let (Some(lookup_key), Some(user_id)) =
        (metadata.get(ITEM_METADATA), metadata.get("user_id").and_then(|id| id.parse::<i64>().ok()))
    else {
        return Ok(Vec::new());
    };
    if payment_intent.status != stripe_shared::PaymentIntentStatus::Succeeded {
        return Ok(Vec::new());
    }
    let Some(grant_key) = grant_for_lookup_key(lookup_key) else {
        return Ok(Vec::new());
    };
    let id = payment_intent.id.as_str();
    crate::server::db::lock_key(tx, &payment_lock(id)).await.context("locking the payment")?;
    let g =
        Grant { user_id, grant_key: &grant_key, source_id: id, checkout_session_id: None, payment_intent_id: Some(id) };
    let granted = grant(tx, &g, now).await?;
    revoke_if_refunded(tx, id, payment_intent.amount_received, now).await?;
    Ok(if granted { vec![grant_key] } else { Vec::new() })
}

/// The lookup keys of the prices a session sold (line items are only in an expanded retrieve).
async fn session_lookup_keys(stripe: &StripeClient, session: &CheckoutSession) -> anyhow::Result<Vec<String>> {
    let items = match &session.line_items {
        Some(items) => items.data.clone(),
        None => {
            let expanded = stripe
                .send(&RetrieveCheckoutSession::new(session.id.as_str()).expand(vec!["line_items".to_string()]), None)
                .await
                .with_context(|| format!("retrieving the line items of {}", session.id.as_str()))?;
            expanded.line_items.map(|l| l.data).unwrap_or_default()
        }
    };
    let mut keys: Vec<String> =
        items.iter().filter_map(|item| item.price.as_ref().and_then(|p| p.lookup_key.clone())).collect();
    if keys.is_empty() {
        // The app's own sessions also carry the lookup key in metadata.
        keys.extend(session.metadata.as_ref().and_then(|m| m.get("lookup_key")).cloned());
    }
    Ok(keys)
}

/// Revokes what the PaymentIntent paid for; returns how many grants this call revoked.
/// The lock key under which grants and refunds of one payment are written.
pub fn payment_lock(payment_intent_id: &str) -> String {
    format!("payment:{payment_intent_id}")
}

/// Revokes what a payment bought when its stored refunds already add up to what it paid: the
/// refund's events may be applied before the purchase's (webhooks come in any order).
pub async fn revoke_if_refunded(
    tx: &mut Transaction<'_, Any>,
    payment_intent_id: &str,
    amount_paid: i64,
    now: i64,
) -> anyhow::Result<u64> {
    let refunded: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM refunds \
         WHERE payment_intent_id = $1 AND status IN ('succeeded', 'pending')",
    )
    .bind(payment_intent_id)
    .fetch_one(&mut **tx)
    .await
    .with_context(|| format!("summing the refunds of {payment_intent_id}"))?;
    if amount_paid > 0 && refunded >= amount_paid {
        revoke_for_payment_intent(tx, payment_intent_id, "refunded", now).await
    } else {
        Ok(0)
    }
}

pub async fn revoke_for_payment_intent(
    tx: &mut Transaction<'_, Any>,
    payment_intent_id: &str,
    reason: &str,
    now: i64,
) -> anyhow::Result<u64> {
    let result = sqlx::query(
        "UPDATE entitlements SET revoked_at = $1, revoke_reason = $2 \
         WHERE payment_intent_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(reason)
    .bind(payment_intent_id)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("revoking grants paid by {payment_intent_id}"))?;
    Ok(result.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::test_db;

    #[test]
    fn the_shipped_catalog_grants_onboarding() {
        assert_eq!(grant_for_lookup_key("onboarding_once").as_deref(), Some("onboarding"));
        assert_eq!(grant_for_lookup_key("pro_monthly"), None);
    }

    async fn a_user(pool: &sqlx::AnyPool) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO users (email, password_hash, role, had_trial, created_at, updated_at) \
             VALUES ('a@b.co', 'x', 'customer', FALSE, 0, 0) RETURNING id",
        )
        .fetch_one(pool)
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn grants_once_per_source_and_revokes_once() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let user_id = a_user(&pool).await;
        let g = Grant {
            user_id,
            grant_key: "onboarding",
            source_id: "pi_1",
            checkout_session_id: Some("cs_1"),
            payment_intent_id: Some("pi_1"),
        };
        let mut tx = pool.begin().await.unwrap();
        assert!(grant(&mut tx, &g, 1).await.unwrap());
        assert!(!grant(&mut tx, &g, 2).await.unwrap(), "a second delivery grants nothing");
        assert_eq!(revoke_for_payment_intent(&mut tx, "pi_1", "refunded", 3).await.unwrap(), 1);
        assert_eq!(revoke_for_payment_intent(&mut tx, "pi_1", "refunded", 4).await.unwrap(), 0);
        tx.commit().await.unwrap();
        let (granted, revoked): (i64, Option<i64>) =
            sqlx::query_as("SELECT granted_at, revoked_at FROM entitlements WHERE source_id = 'pi_1'")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!((granted, revoked), (1, Some(3)));
    }

    #[tokio::test]
    async fn a_refund_stored_before_the_purchase_revokes_it_when_granted() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let user_id = a_user(&pool).await;
        let mut tx = pool.begin().await.unwrap();
        for (id, pi, amount) in [("re_1", "pi_full", 15_000), ("re_2", "pi_full", 4_900), ("re_3", "pi_part", 5_000)] {
            sqlx::query(
                "INSERT INTO refunds (id, payment_intent_id, amount, currency, status, created, synced_at) \
                 VALUES ($1, $2, $3, 'usd', 'succeeded', 0, 0)",
            )
            .bind(id)
            .bind(pi)
            .bind(amount)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        for pi in ["pi_full", "pi_part"] {
            let g = Grant {
                user_id,
                grant_key: "onboarding",
                source_id: pi,
                checkout_session_id: None,
                payment_intent_id: Some(pi),
            };
            assert!(grant(&mut tx, &g, 1).await.unwrap());
        }
        assert_eq!(revoke_if_refunded(&mut tx, "pi_full", 19_900, 2).await.unwrap(), 1, "refunded in full");
        assert_eq!(revoke_if_refunded(&mut tx, "pi_part", 19_900, 2).await.unwrap(), 0, "a partial refund");
        tx.commit().await.unwrap();
    }
}
