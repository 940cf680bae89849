//! Two pauses, as Stripe has them. The customer's pause of their subscription (`POST
//! /v1/subscriptions/:id/pause`, when the catalog allows it): status `paused`, no access and no
//! invoices, the unused part of the period credited to the invoice that resumes it; resuming
//! starts a new period that day, paid before access returns. And the admin's pause of payment
//! collection (`pause_collection`): the subscription stays `active` with access (a grace
//! period), its invoices kept as drafts, written off or voided until collection resumes.

use anyhow::Context;
use serde::Serialize;
use stripe_billing::subscription::{
    PauseSubscription, ResumeSubscription, ResumeSubscriptionPaymentBehavior, UpdateSubscription,
    UpdateSubscriptionPauseCollection, UpdateSubscriptionPauseCollectionBehavior,
};
use stripe_client_core::{RequestBuilder, StripeMethod, StripeRequest};
use stripe_shared::Subscription;

use sqlx::AnyPool;

use super::card_update::CardApplied;
use super::subscriptions::{self, StoredSubscription};
use crate::domain::subscription::{CollectionPause, PauseBehavior, PauseReason, SubscriptionStatus};
use crate::server::db;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::stripe::client::StripeClient;
use crate::server::{db::users::User, state::AppState, stripe::idempotency::check_form_token};
use crate::views::format;

/// Whether `sub` is paused because its trial ended without a card: a card resumes it (not the
/// customer's resume button, which would charge no card).
pub fn awaits_card(sub: &StoredSubscription) -> bool {
    sub.status == SubscriptionStatus::Paused && sub.pause_reason == Some(PauseReason::TrialEndedWithoutCard)
}

/// A card was just saved (`setup` names the SetupIntent): if `customer`'s subscription is paused
/// for want of one ([`awaits_card`]), it is resumed, its first period charged to that card now.
/// `None` when there was nothing to resume. The return page and `setup_intent.succeeded` both
/// call it; the SetupIntent's key makes the second one get Stripe's first answer.
pub async fn resume_after_cardless_trial(
    pool: &AnyPool,
    stripe: &StripeClient,
    customer: &str,
    setup: &str,
) -> anyhow::Result<Option<CardApplied>> {
    let Some(sub) = subscriptions::current_subscription(pool, &customer.into()).await? else { return Ok(None) };
    if !awaits_card(&sub) {
        return Ok(None);
    }
    let resume = ResumeSubscription::new(sub.id.as_str())
        .payment_behavior(ResumeSubscriptionPaymentBehavior::ResumeOnPaymentSuccess);
    let resumed = stripe
        .send(&resume, Some(&format!("card-resume-{setup}")))
        .await
        .context("resuming the subscription the trial paused")?;
    let now = db::now();
    subscriptions::sync_subscription(pool, stripe, &resumed.id, &format!("card:{setup}"), now, now).await?;
    Ok(Some(if matches!(resumed.status, stripe_shared::SubscriptionStatus::Paused) {
        CardApplied::ResumeRefused
    } else {
        CardApplied::Resumed
    }))
}

/// Why a subscription cannot be paused by its customer now; `None` when it can.
pub fn why_not_pausable(sub: &StoredSubscription) -> Option<&'static str> {
    if sub.status == SubscriptionStatus::Paused {
        Some("Your subscription is already paused.")
    } else if sub.status != SubscriptionStatus::Active {
        Some("Only an active subscription can be paused.")
    } else if sub.cancel_at_period_end {
        Some("Your subscription is set to end: resume it before pausing it.")
    } else if sub.schedule_id.is_some() {
        // Stripe refuses to pause a subscription with a schedule attached.
        Some("A plan change is scheduled: cancel it (change plan back) before pausing.")
    } else if sub.collection_pause.is_some() {
        Some("Payments for your subscription are already paused.")
    } else {
        None
    }
}

/// The customer pauses their subscription from the confirm form carrying `token`.
pub async fn pause(state: &AppState, user: &User, token: &str) -> Result<Next, FormError> {
    check_form_token(token)?;
    if !state.prices.current().catalog.customers_can_pause {
        return Err(refused("Pausing a subscription is not offered."));
    }
    let sub = subscriptions::live_subscription(state, user).await?;
    if let Some(reason) = why_not_pausable(&sub) {
        return Err(refused(reason));
    }
    let key = format!("pause-{}-{token}", sub.id);
    send_pause(state, &sub, &key).await?;
    subscriptions::resync(state, &sub.id.as_str().into(), &format!("account:{key}")).await?;
    Ok(Next::Back(
        "Your subscription is paused. Nothing is charged until you resume it; the unused part of this period \
         is credited to that first payment."
            .into(),
    ))
}

