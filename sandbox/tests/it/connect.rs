//! Stripe Connect: connected accounts, onboarding, destination and direct charges, application
//! fees, transfers, balances and payouts. Responses are parsed with async-stripe's types.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use stripe_connect::account::{
    CreateAccount, CreateAccountCapabilities, CreateAccountCapabilitiesCardPayments,
    CreateAccountCapabilitiesTransfers, CreateAccountType, DeleteAccount, ListAccount, RetrieveAccount, UpdateAccount,
};

use super::*;

/// Parses `value` as async-stripe's type, naming what failed.
pub fn parse<T: DeserializeOwned>(value: &Value) -> T {
    match serde_json::from_value::<T>(value.clone()) {
        Ok(parsed) => parsed,
        Err(e) => panic!("{} does not parse as {}: {e}\n{value:#}", value["object"], std::any::type_name::<T>()),
    }
}

impl Raw {
    pub async fn post_as(&self, account: &str, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let request = self.http.post(format!("{}{path}", self.base)).bearer_auth(KEY).form(form);
        let r = request.header("Stripe-Account", account).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn get_as(&self, account: &str, path: &str) -> (u16, Value) {
        let request = self.http.get(format!("{}{path}", self.base)).bearer_auth(KEY);
        let r = request.header("Stripe-Account", account).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn ok_as(&self, account: &str, path: &str, form: &[(&str, &str)]) -> Value {
        let (s, v) = self.post_as(account, path, form).await;
        assert_eq!(s, 200, "POST {path} as {account} → {v}");
        v
    }
}

/// An Express account requesting card payments and transfers; returns its id.
pub async fn express_account(raw: &Raw, email: &str) -> String {
    let form = [
        ("type", "express"),
        ("country", "US"),
        ("email", email),
        ("capabilities[card_payments][requested]", "true"),
        ("capabilities[transfers][requested]", "true"),
    ];
    raw.ok("/v1/accounts", &form).await["id"].as_str().unwrap().to_string()
}

/// A webhook endpoint for Connect events (`connect=true`); returns its secret.
pub async fn register_connect(raw: &Raw, url: &str) -> String {
    let v = raw.ok("/v1/webhook_endpoints", &[("url", url), ("enabled_events[]", "*"), ("connect", "true")]).await;
    v["secret"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn accounts_through_async_stripe() {
    let sb = sandbox().await;
    let c = client(&sb);
    let capabilities = CreateAccountCapabilities {
        card_payments: Some(CreateAccountCapabilitiesCardPayments { requested: Some(true) }),
        transfers: Some(CreateAccountCapabilitiesTransfers { requested: Some(true) }),
        ..Default::default()
    };
    let account = CreateAccount::new()
        .type_(CreateAccountType::Express)
        .country("US")
        .email("seller@example.com")
        .capabilities(capabilities)
        .metadata(HashMap::from([("seller_id".to_string(), "7".to_string())]))
        .send(&c)
        .await
        .unwrap();
    assert!(account.id.as_str().starts_with("acct_"));
    assert_eq!(account.details_submitted, Some(false));
    assert_eq!(account.charges_enabled, Some(false));
    assert_eq!(account.payouts_enabled, Some(false));
    assert_eq!(account.email.as_deref(), Some("seller@example.com"));
    let requirements = account.requirements.clone().unwrap();
    // As Stripe's API reference shows a new US account.
    let expected = [
        "business_profile.mcc",
        "business_profile.url",
        "business_type",
        "external_account",
        "representative.first_name",
        "representative.last_name",
        "tos_acceptance.date",
        "tos_acceptance.ip",
    ];
    assert_eq!(requirements.currently_due.clone().unwrap(), expected);
    assert_eq!(requirements.eventually_due.clone().unwrap(), expected);
    assert_eq!(requirements.past_due.clone().unwrap(), expected);
    assert_eq!(requirements.disabled_reason.unwrap().as_str(), "requirements.past_due");
    let capabilities = account.capabilities.clone().unwrap();
    assert_eq!(capabilities.transfers.unwrap().as_str(), "inactive");
    assert_eq!(capabilities.card_payments.unwrap().as_str(), "inactive");
    let controller = account.controller.clone().unwrap();
    assert_eq!(controller.stripe_dashboard.unwrap().type_.as_str(), "express");
    assert_eq!(account.type_.clone().unwrap().as_str(), "express");

    let got = RetrieveAccount::new(account.id.clone()).send(&c).await.unwrap();
    assert_eq!(got.id, account.id);
    let updated = UpdateAccount::new(account.id.clone())
        .metadata(HashMap::from([("tier".to_string(), "gold".to_string())]))
        .send(&c)
        .await
        .unwrap();
    let metadata = updated.metadata.unwrap();
    assert_eq!(metadata["tier"], "gold");
    assert_eq!(metadata["seller_id"], "7");
    let list = ListAccount::new().send(&c).await.unwrap();
    assert_eq!(list.data.len(), 1);
    let deleted = DeleteAccount::new(account.id.clone()).send(&c).await.unwrap();
    assert_eq!(deleted.id, account.id);
    assert!(RetrieveAccount::new(account.id.clone()).send(&c).await.is_err());
}

#[tokio::test]
async fn account_events_are_connect_events_with_previous_attributes() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let platform = receiver().await;
    let connect = receiver().await;
    register(&raw, &platform.url).await;
    let secret = register_connect(&raw, &connect.url).await;
    let id = express_account(&raw, "a@example.com").await;
    raw.ok(&format!("/v1/accounts/{id}"), &[("metadata[x]", "1"), ("business_profile[name]", "Shop")]).await;
    // Unchanged: no event.
    raw.ok(&format!("/v1/accounts/{id}"), &[("metadata[x]", "1")]).await;
    settle(&sb).await;
    assert!(platform.types().await.iter().all(|t| !t.starts_with("account.")), "not on platform endpoints");
    let events = connect.events().await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["type"], "account.updated");
    assert_eq!(events[0]["account"], id.as_str());
    assert_eq!(events[0]["data"]["previous_attributes"]["metadata"], serde_json::json!({}));
    assert_eq!(events[0]["data"]["previous_attributes"]["business_profile"]["name"], Value::Null);
    connect.verify_all(&secret).await;
    // The event is the connected account's: listed with its Stripe-Account, not the platform's.
    let (_, mine) = raw.get_as(&id, "/v1/events?type=account.updated").await;
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let (_, platform_events) = raw.get("/v1/events?type=account.updated").await;
    assert_eq!(platform_events["data"].as_array().unwrap().len(), 0);
    // Deleting the account revokes the platform's access.
    raw.delete(&format!("/v1/accounts/{id}")).await;
    settle(&sb).await;
    let last = connect.events().await.pop().unwrap();
    assert_eq!(last["type"], "account.application.deauthorized");
    assert_eq!(last["account"], id.as_str());
    assert_eq!(last["data"]["object"]["object"], "application");
}

#[tokio::test]
async fn stripe_account_header_names_a_connected_account() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let id = express_account(&raw, "b@example.com").await;
    let (s, me) = raw.get_as(&id, "/v1/account").await;
    assert_eq!(s, 200);
    assert_eq!(me["id"], id.as_str());
    let _: stripe_shared::Account = parse(&me);
    let (_, capabilities) = raw.get(&format!("/v1/accounts/{id}/capabilities")).await;
    let capabilities = capabilities["data"].as_array().unwrap();
    assert_eq!(capabilities.len(), 2);
    for capability in capabilities {
        let _: stripe_shared::Capability = parse(capability);
    }
    let (s, platform) = raw.get("/v1/account").await;
    assert_eq!(s, 200);
    assert_ne!(platform["id"], id.as_str());
    // Unknown accounts: Stripe's 403 on any route, and on retrieve.
    for (status, body) in
        [raw.get_as("acct_1Unknown000000", "/v1/customers").await, raw.get("/v1/accounts/acct_1Unknown000000").await]
    {
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert_eq!(body["error"]["code"], "account_invalid");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.starts_with("The provided key 'sk_test_"), "{message}");
        assert!(message.ends_with("does not have access to account 'acct_1Unknown000000' (or that account does not exist). Application access may have been revoked."), "{message}");
        assert!(!message.contains(KEY), "the key is redacted");
    }
    let (s, list) = raw.get("/v1/accounts?limit=1").await;
    assert_eq!((s, list["has_more"].as_bool()), (200, Some(false)));
}

