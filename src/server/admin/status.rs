//! Integration status and the go-live checklist, from configuration and local tables only.
//! Shared by `/admin/status` and `tollgate doctor`.

use anyhow::Context;

use crate::{
    server::{
        catalog,
        config::{Config, StripeMode},
        db::Db,
        http::app_url::AppUrl,
    },
    views::admin::status::{Check, StatusReport},
};

use super::snapshots::DAY;

/// What the checklist is judged on.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub live_keys: bool,
    pub webhook_secret: bool,
    pub https_app_url: bool,
    pub smtp: bool,
    pub catalog_prices: usize,
    pub migrations_current: bool,
    /// A webhook event processed in the last 7 days.
    pub recent_delivery: bool,
    pub dead_events: i64,
    /// `/metrics` is served (a METRICS_TOKEN is set).
    pub metrics: bool,
    /// A default Customer Portal configuration in Stripe (None: not checked).
    pub portal: Option<bool>,
    /// The catalog's Stripe prices are loaded (false: Stripe unreachable since start; None: not
    /// checked, as by `doctor`, which serves nothing).
    pub prices_loaded: Option<bool>,
}

fn check(name: &str, ok: bool, fix: &str) -> Check {
    Check { name: name.to_owned(), ok, fix: fix.to_owned() }
}

/// The go-live checklist. Idempotency (inbox unique on event id, keys on every Stripe call) is
/// built in, so it always passes; the rest depends on configuration and recent traffic.
pub fn checklist(f: &Facts) -> Vec<Check> {
    vec![
        check("Live Stripe keys", f.live_keys, "Set STRIPE_SECRET_KEY to an sk_live_ key."),
        check(
            "Webhook signing secret",
            f.webhook_secret,
            "Register POST /webhooks/stripe in Stripe and set STRIPE_WEBHOOK_SECRET.",
        ),
        check("Webhooks verified and idempotent", true, ""),
        check("Idempotency keys on Stripe calls", true, ""),
        check(
            "Webhook delivered in the last 7 days",
            f.recent_delivery,
            "Send a test event from the Stripe dashboard and check /admin/events.",
        ),
        check("No dead-lettered events", f.dead_events == 0, "Fix the cause, then replay them on /admin/events."),
        check("Catalog has prices", f.catalog_prices > 0, "Add plans to catalog.toml and run catalog sync."),
        check(
            "Stripe reachable, prices loaded",
            f.prices_loaded != Some(false),
            "Stripe did not answer since start: pages work, payments wait; the app retries every minute.",
        ),
        check("HTTPS APP_URL", f.https_app_url, "Serve over HTTPS and set APP_URL to the https:// address."),
        check("Email delivery (SMTP)", f.smtp, "Set SMTP_URL so customers get their emails."),
        check("Migrations current", f.migrations_current, "Run `tollgate migrate`."),
        check(
            "Customer portal configured",
            f.portal == Some(true),
            match f.portal {
                Some(_) => {
                    "Save the Customer Portal settings in the Stripe dashboard (Settings → Billing → Customer portal)."
                }
                None => "Not checked: `serve` reads it from Stripe at start (see /admin/status).",
            },
        ),
        // Built in: payment-failed emails with a portal link, past_due banners, access until the
        // period ends; Stripe's retry schedule itself is set in its dashboard.
        check("Dunning on", true, ""),
        check(
            "Monitoring (/metrics, /healthz)",
            f.metrics,
            "Set METRICS_TOKEN (16+ characters) and scrape /metrics with it as a bearer token.",
        ),
        check("Tax collection (Stripe Tax)", false, "Not built yet: Checkout runs without automatic_tax."),
    ]
}

pub fn mode(config: &Config) -> &'static str {
    match config.stripe.mode() {
        StripeMode::Live => "live",
        StripeMode::Test => "test",
        StripeMode::Sandbox => "sandbox",
    }
}

/// (products, prices) declared in the catalog file; (0, 0) without one.
fn catalog_counts() -> (usize, usize) {
    match catalog::load(std::path::Path::new(catalog::DEFAULT_PATH)) {
        Ok(c) => (c.plans.len() + c.one_time.len(), c.prices().count()),
        Err(_) => (0, 0),
    }
}

/// What the running app knows of Stripe (None when asked outside `serve`).
#[derive(Debug, Clone, Copy, Default)]
pub struct StripeFacts {
    pub portal: Option<bool>,
    pub prices_loaded: Option<bool>,
}

pub async fn report(config: &Config, db: &Db, stripe: StripeFacts, now: i64) -> anyhow::Result<StatusReport> {
    let StripeFacts { portal, prices_loaded } = stripe;
    let pool = db.pool();
    let last_delivery: Option<i64> =
        sqlx::query_scalar("SELECT MAX(processed_at) FROM webhook_events WHERE status = 'processed'")
            .fetch_one(pool)
            .await
            .context("reading the last delivery")?;
    let dead_events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE status = 'dead'")
        .fetch_one(pool)
        .await
        .context("counting dead events")?;
    let (products, prices) = catalog_counts();
    let facts = Facts {
        live_keys: config.stripe.mode() == StripeMode::Live,
        webhook_secret: !config.stripe.webhook_secrets.is_empty() || config.stripe.wants_embedded_sandbox(),
        https_app_url: config.app_url.scheme() == "https",
        smtp: config.smtp_url.is_some(),
        catalog_prices: prices,
        migrations_current: db.migration_status().await?.is_current(),
        recent_delivery: last_delivery.is_some_and(|t| t >= now - 7 * DAY),
        dead_events,
        metrics: config.metrics_token.is_some(),
        portal,
        prices_loaded,
    };
    Ok(StatusReport {
        mode: mode(config).to_owned(),
        api_version: stripe_shared::version::VERSION.as_str().to_owned(),
        products,
        prices,
        webhook_endpoint: AppUrl::new(config.app_url.as_str()).join("/webhooks/stripe"),
        last_delivery,
        dead_events,
        portal_configured: portal,
        checks: checklist(&facts),
    })
}

/// The checklist as `tollgate doctor` prints it.
pub fn print(report: &StatusReport) {
    let (passed, total) = report.score();
    println!("  go-live checklist:             {passed}/{total}");
    for c in &report.checks {
        let mark = if c.ok { "ok     " } else { "MISSING" };
        let fix = if c.ok { String::new() } else { format!(" — {}", c.fix) };
        println!("    [{mark}] {}{fix}", c.name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_sandbox_install_misses_the_live_items() {
        let facts = Facts {
            webhook_secret: true,
            catalog_prices: 6,
            migrations_current: true,
            portal: Some(true),
            prices_loaded: Some(true),
            ..Facts::default()
        };
        let checks = checklist(&facts);
        let missing: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.name.as_str()).collect();
        assert_eq!(
            missing,
            [
                "Live Stripe keys",
                "Webhook delivered in the last 7 days",
                "HTTPS APP_URL",
                "Email delivery (SMTP)",
                "Monitoring (/metrics, /healthz)",
                "Tax collection (Stripe Tax)"
            ]
        );
        assert!(checks.iter().all(|c| c.ok || !c.fix.is_empty()), "every miss says how to fix it");
    }

    #[test]
    fn dead_events_fail_the_check() {
        let facts = Facts { dead_events: 2, ..Facts::default() };
        assert!(!checklist(&facts).iter().find(|c| c.name == "No dead-lettered events").unwrap().ok);
    }
}
