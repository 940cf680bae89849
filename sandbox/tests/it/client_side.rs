//! What Stripe.js does over HTTP: publishable keys, CORS, `client_secret` checks, confirming with
//! `payment_method_data` and a `return_url`, and the 3-D Secure page sending the customer back.

use super::*;

pub(super) const PK: &str = "pk_test_sandbox_client";

/// A raw client holding a publishable key, as Stripe.js does.
pub(super) struct Browser {
    base: String,
    http: reqwest::Client,
}

impl Browser {
    pub(super) fn new(sb: &RunningSandbox) -> Self {
        Browser {
            base: sb.base_url(),
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        }
    }
    /// The key goes as Stripe.js sends it: a `key` parameter, no `Authorization` header.
    pub(super) async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let mut form = form.to_vec();
        form.insert(0, ("key", PK));
        let r = self.http.post(format!("{}{path}", self.base)).form(&form).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub(super) async fn get(&self, path: &str) -> (u16, Value) {
        let joiner = if path.contains('?') { '&' } else { '?' };
        let r = self.http.get(format!("{}{path}{joiner}key={PK}", self.base)).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    /// Answers the 3-D Secure page of an intent ("Complete" or "Fail"); returns (status, Location).
    pub(super) async fn answer_3ds(&self, url: &str, action: &str) -> (u16, Option<String>) {
        let r = self.http.post(url).form(&[("action", action)]).send().await.unwrap();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        (r.status().as_u16(), location)
    }
}

pub(super) fn card_data(number: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("payment_method_data[type]", "card"),
        ("payment_method_data[card][number]", number),
        ("payment_method_data[card][exp_month]", "12"),
        ("payment_method_data[card][exp_year]", "2034"),
        ("payment_method_data[card][cvc]", "123"),
    ]
}

