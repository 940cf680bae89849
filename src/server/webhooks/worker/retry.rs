//! How failed events are retried: exponential backoff over about three days, as Stripe retries a
//! delivery, then the dead letter.

/// Attempts before an event is dead-lettered, unless `WEBHOOK_MAX_ATTEMPTS` says otherwise: with
/// the default waits, the last one is about three days after the first.
pub const MAX_ATTEMPTS: i64 = 21;
/// First retry after this many seconds, doubling each time up to [`MAX_WAIT_SECS`], unless
/// `WEBHOOK_RETRY_SECS` says otherwise.
pub const FIRST_RETRY_SECS: i64 = 60;
/// The longest wait between two tries.
pub const MAX_WAIT_SECS: i64 = 6 * 3600;

/// How failed events are retried: `max_attempts` tries in all, the first retry after
/// `first_retry_secs`, each wait doubling the last, up to six hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i64,
    pub first_retry_secs: i64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: MAX_ATTEMPTS, first_retry_secs: FIRST_RETRY_SECS }
    }
}

impl RetryPolicy {
    /// Seconds until the next try after `attempts` failed ones.
    pub fn backoff_secs(&self, attempts: i64) -> i64 {
        let doubled = self.first_retry_secs.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1));
        doubled.min(MAX_WAIT_SECS.max(self.first_retry_secs))
    }
}

/// Seconds until the next try after `attempts` failed ones, under the default policy.
#[cfg(test)]
pub fn backoff_secs(attempts: i64) -> i64 {
    RetryPolicy::default().backoff_secs(attempts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_spreads_retries_over_about_three_days_as_stripe_does() {
        let policy = RetryPolicy::default();
        let waits: Vec<i64> = (1..policy.max_attempts).map(|attempts| policy.backoff_secs(attempts)).collect();
        let span: i64 = waits.iter().sum();
        assert!((3 * 86_400..=4 * 86_400).contains(&span), "the last try {span} s after the first");
        assert_eq!(waits[0], 60);
        assert_eq!(*waits.iter().max().unwrap(), MAX_WAIT_SECS, "no wait longer than six hours");
    }

    #[test]
    fn a_short_policy_stays_short() {
        let policy = RetryPolicy { max_attempts: 3, first_retry_secs: 1 };
        assert_eq!((policy.backoff_secs(1), policy.backoff_secs(2)), (1, 2));
    }
}
