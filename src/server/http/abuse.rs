//! Per-client limits on the actions a script could repeat to cost us money or flood someone's
//! inbox: sign-up, Checkout Sessions, Customer Portal sessions, password-reset mail. A client is
//! its network: an IPv4 address, or an IPv6 /64 (one subscriber line holds a whole /64, so
//! counting single IPv6 addresses would count nothing).

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The actions limited per client network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SignUp,
    Checkout,
    Portal,
    PasswordReset,
}

impl Action {
    /// What the refusal says.
    pub fn refusal(self) -> &'static str {
        match self {
            Action::SignUp => "Too many sign-ups from your network. Try again later.",
            Action::Checkout => "Too many checkouts started from your network. Try again later.",
            Action::Portal => "Too many billing portal visits from your network. Try again later.",
            Action::PasswordReset => "Too many password resets asked for from your network. Try again later.",
        }
    }
}

/// Allowed actions per client network per hour (the burst), refilled evenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbuseQuotas {
    pub sign_up: NonZeroU32,
    pub checkout: NonZeroU32,
    pub portal: NonZeroU32,
    pub password_reset: NonZeroU32,
}

impl Default for AbuseQuotas {
    fn default() -> Self {
        let n = |n| NonZeroU32::new(n).expect("non-zero");
        Self { sign_up: n(20), checkout: n(60), portal: n(60), password_reset: n(10) }
    }
}

pub struct AbuseLimiter {
    sign_up: DefaultKeyedRateLimiter<IpAddr>,
    checkout: DefaultKeyedRateLimiter<IpAddr>,
    portal: DefaultKeyedRateLimiter<IpAddr>,
    password_reset: DefaultKeyedRateLimiter<IpAddr>,
}

impl AbuseLimiter {
    pub fn new(quotas: AbuseQuotas) -> Self {
        let keyed = |per_hour| RateLimiter::keyed(Quota::per_hour(per_hour));
        Self {
            sign_up: keyed(quotas.sign_up),
            checkout: keyed(quotas.checkout),
            portal: keyed(quotas.portal),
            password_reset: keyed(quotas.password_reset),
        }
    }

    /// Records one `action` by the client at `ip`; false when its network is over the limit.
    pub fn allow(&self, action: Action, ip: IpAddr) -> bool {
        let limiter = match action {
            Action::SignUp => &self.sign_up,
            Action::Checkout => &self.checkout,
            Action::Portal => &self.portal,
            Action::PasswordReset => &self.password_reset,
        };
        limiter.check_key(&client_network(ip)).is_ok()
    }

    /// Forgets networks whose budget is full again (keeps memory bounded).
    pub fn forget_idle_keys(&self) {
        for limiter in [&self.sign_up, &self.checkout, &self.portal, &self.password_reset] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// The key a client is counted under: IPv4 as is (IPv4-mapped IPv6 included), IPv6 by its /64.
pub fn client_network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_network(a), client_network(b));
        assert_ne!(client_network(a), client_network(other));
        assert_eq!(client_network(a), "2001:db8:1:2::".parse::<IpAddr>().unwrap());
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(client_network(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn each_action_has_its_own_budget_per_network() {
        let one = NonZeroU32::new(2).unwrap();
        let limiter = AbuseLimiter::new(AbuseQuotas { sign_up: one, checkout: one, portal: one, password_reset: one });
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::2".parse().unwrap();
        assert!(limiter.allow(Action::SignUp, a));
        assert!(limiter.allow(Action::SignUp, same_64));
        assert!(!limiter.allow(Action::SignUp, a), "the /64 spent its budget");
        assert!(limiter.allow(Action::Checkout, a), "another action, another budget");
        assert!(limiter.allow(Action::SignUp, "2001:db9::1".parse().unwrap()), "another network");
    }
}
