//! Fulfilment shared by the webhook worker and the Checkout success page (dual confirmation):
//! both re-fetch from Stripe and write the same rows under the same keys, so whichever comes
//! first does the work and the other changes nothing.

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_billing::subscription::RetrieveSubscription;
use stripe_checkout::checkout_session::RetrieveCheckoutSession;
use stripe_shared::{CheckoutSession, CheckoutSessionMode};

use super::subscriptions::{self, Change, SubscriptionRow};
use crate::server::stripe::client::StripeClient;

/// What a sync needs beside the subscription: the paying card, a scheduled change, and the
/// coupons that discount its MRR.
const SUBSCRIPTION_EXPAND: [&str; 4] = [
    "default_payment_method",
    "customer.invoice_settings.default_payment_method",
    "schedule",
    "discounts.source.coupon",
];

/// Re-fetches a subscription and rewrites its local row (with the MRR movement it implies).
pub async fn sync_subscription(
    pool: &AnyPool,
    stripe: &StripeClient,
    subscription_id: &str,
    cause: &str,
    occurred_at: i64,
    now: i64,
) -> anyhow::Result<Change> {
    let row = fetch_subscription(stripe, subscription_id).await?;
    let mut tx = crate::server::db::begin_write(pool).await.context("starting a transaction")?;
    let change = store_subscription(&mut tx, &row, cause, occurred_at, now).await?;
    tx.commit().await.context("committing the subscription")?;
    Ok(change)
}

/// The subscription as Stripe has it now, as the local row it becomes.
pub async fn fetch_subscription(stripe: &StripeClient, subscription_id: &str) -> anyhow::Result<SubscriptionRow> {
    let sub = stripe
        .send(&RetrieveSubscription::new(subscription_id).expand(SUBSCRIPTION_EXPAND.map(String::from).to_vec()), None)
        .await
        .with_context(|| format!("retrieving subscription {subscription_id}"))?;
    SubscriptionRow::from_stripe(&sub)
}

/// Writes a fetched subscription inside `tx` (so a caller can add its own rows, e.g. an audit
/// row, to the same transaction).
pub async fn store_subscription(
    tx: &mut Transaction<'static, Any>,
    row: &SubscriptionRow,
    cause: &str,
    occurred_at: i64,
    now: i64,
) -> anyhow::Result<Change> {
    let change = subscriptions::upsert(tx, row, cause, occurred_at, now).await?;
    if row.trial_end.is_some() {
        // A trial was given: never offer another to this customer.
        sqlx::query("UPDATE users SET had_trial = TRUE, updated_at = $1 WHERE stripe_customer_id = $2")
            .bind(now)
            .bind(&row.customer_id)
            .execute(&mut **tx)
            .await
            .context("recording that the customer had a trial")?;
    }
    Ok(change)
}

/// What a completed Checkout Session did for its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fulfilled {
    Subscription {
        user_id: Option<i64>,
        subscription_id: String,
    },
    Payment {
        user_id: Option<i64>,
        session_id: String,
        grant: super::entitlements::SessionGrant,
    },
    /// Not complete (or not paid) yet: nothing to do.
    NotReady,
}

pub async fn retrieve_session(stripe: &StripeClient, session_id: &str) -> anyhow::Result<CheckoutSession> {
    stripe
        .send(&RetrieveCheckoutSession::new(session_id), None)
        .await
        .with_context(|| format!("retrieving checkout session {session_id}"))
}

/// Links the session's Stripe customer to the user it was created for, then applies it.
pub async fn fulfil_checkout_session(
    pool: &AnyPool,
    stripe: &StripeClient,
    session: &CheckoutSession,
    cause: &str,
    now: i64,
) -> anyhow::Result<Fulfilled> {
    use stripe_shared::CheckoutSessionStatus;
    if session.status != Some(CheckoutSessionStatus::Complete) {
        return Ok(Fulfilled::NotReady);
    }
    let user_id = session.client_reference_id.as_deref().and_then(|id| id.parse::<i64>().ok());
    if let (Some(user_id), Some(customer)) = (user_id, &session.customer) {
        // Only fills a missing link: a user's Stripe customer never silently changes.
        sqlx::query(
            "UPDATE users SET stripe_customer_id = $1, updated_at = $2 \
             WHERE id = $3 AND stripe_customer_id IS NULL",
        )
        .bind(customer.id().as_str())
        .bind(now)
        .bind(user_id)
        .execute(pool)
        .await
        .context("linking the Stripe customer to the user")?;
    }
    match session.mode {
        CheckoutSessionMode::Subscription => {
            let subscription =
                session.subscription.as_ref().context("a completed subscription session has no subscription")?;
            let subscription_id = subscription.id().as_str().to_string();
            sync_subscription(pool, stripe, &subscription_id, cause, session.created, now).await?;
            Ok(Fulfilled::Subscription { user_id, subscription_id })
        }
        _ => {
            let grant = super::entitlements::grant_for_session(pool, stripe, session, user_id, now).await?;
            Ok(Fulfilled::Payment { user_id, session_id: session.id.as_str().to_string(), grant })
        }
    }
}
