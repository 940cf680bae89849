//! What the customer's billing buttons do: Subscribe and Buy (Checkout), the Checkout success
//! page's confirmation, cancel and resume, Manage billing (the Customer Portal). Each checks
//! who is asking, calls Stripe with an idempotency key, and applies the result locally at once
//! through the same idempotent sync the webhook worker uses.

use anyhow::Context;
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_billing::subscription::UpdateSubscription;
use stripe_billing::subscription_schedule::ReleaseSubscriptionSchedule;

use super::account::{self, StoredSubscription};
use super::{checkout, fulfil};
use crate::domain::catalog::BillingInterval;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::{db, db::users::User, state::AppState};
use crate::views::billing::CheckoutOutcome;
use crate::views::format;

async fn customer_of(state: &AppState, user: &User) -> anyhow::Result<String> {
    checkout::ensure_customer(state.db.pool(), &state.stripe_client, user.id, user.email.as_ref(), db::now()).await
}

/// Subscribe: a Checkout Session in subscription mode for the plan at that interval.
pub async fn subscribe(
    state: &AppState,
    user: &User,
    plan: &str,
    interval: BillingInterval,
) -> Result<Next, FormError> {
    let Some(price) = state.prices.plan_price(plan, interval) else {
        return Err(refused(format!("There is no {plan:?} plan billed {}.", format::interval_words(interval))));
    };
    if let Some(current) = account::subscription_of(state.db.pool(), user).await? {
        if current.is_live() {
            // A second subscription would bill twice: change the plan instead.
            return Ok(Next::Redirect(format!(
                "/account/plan/preview?plan={}&interval={}",
                price.plan.key,
                interval.as_str()
            )));
        }
    }
    let trial_days = price.plan.trial_days.filter(|_| !user.had_trial);
    start_checkout(state, user, price.price_id, &price.spec.lookup_key, true, trial_days).await
}

/// Buy a one-time item: a Checkout Session in payment mode.
pub async fn buy(state: &AppState, user: &User, item: &str) -> Result<Next, FormError> {
    let Some((item, price_id)) = state.prices.one_time(item) else {
        return Err(refused(format!("There is no item {item:?} for sale.")));
    };
    start_checkout(state, user, price_id, &item.price.lookup_key, false, None).await
}

async fn start_checkout(
    state: &AppState,
    user: &User,
    price_id: &str,
    lookup_key: &str,
    recurring: bool,
    trial_days: Option<u32>,
) -> Result<Next, FormError> {
    let customer = customer_of(state, user).await?;
    let request = checkout::CheckoutRequest {
        user_id: user.id,
        customer_id: &customer,
        price_id,
        lookup_key,
        recurring,
        trial_days,
        app_url: state.config.app_url.as_str(),
        now: db::now(),
    };
    let session = checkout::create_session(&state.stripe_client, &request).await?;
    Ok(Next::Redirect(session.url.context("Stripe returned a Checkout Session without a URL")?))
}

/// The success page's half of the dual confirmation: the session must be this user's; then the
/// same fulfilment as the webhook runs (whichever comes second changes nothing).
pub async fn confirm_checkout(state: &AppState, user: &User, session_id: &str) -> Result<CheckoutOutcome, FormError> {
    if !session_id.starts_with("cs_") {
        return Err(refused("That is not a Checkout Session."));
    }
    let session = fulfil::retrieve_session(&state.stripe_client, session_id).await.map_err(|_| {
        // Unknown ids and Stripe errors alike: nothing to show, nothing to leak.
        refused("We could not find that checkout.")
    })?;
    let owner = session.client_reference_id.as_deref().and_then(|id| id.parse::<i64>().ok());
    if owner != Some(user.id) {
        return Err(refused("This checkout belongs to another account."));
    }
    let cause = format!("checkout-success:{session_id}");
    match fulfil::fulfil_checkout_session(state.db.pool(), &state.stripe_client, &session, &cause, db::now()).await? {
        fulfil::Fulfilled::Subscription { .. } => {
            let refreshed = crate::server::db::users::find_by_id(state.db.pool(), user.id)
                .await?
                .context("the user disappeared")?;
            let sub = account::subscription_of(state.db.pool(), &refreshed).await?;
            let name = sub
                .as_ref()
                .and_then(|s| state.prices.plan_of(s.lookup_key.as_deref(), &s.price_id))
                .map(|(plan, _)| plan.name.clone())
                .unwrap_or_else(|| "new".to_string());
            let headline = match sub.map(|s| s.status) {
                Some(crate::domain::subscription::SubscriptionStatus::Trialing) => {
                    format!("Your {name} trial has started.")
                }
                _ => format!("Your {name} plan is active."),
            };
            Ok(CheckoutOutcome { headline, pending: false })
        }
        fulfil::Fulfilled::Payment { .. } => {
            Ok(CheckoutOutcome { headline: "Thank you: your purchase is complete.".into(), pending: false })
        }
        fulfil::Fulfilled::NotReady => Ok(CheckoutOutcome {
            headline: "We are waiting for your payment to complete. This page will show it once it has.".into(),
            pending: true,
        }),
    }
}

