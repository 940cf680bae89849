//! The hosted Customer Portal driven with plain form posts.

use super::*;

#[tokio::test]
async fn portal_switch_cancel_resume_update_card() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let cus = raw.ok("/v1/customers", &[("email", "portal@x.com")]).await["id"].as_str().unwrap().to_string();
    let pm = raw.ok("/v1/payment_methods/pm_card_visa/attach", &[("customer", cus.as_str())]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    raw.ok(&format!("/v1/customers/{cus}"), &[("invoice_settings[default_payment_method]", pm.as_str())]).await;
    let prod = raw.ok("/v1/products", &[("name", "Team")]).await["id"].as_str().unwrap().to_string();
    let basic = raw
        .ok(
            "/v1/prices",
            &[
                ("currency", "usd"),
                ("unit_amount", "1000"),
                ("recurring[interval]", "month"),
                ("product", prod.as_str()),
            ],
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let plus = raw
        .ok(
            "/v1/prices",
            &[
                ("currency", "usd"),
                ("unit_amount", "3000"),
                ("recurring[interval]", "month"),
                ("product", prod.as_str()),
            ],
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let sub = raw.ok("/v1/subscriptions", &[("customer", cus.as_str()), ("items[0][price]", basic.as_str())]).await
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = raw
        .ok("/v1/billing_portal/sessions", &[("customer", cus.as_str()), ("return_url", "http://app.test/account")])
        .await;
    let url = session["url"].as_str().unwrap().to_string();
    let html = raw.http.get(&url).send().await.unwrap().text().await.unwrap();
    for needle in [
        "Current plan",
        "Team — $10.00 / month",
        ">Update plan</button>",
        ">Cancel plan</button>",
        ">Update payment method</button>",
        "View invoice",
        "href=\"http://app.test/account\">Return</a>",
        "visa •••• 4242",
    ] {
        assert!(html.contains(needle), "portal lacks {needle}");
    }
    let sid = session["id"].as_str().unwrap();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let http = raw.http.clone();
        let base = sb.base_url();
        async move { http.post(format!("{base}{path}")).form(&form).send().await.unwrap() }
    };
    // Switch plan.
    let r = post(format!("/portal/{sid}/subscriptions/{sub}/update"), vec![("price", plus.clone())]).await;
    assert_eq!(r.status(), 303);
    let (_, s) = raw.get(&format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(s["items"]["data"][0]["price"]["id"], plus.as_str());
    // Cancel at period end, then resume.
    assert_eq!(post(format!("/portal/{sid}/subscriptions/{sub}/cancel"), vec![]).await.status(), 303);
    let (_, s) = raw.get(&format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(s["cancel_at_period_end"], true);
    let html = raw.http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">Renew plan</button>") && html.contains("Cancels "));
    assert_eq!(post(format!("/portal/{sid}/subscriptions/{sub}/renew"), vec![]).await.status(), 303);
    let (_, s) = raw.get(&format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(s["cancel_at_period_end"], false);
    // New card.
    let r = post(
        format!("/portal/{sid}/payment_method"),
        vec![("card_number", "5555 5555 5555 4444".into()), ("expiry", "10 / 33".into()), ("cvc", "123".into())],
    )
    .await;
    assert_eq!(r.status(), 303);
    let (_, c) = raw.get(&format!("/v1/customers/{cus}?expand[]=invoice_settings.default_payment_method")).await;
    assert_eq!(c["invoice_settings"]["default_payment_method"]["card"]["last4"], "4444");
    // A declined card shows the message and changes nothing.
    let r = post(
        format!("/portal/{sid}/payment_method"),
        vec![("card_number", "4000000000000002".into()), ("expiry", "10 / 33".into()), ("cvc", "123".into())],
    )
    .await;
    assert_eq!(r.status(), 402);
    assert!(r.text().await.unwrap().contains("Your card was declined."));
    // Someone else's subscription is refused.
    let other = raw.ok("/v1/customers", &[]).await["id"].as_str().unwrap().to_string();
    let other_session = raw.ok("/v1/billing_portal/sessions", &[("customer", other.as_str())]).await;
    let r = post(format!("/portal/{}/subscriptions/{sub}/cancel", other_session["id"].as_str().unwrap()), vec![]).await;
    assert_eq!(r.status(), 402);
}

#[tokio::test]
async fn hosted_invoice_page_and_pdf() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let cus = raw.ok("/v1/customers", &[("email", "inv@x.com")]).await["id"].as_str().unwrap().to_string();
    raw.ok(
        "/v1/invoiceitems",
        &[("customer", cus.as_str()), ("amount", "1234"), ("currency", "usd"), ("description", "Setup")],
    )
    .await;
    let inv = raw
        .ok(
            "/v1/invoices",
            &[
                ("customer", cus.as_str()),
                ("pending_invoice_items_behavior", "include"),
                ("collection_method", "send_invoice"),
                ("days_until_due", "7"),
            ],
        )
        .await;
    let id = inv["id"].as_str().unwrap();
    let fin = raw.ok(&format!("/v1/invoices/{id}/finalize"), &[]).await;
    assert_eq!(fin["status"], "open");
    assert!(fin["number"].as_str().unwrap().ends_with("-0001"));
    let page = raw.http.get(fin["hosted_invoice_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Setup") && page.contains("$12.34") && page.contains(">Pay</button>"));
    let pdf = raw.http.get(fin["invoice_pdf"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    let r = raw
        .http
        .post(fin["hosted_invoice_url"].as_str().unwrap())
        .form(&[("card_number", "4242424242424242"), ("expiry", "12/34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, paid) = raw.get(&format!("/v1/invoices/{id}")).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_paid"], 1234);
}

#[tokio::test]
async fn the_default_portal_configuration_is_listed_and_filters_apply() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    // Made through the API before anything else: still not the default.
    let first = raw.ok("/v1/billing_portal/configurations", &[("features[customer_update][enabled]", "false")]).await;
    assert_eq!(first["is_default"], false);
    let (_, defaults) = raw.get("/v1/billing_portal/configurations?is_default=true&active=true").await;
    let data = defaults["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{defaults}");
    assert_eq!(data[0]["is_default"], true);
    let default_id = data[0]["id"].as_str().unwrap().to_string();
    // A configuration made through the API is not the default, as on Stripe.
    let made = raw.ok("/v1/billing_portal/configurations", &[("features[invoice_history][enabled]", "true")]).await;
    assert_eq!(made["is_default"], false);
    let (_, others) = raw.get("/v1/billing_portal/configurations?is_default=false").await;
    let mut ids: Vec<&str> = others["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    ids.sort();
    let mut want = [first["id"].as_str().unwrap(), made["id"].as_str().unwrap()];
    want.sort();
    assert_eq!(ids, want);
    // Sessions without a configuration use the default one.
    let cus = raw.ok("/v1/customers", &[("email", "d@x.com")]).await["id"].as_str().unwrap().to_string();
    let session = raw.ok("/v1/billing_portal/sessions", &[("customer", cus.as_str())]).await;
    assert_eq!(session["configuration"], default_id.as_str());
}

/// The platform's brand (set through `/_sandbox/branding`, as Stripe's Dashboard Branding
/// settings are) on the portal and the hosted invoice page, and in `GET /v1/account`; the portal
/// configuration's headline under it.
#[tokio::test]
async fn the_portal_and_invoice_pages_show_the_platforms_brand() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let control = |body: serde_json::Value| {
        let (http, base) = (raw.http.clone(), sb.base_url());
        async move { http.post(format!("{base}/_sandbox/branding")).json(&body).send().await.unwrap() }
    };
    let refused = control(serde_json::json!({"business_name": "Acme", "primary_color": "green"})).await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("primary_color"));
    let set = control(serde_json::json!({
        "business_name": "Acme <Cloud>", "logo_url": "http://app.test/acme.svg",
        "primary_color": "#0B6E4F", "secondary_color": "#ffd60a"
    }))
    .await;
    assert_eq!(set.status(), 200);
    assert_eq!(set.json::<Value>().await.unwrap()["primary_color"], "#0b6e4f");

    let (_, account) = raw.get("/v1/account").await;
    assert_eq!(account["business_profile"]["name"], "Acme <Cloud>");
    assert_eq!(account["settings"]["dashboard"]["display_name"], "Acme <Cloud>");
    assert_eq!(account["settings"]["branding"]["primary_color"], "#0b6e4f");
    assert_eq!(account["settings"]["branding"]["secondary_color"], "#ffd60a");
    assert_eq!(account["settings"]["branding"]["logo"], Value::Null, "Stripe's logo is an uploaded file");

    let cus = raw.ok("/v1/customers", &[("email", "brand@x.com")]).await["id"].as_str().unwrap().to_string();
    raw.ok(
        "/v1/billing_portal/configurations",
        &[
            ("business_profile[headline]", "Acme partners with Stripe for simplified billing."),
            ("features[invoice_history][enabled]", "true"),
            ("default_return_url", "http://app.test/account"),
        ],
    )
    .await;
    let configurations = raw.get("/v1/billing_portal/configurations").await.1;
    let configuration = configurations["data"][0]["id"].as_str().unwrap().to_string();
    let session = raw
        .ok("/v1/billing_portal/sessions", &[("customer", cus.as_str()), ("configuration", configuration.as_str())])
        .await;
    let html = raw.http.get(session["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    for needle in [
        "<strong>Acme &lt;Cloud&gt;</strong>",
        r#"<img src="http://app.test/acme.svg""#,
        "button:not(.secondary){background:#0b6e4f;color:#ffffff}",
        ".brand{border-bottom:4px solid #ffd60a}",
        r#"<p class="headline">Acme partners with Stripe for simplified billing.</p>"#,
    ] {
        assert!(html.contains(needle), "portal lacks {needle}: {html}");
    }

    raw.ok("/v1/invoiceitems", &[("amount", "1500"), ("currency", "usd"), ("customer", cus.as_str())]).await;
    let invoice =
        raw.ok("/v1/invoices", &[("customer", cus.as_str()), ("pending_invoice_items_behavior", "include")]).await;
    let invoice = raw.ok(&format!("/v1/invoices/{}/finalize", invoice["id"].as_str().unwrap()), &[]).await;
    let page =
        raw.http.get(invoice["hosted_invoice_url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<strong>Acme &lt;Cloud&gt;</strong>") && page.contains("background:#0b6e4f"), "{page}");

    // Without a brand the pages look as before.
    assert_eq!(control(serde_json::json!({})).await.status(), 200);
    let plain = raw.http.get(session["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(!plain.contains("class=\"brand\"") && !plain.contains("Acme &lt;Cloud&gt;"));
}
