//! Operational alerts: a table of kinds (`kinds.rs`), each measured from the database (or the
//! Stripe client's last answers), compared with its threshold from the configuration, and turned
//! into incidents (`incidents.rs`): one email to every admin when a kind starts firing, one when
//! it stops, however many evaluations or instances see it. The leader evaluates periodically
//! (`job.rs`); `/metrics` shows every kind's value and whether it is open.

pub mod incidents;
pub mod job;
pub mod kinds;
pub mod rate;
pub mod refusals;

use anyhow::Context;
use sqlx::AnyPool;

pub use kinds::{AlertKind, Unit, KINDS};

use crate::server::stripe::client::StripeClient;

/// When each kind fires (at or above), from `ALERT_*` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertThresholds {
    /// `ALERT_PAYMENT_FAILURE_RATE_PERCENT`: failed payments among the attempted ones.
    pub payment_failure_rate_percent: i64,
    /// `ALERT_PAYMENT_MIN_ATTEMPTS`: below this many attempts in the window the rate never fires
    /// (one failure out of one is not a trend).
    pub payment_min_attempts: i64,
    /// `ALERT_PAYMENT_WINDOW_HOURS`: how far back the rate looks.
    pub payment_window_hours: i64,
    /// `ALERT_DEAD_LETTERS`: dead-lettered webhook events waiting for a person.
    pub dead_letters: i64,
    /// `ALERT_OUTBOX_LAG_SECS`: the age of the oldest webhook event or email still waiting.
    pub outbox_lag_secs: i64,
    /// `ALERT_REFUSED_WEBHOOKS_PER_HOUR`: deliveries refused for a signature no secret matches.
    pub refused_webhooks_per_hour: i64,
    /// `ALERT_STRIPE_UNREACHABLE_SECS`: how long Stripe has failed every request.
    pub stripe_unreachable_secs: i64,
    /// `ALERT_CHECK_INTERVAL_SECS`: how often the leader evaluates.
    pub check_interval_secs: i64,
}

impl Default for AlertThresholds {
    fn default() -> Self {
        Self {
            payment_failure_rate_percent: 5,
            payment_min_attempts: 20,
            payment_window_hours: 24,
            dead_letters: 1,
            outbox_lag_secs: 300,
            refused_webhooks_per_hour: 5,
            stripe_unreachable_secs: 120,
            check_interval_secs: 30,
        }
    }
}

/// One kind's measurement: its current value and whether it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub kind: AlertKind,
    pub value: i64,
    pub threshold: i64,
    pub firing: bool,
}

/// Measures every kind as of `now`.
pub async fn measure(
    pool: &AnyPool,
    stripe: &StripeClient,
    thresholds: &AlertThresholds,
    now: i64,
) -> anyhow::Result<Vec<Reading>> {
    let mut readings = Vec::with_capacity(KINDS.len());
    for kind in KINDS {
        let reading =
            kind.measure(pool, stripe, thresholds, now).await.with_context(|| format!("measuring {}", kind.name()))?;
        readings.push(reading);
    }
    Ok(readings)
}

/// Measures, then opens and resolves incidents; what changed, for the log.
pub async fn evaluate(
    pool: &AnyPool,
    stripe: &StripeClient,
    thresholds: &AlertThresholds,
    app_url: &str,
    now: i64,
) -> anyhow::Result<incidents::Changes> {
    let readings = measure(pool, stripe, thresholds, now).await?;
    incidents::apply(pool, &readings, app_url, now).await
}

/// Sets the `/metrics` gauges: each kind's value (in its display unit) and threshold, and
/// `tollgate_alert_open` 0/1 from the incidents table (the same on every instance).
pub async fn record_gauges(pool: &AnyPool, readings: &[Reading]) -> anyhow::Result<()> {
    let open = incidents::open_kinds(pool).await?;
    for r in readings {
        let kind = r.kind.name();
        let unit = r.kind.unit();
        metrics::gauge!("tollgate_alert_value", "kind" => kind).set(unit.display(r.value));
        metrics::gauge!("tollgate_alert_threshold", "kind" => kind).set(unit.display(r.threshold));
        let is_open = open.iter().any(|k| k == kind);
        metrics::gauge!("tollgate_alert_open", "kind" => kind).set(if is_open { 1.0 } else { 0.0 });
    }
    Ok(())
}
