//! Subscription status, mirroring Stripe's, and the access rule built on it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Stripe's subscription statuses, closed: no page compares status strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Incomplete,
    IncompleteExpired,
    Trialing,
    Active,
    PastDue,
    Canceled,
    Unpaid,
    Paused,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown subscription status {0:?}")]
pub struct UnknownStatus(pub String);

impl SubscriptionStatus {
    pub const ALL: [SubscriptionStatus; 8] = [
        Self::Incomplete,
        Self::IncompleteExpired,
        Self::Trialing,
        Self::Active,
        Self::PastDue,
        Self::Canceled,
        Self::Unpaid,
        Self::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Incomplete => "incomplete",
            Self::IncompleteExpired => "incomplete_expired",
            Self::Trialing => "trialing",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
            Self::Unpaid => "unpaid",
            Self::Paused => "paused",
        }
    }

    /// Words for people, not Stripe's identifiers.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Incomplete => "Waiting for the first payment",
            Self::IncompleteExpired => "Expired before the first payment",
            Self::Trialing => "On a free trial",
            Self::Active => "Active",
            Self::PastDue => "Payment overdue",
            Self::Canceled => "Canceled",
            Self::Unpaid => "Unpaid",
            Self::Paused => "Paused",
        }
    }

    /// Statuses after which Stripe never changes the subscription again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Canceled | Self::IncompleteExpired)
    }
}

impl FromStr for SubscriptionStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str() == s).ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

impl fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What Stripe does with the invoices of a subscription whose payment collection is paused
/// (`pause_collection.behavior`). The subscription stays `active` meanwhile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseBehavior {
    /// Invoices stay drafts, to be collected later.
    KeepAsDraft,
    /// Invoices are finalized and written off.
    MarkUncollectible,
    /// Invoices are finalized and voided.
    Void,
}

impl PauseBehavior {
    pub const ALL: [PauseBehavior; 3] = [Self::KeepAsDraft, Self::MarkUncollectible, Self::Void];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::KeepAsDraft => "keep_as_draft",
            Self::MarkUncollectible => "mark_uncollectible",
            Self::Void => "void",
        }
    }

    /// Words for the admin's form and the customer's page.
    pub fn describe(self) -> &'static str {
        match self {
            Self::KeepAsDraft => "Invoices kept as drafts, to collect later",
            Self::MarkUncollectible => "Invoices marked uncollectible",
            Self::Void => "Invoices voided",
        }
    }
}

impl FromStr for PauseBehavior {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|b| b.as_str() == s).ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// A pause of payment collection (`pause_collection`): until `resumes_at` (when set) Stripe
/// invoices as `behavior` says and charges nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionPause {
    pub behavior: PauseBehavior,
    pub resumes_at: Option<i64>,
}

/// What the access rule reads of a subscription, as Stripe last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccessFacts {
    pub status: SubscriptionStatus,
    pub current_period_end: i64,
    /// Canceled at the period's end (`cancel_at_period_end`): paid up to then, not after.
    pub cancel_pending: bool,
    /// When the first payment that is still failing was attempted (set while past due).
    pub first_failed_payment_at: Option<i64>,
}

/// Why a subscription is paused: Stripe's `status_details.paused.subscription.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseReason {
    /// The customer asked (or the admin for them): they resume it.
    Requested,
    /// Its trial ended without a payment method (`missing_payment_method=pause`): adding a card
    /// resumes it.
    TrialEndedWithoutCard,
    /// Another of Stripe's reasons (a payment failure, Stripe itself).
    Other,
}

impl PauseReason {
    /// Reads Stripe's word for it.
    pub fn from_stripe(reason: &str) -> Self {
        match reason {
            "pause_requested" => Self::Requested,
            "trial_end_without_payment_method" => Self::TrialEndedWithoutCard,
            _ => Self::Other,
        }
    }
}

/// How long a past-due subscription keeps access after its first failed payment, by default.
/// Not "until the period ends": on Stripe a renewal fails at the start of the next period.
pub const DEFAULT_PAST_DUE_GRACE_SECS: i64 = 7 * 86_400;

