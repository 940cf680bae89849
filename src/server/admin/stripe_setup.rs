//! The checks of `/admin/status` and `tollgate doctor` read from Stripe itself, not from
//! configuration: the catalog's prices (and their drift from `catalog.toml`), the webhook
//! endpoint for this `APP_URL`, the Customer Portal's default configuration, Stripe Tax, and the
//! account's ability to charge and pay out. Each is computed from what Stripe answers; when it
//! does not answer, the check says so and counts as not done.

use anyhow::Context;
use stripe_billing::billing_portal_configuration::ListBillingPortalConfiguration;
use stripe_misc::tax_settings::RetrieveForMyAccountTaxSettings;
use stripe_misc::webhook_endpoint::ListWebhookEndpoint;
use stripe_misc::TaxSettingsStatus;
use stripe_misc::WebhookEndpoint;

use crate::{
    domain::catalog::Catalog,
    server::{
        billing::all_pages,
        catalog::sync,
        stripe::{
            account::RetrieveOwnAccount,
            client::{short, stripe_cause, StripeClient},
        },
        webhooks::handlers,
    },
    views::admin::status::Check,
};

pub const CATALOG: &str = "Catalog prices match Stripe";
pub const WEBHOOK_ENDPOINT: &str = "Webhook endpoint registered in Stripe";
pub const PORTAL: &str = "Customer portal configured";
pub const TAX: &str = "Stripe Tax set up";
pub const ACCOUNT: &str = "Stripe account can charge and pay out";

/// The Customer Portal features "Manage billing" sends customers to.
const PORTAL_FEATURES: [&str; 3] = ["payment_method_update", "invoice_history", "subscription_cancel"];

/// What Stripe said, as checks, with the figures the status page shows beside them.
#[derive(Debug, Clone)]
pub struct StripeSetup {
    pub checks: Vec<Check>,
    /// A usable default portal configuration (None: Stripe not read).
    pub portal: Option<bool>,
    /// The account the key belongs to, e.g. `acct_123` (None: Stripe not read).
    pub account: Option<String>,
}

impl StripeSetup {
    /// Every check not done, with why (no Stripe to ask, as `doctor` with the embedded sandbox).
    pub fn unread(reason: &str) -> Self {
        let checks = [CATALOG, WEBHOOK_ENDPOINT, PORTAL, TAX, ACCOUNT]
            .into_iter()
            .map(|name| Check { name: name.to_owned(), ok: false, fix: format!("could not read Stripe: {reason}") })
            .collect();
        Self { checks, portal: None, account: None }
    }
}

/// Reads each part of the setup from Stripe, all at once. `webhook_url` is this app's
/// `APP_URL` + `/webhooks/stripe`.
pub async fn read(stripe: &StripeClient, catalog: anyhow::Result<&Catalog>, webhook_url: &str) -> StripeSetup {
    let catalog_check = async {
        let catalog = match catalog {
            Ok(catalog) => catalog,
            // Not Stripe's doing: say so instead of "could not read Stripe".
            Err(err) => return Ok(Err(format!("the catalog could not be read: {err:#}"))),
        };
        let drift = sync::drift(stripe, catalog).await?;
        Ok::<_, anyhow::Error>(if drift.is_empty() {
            Ok(())
        } else {
            Err(format!("{drift}. Run `tollgate catalog sync`."))
        })
    };
    let (catalog, endpoints, portal, tax, account) = futures::join!(
        catalog_check,
        webhook_endpoints(stripe),
        async {
            stripe.send(&ListBillingPortalConfiguration::new().is_default(true).active(true).limit(1), None).await
        },
        async { stripe.send(&RetrieveForMyAccountTaxSettings::new(), None).await },
        async { stripe.send(&RetrieveOwnAccount, None).await },
    );
    let portal = portal.context("reading the Customer Portal configuration").map(|list| {
        let problems = match list.data.first() {
            None => vec!["no default active configuration".to_owned()],
            Some(configuration) => {
                let f = &configuration.features;
                let enabled =
                    [f.payment_method_update.enabled, f.invoice_history.enabled, f.subscription_cancel.enabled];
                PORTAL_FEATURES
                    .iter()
                    .zip(enabled)
                    .filter(|(_, on)| !on)
                    .map(|(name, _)| format!("{name} off"))
                    .collect()
            }
        };
        problems
    });
    let portal_ok = portal.as_ref().ok().map(Vec::is_empty);
    let account_id = account.as_ref().ok().map(|a| a.id.to_string());
    let checks = vec![
        verdict(CATALOG, catalog),
        verdict(WEBHOOK_ENDPOINT, endpoints.map(|list| endpoint_verdict(&list, webhook_url))),
        verdict(
            PORTAL,
            portal.map(|problems| {
                fix_unless_empty(
                    problems,
                    "Enable them in the Stripe dashboard (Settings → Billing → Customer portal) and save.",
                )
            }),
        ),
        verdict(
            TAX,
            tax.context("reading the tax settings").map(|settings| {
                let missing = settings
                    .status_details
                    .pending
                    .and_then(|p| p.missing_fields)
                    .filter(|fields| !fields.is_empty())
                    .map(|fields| format!(" (missing: {})", fields.join(", ")))
                    .unwrap_or_default();
                let status_ok = matches!(settings.status, TaxSettingsStatus::Active | TaxSettingsStatus::Pending);
                match (settings.head_office.is_some(), status_ok) {
                    (true, true) => Ok(()),
                    _ => Err(format!(
                        "Stripe Tax is {}{missing}: set the head office in the Stripe dashboard (Settings → Tax).",
                        settings.status.as_str()
                    )),
                }
            }),
        ),
        verdict(
            ACCOUNT,
            account.context("reading the account").map(|account| {
                let mut problems = Vec::new();
                if account.charges_enabled != Some(true) {
                    problems.push("charges disabled".to_owned());
                }
                if account.payouts_enabled != Some(true) {
                    problems.push("payouts disabled".to_owned());
                }
                fix_unless_empty(problems, "Finish the account's activation in the Stripe dashboard.")
            }),
        ),
    ];
    StripeSetup { checks, portal: portal_ok, account: account_id }
}

