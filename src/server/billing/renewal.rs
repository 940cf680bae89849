//! Cancel at the end of the period, and resume: the customer's own (from /account) and the
//! admin's go through the same Stripe calls.

use anyhow::Context;
use stripe_billing::subscription::UpdateSubscription;
use stripe_billing::subscription_schedule::ReleaseSubscriptionSchedule;

use super::subscriptions::{self, StoredSubscription};
use crate::server::http::outcome::{FormError, Next};
use crate::server::{db::users::User, state::AppState, stripe::idempotency::check_form_token};
use crate::views::format;

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

/// Cancel at the end of the period (`true`), or resume a pending cancellation (`false`), from
/// the form carrying `token`: that submission reaches Stripe once, however often it is sent, and
/// the next form (a new token) reaches it again. The message says what Stripe now holds.
pub async fn set_cancel_at_period_end(
    state: &AppState,
    user: &User,
    cancel: bool,
    token: &str,
) -> Result<Next, FormError> {
    check_form_token(token)?;
    let sub = subscriptions::live_subscription(state, user).await?;
    if sub.cancel_at_period_end == cancel {
        let already =
            if cancel { "Your subscription is already set to end." } else { "Your subscription is not canceled." };
        return Ok(Next::Back(already.into()));
    }
    let key = format!("{}-{}-{token}", if cancel { "cancel" } else { "resume" }, sub.id);
    send_cancel_at_period_end(state, &sub, cancel, &key).await?;
    subscriptions::resync(state, &sub.id.as_str().into(), &format!("account:{key}")).await?;
    let now = subscriptions::live_subscription(state, user).await?;
    let message = if now.cancel_at_period_end {
        format!("Your subscription is canceled. You keep access until {}.", format::day(now.current_period_end))
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