#[tokio::test]
async fn account_types_and_controller_properties() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let standard = raw.ok("/v1/accounts", &[("type", "standard")]).await;
    assert_eq!(standard["controller"]["stripe_dashboard"]["type"], "full");
    assert_eq!(standard["capabilities"]["card_payments"], "inactive");
    let custom = raw.ok("/v1/accounts", &[("type", "custom"), ("capabilities[transfers][requested]", "true")]).await;
    assert_eq!(custom["controller"]["requirement_collection"], "application");
    let controlled = raw
        .ok(
            "/v1/accounts",
            &[
                ("controller[fees][payer]", "application"),
                ("controller[losses][payments]", "application"),
                ("controller[stripe_dashboard][type]", "express"),
                ("business_type", "individual"),
            ],
        )
        .await;
    assert_eq!(controlled["type"], "express");
    assert_eq!(controlled["business_type"], "individual");
    assert!(controlled["requirements"]["currently_due"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "individual.first_name"));
    for account in [&standard, &custom, &controlled] {
        let _: stripe_shared::Account = parse(account);
    }
    let (s, e) = raw.post("/v1/accounts", &[("type", "premium")]).await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("type")));
}

/// An account link's url for `account` (refresh and return on app.test).
async fn onboarding_link(raw: &Raw, account: &str) -> Value {
    let form = [
        ("account", account),
        ("type", "account_onboarding"),
        ("refresh_url", "http://app.test/connect/refresh"),
        ("return_url", "http://app.test/connect/return"),
    ];
    raw.ok("/v1/account_links", &form).await
}

/// Submits the hosted onboarding form as filled in (Stripe's test values), pressing `button`
/// (`complete` or `skip_document`), with `changes` to the fields.
pub async fn submit_onboarding(raw: &Raw, url: &str, button: &str, changes: &[(&str, &str)]) -> reqwest::Response {
    let mut form: HashMap<&str, &str> = HashMap::from([
        ("business_type", "individual"),
        ("business_name", "Rosen Records"),
        ("url", "https://accessible.stripe.com"),
        ("first_name", "Jenny"),
        ("last_name", "Rosen"),
        ("email", "jenny@example.com"),
        ("phone", "000-000-0000"),
        ("sms_code", "000-000"),
        ("dob", "01/01/1901"),
        ("address_line1", "address_full_match"),
        ("city", "San Francisco"),
        ("state", "CA"),
        ("postal_code", "94111"),
        ("ssn_last_4", "0000"),
        ("routing_number", "110000000"),
        ("account_number", "000123456789"),
        ("action", button),
    ]);
    form.extend(changes.iter().copied());
    raw.http.post(url).form(&form).send().await.unwrap()
}

/// An Express account onboarded through the hosted page (`bank` account number); returns its id.
pub async fn onboarded_account(raw: &Raw, bank: &str) -> String {
    let id = express_account(raw, "seller@example.com").await;
    let link = onboarding_link(raw, &id).await;
    let r = submit_onboarding(raw, link["url"].as_str().unwrap(), "complete", &[("account_number", bank)]).await;
    assert_eq!(r.status(), 303);
    id
}

#[tokio::test]
async fn hosted_onboarding_completes_the_account() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let connect = receiver().await;
    let secret = register_connect(&raw, &connect.url).await;
    let id = express_account(&raw, "seller@example.com").await;
    let link = onboarding_link(&raw, &id).await;
    let parsed: stripe_connect::AccountLink = parse(&link);
    assert_eq!(parsed.expires_at - parsed.created, 300);
    let url = link["url"].as_str().unwrap();
    let html = raw.http.get(url).send().await.unwrap().text().await.unwrap();
    for needle in [
        "<label for=\"business_type\">Business type</label>",
        "<label for=\"phone\">Mobile phone number</label>",
        "value=\"000-000-0000\"",
        "<label for=\"sms_code\">SMS code</label>",
        "value=\"address_full_match\"",
        "<label for=\"routing_number\">Routing number</label>",
        "value=\"110000000\"",
        "<label for=\"account_number\">Account number</label>",
        "000111111116",
        ">Agree and submit</button>",
        ">Submit without ID document</button>",
    ] {
        assert!(html.contains(needle), "page lacks {needle}");
    }
    // A wrong SMS code is refused on the page; the link still works.
    let r = submit_onboarding(&raw, url, "complete", &[("sms_code", "123-456")]).await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("role=\"alert\""));
    let r = submit_onboarding(&raw, url, "complete", &[]).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "http://app.test/connect/return");
    let (_, account) = raw.get(&format!("/v1/accounts/{id}")).await;
    let account: stripe_shared::Account = parse(&account);
    assert_eq!(account.details_submitted, Some(true));
    assert_eq!(account.charges_enabled, Some(true));
    assert_eq!(account.payouts_enabled, Some(true));
    let capabilities = account.capabilities.unwrap();
    assert_eq!(capabilities.transfers.unwrap().as_str(), "active");
    assert_eq!(capabilities.card_payments.unwrap().as_str(), "active");
    let requirements = account.requirements.unwrap();
    assert!(requirements.currently_due.unwrap().is_empty());
    assert!(requirements.past_due.unwrap().is_empty());
    assert!(requirements.disabled_reason.is_none());
    assert_eq!(account.external_accounts.unwrap().data.len(), 1);
    // The link is single-use: the browser goes to refresh_url.
    for r in [raw.http.get(url).send().await.unwrap(), submit_onboarding(&raw, url, "complete", &[]).await] {
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "http://app.test/connect/refresh");
    }
    settle(&sb).await;
    let events = connect.events().await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["account.updated", "capability.updated", "capability.updated", "account.external_account.created"]
    );
    let capability = &events[1]["data"];
    assert_eq!(capability["object"]["object"], "capability");
    assert_eq!(capability["object"]["status"], "active");
    assert_eq!(capability["previous_attributes"]["status"], "inactive");
    assert!(events.iter().all(|e| e["account"] == id.as_str()));
    let previous = &events[0]["data"]["previous_attributes"];
    assert_eq!(previous["details_submitted"], false);
    assert_eq!(previous["charges_enabled"], false);
    assert_eq!(previous["capabilities"]["transfers"], "inactive");
    assert_eq!(events[3]["data"]["object"]["last4"], "6789");
    connect.verify_all(&secret).await;
}

