//! Integration status and the go-live checklist: configuration and local tables here, what
//! Stripe itself says in `stripe_setup`. Shared by `/admin/status` and `tollgate doctor`.

use anyhow::Context;

use crate::{
    server::{
        catalog,
        config::{Config, StripeMode},
        db::Db,
        http::app_url::AppUrl,
        stripe::client::StripeClient,
    },
    views::admin::status::{Check, StatusReport},
};

use super::snapshots::DAY;
use super::stripe_setup::{self, StripeSetup};

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
    /// The catalog's Stripe prices resolve (None: Stripe could not be asked).
    pub prices_loaded: Option<bool>,
}

fn check(name: &str, ok: bool, fix: &str) -> Check {
    Check { name: name.to_owned(), ok, fix: fix.to_owned() }
}

/// The part of the go-live checklist judged on configuration, local tables and this instance's
/// price book. What is built in (idempotency, dunning) is not listed: a check always true says
/// nothing.
pub fn checklist(f: &Facts) -> Vec<Check> {
    vec![
        check("Live Stripe keys", f.live_keys, "Set STRIPE_SECRET_KEY to an sk_live_ key."),
        check(
            "Webhook signing secret",
            f.webhook_secret,
            "Register POST /webhooks/stripe in Stripe and set STRIPE_WEBHOOK_SECRET.",
        ),
        check(
            "Webhook delivered in the last 7 days",
            f.recent_delivery,
            "Send a test event from the Stripe dashboard and check /admin/events.",
        ),
        check("No dead-lettered events", f.dead_events == 0, "Fix the cause, then replay them on /admin/events."),
        check("Catalog has prices", f.catalog_prices > 0, "Add plans to catalog.toml and run catalog sync."),
        check(
            "Stripe reachable, prices loaded",
            f.prices_loaded == Some(true),
            match f.prices_loaded {
                Some(_) => {
                    "Stripe did not answer since start: pages work, payments wait; the app retries every minute."
                }
                None => "Stripe could not be asked (see the checks read from Stripe).",
            },
        ),
        check("HTTPS APP_URL", f.https_app_url, "Serve over HTTPS and set APP_URL to the https:// address."),
        check("Email delivery (SMTP)", f.smtp, "Set SMTP_URL so customers get their emails."),
        check("Migrations current", f.migrations_current, "Run `tollgate migrate`."),
        check(
            "Monitoring (/metrics, /healthz)",
            f.metrics,
            "Set METRICS_TOKEN (16+ characters) and scrape /metrics with it as a bearer token.",
        ),
    ]
}

pub fn mode(config: &Config) -> &'static str {
    match config.stripe.mode() {
        StripeMode::Live => "live",
        StripeMode::Test => "test",
        StripeMode::Sandbox => "sandbox",
    }
}

/// Why `doctor` cannot ask the embedded sandbox.
pub const NO_STRIPE_OUTSIDE_SERVE: &str = "no Stripe to ask outside `serve` (the embedded sandbox lives inside it): \
                                           set STRIPE_SECRET_KEY, or STRIPE_API_BASE for a standalone sandbox";

/// The status report. `stripe`: the client to read Stripe with (None: nothing to ask).
/// `prices_loaded`: whether the running app resolved its prices; `doctor` serves nothing and
/// passes None, so they are resolved here.
pub async fn report(
    config: &Config,
    db: &Db,
    stripe: Option<&StripeClient>,
    prices_loaded: Option<bool>,
    now: i64,
) -> anyhow::Result<StatusReport> {
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
    let catalog = catalog::load(&config.catalog_path).context("CATALOG_PATH");
    let (products, prices) =
        catalog.as_ref().map_or((0, 0), |c| (c.plans.len() + c.one_time.len(), c.prices().count()));
    let webhook_endpoint = AppUrl::new(config.app_url.as_str()).join("/webhooks/stripe");
    let (setup, prices_loaded) = match stripe {
        Some(stripe) => {
            let setup =
                stripe_setup::read(stripe, catalog.as_ref().map_err(|e| anyhow::anyhow!("{e:#}")), &webhook_endpoint)
                    .await;
            let loaded = match (prices_loaded, &catalog) {
                (Some(loaded), _) => Some(loaded),
                (None, Ok(catalog)) => Some(catalog::sync::resolve(stripe, catalog).await.is_ok()),
                (None, Err(_)) => Some(false),
            };
            (setup, loaded)
        }
        None => (StripeSetup::unread(NO_STRIPE_OUTSIDE_SERVE), prices_loaded),
    };
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
        prices_loaded,
    };
    let mut checks = checklist(&facts);
    checks.extend(setup.checks);
    Ok(StatusReport {
        mode: mode(config).to_owned(),
        api_version: stripe_shared::version::VERSION.as_str().to_owned(),
        products,
        prices,
        webhook_endpoint,
        last_delivery,
        dead_events,
        portal_configured: setup.portal,
        stripe_account: setup.account,
        checks,
    })
}

/// The checklist as `tollgate doctor` prints it.
pub fn print(report: &StatusReport) {
    let (passed, total) = report.score();
    println!("  setup:                         {}% ({passed} of {total} checks done)", report.percent());
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
