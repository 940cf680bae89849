//! Per-client limits on the actions a script could repeat to cost us money or flood someone's
//! inbox: sign-up, Checkout Sessions, Customer Portal sessions, password-reset mail. A client is
//! its network: an IPv4 address, or an IPv6 /64 (one subscriber line holds a whole /64, so
//! counting single IPv6 addresses would count nothing).

use std::{
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
};

use sqlx::AnyPool;

use crate::server::db::rate_limits::{self, Quota};

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

/// Allowed actions per client network per hour.
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

/// Counts actions per client network in the database (`db::rate_limits`), so the limits hold
/// whichever instance a request reaches.
pub struct AbuseLimiter {
    pool: AnyPool,
    quotas: AbuseQuotas,
}

impl AbuseLimiter {
    pub fn new(pool: AnyPool, quotas: AbuseQuotas) -> Self {
        Self { pool, quotas }
    }

    /// Records one `action` by the client at `ip`; false when its network is over the limit.
    pub async fn allow(&self, action: Action, ip: IpAddr) -> anyhow::Result<bool> {
        self.allow_at(action, ip, crate::server::db::now()).await
    }

    async fn allow_at(&self, action: Action, ip: IpAddr, at: i64) -> anyhow::Result<bool> {
        let (scope, per_hour) = match action {
            Action::SignUp => ("sign-up", self.quotas.sign_up),
            Action::Checkout => ("checkout", self.quotas.checkout),
            Action::Portal => ("portal", self.quotas.portal),
            Action::PasswordReset => ("password-reset", self.quotas.password_reset),
        };
        let network = client_network(ip).to_string();
        rate_limits::hit(&self.pool, scope, &network, Quota::per_hour(per_hour.get()), at).await
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

    #[tokio::test]
    async fn each_action_has_its_own_budget_per_network() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let two = NonZeroU32::new(2).unwrap();
        let quotas = AbuseQuotas { sign_up: two, checkout: two, portal: two, password_reset: two };
        let limiter = AbuseLimiter::new(db.pool().clone(), quotas);
        let at = 1_800_000_000;
        let a: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::2".parse().unwrap();
        assert!(limiter.allow_at(Action::SignUp, a, at).await.unwrap());
        assert!(limiter.allow_at(Action::SignUp, same_64, at).await.unwrap());
        assert!(!limiter.allow_at(Action::SignUp, a, at).await.unwrap(), "the /64 spent its budget");
        assert!(limiter.allow_at(Action::Checkout, a, at).await.unwrap(), "another action, another budget");
        assert!(limiter.allow_at(Action::SignUp, "2001:db9::1".parse().unwrap(), at).await.unwrap(), "another network");
    }
}