#[tokio::test]
async fn onboarding_without_the_id_document_keeps_it_due() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let id = express_account(&raw, "seller@example.com").await;
    let link = onboarding_link(&raw, &id).await;
    let r = submit_onboarding(&raw, link["url"].as_str().unwrap(), "skip_document", &[]).await;
    assert_eq!(r.status(), 303);
    let (_, account) = raw.get(&format!("/v1/accounts/{id}")).await;
    let _: stripe_shared::Account = parse(&account);
    assert_eq!(account["details_submitted"], true);
    assert_eq!(account["payouts_enabled"], false);
    assert_eq!(account["requirements"]["currently_due"], serde_json::json!(["individual.verification.document"]));
    // Express accounts have no account_update links, as on Stripe; a new onboarding link finishes it.
    let mut form = [
        ("account", id.as_str()),
        ("type", "account_update"),
        ("refresh_url", "http://app.test/r"),
        ("return_url", "http://app.test/done"),
    ];
    let (s, e) = raw.post("/v1/account_links", &form).await;
    assert_eq!(
        (s, e["error"]["message"].as_str()),
        (400, Some("Valid types for this account are [\"account_onboarding\"]"))
    );
    form[1].1 = "account_onboarding";
    let link = raw.ok("/v1/account_links", &form).await;
    let r = submit_onboarding(&raw, link["url"].as_str().unwrap(), "complete", &[]).await;
    assert_eq!(r.headers()["location"], "http://app.test/done");
    let (_, account) = raw.get(&format!("/v1/accounts/{id}")).await;
    assert_eq!(account["payouts_enabled"], true);
    assert_eq!(account["requirements"]["currently_due"], serde_json::json!([]));
}

#[tokio::test]
async fn account_links_expire_on_the_sandbox_clock_and_refuse_bad_requests() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let id = express_account(&raw, "seller@example.com").await;
    let link = onboarding_link(&raw, &id).await;
    sb.advance_clock(301);
    let r = raw.http.get(link["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "http://app.test/connect/refresh");
    let (s, e) = raw.post("/v1/account_links", &[("account", &id), ("type", "account_onboarding")]).await;
    assert_eq!(
        (s, e["error"]["code"].as_str(), e["error"]["param"].as_str()),
        (400, Some("parameter_missing"), Some("refresh_url"))
    );
    let (s, e) = raw
        .post(
            "/v1/account_links",
            &[
                ("account", "acct_1Nope"),
                ("type", "account_onboarding"),
                ("refresh_url", "http://x"),
                ("return_url", "http://y"),
            ],
        )
        .await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("resource_missing")));
    let (s, _) = raw
        .post(
            "/v1/account_links",
            &[("account", &id), ("type", "nope"), ("refresh_url", "http://x"), ("return_url", "http://y")],
        )
        .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn login_links_open_the_express_dashboard() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let fresh = express_account(&raw, "new@example.com").await;
    let (s, _) = raw.post(&format!("/v1/accounts/{fresh}/login_links"), &[]).await;
    assert_eq!(s, 400, "not onboarded yet");
    let standard = raw.ok("/v1/accounts", &[("type", "standard")]).await;
    let (s, _) = raw.post(&format!("/v1/accounts/{}/login_links", standard["id"].as_str().unwrap()), &[]).await;
    assert_eq!(s, 400, "no Express Dashboard");
    let id = onboarded_account(&raw, "000123456789").await;
    let link = raw.ok(&format!("/v1/accounts/{id}/login_links"), &[]).await;
    let _: stripe_connect::LoginLink = parse(&link);
    let url = link["url"].as_str().unwrap();
    let r = raw.http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    for needle in [
        "Express Dashboard",
        "Rosen Records",
        "aria-label=\"Balance\"",
        "aria-label=\"Recent payouts\"",
        "No payouts yet.",
    ] {
        assert!(html.contains(needle), "dashboard lacks {needle}");
    }
    let r = raw.http.get(format!("{}/express/{id}/wrongtoken", raw.base)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

/// A one-time price of `amount` usd cents; returns its id.
async fn one_time_price(raw: &Raw, account: Option<&str>, amount: &str) -> String {
    let product_form = [("name", "Vinyl")];
    let product = match account {
        Some(a) => raw.ok_as(a, "/v1/products", &product_form).await,
        None => raw.ok("/v1/products", &product_form).await,
    };
    let form = [("currency", "usd"), ("unit_amount", amount), ("product", product["id"].as_str().unwrap())];
    let price = match account {
        Some(a) => raw.ok_as(a, "/v1/prices", &form).await,
        None => raw.ok("/v1/prices", &form).await,
    };
    price["id"].as_str().unwrap().to_string()
}

/// Pays a Checkout Session on its hosted page with `card`; asserts the redirect to success.
async fn pay_on_page(raw: &Raw, session: &Value, card: &str) {
    let form = [("email", "buyer@example.com"), ("card_number", card), ("expiry", "12 / 34"), ("cvc", "123")];
    let r = raw.http.post(session["url"].as_str().unwrap()).form(&form).send().await.unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
}

/// `(available, pending)` usd of the platform (`None`) or a connected account.
async fn usd_balance(raw: &Raw, account: Option<&str>) -> (i64, i64) {
    let (s, balance) = match account {
        Some(a) => raw.get_as(a, "/v1/balance").await,
        None => raw.get("/v1/balance").await,
    };
    assert_eq!(s, 200, "{balance}");
    let _: stripe_core::Balance = parse(&balance);
    let pick = |key: &str| {
        balance[key]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["currency"] == "usd")
            .map_or(0, |b| b["amount"].as_i64().unwrap())
    };
    (pick("available"), pick("pending"))
}

