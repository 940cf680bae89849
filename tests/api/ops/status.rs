//! `/admin/status` and `tollgate doctor` read Stripe itself: a fresh account misses the webhook
//! endpoint and Stripe Tax, a price changed in Stripe and a portal feature turned off are named;
//! once they are set up in Stripe (and the catalog synced), the same checks pass and the setup
//! percentage rises, on the page and in doctor's output alike.

use tollgate::server::admin::stripe_setup::{ACCOUNT, CATALOG, PORTAL, TAX, WEBHOOK_ENDPOINT};

use crate::helpers::*;

/// The page's line for a check: `Done: NAME` or `Missing: NAME — why`.
fn check_line(html: &str, name: &str) -> String {
    let at = html.find(&format!("</strong>{name}")).unwrap_or_else(|| panic!("no check {name:?} in {html}"));
    let start = html[..at].rfind("<li").unwrap();
    let end = at + html[at..].find("</li>").unwrap();
    html[start..end].to_owned()
}

fn setup_percent(html: &str) -> String {
    let at = html.find(r#"class="setup-percent">"#).expect("the setup percentage") + r#"class="setup-percent">"#.len();
    html[at..at + html[at..].find('<').unwrap()].to_owned()
}

/// `tollgate doctor` against the app's database and its Stripe (the test's sandbox), off the
/// test's runtime, which serves that sandbox.
async fn doctor(app: &TestApp) -> String {
    let base = app.own_sandbox.as_ref().unwrap().base_url();
    let url = app.database.url.clone();
    let catalog = format!("{}/catalog.toml", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        tollgate(
            dir.path(),
            &["doctor"],
            &[
                ("DATABASE_URL", &url),
                ("APP_URL", PUBLIC_APP_URL),
                ("STRIPE_SECRET_KEY", KEY),
                ("STRIPE_API_BASE", &base),
                ("STRIPE_WEBHOOK_SECRET", "whsec_public_app_tests"),
                ("CATALOG_PATH", &catalog),
            ],
        )
    })
    .await
    .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn doctor_line<'t>(text: &'t str, name: &str) -> &'t str {
    text.lines().find(|l| l.contains(&format!("] {name}"))).unwrap_or_else(|| panic!("no {name:?} in {text}"))
}

