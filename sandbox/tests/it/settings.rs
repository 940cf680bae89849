//! Account-wide settings as Stripe returns them: `/v1/tax/settings` (pending until the head
//! office is set) and `/v1/account` (the platform account).

use super::*;

#[tokio::test]
async fn tax_settings_are_pending_until_the_head_office_is_set() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let (status, fresh) = raw.get("/v1/tax/settings").await;
    assert_eq!(status, 200);
    assert_eq!(fresh["object"], "tax.settings");
    assert_eq!(fresh["status"], "pending");
    assert_eq!(fresh["status_details"]["pending"]["missing_fields"], serde_json::json!(["head_office"]));
    assert!(fresh["head_office"].is_null() && fresh["defaults"]["tax_behavior"].is_null());
    assert!(fresh.get("id").is_none(), "the settings object has no id on Stripe: {fresh}");

    let (status, refused) = raw.post("/v1/tax/settings", &[("head_office[address][city]", "Paris")]).await;
    assert_eq!(status, 400, "a head office needs its country: {refused}");
    assert_eq!(refused["error"]["param"], "head_office[address][country]");
    let (status, refused) = raw.post("/v1/tax/settings", &[("defaults[tax_behavior]", "sometimes")]).await;
    assert_eq!((status, refused["error"]["type"].as_str()), (400, Some("invalid_request_error")));

    let set = raw
        .ok(
            "/v1/tax/settings",
            &[
                ("head_office[address][country]", "FR"),
                ("head_office[address][city]", "Paris"),
                ("defaults[tax_behavior]", "exclusive"),
                ("defaults[tax_code]", "txcd_10000000"),
            ],
        )
        .await;
    assert_eq!(set["status"], "active");
    assert_eq!(set["status_details"], serde_json::json!({"active": {}}));
    assert_eq!(set["head_office"]["address"]["country"], "FR");
    assert!(set["head_office"]["address"]["line1"].is_null(), "every address field is present");
    assert_eq!(
        (set["defaults"]["tax_behavior"].as_str(), set["defaults"]["tax_code"].as_str()),
        (Some("exclusive"), Some("txcd_10000000"))
    );
    assert_eq!(raw.get("/v1/tax/settings").await.1, set, "kept");
    let events = raw.get("/v1/events?type=tax.settings.updated").await.1;
    assert_eq!(events["data"].as_array().unwrap().len(), 1, "{events}");
}

#[tokio::test]
async fn the_platform_account_can_charge_and_pay_out() {
    let sb = sandbox().await;
    let (status, account) = Raw::new(&sb).get("/v1/account").await;
    assert_eq!(status, 200);
    assert_eq!(account["object"], "account");
    assert!(account["id"].as_str().unwrap().starts_with("acct_"));
    for field in ["charges_enabled", "payouts_enabled", "details_submitted"] {
        assert_eq!(account[field], true, "{field}: {account}");
    }
    let parsed: stripe_shared::Account = serde_json::from_value(account.clone()).expect("async-stripe reads it");
    assert_eq!(parsed.charges_enabled, Some(true));
    assert!(parsed.settings.is_some_and(|s| s.payouts.is_some()), "{account}");
}