/// Every balance transaction of an account (platform: `None`), parsed; returns (type, net) pairs.
async fn ledger(raw: &Raw, account: Option<&str>) -> Vec<(String, i64)> {
    let path = "/v1/balance_transactions?limit=100";
    let (_, list) = match account {
        Some(a) => raw.get_as(a, path).await,
        None => raw.get(path).await,
    };
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|txn| {
            let _: stripe_shared::BalanceTransaction = parse(txn);
            (txn["type"].as_str().unwrap().to_string(), txn["net"].as_i64().unwrap())
        })
        .collect()
}

fn total(ledger: &[(String, i64)]) -> i64 {
    ledger.iter().map(|(_, net)| net).sum()
}

const STRIPE_FEE_10000: i64 = 320; // 2.9% + 30¢ of $100.00

#[tokio::test]
async fn destination_charge_through_checkout_moves_the_money() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let platform = receiver().await;
    let connect = receiver().await;
    let platform_secret = register(&raw, &platform.url).await;
    register_connect(&raw, &connect.url).await;
    let seller = onboarded_account(&raw, "000123456789").await;
    settle(&sb).await;
    connect.got.lock().await.clear();
    let price = one_time_price(&raw, None, "10000").await;
    let form = [
        ("mode", "payment"),
        ("success_url", "http://app.test/ok"),
        ("line_items[0][price]", price.as_str()),
        ("line_items[0][quantity]", "1"),
        ("payment_intent_data[transfer_data][destination]", seller.as_str()),
        ("payment_intent_data[application_fee_amount]", "1230"),
        ("payment_intent_data[on_behalf_of]", seller.as_str()),
    ];
    let session = raw.ok("/v1/checkout/sessions", &form).await;
    pay_on_page(&raw, &session, "4242 4242 4242 4242").await;
    let (_, session) = raw.get(&format!("/v1/checkout/sessions/{}", session["id"].as_str().unwrap())).await;
    let (_, intent) = raw.get(&format!("/v1/payment_intents/{}", session["payment_intent"].as_str().unwrap())).await;
    let _: stripe_shared::PaymentIntent = parse(&intent);
    assert_eq!(intent["transfer_data"]["destination"], seller.as_str());
    assert_eq!(intent["application_fee_amount"], 1230);
    assert_eq!(intent["on_behalf_of"], seller.as_str());
    let (_, charge) = raw.get(&format!("/v1/charges/{}", intent["latest_charge"].as_str().unwrap())).await;
    let _: stripe_shared::Charge = parse(&charge);
    assert_eq!(charge["transfer_data"]["destination"], seller.as_str());
    assert_eq!(charge["application_fee_amount"], 1230);
    assert_eq!(charge["on_behalf_of"], seller.as_str());
    let group = format!("group_{}", intent["id"].as_str().unwrap());
    assert_eq!(charge["transfer_group"], group.as_str());
    // The transfer of the whole amount, and the payment it made on the connected account.
    let (_, transfer) = raw.get(&format!("/v1/transfers/{}", charge["transfer"].as_str().unwrap())).await;
    let _: stripe_shared::Transfer = parse(&transfer);
    assert_eq!(transfer["amount"], 10000);
    assert_eq!(transfer["destination"], seller.as_str());
    assert_eq!(transfer["source_transaction"], charge["id"]);
    assert_eq!(transfer["transfer_group"], group.as_str());
    let payment_id = transfer["destination_payment"].as_str().unwrap();
    assert!(payment_id.starts_with("py_"));
    let (s, payment) = raw.get_as(&seller, &format!("/v1/charges/{payment_id}")).await;
    assert_eq!(s, 200);
    let _: stripe_shared::Charge = parse(&payment);
    assert_eq!(payment["amount"], 10000);
    assert_eq!(payment["source_transfer"], transfer["id"]);
    assert_eq!(raw.get(&format!("/v1/charges/{payment_id}")).await.0, 404, "not the platform's");
    // The application fee, taken from that payment.
    let (_, fee) = raw.get(&format!("/v1/application_fees/{}", charge["application_fee"].as_str().unwrap())).await;
    let _: stripe_shared::ApplicationFee = parse(&fee);
    assert_eq!(fee["account"], seller.as_str());
    assert_eq!(fee["amount"], 1230);
    assert_eq!(fee["charge"], payment_id);
    assert_eq!(fee["originating_transaction"], charge["id"]);
    assert_eq!(fee["refunded"], false);
    let (_, fees) = raw.get("/v1/application_fees").await;
    assert_eq!(fees["data"].as_array().unwrap().len(), 1);
    let (_, transfers) = raw.get(&format!("/v1/transfers?destination={seller}")).await;
    assert_eq!(transfers["data"].as_array().unwrap().len(), 1);
    // Events: the platform's; nothing for the connected account.
    settle(&sb).await;
    let types = platform.types().await;
    assert_subsequence(
        &types,
        &[
            "charge.succeeded",
            "payment_intent.succeeded",
            "transfer.created",
            "application_fee.created",
            "checkout.session.completed",
        ],
    );
    platform.verify_all(&platform_secret).await;
    assert!(connect.types().await.is_empty(), "{:?}", connect.types().await);
    // Money: gross = Stripe fee + application fee + what the seller keeps.
    let platform_ledger = ledger(&raw, None).await;
    let seller_ledger = ledger(&raw, Some(&seller)).await;
    let mut kinds: Vec<&str> = platform_ledger.iter().map(|(k, _)| k.as_str()).collect();
    kinds.sort();
    assert_eq!(kinds, ["application_fee", "charge", "transfer"]);
    assert_eq!(seller_ledger, [("payment".to_string(), 10000 - 1230)]);
    assert_eq!(total(&platform_ledger), 1230 - STRIPE_FEE_10000);
    assert_eq!(total(&platform_ledger) + total(&seller_ledger), 10000 - STRIPE_FEE_10000);
    let (_, charge_txn) =
        raw.get(&format!("/v1/balance_transactions/{}", charge["balance_transaction"].as_str().unwrap())).await;
    assert_eq!((charge_txn["amount"].as_i64(), charge_txn["fee"].as_i64()), (Some(10000), Some(STRIPE_FEE_10000)));
    assert_eq!(charge_txn["status"], "pending");
    // Credits are pending for two days; the transfer out counts at once.
    assert_eq!(usd_balance(&raw, None).await, (-10000, 10000 - STRIPE_FEE_10000 + 1230));
    assert_eq!(usd_balance(&raw, Some(&seller)).await, (0, 10000 - 1230));
    sb.advance_clock(3 * 86_400);
    assert_eq!(usd_balance(&raw, None).await, (1230 - STRIPE_FEE_10000, 0));
    let (_, filtered) = raw.get("/v1/balance_transactions?type=application_fee").await;
    assert_eq!(filtered["data"][0]["status"], "available");
    assert_eq!(filtered["data"].as_array().unwrap().len(), 1);
    let (_, by_source) = raw.get(&format!("/v1/balance_transactions?source={}", charge["id"].as_str().unwrap())).await;
    assert_eq!(by_source["data"].as_array().unwrap().len(), 1);
}