/// The access rule, the one place that decides it: active and trialing subscriptions grant
/// access (a pending cancellation until the period ends); past-due keeps access for `grace_secs`
/// from the first failed payment (none when that time is unknown); paused, unpaid, canceled and
/// incomplete subscriptions grant nothing. Two pauses, two answers, as Stripe means them: a
/// paused *subscription* (status `paused`: the customer's pause, or a trial that ended without a
/// card) has no access and no invoices; a pause of *payment collection* (`pause_collection`)
/// leaves the status `active` and the access on, a grace period the business grants.
pub fn has_access(facts: &AccessFacts, grace_secs: i64, now: i64) -> bool {
    use SubscriptionStatus as S;
    let within_paid_period = !facts.cancel_pending || now < facts.current_period_end;
    match facts.status {
        S::Active | S::Trialing => within_paid_period,
        S::PastDue => within_paid_period && facts.first_failed_payment_at.is_some_and(|at| now < at + grace_secs),
        S::Incomplete | S::IncompleteExpired | S::Canceled | S::Unpaid | S::Paused => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_stripe_name() {
        for status in SubscriptionStatus::ALL {
            assert_eq!(status.as_str().parse::<SubscriptionStatus>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert!("Active".parse::<SubscriptionStatus>().is_err());
        assert!("".parse::<SubscriptionStatus>().is_err());
    }

    /// Every status × past-due grace (inside, after, unknown) × cancel-pending (before and after
    /// the period's end): the expected answer is written out per row, not derived.
    #[test]
    fn the_access_rule_over_every_status_grace_and_pending_cancellation() {
        use SubscriptionStatus as S;
        const GRACE: i64 = 7 * 86_400;
        const FAILED_AT: i64 = 1_000_000;
        const PERIOD_END: i64 = FAILED_AT + 30 * 86_400;
        let inside_grace = FAILED_AT + GRACE - 1;
        let after_grace = FAILED_AT + GRACE;
        let after_period = PERIOD_END + 1;
        // (status, cancel pending, first failure known, now, access)
        let table: &[(S, bool, bool, i64, bool)] = &[
            (S::Active, false, false, inside_grace, true),
            (S::Active, false, false, after_period, true),
            (S::Active, true, false, PERIOD_END - 1, true),
            (S::Active, true, false, PERIOD_END, false),
            (S::Trialing, false, false, after_period, true),
            (S::Trialing, true, false, PERIOD_END - 1, true),
            (S::Trialing, true, false, after_period, false),
            (S::PastDue, false, true, FAILED_AT, true),
            (S::PastDue, false, true, inside_grace, true),
            (S::PastDue, false, true, after_grace, false),
            (S::PastDue, false, false, inside_grace, false),
            (S::PastDue, true, true, inside_grace, true),
            (S::PastDue, true, true, after_grace, false),
            (S::PastDue, true, true, after_period, false),
            (S::Paused, false, false, inside_grace, false),
            (S::Paused, false, true, inside_grace, false),
            (S::Paused, true, false, PERIOD_END - 1, false),
            (S::Unpaid, false, true, inside_grace, false),
            (S::Unpaid, true, true, inside_grace, false),
            (S::Canceled, false, false, inside_grace, false),
            (S::Canceled, true, true, inside_grace, false),
            (S::Incomplete, false, false, inside_grace, false),
            (S::Incomplete, false, true, inside_grace, false),
            (S::IncompleteExpired, false, false, inside_grace, false),
            (S::IncompleteExpired, true, true, inside_grace, false),
        ];
        for status in S::ALL {
            assert!(table.iter().any(|row| row.0 == status), "{status} has no row");
        }
        for &(status, cancel_pending, failure_known, now, expected) in table {
            let facts = AccessFacts {
                status,
                current_period_end: PERIOD_END,
                cancel_pending,
                first_failed_payment_at: failure_known.then_some(FAILED_AT),
            };
            assert_eq!(has_access(&facts, GRACE, now), expected, "{facts:?} at {now}");
        }
    }

    #[test]
    fn every_pause_behavior_round_trips_through_its_stripe_name() {
        for behavior in PauseBehavior::ALL {
            assert_eq!(behavior.as_str().parse::<PauseBehavior>(), Ok(behavior));
        }
        assert!("pause".parse::<PauseBehavior>().is_err());
        assert!("Void".parse::<PauseBehavior>().is_err());
    }

    #[test]
    fn a_longer_grace_keeps_a_past_due_subscription_longer() {
        let facts = AccessFacts {
            status: SubscriptionStatus::PastDue,
            current_period_end: 10_000_000,
            cancel_pending: false,
            first_failed_payment_at: Some(0),
        };
        let day = 86_400;
        assert!(!has_access(&facts, 3 * day, 3 * day));
        assert!(has_access(&facts, 14 * day, 3 * day));
        assert_eq!(DEFAULT_PAST_DUE_GRACE_SECS, 7 * day);
    }
}