/// A PaymentIntent for $20 made by the server (secret key): (id, client_secret).
async fn intent(raw: &Raw) -> (String, String) {
    let customer = raw.ok("/v1/customers", &[("email", "js@example.com")]).await;
    let pi = raw
        .ok(
            "/v1/payment_intents",
            &[("amount", "2000"), ("currency", "usd"), ("customer", customer["id"].as_str().unwrap())],
        )
        .await;
    (pi["id"].as_str().unwrap().to_string(), pi["client_secret"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn publishable_key_reaches_only_client_side_endpoints() {
    let sb = sandbox().await;
    let browser = Browser::new(&sb);
    let (s, v) = browser.get("/v1/customers").await;
    assert_eq!(s, 401, "{v}");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("This API call cannot be made with a publishable API key. Please use a secret API key."));
    let (s, _) = browser.post("/v1/payment_intents", &[("amount", "2000"), ("currency", "usd")]).await;
    assert_eq!(s, 401);
    let (s, pm) = browser
        .post(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{pm}");
    assert_eq!(pm["card"]["last4"], "4242");
    let r = reqwest::Client::new()
        .get(format!("{}/v1/customers", sb.base_url()))
        .bearer_auth("pk_live_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn cors_as_api_stripe_com_answers_it() {
    let sb = sandbox().await;
    let http = reqwest::Client::new();
    let preflight = http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/payment_intents/pi_x/confirm", sb.base_url()))
        .header("origin", "http://shop.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization, stripe-account")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert_eq!(headers["access-control-allow-headers"], "authorization, stripe-account");
    assert!(headers["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    // Errors carry the headers too, so Stripe.js can read them.
    let r =
        http.get(format!("{}/v1/customers", sb.base_url())).header("origin", "http://shop.test").send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    assert!(r.headers()["access-control-expose-headers"].to_str().unwrap().contains("Request-Id"));
}

#[tokio::test]
async fn client_secret_guards_intents() {
    let sb = sandbox().await;
    let (raw, browser) = (Raw::new(&sb), Browser::new(&sb));
    let (id, secret) = intent(&raw).await;
    let (s, pi) = browser.get(&format!("/v1/payment_intents/{id}?client_secret={secret}")).await;
    assert_eq!(s, 200, "{pi}");
    assert_eq!(pi["status"], "requires_payment_method");
    assert_eq!(pi["amount"], 2000);
    // A publishable key sees what Stripe's reference marks retrievable with it, not the customer.
    assert!(pi.get("customer").is_none() && pi.get("metadata").is_none(), "{pi}");
    let (s, v) = browser.get(&format!("/v1/payment_intents/{id}?client_secret={id}_secret_wrong")).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "resource_missing");
    let (s, v) = browser.get(&format!("/v1/payment_intents/{id}")).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["param"], "client_secret");
    let (s, _) = browser.post(&format!("/v1/payment_intents/{id}/confirm"), &card_data("4242424242424242")).await;
    assert_eq!(s, 400, "confirm without client_secret");
    // The secret key still sees it all.
    let (s, full) = raw.get(&format!("/v1/payment_intents/{id}")).await;
    assert_eq!(s, 200);
    assert!(full["customer"].as_str().unwrap().starts_with("cus_"));
}

#[tokio::test]
async fn confirm_with_payment_method_data() {
    let sb = sandbox().await;
    let (raw, browser) = (Raw::new(&sb), Browser::new(&sb));
    let (id, secret) = intent(&raw).await;
    let mut form = card_data("4242 4242 4242 4242");
    form.extend([("client_secret", secret.as_str()), ("return_url", "https://shop.test/done")]);
    let (s, pi) = browser.post(&format!("/v1/payment_intents/{id}/confirm"), &form).await;
    assert_eq!(s, 200, "{pi}");
    assert_eq!(pi["status"], "succeeded");
    let payment_method = pi["payment_method"].as_str().unwrap();
    let (_, pm) = raw.get(&format!("/v1/payment_methods/{payment_method}")).await;
    assert_eq!(pm["card"]["last4"], "4242");

    let (id, secret) = intent(&raw).await;
    let mut form = card_data("4000000000009995");
    form.push(("client_secret", secret.as_str()));
    let (s, v) = browser.post(&format!("/v1/payment_intents/{id}/confirm"), &form).await;
    assert_eq!(s, 402, "{v}");
    assert_eq!(v["error"]["type"], "card_error");
    assert_eq!(v["error"]["code"], "card_declined");
    assert_eq!(v["error"]["decline_code"], "insufficient_funds");
    assert_eq!(v["error"]["message"], "Your card has insufficient funds.");
    assert_eq!(v["error"]["payment_intent"]["status"], "requires_payment_method");
    assert!(v["error"]["payment_intent"].get("customer").is_none());

    let (id, secret) = intent(&raw).await;
    let mut form = card_data("4242424242424241");
    form.push(("client_secret", secret.as_str()));
    let (s, v) = browser.post(&format!("/v1/payment_intents/{id}/confirm"), &form).await;
    assert_eq!(s, 402, "{v}");
    assert_eq!(v["error"]["code"], "incorrect_number");
    assert_eq!(v["error"]["param"], "payment_method_data[card][number]");
}

#[tokio::test]
async fn three_d_secure_by_redirect_returns_to_return_url() {
    let sb = sandbox().await;
    let (raw, browser) = (Raw::new(&sb), Browser::new(&sb));
    for (action, status, redirect_status) in
        [("complete", "succeeded", "succeeded"), ("fail", "requires_payment_method", "failed")]
    {
        let (id, secret) = intent(&raw).await;
        let mut form = card_data("4000002760003184");
        form.extend([("client_secret", secret.as_str()), ("return_url", "https://shop.test/done?order=7")]);
        let (s, pi) = browser.post(&format!("/v1/payment_intents/{id}/confirm"), &form).await;
        assert_eq!(s, 200, "{pi}");
        assert_eq!(pi["status"], "requires_action");
        assert_eq!(pi["next_action"]["type"], "redirect_to_url");
        assert_eq!(pi["next_action"]["redirect_to_url"]["return_url"], "https://shop.test/done?order=7");
        let url = pi["next_action"]["redirect_to_url"]["url"].as_str().unwrap();
        let (s, location) = browser.answer_3ds(url, action).await;
        assert_eq!(s, 303);
        assert_eq!(
            location.unwrap(),
            format!("https://shop.test/done?order=7&payment_intent={id}&payment_intent_client_secret={secret}&redirect_status={redirect_status}")
        );
        let (_, pi) = browser.get(&format!("/v1/payment_intents/{id}?client_secret={secret}")).await;
        assert_eq!(pi["status"], status);
        if action == "fail" {
            assert_eq!(pi["last_payment_error"]["code"], "payment_intent_authentication_failure");
        }
    }
}

#[tokio::test]
async fn stripe_js_without_return_url_gets_use_stripe_sdk() {
    let sb = sandbox().await;
    let (raw, browser) = (Raw::new(&sb), Browser::new(&sb));
    let (id, secret) = intent(&raw).await;
    let mut form = card_data("4000003800000446");
    form.push(("client_secret", secret.as_str()));
    let (_, pi) = browser.post(&format!("/v1/payment_intents/{id}/confirm"), &form).await;
    assert_eq!(pi["status"], "requires_action", "{pi}");
    assert_eq!(pi["next_action"]["type"], "use_stripe_sdk");
    let url = pi["next_action"]["use_stripe_sdk"]["stripe_js"].as_str().unwrap();
    // In Stripe.js's frame the page answers in place and tells the opener.
    let (s, location) = browser.answer_3ds(url, "complete").await;
    assert_eq!((s, location), (200, None));
    let (_, pi) = browser.get(&format!("/v1/payment_intents/{id}?client_secret={secret}")).await;
    assert_eq!(pi["status"], "succeeded");
    // "Already set up": off-session charges need no authentication.
    let customer = raw.ok("/v1/customers", &[]).await;
    let customer = customer["id"].as_str().unwrap();
    let (s, pm) = raw
        .post(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4000003800000446"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    let pm = pm["id"].as_str().unwrap();
    raw.ok(&format!("/v1/payment_methods/{pm}/attach"), &[("customer", customer)]).await;
    let off_session = raw
        .ok(
            "/v1/payment_intents",
            &[
                ("amount", "500"),
                ("currency", "usd"),
                ("customer", customer),
                ("payment_method", pm),
                ("confirm", "true"),
                ("off_session", "true"),
            ],
        )
        .await;
    assert_eq!(off_session["status"], "succeeded");
}

#[tokio::test]
async fn setup_intent_with_three_d_secure() {
    let sb = sandbox().await;
    let (raw, browser) = (Raw::new(&sb), Browser::new(&sb));
    let customer = raw.ok("/v1/customers", &[]).await;
    let customer = customer["id"].as_str().unwrap();
    for (action, status, redirect_status) in
        [("complete", "succeeded", "succeeded"), ("fail", "requires_payment_method", "failed")]
    {
        let seti = raw.ok("/v1/setup_intents", &[("customer", customer)]).await;
        let (id, secret) = (seti["id"].as_str().unwrap(), seti["client_secret"].as_str().unwrap());
        let mut form = card_data("4000002500003155");
        form.extend([("client_secret", secret), ("return_url", "https://shop.test/card")]);
        let (s, si) = browser.post(&format!("/v1/setup_intents/{id}/confirm"), &form).await;
        assert_eq!(s, 200, "{si}");
        assert_eq!(si["status"], "requires_action");
        assert!(si.get("customer").is_none(), "publishable view: {si}");
        let url = si["next_action"]["redirect_to_url"]["url"].as_str().unwrap();
        let (s, location) = browser.answer_3ds(url, action).await;
        assert_eq!(s, 303);
        assert_eq!(
            location.unwrap(),
            format!("https://shop.test/card?setup_intent={id}&setup_intent_client_secret={secret}&redirect_status={redirect_status}")
        );
        let (_, si) = raw.get(&format!("/v1/setup_intents/{id}")).await;
        assert_eq!(si["status"], status);
        if action == "fail" {
            assert_eq!(si["last_setup_error"]["code"], "setup_intent_authentication_failure");
        }
    }
    let (_, cards) = raw.get(&format!("/v1/customers/{customer}/payment_methods")).await;
    assert_eq!(cards["data"].as_array().unwrap().len(), 1, "only the authenticated card is attached: {cards}");

    let seti = raw.ok("/v1/setup_intents", &[("customer", customer)]).await;
    let (id, secret) = (seti["id"].as_str().unwrap(), seti["client_secret"].as_str().unwrap());
    let mut form = card_data("4000000000000002");
    form.push(("client_secret", secret));
    let (s, v) = browser.post(&format!("/v1/setup_intents/{id}/confirm"), &form).await;
    assert_eq!(s, 402, "{v}");
    assert_eq!(v["error"]["decline_code"], "generic_decline");
    assert_eq!(v["error"]["setup_intent"]["status"], "requires_payment_method");
}

#[tokio::test]
async fn the_stand_in_script_is_served_at_v3() {
    let sb = sandbox().await;
    for path in ["/v3/", "/v3"] {
        let r = reqwest::get(format!("{}{path}", sb.base_url())).await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
        let text = r.text().await.unwrap();
        assert!(text.contains("window.Stripe = StripeSandbox"), "{path} serves the stand-in");
    }
}

/// An embedded Checkout Session for a $25 book: the created session.
async fn embedded_session(raw: &Raw, extra: &[(&str, &str)]) -> (u16, Value) {
    let price =
        raw.ok("/v1/prices", &[("currency", "usd"), ("unit_amount", "2500"), ("product_data[name]", "Book")]).await;
    let mut form = vec![
        ("mode", "payment"),
        ("ui_mode", "embedded_page"),
        ("line_items[0][price]", price["id"].as_str().unwrap()),
        ("line_items[0][quantity]", "1"),
    ];
    form.extend_from_slice(extra);
    raw.post("/v1/checkout/sessions", &form).await
}

#[tokio::test]
async fn embedded_checkout_sessions_return_to_return_url() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let (s, v) = embedded_session(&raw, &[]).await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("return_url")), "{v}");
    let (s, v) = embedded_session(
        &raw,
        &[
            ("return_url", "http://app.test/done"),
            ("success_url", "http://app.test/ok"),
            ("cancel_url", "http://app.test/no"),
        ],
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        v["error"]["message"],
        "The following parameters are not supported with 'ui_mode: embedded_page': cancel_url, success_url."
    );
    let (s, v) =
        embedded_session(&raw, &[("redirect_on_completion", "never"), ("return_url", "http://app.test/done")]).await;
    assert_eq!((s, v["error"]["param"].as_str()), (400, Some("return_url")));

    let (s, cs) =
        embedded_session(&raw, &[("return_url", "http://app.test/done?session_id={CHECKOUT_SESSION_ID}")]).await;
    assert_eq!(s, 200, "{cs}");
    assert_eq!(cs["url"], Value::Null);
    assert_eq!(cs["redirect_on_completion"], "always");
    let (id, secret) = (cs["id"].as_str().unwrap(), cs["client_secret"].as_str().unwrap());
    assert!(secret.starts_with(&format!("{id}_secret_")));
    // The page opens only with the session's client_secret (what initEmbeddedCheckout frames).
    let page = |query: String| raw.http.get(format!("{}/checkout/{id}{query}", sb.base_url())).send();
    assert_eq!(page(String::new()).await.unwrap().status(), 404);
    assert_eq!(page("?client_secret=wrong".into()).await.unwrap().status(), 404);
    let framed = page(format!("?client_secret={secret}")).await.unwrap();
    assert_eq!(framed.status(), 200);
    let html = framed.text().await.unwrap();
    assert!(html.contains(&format!("action=\"/checkout/{id}?client_secret={secret}\"")), "{html}");
    // Paid in the frame: the page asks Stripe.js to take the window to return_url.
    let done = raw
        .http
        .post(format!("{}/checkout/{id}?client_secret={secret}", sb.base_url()))
        .form(&[("email", "e@example.com"), ("card_number", "4242424242424242"), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("stripe-sandbox:checkout-complete"), "{html}");
    assert!(html.contains(&format!("http://app.test/done?session_id={id}")), "{html}");
    let (_, cs) = raw.get(&format!("/v1/checkout/sessions/{id}")).await;
    assert_eq!((cs["status"].as_str(), cs["payment_status"].as_str()), (Some("complete"), Some("paid")));
}