/// A destination charge of $100 with a $12.30 fee made through the API; returns (seller, charge).
async fn destination_charge(raw: &Raw) -> (String, Value) {
    let seller = onboarded_account(raw, "000123456789").await;
    let form = [
        ("amount", "10000"),
        ("currency", "usd"),
        ("payment_method", "pm_card_visa"),
        ("confirm", "true"),
        ("transfer_data[destination]", seller.as_str()),
        ("application_fee_amount", "1230"),
    ];
    let intent = raw.ok("/v1/payment_intents", &form).await;
    assert_eq!(intent["status"], "succeeded");
    let (_, charge) = raw.get(&format!("/v1/charges/{}", intent["latest_charge"].as_str().unwrap())).await;
    (seller, charge)
}

#[tokio::test]
async fn refunds_reverse_the_transfer_and_refund_the_fee_in_proportion() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let platform = receiver().await;
    let secret = register(&raw, &platform.url).await;
    let (seller, charge) = destination_charge(&raw).await;
    let charge_id = charge["id"].as_str().unwrap();
    let form =
        [("charge", charge_id), ("amount", "2500"), ("reverse_transfer", "true"), ("refund_application_fee", "true")];
    let refund = raw.ok("/v1/refunds", &form).await;
    let _: stripe_shared::Refund = parse(&refund);
    let reversal_id = refund["transfer_reversal"].as_str().unwrap();
    let transfer_id = charge["transfer"].as_str().unwrap();
    let (_, reversal) = raw.get(&format!("/v1/transfers/{transfer_id}/reversals/{reversal_id}")).await;
    let _: stripe_shared::TransferReversal = parse(&reversal);
    assert_eq!(reversal["amount"], 2500);
    assert_eq!(reversal["source_refund"], refund["id"]);
    assert!(reversal["destination_payment_refund"].as_str().unwrap().starts_with("pyr_"));
    let (_, fee) = raw.get(&format!("/v1/application_fees/{}", charge["application_fee"].as_str().unwrap())).await;
    assert_eq!(fee["amount_refunded"], 308, "1230 × 2500 / 10000, rounded");
    let (_, fee_refunds) = raw.get(&format!("/v1/application_fees/{}/refunds", fee["id"].as_str().unwrap())).await;
    let refunds = fee_refunds["data"].as_array().unwrap();
    assert_eq!(refunds.len(), 1);
    let _: stripe_shared::ApplicationFeeRefund = parse(&refunds[0]);
    // The rest: all that is left is reversed and refunded.
    let rest = raw
        .ok("/v1/refunds", &[("charge", charge_id), ("reverse_transfer", "true"), ("refund_application_fee", "true")])
        .await;
    assert_eq!(rest["amount"], 7500);
    let (_, transfer) = raw.get(&format!("/v1/transfers/{transfer_id}")).await;
    assert_eq!((transfer["amount_reversed"].as_i64(), transfer["reversed"].as_bool()), (Some(10000), Some(true)));
    let (_, reversals) = raw.get(&format!("/v1/transfers/{transfer_id}/reversals")).await;
    assert_eq!(reversals["data"].as_array().unwrap().len(), 2);
    let (_, fee) = raw.get(&format!("/v1/application_fees/{}", fee["id"].as_str().unwrap())).await;
    assert_eq!((fee["amount_refunded"].as_i64(), fee["refunded"].as_bool()), (Some(1230), Some(true)));
    let (_, payment) =
        raw.get_as(&seller, &format!("/v1/charges/{}", transfer["destination_payment"].as_str().unwrap())).await;
    assert_eq!(payment["amount_refunded"], 10000);
    // Money: the seller is back to zero; the platform lost only Stripe's fee.
    let platform_ledger = ledger(&raw, None).await;
    let seller_ledger = ledger(&raw, Some(&seller)).await;
    assert_eq!(total(&seller_ledger), 0, "{seller_ledger:?}");
    assert_eq!(total(&platform_ledger), -STRIPE_FEE_10000, "{platform_ledger:?}");
    for kind in ["refund", "transfer_refund", "application_fee_refund"] {
        assert!(platform_ledger.iter().any(|(k, _)| k == kind), "{kind} in {platform_ledger:?}");
    }
    for kind in ["payment_refund", "application_fee_refund"] {
        assert!(seller_ledger.iter().any(|(k, _)| k == kind), "{kind} in {seller_ledger:?}");
    }
    settle(&sb).await;
    let types = platform.types().await;
    assert_eq!(types.iter().filter(|t| *t == "transfer.reversed").count(), 2);
    assert_eq!(types.iter().filter(|t| *t == "application_fee.refunded").count(), 2);
    assert_subsequence(&types, &["charge.refunded", "refund.created", "transfer.reversed", "application_fee.refunded"]);
    platform.verify_all(&secret).await;
}