/// Resumes a paused subscription in Stripe under `key` (the customer's, or the admin's for
/// them): a new period starts now and its invoice is charged; the subscription stays paused
/// unless it is paid. Returns the subscription as Stripe answered.
pub async fn send_resume(state: &AppState, sub: &StoredSubscription, key: &str) -> Result<Subscription, FormError> {
    if sub.status != SubscriptionStatus::Paused {
        return Err(refused("The subscription is not paused."));
    }
    let resume = ResumeSubscription::new(sub.id.as_str())
        .payment_behavior(ResumeSubscriptionPaymentBehavior::ResumeOnPaymentSuccess);
    Ok(state.stripe_client.send(&resume, Some(key)).await.context("resuming the subscription")?)
}

/// What a resume ended in, in words: active again, or still paused because the payment failed.
pub fn resume_outcome(resumed: &Subscription) -> Result<Next, FormError> {
    if matches!(resumed.status, stripe_shared::SubscriptionStatus::Paused) {
        return Err(refused(
            "The payment for the new period did not go through, so the subscription stays paused. \
             Change the card and try again.",
        ));
    }
    Ok(Next::Back(format!("The subscription is active again. It renews on {}.", renews_on(resumed))))
}

/// The customer resumes their paused subscription from the form carrying `token`.
pub async fn resume(state: &AppState, user: &User, token: &str) -> Result<Next, FormError> {
    check_form_token(token)?;
    let sub = subscriptions::live_subscription(state, user).await?;
    let key = format!("unpause-{}-{token}", sub.id);
    let resumed = send_resume(state, &sub, &key).await?;
    subscriptions::resync(state, &sub.id.as_str().into(), &format!("account:{key}")).await?;
    resume_outcome(&resumed)
}

fn renews_on(sub: &Subscription) -> String {
    sub.items.data.first().map(|item| format::day(item.current_period_end)).unwrap_or_default()
}

/// Pauses `sub` in Stripe (Stripe's defaults: the unused time credited as a pending invoice
/// item, the usage so far billed with it).
pub async fn send_pause(state: &AppState, sub: &StoredSubscription, key: &str) -> anyhow::Result<()> {
    state
        .stripe_client
        .send(&PauseSubscription::new(sub.id.as_str()), Some(key))
        .await
        .context("pausing the subscription")?;
    Ok(())
}

/// Pauses payment collection on `sub` in Stripe.
pub async fn send_collection_pause(
    state: &AppState,
    sub: &StoredSubscription,
    pause: CollectionPause,
    key: &str,
) -> anyhow::Result<()> {
    let behavior = match pause.behavior {
        PauseBehavior::KeepAsDraft => UpdateSubscriptionPauseCollectionBehavior::KeepAsDraft,
        PauseBehavior::MarkUncollectible => UpdateSubscriptionPauseCollectionBehavior::MarkUncollectible,
        PauseBehavior::Void => UpdateSubscriptionPauseCollectionBehavior::Void,
    };
    let mut collection = UpdateSubscriptionPauseCollection::new(behavior);
    collection.resumes_at = pause.resumes_at;
    let update = UpdateSubscription::new(sub.id.as_str()).pause_collection(collection);
    state.stripe_client.send(&update, Some(key)).await.context("pausing payment collection")?;
    Ok(())
}

/// Resumes payment collection on `sub` in Stripe.
pub async fn send_collection_resume(state: &AppState, sub: &StoredSubscription, key: &str) -> anyhow::Result<()> {
    let clear = ClearCollectionPause { subscription: sub.id.clone() };
    state.stripe_client.send(&clear, Some(key)).await.context("resuming payment collection")?;
    Ok(())
}

/// `POST /v1/subscriptions/:id` with `pause_collection=""`: Stripe's way to lift the pause,
/// which async-stripe's typed update cannot say (its field takes a pause, not an empty value).
struct ClearCollectionPause {
    subscription: String,
}

#[derive(Serialize)]
struct ClearForm {
    pause_collection: &'static str,
}

impl StripeRequest for ClearCollectionPause {
    type Output = Subscription;

    fn build(&self) -> RequestBuilder {
        RequestBuilder::new(StripeMethod::Post, format!("/subscriptions/{}", self.subscription))
            .form(&ClearForm { pause_collection: "" })
    }
}
