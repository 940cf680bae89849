//! Log-in attempt limits per client network (an IPv4 address, an IPv6 /64) and per email
//! (governor keyed limiters).

use std::{net::IpAddr, num::NonZeroU32};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// How many attempts are allowed per minute (the burst), refilled evenly.
#[derive(Debug, Clone, Copy)]
pub struct LoginQuotas {
    pub per_ip_per_minute: NonZeroU32,
    pub per_email_per_minute: NonZeroU32,
}

impl Default for LoginQuotas {
    fn default() -> Self {
        Self {
            per_ip_per_minute: NonZeroU32::new(20).expect("non-zero"),
            per_email_per_minute: NonZeroU32::new(5).expect("non-zero"),
        }
    }
}

pub struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_email: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    pub fn new(quotas: LoginQuotas) -> Self {
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(quotas.per_ip_per_minute)),
            per_email: RateLimiter::keyed(Quota::per_minute(quotas.per_email_per_minute)),
        }
    }

    /// Records an attempt; false when either the IP or the email is over its limit.
    /// `email_key` should be the normalised email (or the lower-cased input if it does not parse).
    pub fn allow(&self, ip: IpAddr, email_key: &str) -> bool {
        // Check both so each key's budget is charged for every attempt.
        let ip_ok = self.per_ip.check_key(&crate::server::http::abuse::client_network(ip)).is_ok();
        let email_ok = self.per_email.check_key(&email_key.to_owned()).is_ok();
        ip_ok && email_ok
    }

    /// Forgets keys whose budget is full again (keeps memory bounded).
    pub fn forget_idle_keys(&self) {
        self.per_ip.retain_recent();
        self.per_email.retain_recent();
        self.per_ip.shrink_to_fit();
        self.per_email.shrink_to_fit();
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(LoginQuotas::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    #[test]
    fn limits_per_email_across_ips() {
        let limiter = LoginLimiter::default();
        for n in 0..5 {
            assert!(limiter.allow(ip(n), "a@b.co"), "attempt {n}");
        }
        assert!(!limiter.allow(ip(99), "a@b.co"));
        assert!(limiter.allow(ip(99), "other@b.co"));
    }

    #[test]
    fn limits_per_ip_across_emails() {
        let limiter = LoginLimiter::default();
        for n in 0..20 {
            assert!(limiter.allow(ip(1), &format!("user{n}@b.co")), "attempt {n}");
        }
        assert!(!limiter.allow(ip(1), "fresh@b.co"));
        assert!(limiter.allow(ip(2), "fresh@b.co"));
    }
}
