//! Starting a payment: the user's Stripe customer, and Checkout Sessions for plans (subscription
//! mode) and one-time items (payment mode).

use std::collections::HashMap;

use anyhow::Context;
use sqlx::AnyPool;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_core::customer::CreateCustomer;
use stripe_shared::{CheckoutSession, CheckoutSessionMode};

use crate::server::stripe::client::StripeClient;

/// Checkout Session idempotency keys are bucketed by this many seconds: a double click (or a
/// retried request) reuses one session, a deliberate retry later gets a fresh one.
const CHECKOUT_KEY_BUCKET_SECS: i64 = 300;

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

/// Creates the new user's Stripe customer. A Stripe outage must not refuse the sign-up: the
/// customer is then created at the first Subscribe instead (`ensure_customer` is idempotent).
pub async fn create_customer_at_sign_up(state: &crate::server::state::AppState, user: &crate::server::db::users::User) {
    let created =
        ensure_customer(state.db.pool(), &state.stripe_client, user.id, user.email.as_ref(), crate::server::db::now())
            .await;
    if let Err(error) = created {
        tracing::warn!(
            user_id = user.id,
            error = format!("{error:#}"),
            "Stripe customer not created at sign-up; will retry at checkout"
        );
    }
}

pub struct CheckoutRequest<'a> {
    pub user_id: i64,
    pub customer_id: &'a str,
    pub price_id: &'a str,
    pub lookup_key: &'a str,
    /// Subscription mode when true, payment mode for one-time items.
    pub recurring: bool,
    /// Only offered when the user never had a trial.
    pub trial_days: Option<u32>,
    pub app_url: &'a str,
    pub now: i64,
}

pub async fn create_session(stripe: &StripeClient, request: &CheckoutRequest<'_>) -> anyhow::Result<CheckoutSession> {
    let metadata = HashMap::from([
        ("user_id".to_string(), request.user_id.to_string()),
        ("lookup_key".to_string(), request.lookup_key.to_string()),
    ]);
    let base = request.app_url.trim_end_matches('/');
    let line_item = CreateCheckoutSessionLineItems {
        price: Some(request.price_id.to_string()),
        quantity: Some(1),
        ..Default::default()
    };
    let mut create = CreateCheckoutSession::new()
        .customer(request.customer_id)
        .client_reference_id(request.user_id.to_string())
        .line_items(vec![line_item])
        .metadata(metadata.clone())
        .allow_promotion_codes(true)
        .success_url(format!("{base}/checkout/success?session_id={{CHECKOUT_SESSION_ID}}"))
        .cancel_url(format!("{base}/pricing"));
    if request.recurring {
        let mut data = CreateCheckoutSessionSubscriptionData { metadata: Some(metadata), ..Default::default() };
        data.trial_period_days = request.trial_days;
        create = create.mode(CheckoutSessionMode::Subscription).subscription_data(data);
    } else {
        create = create.mode(CheckoutSessionMode::Payment);
    }
    let key = format!(
        "checkout-{}-{}-{}-{}",
        request.user_id,
        request.price_id,
        request.trial_days.unwrap_or(0),
        request.now / CHECKOUT_KEY_BUCKET_SECS
    );
    stripe.send(&create, Some(&key)).await.context("creating the Checkout Session")
}
