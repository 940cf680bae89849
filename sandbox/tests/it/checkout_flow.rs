//! The hosted Checkout page driven with plain form posts, as a browser without JS would.

use super::*;

struct Flow {
    secret: String,
    sb: RunningSandbox,
    raw: Raw,
    rx: Receiver,
    cs: Value,
}

async fn session(mode: &str, extra: &[(&str, &str)]) -> Flow {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
    let prod = raw.ok("/v1/products", &[("name", "Pro")]).await["id"].as_str().unwrap().to_string();
    let mut price_form = vec![("currency", "usd"), ("unit_amount", "2000"), ("product", prod.as_str())];
    if mode == "subscription" {
        price_form.push(("recurring[interval]", "month"));
    }
    let price = raw.ok("/v1/prices", &price_form).await["id"].as_str().unwrap().to_string();
    let mut form = vec![
        ("mode", mode),
        ("success_url", "http://app.test/checkout/success?session_id={CHECKOUT_SESSION_ID}"),
        ("cancel_url", "http://app.test/pricing"),
        ("line_items[0][price]", price.as_str()),
        ("line_items[0][quantity]", "1"),
        ("client_reference_id", "user-1"),
    ];
    form.extend_from_slice(extra);
    let cs = raw.ok("/v1/checkout/sessions", &form).await;
    settle(&sb).await;
    rx.got.lock().await.clear();
    Flow { secret, sb, raw, rx, cs }
}

impl Flow {
    fn page_url(&self) -> String {
        self.cs["url"].as_str().unwrap().to_string()
    }
    async fn page(&self) -> String {
        self.raw.http.get(self.page_url()).send().await.unwrap().text().await.unwrap()
    }
    async fn pay(&self, card: &str) -> reqwest::Response {
        self.raw
            .http
            .post(self.page_url())
            .form(&[("email", "buyer@example.com"), ("card_number", card), ("expiry", "12 / 34"), ("cvc", "123")])
            .send()
            .await
            .unwrap()
    }
    async fn pay_with_code(&self, code: &str) -> reqwest::Response {
        let form = [
            ("email", "p@x.com"),
            ("promotion_code", code),
            ("card_number", "4242424242424242"),
            ("expiry", "12/34"),
            ("cvc", "123"),
        ];
        self.raw.http.post(self.page_url()).form(&form).send().await.unwrap()
    }
    async fn session(&self) -> Value {
        self.raw.get(&format!("/v1/checkout/sessions/{}", self.cs["id"].as_str().unwrap())).await.1
    }
}

#[tokio::test]
async fn subscription_checkout_succeeds_and_emits_stripes_events() {
    let f = session("subscription", &[("metadata[user_id]", "1")]).await;
    let html = f.page().await;
    for needle in [
        "<label for=\"email\">Email</label>",
        "Card number",
        "Expiry",
        "CVC",
        ">Subscribe</button>",
        "href=\"http://app.test/pricing\"",
    ] {
        assert!(html.contains(needle), "page lacks {needle}");
    }
    let r = f.pay("4242 4242 4242 4242").await;
    assert_eq!(r.status(), 303);
    let id = f.cs["id"].as_str().unwrap();
    assert_eq!(r.headers()["location"], format!("http://app.test/checkout/success?session_id={id}").as_str());
    let cs = f.session().await;
    assert_eq!(cs["status"], "complete");
    assert_eq!(cs["payment_status"], "paid");
    assert!(cs["subscription"].as_str().unwrap().starts_with("sub_"));
    assert_eq!(cs["customer_details"]["email"], "buyer@example.com");
    let (_, sub) =
        f.raw.get(&format!("/v1/subscriptions/{}?expand[]=customer", cs["subscription"].as_str().unwrap())).await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["customer"]["email"], "buyer@example.com");
    settle(&f.sb).await;
    let types = f.rx.types().await;
    assert_subsequence(
        &types,
        &[
            "customer.created",
            "payment_method.attached",
            "customer.updated",
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "charge.succeeded",
            "payment_intent.succeeded",
            "invoice.paid",
            "invoice.payment_succeeded",
            "customer.subscription.updated",
            "checkout.session.completed",
        ],
    );
    assert_eq!(types.last().map(String::as_str), Some("checkout.session.completed"));
    let done = f.rx.events().await.into_iter().find(|e| e["type"] == "checkout.session.completed").unwrap();
    assert_eq!(done["data"]["object"]["client_reference_id"], "user-1");
    assert_eq!(done["data"]["object"]["metadata"]["user_id"], "1");
    f.rx.verify_all(&f.secret).await;
    // The page is closed now.
    assert!(f.page().await.contains("already complete"));
}

