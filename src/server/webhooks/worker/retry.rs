//! How failed events are retried: exponential backoff, then the dead letter.

/// Attempts before an event is dead-lettered, unless `WEBHOOK_MAX_ATTEMPTS` says otherwise.
pub const MAX_ATTEMPTS: i64 = 8;
/// First retry after this many seconds, doubling each time (30 s … about an hour), unless
/// `WEBHOOK_RETRY_SECS` says otherwise.
pub const FIRST_RETRY_SECS: i64 = 30;

/// How failed events are retried: `max_attempts` tries in all, the first retry after
/// `first_retry_secs`, each wait doubling the last.
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
        self.first_retry_secs.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1))
    }
}

/// Seconds until the next try after `attempts` failed ones, under the default policy.
#[cfg(test)]
pub fn backoff_secs(attempts: i64) -> i64 {
    RetryPolicy::default().backoff_secs(attempts)
}