/// The subscription a cancel/resume/change acts on: the user's live one.
pub async fn live_subscription(state: &AppState, user: &User) -> Result<StoredSubscription, FormError> {
    match account::subscription_of(state.db.pool(), user).await? {
        Some(sub) if sub.is_live() => Ok(sub),
        _ => Err(refused("You have no subscription to change.")),
    }
}

/// Re-reads the subscription from Stripe and stores it, so the page shows the change at once.
pub async fn resync(state: &AppState, subscription_id: &str, cause: &str) -> anyhow::Result<()> {
    let now = db::now();
    fulfil::sync_subscription(state.db.pool(), &state.stripe_client, subscription_id, cause, now, now).await?;
    Ok(())
}

/// Drops a schedule's pending change (a scheduled downgrade), leaving the subscription as is.
pub async fn release_schedule(state: &AppState, sub: &StoredSubscription) -> anyhow::Result<()> {
    if let Some(schedule) = &sub.schedule_id {
        state
            .stripe_client
            .send(&ReleaseSubscriptionSchedule::new(schedule.as_str()), Some(&format!("release-{schedule}")))
            .await
            .context("releasing the subscription schedule")?;
    }
    Ok(())
}

/// Cancel at the end of the period (`true`), or resume a pending cancellation (`false`).
pub async fn set_cancel_at_period_end(state: &AppState, user: &User, cancel: bool) -> Result<Next, FormError> {
    let sub = live_subscription(state, user).await?;
    if sub.cancel_at_period_end == cancel {
        let already =
            if cancel { "Your subscription is already set to end." } else { "Your subscription is not canceled." };
        return Ok(Next::Back(already.into()));
    }
    // The key names the intent and the period: a double click sends one request.
    let key = format!("{}-{}-{}", if cancel { "cancel" } else { "resume" }, sub.id, sub.current_period_end);
    send_cancel_at_period_end(state, &sub, cancel, &key).await?;
    resync(state, &sub.id, &format!("account:{key}")).await?;
    let message = if cancel {
        format!("Your subscription is canceled. You keep access until {}.", format::day(sub.current_period_end))
    } else {
        "Your subscription continues: it will renew as before.".to_string()
    };
    Ok(Next::Back(message))
}

/// Sets (`true`) or clears `cancel_at_period_end` on `sub` in Stripe under idempotency key `key`.
pub async fn send_cancel_at_period_end(
    state: &AppState,
    sub: &StoredSubscription,
    cancel: bool,
    key: &str,
) -> anyhow::Result<()> {
    if cancel {
        // A scheduled plan change would otherwise renew the subscription on its next phase.
        release_schedule(state, sub).await?;
    }
    let update = UpdateSubscription::new(sub.id.as_str()).cancel_at_period_end(cancel);
    state.stripe_client.send(&update, Some(key)).await.context("updating the subscription")?;
    Ok(())
}

/// Manage billing: a Customer Portal session returning to /account.
pub async fn portal(state: &AppState, user: &User) -> Result<Next, FormError> {
    let customer = customer_of(state, user).await?;
    let return_url = format!("{}/account", state.config.app_url.as_str().trim_end_matches('/'));
    let create = CreateBillingPortalSession::new().customer(customer).return_url(return_url);
    let session = state.stripe_client.send(&create, None).await.context("creating a portal session")?;
    Ok(Next::Redirect(session.url))
}