#[tokio::test]
async fn trial_checkout_says_start_trial() {
    let f = session("subscription", &[("subscription_data[trial_period_days]", "14")]).await;
    assert!(f.page().await.contains(">Start trial</button>"));
    assert_eq!(f.pay("4242424242424242").await.status(), 303);
    let cs = f.session().await;
    let (_, sub) = f.raw.get(&format!("/v1/subscriptions/{}", cs["subscription"].as_str().unwrap())).await;
    assert_eq!(sub["status"], "trialing");
}

#[tokio::test]
async fn declined_card_shows_message_and_session_stays_open() {
    let f = session("payment", &[]).await;
    assert!(f.page().await.contains(">Pay</button>"));
    let r = f.pay("4000 0000 0000 0002").await;
    assert_eq!(r.status(), 402);
    let html = r.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("Your card was declined."), "{html}");
    let r = f.pay("4000000000009995").await;
    assert!(r.text().await.unwrap().contains("Your card has insufficient funds."));
    assert_eq!(f.session().await["status"], "open");
    settle(&f.sb).await;
    assert!(!f.rx.types().await.contains(&"checkout.session.completed".to_string()));
    // Then a good card completes it.
    assert_eq!(f.pay("4242424242424242").await.status(), 303);
    let cs = f.session().await;
    assert_eq!(cs["status"], "complete");
    assert!(cs["payment_intent"].as_str().unwrap().starts_with("pi_"));
}

#[tokio::test]
async fn three_d_secure_complete_and_fail() {
    let f = session("payment", &[]).await;
    let r = f.pay("4000 0025 0000 3155").await;
    assert_eq!(r.status(), 303);
    let auth = r.headers()["location"].to_str().unwrap().to_string();
    assert!(auth.ends_with("/authenticate"));
    let html = f.raw.http.get(format!("{}{auth}", f.sb.base_url())).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(">Complete</button>") && html.contains(">Fail</button>"));
    // Fail: back on the form with Stripe's message, session open.
    let r = f.raw.http.post(format!("{}{auth}", f.sb.base_url())).form(&[("action", "fail")]).send().await.unwrap();
    assert_eq!(r.status(), 402);
    assert!(r.text().await.unwrap().contains("unable to authenticate"));
    assert_eq!(f.session().await["status"], "open");
    // Complete: redirected to success.
    let r = f.pay("4000002500003155").await;
    assert_eq!(r.status(), 303);
    let r = f.raw.http.post(format!("{}{auth}", f.sb.base_url())).form(&[("action", "complete")]).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert!(r.headers()["location"].to_str().unwrap().starts_with("http://app.test/checkout/success"));
    assert_eq!(f.session().await["payment_status"], "paid");
}

#[tokio::test]
async fn dispute_card_creates_a_dispute() {
    let f = session("payment", &[]).await;
    assert_eq!(f.pay("4000000000000259").await.status(), 303);
    settle(&f.sb).await;
    assert!(f.rx.types().await.contains(&"charge.dispute.created".to_string()));
    let (_, disputes) = f.raw.get("/v1/disputes").await;
    let d = &disputes["data"][0];
    assert_eq!(d["status"], "needs_response");
    let id = d["id"].as_str().unwrap();
    let upd = f.raw.ok(&format!("/v1/disputes/{id}"), &[("evidence[uncategorized_text]", "Delivered")]).await;
    assert_eq!(upd["status"], "under_review");
    assert_eq!(upd["evidence"]["uncategorized_text"], "Delivered");
    settle(&f.sb).await;
    f.rx.verify_all(&f.secret).await;
}

#[tokio::test]
async fn cli_payment_pages_confirm_completes_a_session() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    // As in the Stripe CLI's checkout.session.completed fixture (legacy line items, no mode).
    let cs = raw
        .ok(
            "/v1/checkout/sessions",
            &[
                ("success_url", "https://httpbin.org/post"),
                ("cancel_url", "https://httpbin.org/post"),
                ("payment_method_types[]", "card"),
                ("line_items[0][name]", "t-shirt"),
                ("line_items[0][amount]", "1500"),
                ("line_items[0][currency]", "usd"),
                ("line_items[0][quantity]", "2"),
            ],
        )
        .await;
    let (s, page) = raw.get(&format!("/v1/payment_pages/{}", cs["id"].as_str().unwrap())).await;
    assert_eq!(s, 200);
    let pm = raw
        .ok(
            "/v1/payment_methods",
            &[("type", "card"), ("card[token]", "tok_visa"), ("billing_details[email]", "stripe@example.com")],
        )
        .await;
    let done = raw
        .ok(
            &format!("/v1/payment_pages/{}/confirm", page["id"].as_str().unwrap()),
            &[("payment_method", pm["id"].as_str().unwrap())],
        )
        .await;
    assert_eq!(done["status"], "complete");
    assert_eq!(done["amount_total"], 3000);
}

