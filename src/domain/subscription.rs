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

    /// Whether a subscription in this status can give access at all. Past-due keeps access only
    /// until the paid period ends: see [`has_access`].
    #[cfg(test)]
    pub fn grants_access(self) -> bool {
        matches!(self, Self::Active | Self::Trialing | Self::PastDue)
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

/// The access rule: active and trialing subscriptions grant access (a pending cancellation keeps
/// the status active until the period ends); past-due keeps access until the paid period ends.
pub fn has_access(status: SubscriptionStatus, current_period_end: i64, now: i64) -> bool {
    match status {
        SubscriptionStatus::Active | SubscriptionStatus::Trialing => true,
        SubscriptionStatus::PastDue => now < current_period_end,
        _ => false,
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

    #[test]
    fn only_active_trialing_and_past_due_grant_access() {
        let granting: Vec<_> = SubscriptionStatus::ALL.into_iter().filter(|s| s.grants_access()).collect();
        assert_eq!(granting, [SubscriptionStatus::Trialing, SubscriptionStatus::Active, SubscriptionStatus::PastDue]);
    }

    #[test]
    fn past_due_keeps_access_until_the_period_ends() {
        assert!(has_access(SubscriptionStatus::PastDue, 1_000, 999));
        assert!(!has_access(SubscriptionStatus::PastDue, 1_000, 1_000));
        assert!(has_access(SubscriptionStatus::Active, 1_000, 5_000));
        assert!(!has_access(SubscriptionStatus::Canceled, 1_000, 10));
        assert!(!has_access(SubscriptionStatus::Unpaid, 1_000, 10));
        assert!(!has_access(SubscriptionStatus::Incomplete, 1_000, 10));
    }
}
