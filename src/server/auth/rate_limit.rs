//! Log-in attempt limits per client network (an IPv4 address, an IPv6 /64) and per email,
//! counted in the database so every instance shares them.

use std::net::IpAddr;

use sqlx::AnyPool;

use crate::server::db::{
    now,
    rate_limits::{self, Quota},
};

/// How many attempts are allowed per minute.
#[derive(Debug, Clone, Copy)]
pub struct LoginQuotas {
    pub per_ip_per_minute: u32,
    pub per_email_per_minute: u32,
}

impl Default for LoginQuotas {
    fn default() -> Self {
        Self { per_ip_per_minute: 20, per_email_per_minute: 5 }
    }
}

pub struct LoginLimiter {
    pool: AnyPool,
    quotas: LoginQuotas,
}

impl LoginLimiter {
    pub fn new(pool: AnyPool, quotas: LoginQuotas) -> Self {
        Self { pool, quotas }
    }

    /// Records an attempt; false when either the IP or the email is over its limit.
    /// `email_key` should be the normalised email (or the lower-cased input if it does not parse).
    pub async fn allow(&self, ip: IpAddr, email_key: &str) -> anyhow::Result<bool> {
        self.allow_at(ip, email_key, now()).await
    }

    async fn allow_at(&self, ip: IpAddr, email_key: &str, at: i64) -> anyhow::Result<bool> {
        let network = crate::server::http::abuse::client_network(ip).to_string();
        // Count both, so each key's budget is charged for every attempt.
        let ip_ok =
            rate_limits::hit(&self.pool, "login-ip", &network, Quota::per_minute(self.quotas.per_ip_per_minute), at)
                .await?;
        let email_quota = Quota::per_minute(self.quotas.per_email_per_minute);
        let email_ok = rate_limits::hit(&self.pool, "login-email", email_key, email_quota, at).await?;
        Ok(ip_ok && email_ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, n])
    }

    const AT: i64 = 1_800_000_000;

    #[tokio::test]
    async fn limits_per_email_across_ips() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let limiter = LoginLimiter::new(db.pool().clone(), LoginQuotas::default());
        for n in 0..5 {
            assert!(limiter.allow_at(ip(n), "a@b.co", AT).await.unwrap(), "attempt {n}");
        }
        assert!(!limiter.allow_at(ip(99), "a@b.co", AT).await.unwrap());
        assert!(limiter.allow_at(ip(99), "other@b.co", AT).await.unwrap());
    }

    #[tokio::test]
    async fn limits_per_ip_across_emails() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let limiter = LoginLimiter::new(db.pool().clone(), LoginQuotas::default());
        for n in 0..20 {
            assert!(limiter.allow_at(ip(1), &format!("user{n}@b.co"), AT).await.unwrap(), "attempt {n}");
        }
        assert!(!limiter.allow_at(ip(1), "fresh@b.co", AT).await.unwrap());
        assert!(limiter.allow_at(ip(2), "fresh@b.co", AT).await.unwrap());
    }
}