#[tokio::test]
async fn promotion_code_on_the_checkout_page() {
    let f = session("payment", &[("allow_promotion_codes", "true")]).await;
    let coupon = f.raw.ok("/v1/coupons", &[("amount_off", "500"), ("currency", "usd"), ("duration", "once")]).await;
    f.raw
        .ok(
            "/v1/promotion_codes",
            &[("promotion[type]", "coupon"), ("promotion[coupon]", coupon["id"].as_str().unwrap()), ("code", "SAVE5")],
        )
        .await;
    assert!(f.page().await.contains("<label for=\"promotion_code\">Promotion code</label>"));
    let bad = f
        .raw
        .http
        .post(f.page_url())
        .form(&[
            ("email", "p@x.com"),
            ("promotion_code", "NOPE"),
            ("card_number", "4242424242424242"),
            ("expiry", "12/34"),
            ("cvc", "123"),
        ])
        .send()
        .await
        .unwrap();
    assert!(bad.text().await.unwrap().contains("This code is invalid."));
    let ok = f
        .raw
        .http
        .post(f.page_url())
        .form(&[
            ("email", "p@x.com"),
            ("promotion_code", "save5"),
            ("card_number", "4242424242424242"),
            ("expiry", "12/34"),
            ("cvc", "123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303);
    let cs = f.session().await;
    assert_eq!(cs["amount_total"], 1500);
    assert_eq!(cs["total_details"]["amount_discount"], 500);
    let (_, pi) = f.raw.get(&format!("/v1/payment_intents/{}", cs["payment_intent"].as_str().unwrap())).await;
    assert_eq!(pi["amount"], 1500);
    settle(&f.sb).await;
    f.rx.verify_all(&f.secret).await;
}

/// The failed charges of a payment intent, newest first.
async fn charges_of(raw: &Raw, pi: &str) -> Vec<Value> {
    raw.get(&format!("/v1/charges?payment_intent={pi}")).await.1["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn declined_payment_checkout_leaves_a_failed_charge_on_the_sessions_payment_intent() {
    let f = session("payment", &[]).await;
    assert_eq!(f.pay("4000 0000 0000 0002").await.status(), 402);
    let cs = f.session().await;
    assert_eq!(cs["status"], "open");
    assert_eq!(cs["payment_status"], "unpaid");
    let pi_id = cs["payment_intent"].as_str().expect("the attempt's payment intent").to_string();
    let (_, pi) = f.raw.get(&format!("/v1/payment_intents/{pi_id}")).await;
    assert_eq!(pi["status"], "requires_payment_method");
    assert_eq!(pi["amount"], 2000);
    assert_eq!(pi["last_payment_error"]["code"], "card_declined");
    assert_eq!(pi["last_payment_error"]["decline_code"], "generic_decline");
    let (_, ch) = f.raw.get(&format!("/v1/charges/{}", pi["latest_charge"].as_str().unwrap())).await;
    assert_eq!(ch["status"], "failed");
    assert_eq!(ch["failure_code"], "card_declined");
    assert_eq!(ch["outcome"]["reason"], "generic_decline");
    assert_eq!(ch["payment_intent"], pi_id.as_str());
    // Insufficient funds: a second failed charge on the same payment intent.
    assert_eq!(f.pay("4000000000009995").await.status(), 402);
    let (_, pi) = f.raw.get(&format!("/v1/payment_intents/{pi_id}")).await;
    assert_eq!(pi["last_payment_error"]["decline_code"], "insufficient_funds");
    assert_eq!(f.session().await["payment_intent"], pi_id.as_str());
    settle(&f.sb).await;
    let types = f.rx.types().await;
    assert_subsequence(
        &types,
        &[
            "payment_intent.created",
            "charge.failed",
            "payment_intent.payment_failed",
            "charge.failed",
            "payment_intent.payment_failed",
        ],
    );
    assert!(!types.contains(&"checkout.session.completed".to_string()));
    // Then 4242 succeeds on the same payment intent.
    assert_eq!(f.pay("4242424242424242").await.status(), 303);
    let cs = f.session().await;
    assert_eq!(cs["status"], "complete");
    assert_eq!(cs["payment_status"], "paid");
    assert_eq!(cs["payment_intent"], pi_id.as_str());
    let (_, pi) = f.raw.get(&format!("/v1/payment_intents/{pi_id}")).await;
    assert_eq!(pi["status"], "succeeded");
    assert!(pi["last_payment_error"].is_null());
    let charges = charges_of(&f.raw, &pi_id).await;
    assert_eq!(
        charges.iter().map(|c| c["status"].as_str().unwrap()).collect::<Vec<_>>(),
        ["succeeded", "failed", "failed"]
    );
    assert_eq!(pi["latest_charge"], charges[0]["id"]);
    settle(&f.sb).await;
    assert_eq!(f.rx.types().await.iter().filter(|t| *t == "payment_intent.created").count(), 1);
    f.rx.verify_all(&f.secret).await;
}

#[tokio::test]
async fn declined_subscription_checkout_retries_the_first_invoices_payment_intent() {
    let f = session("subscription", &[]).await;
    assert_eq!(f.pay("4000000000000002").await.status(), 402);
    assert_eq!(f.pay("4000000000000341").await.status(), 402);
    let cs = f.session().await;
    assert_eq!(cs["status"], "open");
    assert!(cs["subscription"].is_null());
    settle(&f.sb).await;
    let types = f.rx.types().await;
    assert_subsequence(
        &types,
        &["charge.failed", "payment_intent.payment_failed", "charge.failed", "payment_intent.payment_failed"],
    );
    assert!(!types.contains(&"checkout.session.completed".to_string()));
    let failed: Vec<Value> =
        f.rx.events()
            .await
            .into_iter()
            .filter(|e| e["type"] == "charge.failed")
            .map(|e| e["data"]["object"].clone())
            .collect();
    assert_eq!(failed[0]["failure_code"], "card_declined");
    assert_eq!(failed[0]["outcome"]["reason"], "generic_decline");
    let pi_id = failed[0]["payment_intent"].as_str().unwrap().to_string();
    assert_eq!(failed[1]["payment_intent"], pi_id.as_str());
    let (_, pi) = f.raw.get(&format!("/v1/payment_intents/{pi_id}")).await;
    assert_eq!(pi["status"], "requires_payment_method");
    assert_eq!(pi["last_payment_error"]["code"], "card_declined");
    // 4242 then pays that same payment intent, and the session completes.
    assert_eq!(f.pay("4242424242424242").await.status(), 303);
    let cs = f.session().await;
    assert_eq!(cs["status"], "complete");
    assert_eq!(cs["payment_status"], "paid");
    let (_, sub) = f
        .raw
        .get(&format!("/v1/subscriptions/{}?expand[]=latest_invoice.payments", cs["subscription"].as_str().unwrap()))
        .await;
    assert_eq!(sub["status"], "active");
    assert_eq!(sub["latest_invoice"]["status"], "paid");
    assert_eq!(sub["latest_invoice"]["payments"]["data"][0]["payment"]["payment_intent"], pi_id.as_str());
    let (_, pi) = f.raw.get(&format!("/v1/payment_intents/{pi_id}")).await;
    assert_eq!(pi["status"], "succeeded");
    let charges = charges_of(&f.raw, &pi_id).await;
    assert_eq!(charges.len(), 3);
    assert_eq!(pi["latest_charge"], charges[0]["id"]);
    assert_eq!(charges[0]["status"], "succeeded");
    // One customer and one subscription, with the good card as default.
    let (_, customers) = f.raw.get("/v1/customers").await;
    assert_eq!(customers["data"].as_array().unwrap().len(), 1);
    let (_, subs) = f.raw.get("/v1/subscriptions?status=all").await;
    assert_eq!(subs["data"].as_array().unwrap().len(), 1);
    let (_, pm) = f.raw.get(&format!("/v1/payment_methods/{}", sub["default_payment_method"].as_str().unwrap())).await;
    assert_eq!(pm["card"]["last4"], "4242");
    settle(&f.sb).await;
    f.rx.verify_all(&f.secret).await;
}

#[tokio::test]
async fn nothing_due_today_is_no_payment_required() {
    // A trial.
    let f = session("subscription", &[("subscription_data[trial_period_days]", "14")]).await;
    assert_eq!(f.pay("4242424242424242").await.status(), 303);
    let cs = f.session().await;
    assert_eq!(cs["status"], "complete");
    assert_eq!(cs["payment_status"], "no_payment_required");
    // A 100% promotion code, subscription mode.
    let f = session("subscription", &[("allow_promotion_codes", "true")]).await;
    let coupon = f.raw.ok("/v1/coupons", &[("percent_off", "100"), ("duration", "once")]).await;
    f.raw
        .ok(
            "/v1/promotion_codes",
            &[("promotion[type]", "coupon"), ("promotion[coupon]", coupon["id"].as_str().unwrap()), ("code", "FREE")],
        )
        .await;
    assert_eq!(f.pay_with_code("FREE").await.status(), 303);
    let cs = f.session().await;
    assert_eq!(cs["amount_total"], 0);
    assert_eq!(cs["payment_status"], "no_payment_required");
    let (_, sub) = f.raw.get(&format!("/v1/subscriptions/{}", cs["subscription"].as_str().unwrap())).await;
    assert_eq!(sub["status"], "active");
    // A 100% promotion code, payment mode: no payment intent at all.
    let f = session("payment", &[("allow_promotion_codes", "true")]).await;
    let coupon = f.raw.ok("/v1/coupons", &[("percent_off", "100"), ("duration", "once")]).await;
    f.raw
        .ok(
            "/v1/promotion_codes",
            &[("promotion[type]", "coupon"), ("promotion[coupon]", coupon["id"].as_str().unwrap()), ("code", "FREE")],
        )
        .await;
    assert_eq!(f.pay_with_code("FREE").await.status(), 303);
    let cs = f.session().await;
    assert_eq!(cs["status"], "complete");
    assert_eq!(cs["amount_total"], 0);
    assert_eq!(cs["payment_status"], "no_payment_required");
    assert!(cs["payment_intent"].is_null());
}

#[tokio::test]
async fn a_sessions_amounts_reflect_its_discounts_from_creation() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let price = monthly_price(&raw, "2000").await;
    let coupon = raw.ok("/v1/coupons", &[("percent_off", "25"), ("duration", "forever")]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let session = raw
        .ok(
            "/v1/checkout/sessions",
            &[
                ("mode", "subscription"),
                ("success_url", "http://x/s"),
                ("line_items[0][price]", price.as_str()),
                ("line_items[0][quantity]", "1"),
                ("discounts[0][coupon]", coupon.as_str()),
            ],
        )
        .await;
    assert_eq!(session["amount_subtotal"], 2000);
    assert_eq!(session["amount_total"], 1500);
    assert_eq!(session["total_details"]["amount_discount"], 500);
    assert_eq!(session["discounts"][0]["coupon"], coupon.as_str());
    let (_, fetched) = raw.get(&format!("/v1/checkout/sessions/{}", session["id"].as_str().unwrap())).await;
    assert_eq!(fetched["amount_total"], 1500);
}

#[tokio::test]
async fn branding_settings_show_on_the_session_and_its_hosted_page() {
    let flow = session(
        "payment",
        &[
            ("branding_settings[display_name]", "Acme <Cloud>"),
            ("branding_settings[button_color]", "#0B6E4F"),
            ("branding_settings[logo][type]", "url"),
            ("branding_settings[logo][url]", "http://app.test/logo.svg"),
        ],
    )
    .await;
    let branding = &flow.cs["branding_settings"];
    assert_eq!(branding["display_name"], "Acme <Cloud>");
    assert_eq!(branding["button_color"], "#0b6e4f");
    assert_eq!(
        (branding["background_color"].as_str(), branding["border_style"].as_str()),
        (Some("#ffffff"), Some("rounded"))
    );
    assert_eq!(branding["logo"], serde_json::json!({"file": null, "type": "url", "url": "http://app.test/logo.svg"}));
    let id = flow.cs["id"].as_str().unwrap();
    let (status, stored) = flow.raw.get(&format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!((status, &stored["branding_settings"]), (200, branding), "stored");
    let page = flow.page().await;
    assert!(page.contains("<strong>Acme &lt;Cloud&gt;</strong>"), "{page}");
    assert!(page.contains("button{background:#0b6e4f}") && page.contains("src=\"http://app.test/logo.svg\""), "{page}");

    // Without branding_settings the session has none and the page its usual look.
    let plain = session("payment", &[]).await;
    assert!(plain.cs.get("branding_settings").is_none_or(Value::is_null), "{}", plain.cs);
    assert!(!plain.page().await.contains("class=\"seller\""));
}

#[tokio::test]
async fn branding_colours_must_be_hex() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let (status, err) = raw
        .post(
            "/v1/checkout/sessions",
            &[
                ("mode", "setup"),
                ("currency", "usd"),
                ("success_url", "http://app.test/ok"),
                ("branding_settings[button_color]", "green"),
            ],
        )
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["type"], "invalid_request_error", "{err}");
    assert_eq!(err["error"]["param"], "branding_settings[button_color]", "{err}");
}
