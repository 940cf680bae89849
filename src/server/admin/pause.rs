//! The admin's pauses of a customer's subscription, audited like a plan change: pause payment
//! collection (a grace period: still active, access kept; invoices kept as drafts, written off
//! or voided) and resume it; and resume a subscription that is paused (the customer's own pause,
//! or a trial that ended without a card). The form's token is the Stripe idempotency key and
//! the audit row's request key.

use stripe_shared::{CustomerId, SubscriptionId};

use super::audit::Actor;
use super::plan_change::{already_done, prepare};
use crate::domain::subscription::{CollectionPause, PauseBehavior, SubscriptionStatus};
use crate::server::billing::pause;
use crate::server::http::outcome::{refused, FormError, Next};
use crate::server::state::AppState;
use crate::views::format;

/// What the admin asked for, parsed from the form.
pub struct PauseRequest {
    pub pause: CollectionPause,
}

impl PauseRequest {
    /// `behavior` is one of Stripe's three; `resumes_on` an optional `YYYY-MM-DD` (UTC midnight)
    /// after `now`.
    pub fn parse(behavior: &str, resumes_on: Option<&str>, now: i64) -> Result<Self, FormError> {
        let behavior: PauseBehavior =
            behavior.trim().parse().map_err(|_| refused("Choose what happens to the invoices while paused."))?;
        let resumes_at = match resumes_on.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(day) => {
                let at = utc_midnight(day).ok_or_else(|| refused("The resume date must be a date like 2027-01-31."))?;
                if at <= now {
                    return Err(refused("The resume date must be in the future."));
                }
                Some(at)
            }
        };
        Ok(Self { pause: CollectionPause { behavior, resumes_at } })
    }
}

/// `YYYY-MM-DD` → unix seconds at 00:00 UTC that day.
pub(crate) fn utc_midnight(day: &str) -> Option<i64> {
    let mut parts = day.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

/// Pauses payment collection.
pub async fn pause_collection(
    state: &AppState,
    actor: &Actor,
    customer_id: &CustomerId,
    subscription_id: &SubscriptionId,
    request: PauseRequest,
    token: &str,
) -> Result<Next, FormError> {
    let Some(prepared) = prepare(state, customer_id, subscription_id, "pause-collection", token).await? else {
        return Ok(already_done());
    };
    if prepared.sub.status == SubscriptionStatus::Paused {
        return Err(refused("The subscription is paused: resume it first."));
    }
    pause::send_collection_pause(state, &prepared.sub, request.pause, &prepared.key).await?;
    prepared.record(state, actor, customer_id, subscription_id, "subscription.pause_collection").await?;
    let until = request.pause.resumes_at.map(|at| format!(" until {}", format::day(at))).unwrap_or_default();
    Ok(Next::Back(format!(
        "Payments are paused{until} ({}). The customer keeps access.",
        request.pause.behavior.describe().to_lowercase()
    )))
}

/// Lifts a pause of payment collection: the next invoices are charged again.
pub async fn resume_collection(
    state: &AppState,
    actor: &Actor,
    customer_id: &CustomerId,
    subscription_id: &SubscriptionId,
    token: &str,
) -> Result<Next, FormError> {
    let Some(prepared) = prepare(state, customer_id, subscription_id, "resume-collection", token).await? else {
        return Ok(already_done());
    };
    if prepared.sub.collection_pause.is_none() {
        return Err(refused("Payments for this subscription are not paused."));
    }
    pause::send_collection_resume(state, &prepared.sub, &prepared.key).await?;
    prepared.record(state, actor, customer_id, subscription_id, "subscription.resume_collection").await?;
    Ok(Next::Back("Payments are collected again from the next invoice.".into()))
}

/// Resumes a paused subscription for the customer: a new period starts now, charged to their card.
pub async fn resume_paused(
    state: &AppState,
    actor: &Actor,
    customer_id: &CustomerId,
    subscription_id: &SubscriptionId,
    token: &str,
) -> Result<Next, FormError> {
    let Some(prepared) = prepare(state, customer_id, subscription_id, "unpause", token).await? else {
        return Ok(already_done());
    };
    let resumed = pause::send_resume(state, &prepared.sub, &prepared.key).await?;
    // Audited (and stored) whatever Stripe answered to the payment: the resume was asked for.
    prepared.record(state, actor, customer_id, subscription_id, "subscription.unpause").await?;
    pause::resume_outcome(&resumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000; // 2026-09-21

    #[test]
    fn a_pause_request_parses_the_behavior_and_a_future_day() {
        let request = PauseRequest::parse("void", Some("2027-01-31"), NOW).unwrap();
        assert_eq!(request.pause.behavior, PauseBehavior::Void);
        assert_eq!(request.pause.resumes_at, Some(1_801_353_600));
        let open_ended = PauseRequest::parse(" keep_as_draft ", Some(" "), NOW).unwrap();
        assert_eq!(open_ended.pause, CollectionPause { behavior: PauseBehavior::KeepAsDraft, resumes_at: None });
    }

    #[test]
    fn a_pause_request_refuses_what_stripe_would() {
        for (behavior, day) in [
            ("pause", None),
            ("", None),
            ("void", Some("2026-02-30")),
            ("void", Some("31/01/2027")),
            ("void", Some("2026-09-01")),
        ] {
            assert!(
                matches!(PauseRequest::parse(behavior, day, NOW), Err(FormError::Refused(_))),
                "{behavior:?} {day:?}"
            );
        }
    }
}