#[tokio::test]
async fn connect_terms_are_refused_as_stripe_refuses_them() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let fresh = express_account(&raw, "new@example.com").await;
    let intent = |extra: Vec<(&'static str, String)>| {
        let mut form: Vec<(&str, String)> = vec![("amount", "2000".into()), ("currency", "usd".into())];
        form.extend(extra);
        form
    };
    let post = |form: Vec<(&'static str, String)>| {
        let raw = &raw;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            raw.post("/v1/payment_intents", &pairs).await
        }
    };
    let (s, e) = post(intent(vec![("transfer_data[destination]", "acct_1Missing".into())])).await;
    assert_eq!(s, 404, "{e}");
    assert_eq!(e["error"]["message"], "No such destination: 'acct_1Missing'");
    assert_eq!(e["error"]["param"], "transfer_data[destination]");
    let (s, e) = post(intent(vec![("transfer_data[destination]", fresh.clone())])).await;
    assert_eq!(s, 400, "{e}");
    assert_eq!(e["error"]["code"], "insufficient_capabilities_for_transfer");
    assert_eq!(
        e["error"]["message"],
        "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments"
    );
    let (s, e) = post(intent(vec![("application_fee_amount", "100".into())])).await;
    assert_eq!(s, 400, "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment"));
    let seller = onboarded_account(&raw, "000123456789").await;
    let (s, e) =
        post(intent(vec![("transfer_data[destination]", seller.clone()), ("application_fee_amount", "2001".into())]))
            .await;
    assert_eq!((s, e["error"]["param"].as_str()), (400, Some("application_fee_amount")), "{e}");
    // The same checks on a Checkout Session's payment_intent_data.
    let price = one_time_price(&raw, None, "2000").await;
    let form = [
        ("mode", "payment"),
        ("success_url", "http://app.test/ok"),
        ("line_items[0][price]", price.as_str()),
        ("line_items[0][quantity]", "1"),
        ("payment_intent_data[transfer_data][destination]", fresh.as_str()),
    ];
    let (s, e) = raw.post("/v1/checkout/sessions", &form).await;
    assert_eq!(
        (s, e["error"]["param"].as_str()),
        (400, Some("payment_intent_data[transfer_data][destination]")),
        "{e}"
    );
    // A payout needs an available balance (test-mode charges are pending for two days).
    let (s, e) = raw.post("/v1/payouts", &[("amount", "500"), ("currency", "usd")]).await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("balance_insufficient")), "{e}");
}

#[tokio::test]
async fn transfers_and_reversals_through_async_stripe() {
    use stripe_connect::application_fee::ListApplicationFee;
    use stripe_connect::transfer::{CreateTransfer, ListTransfer, RetrieveTransfer};
    use stripe_connect::transfer_reversal::{CreateIdTransferReversal, ListIdTransferReversal};
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let c = client(&sb);
    let platform = receiver().await;
    let secret = register(&raw, &platform.url).await;
    let seller = onboarded_account(&raw, "000123456789").await;
    // 4000 0000 0000 0077 skips the pending balance: funds to transfer at once.
    let form =
        [("amount", "5000"), ("currency", "usd"), ("payment_method", "pm_card_bypassPending"), ("confirm", "true")];
    raw.ok("/v1/payment_intents", &form).await;
    assert_eq!(usd_balance(&raw, None).await, (5000 - 175, 0));
    let transfer = CreateTransfer::new(stripe_types::Currency::USD, seller.as_str())
        .amount(3000)
        .transfer_group("order-1")
        .send(&c)
        .await
        .unwrap();
    assert_eq!(transfer.amount, 3000);
    assert_eq!(transfer.transfer_group.as_deref(), Some("order-1"));
    let got = RetrieveTransfer::new(transfer.id.clone()).send(&c).await.unwrap();
    assert_eq!(got.destination.unwrap().id().as_str(), seller);
    assert_eq!(ListTransfer::new().send(&c).await.unwrap().data.len(), 1);
    let reversal = CreateIdTransferReversal::new(transfer.id.clone()).amount(1000).send(&c).await.unwrap();
    assert_eq!(reversal.amount, 1000);
    assert_eq!(ListIdTransferReversal::new(transfer.id.clone()).send(&c).await.unwrap().data.len(), 1);
    let (s, e) = raw.post(&format!("/v1/transfers/{}/reversals", transfer.id), &[("amount", "2500")]).await;
    assert_eq!(s, 400, "more than is left: {e}");
    assert!(ListApplicationFee::new().send(&c).await.unwrap().data.is_empty());
    assert_eq!(usd_balance(&raw, None).await, (5000 - 175 - 3000 + 1000, 0));
    assert_eq!(usd_balance(&raw, Some(&seller)).await.0 + usd_balance(&raw, Some(&seller)).await.1, 2000);
    settle(&sb).await;
    assert_subsequence(&platform.types().await, &["transfer.created", "transfer.reversed"]);
    platform.verify_all(&secret).await;
}

#[tokio::test]
async fn direct_charges_live_on_the_connected_account() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let platform = receiver().await;
    let connect = receiver().await;
    let platform_secret = register(&raw, &platform.url).await;
    let connect_secret = register_connect(&raw, &connect.url).await;
    let seller = onboarded_account(&raw, "000123456789").await;
    settle(&sb).await;
    connect.got.lock().await.clear();
    let price = one_time_price(&raw, Some(&seller), "10000").await;
    let form = [
        ("mode", "payment"),
        ("success_url", "http://app.test/ok"),
        ("line_items[0][price]", price.as_str()),
        ("line_items[0][quantity]", "1"),
        ("payment_intent_data[application_fee_amount]", "500"),
    ];
    let session = raw.ok_as(&seller, "/v1/checkout/sessions", &form).await;
    let session_id = session["id"].as_str().unwrap();
    assert_eq!(raw.get(&format!("/v1/checkout/sessions/{session_id}")).await.0, 404, "not the platform's");
    let page = raw.http.get(session["url"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    pay_on_page(&raw, &session, "4242424242424242").await;
    let (_, session) = raw.get_as(&seller, &format!("/v1/checkout/sessions/{session_id}")).await;
    assert_eq!(session["status"], "complete");
    let (_, intent) =
        raw.get_as(&seller, &format!("/v1/payment_intents/{}", session["payment_intent"].as_str().unwrap())).await;
    assert_eq!(intent["application_fee_amount"], 500);
    let (_, charge) = raw.get_as(&seller, &format!("/v1/charges/{}", intent["latest_charge"].as_str().unwrap())).await;
    let _: stripe_shared::Charge = parse(&charge);
    assert_eq!(charge["application_fee_amount"], 500);
    let (_, fee) = raw.get(&format!("/v1/application_fees/{}", charge["application_fee"].as_str().unwrap())).await;
    let _: stripe_shared::ApplicationFee = parse(&fee);
    assert_eq!((fee["account"].as_str(), fee["charge"].as_str()), (Some(seller.as_str()), charge["id"].as_str()));
    assert_eq!(fee["originating_transaction"], Value::Null);
    settle(&sb).await;
    // The session's events are the connected account's; the fee is the platform's.
    let connect_events = connect.events().await;
    let connect_types: Vec<&str> = connect_events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for kind in ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"] {
        assert!(connect_types.contains(&kind), "{kind} in {connect_types:?}");
    }
    assert!(connect_events.iter().all(|e| e["account"] == seller.as_str()));
    let platform_types = platform.types().await;
    assert_eq!(platform_types, ["application_fee.created"]);
    connect.verify_all(&connect_secret).await;
    platform.verify_all(&platform_secret).await;
    // Money: the connected account pays Stripe's fee and the application fee.
    let seller_ledger = ledger(&raw, Some(&seller)).await;
    assert_eq!(seller_ledger, [("charge".to_string(), 10000 - STRIPE_FEE_10000 - 500)]);
    assert_eq!(ledger(&raw, None).await, [("application_fee".to_string(), 500)]);
    // Refunding the fee with the charge gives it back to the connected account.
    let form = [("charge", charge["id"].as_str().unwrap()), ("refund_application_fee", "true")];
    raw.ok_as(&seller, "/v1/refunds", &form).await;
    assert_eq!(total(&ledger(&raw, Some(&seller)).await), -STRIPE_FEE_10000);
    assert_eq!(total(&ledger(&raw, None).await), 0);
}

