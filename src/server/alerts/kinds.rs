//! The table of alert kinds: what each measures, in which unit, against which threshold, and
//! where an admin looks first.

use anyhow::Context;
use sqlx::AnyPool;

use super::{rate, refusals, AlertThresholds, Reading};
use crate::server::stripe::client::StripeClient;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    PaymentFailureRate,
    DeadLetters,
    WebhookLag,
    MailLag,
    /// The usage outbox (meter events not yet in Stripe).
    UsageLag,
    RefusedWebhooks,
    StripeUnreachable,
}

/// Every kind, in the order emails and gauges list them.
pub const KINDS: [AlertKind; 7] = [
    AlertKind::PaymentFailureRate,
    AlertKind::DeadLetters,
    AlertKind::WebhookLag,
    AlertKind::MailLag,
    AlertKind::UsageLag,
    AlertKind::RefusedWebhooks,
    AlertKind::StripeUnreachable,
];

/// How a kind's integer value reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    BasisPoints,
    Count,
    Seconds,
}

impl Unit {
    /// The value as the gauge shows it: percent for a rate, else as is.
    pub fn display(self, value: i64) -> f64 {
        match self {
            Unit::BasisPoints => value as f64 / 100.0,
            Unit::Count | Unit::Seconds => value as f64,
        }
    }

    /// The value in an email.
    pub fn describe(self, value: i64) -> String {
        match self {
            Unit::BasisPoints => format!("{}.{:02}%", value / 100, value % 100),
            Unit::Count => value.to_string(),
            Unit::Seconds => crate::views::format::duration(value),
        }
    }
}

/// Payment statuses that count as an attempt that failed: a card was tried and refused. A
/// PaymentIntent waiting for its first try (an open Checkout) is not an attempt.
const FAILED_ATTEMPT: &str = "failure_code IS NOT NULL AND status <> 'succeeded'";

impl AlertKind {
    /// The `kind` label and the incidents table's value.
    pub fn name(self) -> &'static str {
        match self {
            Self::PaymentFailureRate => "payment_failure_rate",
            Self::DeadLetters => "webhook_dead_letters",
            Self::WebhookLag => "webhook_outbox_lag",
            Self::MailLag => "mail_outbox_lag",
            Self::UsageLag => "usage_outbox_lag",
            Self::RefusedWebhooks => "webhook_refused_signatures",
            Self::StripeUnreachable => "stripe_unreachable",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::PaymentFailureRate => "Payment failure rate",
            Self::DeadLetters => "Dead-lettered webhook events",
            Self::WebhookLag => "Webhook events waiting",
            Self::MailLag => "Emails waiting",
            Self::UsageLag => "Usage events waiting for Stripe",
            Self::RefusedWebhooks => "Webhook deliveries refused (bad signature)",
            Self::StripeUnreachable => "Stripe unreachable",
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Self::PaymentFailureRate => Unit::BasisPoints,
            Self::DeadLetters | Self::RefusedWebhooks => Unit::Count,
            Self::WebhookLag | Self::MailLag | Self::UsageLag | Self::StripeUnreachable => Unit::Seconds,
        }
    }

    /// Where an admin looks first (a path on the app).
    pub fn page(self) -> &'static str {
        match self {
            Self::PaymentFailureRate => "/admin/payments",
            Self::DeadLetters | Self::WebhookLag => "/admin/events",
            Self::MailLag => "/admin/mail",
            Self::UsageLag => "/admin/usage",
            Self::RefusedWebhooks | Self::StripeUnreachable => "/admin/status",
        }
    }

    /// What to check, for the email.
    pub fn advice(self) -> &'static str {
        match self {
            Self::PaymentFailureRate => "Look at the decline reasons of the failed payments.",
            Self::DeadLetters => "Fix the cause in the event's error, then replay it.",
            Self::WebhookLag => "Is the app's webhook worker running, or Stripe failing the retries?",
            Self::MailLag => "Is the mail server (SMTP_URL) reachable and accepting the sender?",
            Self::UsageLag => "Is Stripe answering, and is the usage worker running? Failed rows show their error.",
            Self::RefusedWebhooks => {
                "Was the endpoint's signing secret rotated? Put the new one in STRIPE_WEBHOOK_SECRET."
            }
            Self::StripeUnreachable => "Check Stripe's status page and this server's network.",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        KINDS.into_iter().find(|k| k.name() == name)
    }

    /// The threshold in the kind's unit.
    pub fn threshold(self, t: &AlertThresholds) -> i64 {
        match self {
            Self::PaymentFailureRate => t.payment_failure_rate_percent * 100,
            Self::DeadLetters => t.dead_letters,
            Self::WebhookLag | Self::MailLag | Self::UsageLag => t.outbox_lag_secs,
            Self::RefusedWebhooks => t.refused_webhooks_per_hour,
            Self::StripeUnreachable => t.stripe_unreachable_secs,
        }
    }

    pub async fn measure(
        self,
        pool: &AnyPool,
        stripe: &StripeClient,
        t: &AlertThresholds,
        now: i64,
    ) -> anyhow::Result<Reading> {
        let threshold = self.threshold(t);
        let at_or_above = |value: i64| Reading { kind: self, value, threshold, firing: value >= threshold };
        Ok(match self {
            Self::PaymentFailureRate => {
                let (failed, attempted): (i64, i64) = sqlx::query_as(&format!(
                    "SELECT CAST(COALESCE(SUM(CASE WHEN {FAILED_ATTEMPT} THEN 1 ELSE 0 END), 0) AS BIGINT), \
                       CAST(COUNT(*) AS BIGINT) \
                     FROM payments WHERE created >= $1 AND (status = 'succeeded' OR {FAILED_ATTEMPT})"
                ))
                .bind(now - t.payment_window_hours * 3_600)
                .fetch_one(pool)
                .await
                .context("counting payment attempts")?;
                Reading {
                    kind: self,
                    value: rate::basis_points(failed, attempted),
                    threshold,
                    firing: rate::fires(failed, attempted, t.payment_min_attempts, t.payment_failure_rate_percent),
                }
            }
            Self::DeadLetters => at_or_above(
                sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE status = 'dead'")
                    .fetch_one(pool)
                    .await
                    .context("counting dead events")?,
            ),
            Self::WebhookLag => at_or_above(
                oldest_age(
                    pool,
                    "SELECT MIN(received_at) FROM webhook_events WHERE status IN ('pending', 'retrying')",
                    now,
                )
                .await?,
            ),
            Self::MailLag => {
                at_or_above(oldest_age(pool, "SELECT MIN(created_at) FROM emails WHERE status = 'pending'", now).await?)
            }
            Self::UsageLag => at_or_above(crate::server::usage::health::lag_secs(pool, now).await?),
            Self::RefusedWebhooks => at_or_above(refusals::in_last_hour(pool, now).await?),
            Self::StripeUnreachable => at_or_above(stripe.unanswered_secs(now)),
        })
    }
}