/// A check from what was read: done, not done with what to do, or Stripe not read.
fn verdict(name: &str, read: anyhow::Result<Result<(), String>>) -> Check {
    let (ok, fix) = match read {
        Ok(Ok(())) => (true, String::new()),
        Ok(Err(fix)) => (false, fix),
        Err(err) => {
            let reason = stripe_cause(&err).map(short).unwrap_or_else(|| format!("{err:#}"));
            (false, format!("could not read Stripe: {reason}"))
        }
    };
    Check { name: name.to_owned(), ok, fix }
}

fn fix_unless_empty(problems: Vec<String>, how: &str) -> Result<(), String> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{}. {how}", problems.join(", ")))
    }
}

async fn webhook_endpoints(stripe: &StripeClient) -> anyhow::Result<Vec<WebhookEndpoint>> {
    let page = |after: Option<String>| {
        let mut list = ListWebhookEndpoint::new().limit(100);
        if let Some(after) = after {
            list = list.starting_after(after);
        }
        async move { stripe.send(&list, None).await.context("listing webhook endpoints") }
    };
    all_pages(page, |endpoint: &WebhookEndpoint| endpoint.id.to_string()).await
}

/// Whether one of `endpoints` delivers to `url`, enabled, with every event type the app
/// handles, at the API version the app reads; else what is wrong.
pub fn endpoint_verdict(endpoints: &[WebhookEndpoint], url: &str) -> Result<(), String> {
    let version = stripe_shared::version::VERSION.as_str();
    let how = format!(
        "Add or fix it in the Stripe dashboard (Developers → Webhooks): {url}, API version {version}, with the events \
         tollgate handles."
    );
    let ours: Vec<&WebhookEndpoint> = endpoints.iter().filter(|e| e.url == url).collect();
    let Some(endpoint) = ours.iter().find(|e| e.status == "enabled").or(ours.first()) else {
        return Err(format!("No endpoint delivers to {url}. {how}"));
    };
    let mut problems = Vec::new();
    if endpoint.status != "enabled" {
        problems.push(format!("endpoint {} is {}", endpoint.id, endpoint.status));
    }
    let all = endpoint.enabled_events.iter().any(|e| e == "*");
    let missing: Vec<&str> =
        handlers::event_types().filter(|t| !all && !endpoint.enabled_events.iter().any(|e| e == t)).collect();
    if !missing.is_empty() {
        problems.push(format!("events not enabled: {}", missing.join(", ")));
    }
    match endpoint.api_version.as_deref() {
        Some(v) if v == version => {}
        Some(v) => problems.push(format!("API version {v}, the app reads {version}")),
        None => problems.push(format!("API version not pinned (the account's default), the app reads {version}")),
    }
    fix_unless_empty(problems, &how)
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "https://billing.example.com/webhooks/stripe";

    fn endpoint(url: &str, status: &str, events: &[&str], version: Option<&str>) -> WebhookEndpoint {
        WebhookEndpoint {
            api_version: version.map(str::to_owned),
            application: None,
            created: 0,
            description: None,
            enabled_events: events.iter().map(|e| (*e).to_owned()).collect(),
            id: "we_1".parse().unwrap(),
            livemode: false,
            metadata: Default::default(),
            secret: None,
            status: status.to_owned(),
            url: url.to_owned(),
        }
    }

    #[test]
    fn an_enabled_endpoint_for_this_url_with_every_event_at_the_apps_version_passes() {
        let version = Some(stripe_shared::version::VERSION.as_str());
        assert_eq!(endpoint_verdict(&[endpoint(URL, "enabled", &["*"], version)], URL), Ok(()));
        let every: Vec<&str> = handlers::event_types().collect();
        assert_eq!(endpoint_verdict(&[endpoint(URL, "enabled", &every, version)], URL), Ok(()));
        let elsewhere = endpoint("https://other.example.com/webhooks/stripe", "enabled", &["*"], version);
        assert!(endpoint_verdict(&[elsewhere], URL).unwrap_err().starts_with("No endpoint delivers to"));
        let disabled = endpoint_verdict(&[endpoint(URL, "disabled", &["*"], version)], URL).unwrap_err();
        assert!(disabled.starts_with("endpoint we_1 is disabled"), "{disabled}");
        let unpinned = endpoint_verdict(&[endpoint(URL, "enabled", &every[1..], None)], URL).unwrap_err();
        assert!(
            unpinned.starts_with(&format!("events not enabled: {}, API version not pinned", every[0])),
            "{unpinned}"
        );
    }
}