/// A destination charge of $100 to `seller` paid with the card that is disputed; its dispute.
async fn disputed_destination_charge(raw: &Raw, seller: &str) -> Value {
    let form = [
        ("amount", "10000"),
        ("currency", "usd"),
        ("payment_method", "pm_card_createDispute"),
        ("confirm", "true"),
        ("transfer_data[destination]", seller),
    ];
    let intent = raw.ok("/v1/payment_intents", &form).await;
    let (_, disputes) = raw.get(&format!("/v1/disputes?payment_intent={}", intent["id"].as_str().unwrap())).await;
    disputes["data"][0].clone()
}

#[tokio::test]
async fn chargebacks_debit_the_account_holding_the_charge() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let seller = onboarded_account(&raw, "000123456789").await;
    // A destination charge: the platform is debited; the transfer stays.
    let dispute = &disputed_destination_charge(&raw, &seller).await;
    let _: stripe_shared::Dispute = parse(dispute);
    let txn = &dispute["balance_transactions"][0];
    assert_eq!(
        (txn["type"].as_str(), txn["amount"].as_i64(), txn["fee"].as_i64()),
        (Some("adjustment"), Some(-10000), Some(1500))
    );
    let platform_ledger = ledger(&raw, None).await;
    assert_eq!(total(&platform_ledger), 10000 - STRIPE_FEE_10000 - 10000 - 10000 - 1500);
    assert_eq!(total(&ledger(&raw, Some(&seller)).await), 10000);
    // A direct charge: the connected account is debited.
    let form =
        [("amount", "10000"), ("currency", "usd"), ("payment_method", "pm_card_createDispute"), ("confirm", "true")];
    raw.ok_as(&seller, "/v1/payment_intents", &form).await;
    let (_, disputes) = raw.get_as(&seller, "/v1/disputes").await;
    assert_eq!(disputes["data"].as_array().unwrap().len(), 1);
    assert_eq!(total(&ledger(&raw, Some(&seller)).await), 10000 + (10000 - STRIPE_FEE_10000) - 10000 - 1500);
}

#[tokio::test]
async fn test_mode_evidence_wins_or_loses_a_chargeback_and_a_win_credits_the_money_back() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let seller = onboarded_account(&raw, "000123456789").await;
    let dispute_of_a_new_charge =
        || async { disputed_destination_charge(&raw, &seller).await["id"].as_str().unwrap().to_owned() };
    let won = dispute_of_a_new_charge().await;
    let before = total(&ledger(&raw, None).await);
    let answer = raw.ok(&format!("/v1/disputes/{won}"), &[("evidence[uncategorized_text]", "winning_evidence")]).await;
    assert_eq!(answer["status"], "under_review", "the answer to the submission");
    let (_, dispute) = raw.get(&format!("/v1/disputes/{won}")).await;
    let _: stripe_shared::Dispute = parse(&dispute);
    assert_eq!(dispute["status"], "won");
    let reinstated = &dispute["balance_transactions"][1];
    assert_eq!((reinstated["amount"].as_i64(), reinstated["net"].as_i64()), (Some(10000), Some(11500)));
    assert_eq!(total(&ledger(&raw, None).await), before + 10000 + 1500, "amount and dispute fee back");
    let (_, events) = raw.get("/v1/events?limit=100").await;
    let types: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["object"]["id"] == won.as_str())
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "charge.dispute.funds_reinstated",
            "charge.dispute.closed",
            "charge.dispute.updated",
            "charge.dispute.funds_withdrawn",
            "charge.dispute.created"
        ],
        "newest first"
    );

    let lost = dispute_of_a_new_charge().await;
    let before = total(&ledger(&raw, None).await);
    raw.ok(&format!("/v1/disputes/{lost}"), &[("evidence[uncategorized_text]", "losing_evidence")]).await;
    let (_, dispute) = raw.get(&format!("/v1/disputes/{lost}")).await;
    assert_eq!(dispute["status"], "lost");
    assert_eq!(total(&ledger(&raw, None).await), before, "nothing comes back");
    // A closed dispute takes no more evidence.
    let (status, body) =
        raw.post(&format!("/v1/disputes/{lost}"), &[("evidence[uncategorized_text]", "winning_evidence")]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("dispute_already_closed")));
}

/// A destination charge of `amount` to `seller` paid with `card`.
async fn pay_seller(raw: &Raw, seller: &str, amount: &str, card: &str) {
    let form = [
        ("amount", amount),
        ("currency", "usd"),
        ("payment_method", card),
        ("confirm", "true"),
        ("transfer_data[destination]", seller),
        ("application_fee_amount", "1000"),
    ];
    raw.ok("/v1/payment_intents", &form).await;
}