/// Seconds since the oldest time `query` finds; 0 when it finds none.
async fn oldest_age(pool: &AnyPool, query: &str, now: i64) -> anyhow::Result<i64> {
    let oldest: Option<i64> =
        sqlx::query_scalar(query).fetch_one(pool).await.context("reading the oldest waiting row")?;
    Ok(oldest.map_or(0, |t| (now - t).max(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_parse_back() {
        for kind in KINDS {
            assert_eq!(AlertKind::parse(kind.name()), Some(kind));
        }
        let names: std::collections::HashSet<_> = KINDS.iter().map(|k| k.name()).collect();
        assert_eq!(names.len(), KINDS.len());
    }

    #[test]
    fn values_read_in_their_unit() {
        assert_eq!(Unit::BasisPoints.describe(1_250), "12.50%");
        assert_eq!(Unit::BasisPoints.display(505), 5.05);
        assert_eq!(Unit::Seconds.describe(301), "5 min");
    }

    #[tokio::test]
    async fn the_failure_rate_counts_tried_payments_of_the_window_only() {
        let (_dir, db) = crate::server::db::test_db(true).await;
        let pool = db.pool();
        let now = 1_800_000_000;
        let rows = [
            ("pi_ok", "succeeded", None, now - 60),
            ("pi_declined", "requires_payment_method", Some("card_declined"), now - 60),
            ("pi_open_checkout", "requires_payment_method", None, now - 60),
            ("pi_old_failure", "requires_payment_method", Some("card_declined"), now - 25 * 3_600),
        ];
        for (id, status, code, created) in rows {
            sqlx::query(
                "INSERT INTO payments (id, amount, currency, status, failure_code, created, synced_at) \
                 VALUES ($1, 100, 'usd', $2, $3, $4, $4)",
            )
            .bind(id)
            .bind(status)
            .bind(code)
            .bind(created)
            .execute(pool)
            .await
            .unwrap();
        }
        let stripe = StripeClient::new(&"sk_test_x".to_owned().into(), Some("http://127.0.0.1:9")).unwrap();
        let t = AlertThresholds { payment_min_attempts: 2, ..AlertThresholds::default() };
        let reading = AlertKind::PaymentFailureRate.measure(pool, &stripe, &t, now).await.unwrap();
        assert_eq!((reading.value, reading.firing), (5_000, true), "one of two tried in the last day");
        let t = AlertThresholds { payment_min_attempts: 3, ..t };
        let reading = AlertKind::PaymentFailureRate.measure(pool, &stripe, &t, now).await.unwrap();
        assert_eq!((reading.value, reading.firing), (5_000, false), "too few attempts to fire");
    }
}