#[tokio::test]
async fn status_and_doctor_read_stripe_and_pass_once_it_is_set_up() {
    let app = spawn_public_app().await;
    let api = Api { http: reqwest::Client::new(), base: app.own_sandbox.as_ref().unwrap().base_url() };
    // Someone changes a price in the dashboard: pro_monthly now points at another amount.
    api.post(
        "/v1/prices",
        &[
            ("product", "tg_pro".into()),
            ("currency", "usd".into()),
            ("unit_amount", "1234".into()),
            ("recurring[interval]", "month".into()),
            ("lookup_key", "pro_monthly".into()),
            ("transfer_lookup_key", "true".into()),
        ],
    )
    .await;
    // And turns off the invoice history of the default portal configuration.
    let portal = api.get("/v1/billing_portal/configurations?is_default=true").await;
    let portal_id = portal["data"][0]["id"].as_str().unwrap().to_owned();
    api.post(
        &format!("/v1/billing_portal/configurations/{portal_id}"),
        &[("features[invoice_history][enabled]", "false".into())],
    )
    .await;
    app.log_in_as_admin().await;
    // The start's reconcile applies the catalog's events read from Stripe: a delivery in the last
    // 7 days, before either reading (else the count would depend on when it lands).
    let applied = "SELECT CASE WHEN COUNT(*) > 0 THEN 1 ELSE 0 END FROM webhook_events WHERE status = 'processed'";
    eventually(app.db.pool(), applied, 1).await;

    let html = app.page("/admin/status").await;
    for name in [CATALOG, WEBHOOK_ENDPOINT, PORTAL, TAX] {
        assert!(check_line(&html, name).contains("Missing: "), "{name}: {}", check_line(&html, name));
    }
    assert!(
        check_line(&html, CATALOG).contains("pro_monthly (amount Some(1234) → 2900)"),
        "{}",
        check_line(&html, CATALOG)
    );
    let endpoint = check_line(&html, WEBHOOK_ENDPOINT);
    assert!(endpoint.contains("No endpoint delivers to https://billing.example.com/webhooks/stripe"), "{endpoint}");
    assert!(check_line(&html, PORTAL).contains("invoice_history off"), "{}", check_line(&html, PORTAL));
    assert!(check_line(&html, TAX).contains("pending (missing: head_office)"), "{}", check_line(&html, TAX));
    assert!(check_line(&html, ACCOUNT).contains("Done: "), "the sandbox's account: {}", check_line(&html, ACCOUNT));
    // 7 of the 10 local checks (not: live keys, SMTP, METRICS_TOKEN) and 1 of 5 read from Stripe.
    assert_eq!(setup_percent(&html), "53%");
    assert!(html.contains("Go-live checklist: 8 of 15"), "{html}");
    let text = doctor(&app).await;
    assert!(text.contains("setup:                         53% (8 of 15 checks done)"), "{text}");
    assert!(doctor_line(&text, CATALOG).contains("[MISSING]") && doctor_line(&text, CATALOG).contains("pro_monthly"));
    assert!(doctor_line(&text, TAX).contains("[MISSING]"), "{text}");

    // Set up in Stripe: the endpoint with every event, at the app's API version; the portal
    // feature back on; the head office; the catalog synced (a new pro_monthly at 2900).
    let version = stripe_shared::version::VERSION.as_str();
    api.post(
        "/v1/webhook_endpoints",
        &[
            ("url", format!("{PUBLIC_APP_URL}/webhooks/stripe")),
            ("enabled_events[0]", "*".into()),
            ("api_version", version.to_owned()),
        ],
    )
    .await;
    api.post(
        &format!("/v1/billing_portal/configurations/{portal_id}"),
        &[("features[invoice_history][enabled]", "true".into())],
    )
    .await;
    api.post(
        "/v1/tax/settings",
        &[("head_office[address][country]", "US".into()), ("head_office[address][state]", "CA".into())],
    )
    .await;
    prices(&app.stripe).await;

    let html = app.page("/admin/status").await;
    for name in [CATALOG, WEBHOOK_ENDPOINT, PORTAL, TAX, ACCOUNT] {
        assert!(check_line(&html, name).contains("Done: "), "{name}: {}", check_line(&html, name));
    }
    assert_eq!(setup_percent(&html), "80%", "12 of 15");
    let text = doctor(&app).await;
    assert!(text.contains("setup:                         80% (12 of 15 checks done)"), "{text}");
    for name in [CATALOG, WEBHOOK_ENDPOINT, PORTAL, TAX, ACCOUNT] {
        assert!(doctor_line(&text, name).contains("[ok     ]"), "{text}");
    }
}

#[tokio::test]
async fn an_endpoint_missing_events_or_on_another_api_version_is_named() {
    let app = spawn_public_app().await;
    let api = Api { http: reqwest::Client::new(), base: app.own_sandbox.as_ref().unwrap().base_url() };
    api.post(
        "/v1/webhook_endpoints",
        &[
            ("url", format!("{PUBLIC_APP_URL}/webhooks/stripe")),
            ("enabled_events[0]", "invoice.paid".into()),
            ("api_version", "2024-06-20".into()),
        ],
    )
    .await;
    app.log_in_as_admin().await;
    let line = check_line(&app.page("/admin/status").await, WEBHOOK_ENDPOINT);
    assert!(line.contains("Missing: ") && line.contains("events not enabled: customer.created"), "{line}");
    assert!(!line.contains("invoice.paid,"), "the enabled one is not listed: {line}");
    assert!(line.contains("API version 2024-06-20, the app reads 2026-09-30.endive"), "{line}");
}

#[tokio::test]
async fn doctor_without_a_stripe_to_ask_says_so_and_counts_it_not_done() {
    let database = TestDatabase::new().await;
    let url = database.url.clone();
    let catalog = format!("{}/catalog.toml", env!("CARGO_MANIFEST_DIR"));
    let out = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        assert!(tollgate(dir.path(), &["migrate"], &[("DATABASE_URL", &url)]).status.success());
        tollgate(dir.path(), &["doctor"], &[("DATABASE_URL", &url), ("CATALOG_PATH", &catalog)])
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for name in [CATALOG, WEBHOOK_ENDPOINT, PORTAL, TAX, ACCOUNT] {
        let line = doctor_line(&text, name);
        assert!(line.contains("[MISSING]") && line.contains("could not read Stripe: no Stripe to ask"), "{line}");
    }
}