#[tokio::test]
async fn automatic_payouts_follow_the_sandbox_clock() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let connect = receiver().await;
    let secret = register_connect(&raw, &connect.url).await;
    let seller = onboarded_account(&raw, "000123456789").await;
    pay_seller(&raw, &seller, "10000", "pm_card_visa").await;
    settle(&sb).await;
    connect.got.lock().await.clear();
    // Pending for two days, then paid out at the next daily run, arriving a day later.
    sb.advance_clock(4 * 86_400);
    let (_, payouts) = raw.get_as(&seller, "/v1/payouts").await;
    let payouts = payouts["data"].as_array().unwrap();
    assert_eq!(payouts.len(), 1, "{payouts:#?}");
    let payout: stripe_shared::Payout = parse(&payouts[0]);
    assert_eq!(payout.amount, 9000);
    assert!(payout.automatic);
    assert_eq!(payout.status, "paid");
    assert!(payouts[0]["destination"].as_str().unwrap().starts_with("ba_"));
    assert_eq!(usd_balance(&raw, Some(&seller)).await, (0, 0));
    let seller_ledger = ledger(&raw, Some(&seller)).await;
    assert!(seller_ledger.contains(&("payout".to_string(), -9000)), "{seller_ledger:?}");
    let (_, included) = raw.get_as(&seller, &format!("/v1/balance_transactions?payout={}", payout.id)).await;
    assert_eq!(included["data"].as_array().unwrap().len(), 2, "the payment and the payout");
    settle(&sb).await;
    let events = connect.events().await;
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_subsequence(
        &types.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        &["balance.available", "payout.created", "payout.updated", "payout.paid"],
    );
    // Submitted to the bank in between: `in_transit` until it arrived.
    let submitted = events.iter().find(|e| e["type"] == "payout.updated").expect("payout.updated");
    assert_eq!(submitted["data"]["object"]["status"], "in_transit");
    assert_eq!(submitted["data"]["previous_attributes"]["status"], "pending");
    let paid = events.iter().find(|e| e["type"] == "payout.paid").expect("payout.paid");
    assert_eq!(paid["data"]["previous_attributes"]["status"], "in_transit");
    assert!(events.iter().all(|e| e["account"] == seller.as_str()));
    connect.verify_all(&secret).await;
    // The Express Dashboard lists it.
    let link = raw.ok(&format!("/v1/accounts/{seller}/login_links"), &[]).await;
    let html = raw.http.get(link["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(payout.id.as_str()) && html.contains("$90.00") && html.contains(">paid<"), "{html}");
}

#[tokio::test]
async fn payouts_to_a_failing_test_bank_account_fail_and_return_the_money() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let connect = receiver().await;
    let secret = register_connect(&raw, &connect.url).await;
    let seller = onboarded_account(&raw, "000111111116").await;
    pay_seller(&raw, &seller, "10000", "pm_card_visa").await;
    sb.advance_clock(4 * 86_400);
    let (_, payouts) = raw.get_as(&seller, "/v1/payouts?status=failed").await;
    let payouts = payouts["data"].as_array().unwrap();
    assert!(!payouts.is_empty());
    let failed: stripe_shared::Payout = parse(&payouts[payouts.len() - 1]);
    assert_eq!(failed.failure_code.as_deref(), Some("no_account"));
    assert!(failed.failure_message.is_some());
    assert!(failed.failure_balance_transaction.is_some());
    let seller_ledger = ledger(&raw, Some(&seller)).await;
    assert!(seller_ledger.contains(&("payout_failure".to_string(), 9000)), "{seller_ledger:?}");
    settle(&sb).await;
    let failed_event =
        connect.events().await.into_iter().find(|e| e["type"] == "payout.failed").expect("payout.failed");
    assert_eq!(failed_event["account"], seller.as_str());
    assert_eq!(failed_event["data"]["object"]["failure_code"], "no_account");
    assert_eq!(failed_event["data"]["previous_attributes"]["status"], "in_transit");
    // The bank account is `errored`: no more automatic payouts to it (the money stays).
    let errored = connect
        .events()
        .await
        .into_iter()
        .find(|e| e["type"] == "account.external_account.updated")
        .expect("account.external_account.updated");
    assert_eq!(errored["data"]["object"]["status"], "errored");
    let (_, account) = raw.get(&format!("/v1/accounts/{seller}")).await;
    assert_eq!(account["external_accounts"]["data"][0]["status"], "errored");
    sb.advance_clock(3 * 86_400);
    let (_, all) = raw.get_as(&seller, "/v1/payouts").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "no payout after the failure: {all}");
    assert_eq!(usd_balance(&raw, Some(&seller)).await.0, 9000);
    connect.verify_all(&secret).await;
}

#[tokio::test]
async fn manual_payouts_with_stripe_account() {
    use stripe_core::payout::{CreatePayout, ListPayout};
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let seller = onboarded_account(&raw, "000123456789").await;
    raw.ok(&format!("/v1/accounts/{seller}"), &[("settings[payouts][schedule][interval]", "manual")]).await;
    let (s, e) = raw.post_as(&seller, "/v1/payouts", &[("amount", "1000"), ("currency", "usd")]).await;
    assert_eq!((s, e["error"]["code"].as_str()), (400, Some("balance_insufficient")), "{e}");
    // 4000 0000 0000 0077: the payment on the connected account is available at once.
    pay_seller(&raw, &seller, "5000", "pm_card_bypassPending").await;
    assert_eq!(usd_balance(&raw, Some(&seller)).await, (4000, 0));
    let payout =
        raw.ok_as(&seller, "/v1/payouts", &[("amount", "1000"), ("currency", "usd"), ("metadata[run]", "1")]).await;
    let _: stripe_shared::Payout = parse(&payout);
    assert_eq!((payout["status"].as_str(), payout["automatic"].as_bool()), (Some("pending"), Some(false)));
    let id = payout["id"].as_str().unwrap();
    let updated = raw.ok_as(&seller, &format!("/v1/payouts/{id}"), &[("metadata[note]", "x")]).await;
    assert_eq!(updated["metadata"]["note"], "x");
    let other = raw.ok_as(&seller, "/v1/payouts", &[("amount", "500"), ("currency", "usd")]).await;
    let canceled = raw.ok_as(&seller, &format!("/v1/payouts/{}/cancel", other["id"].as_str().unwrap()), &[]).await;
    assert_eq!(canceled["status"], "canceled");
    assert_eq!(usd_balance(&raw, Some(&seller)).await, (3000, 0));
    assert_eq!(raw.get(&format!("/v1/payouts/{id}")).await.0, 404, "not the platform's");
    // The platform pays out too (to its own bank account), here through async-stripe.
    raw.ok(
        "/v1/payment_intents",
        &[("amount", "2000"), ("currency", "usd"), ("payment_method", "pm_card_bypassPending"), ("confirm", "true")],
    )
    .await;
    let c = client(&sb);
    let platform_payout = CreatePayout::new(1100, stripe_types::Currency::USD).send(&c).await.unwrap();
    assert_eq!(platform_payout.amount, 1100);
    assert_eq!(ListPayout::new().send(&c).await.unwrap().data.len(), 1);
    sb.advance_clock(2 * 86_400);
    let (_, paid) = raw.get_as(&seller, &format!("/v1/payouts/{id}")).await;
    assert_eq!(paid["status"], "paid");
    let (_, pending) = raw.get_as(&seller, "/v1/payouts?status=paid").await;
    assert_eq!(pending["data"].as_array().unwrap().len(), 1, "manual schedule: no automatic payout");
}
