//! Radar's test cards as Stripe documents them (docs.stripe.com/radar/testing, /testing): each
//! charge's `outcome`, the review an elevated-risk charge is placed in, the block of a
//! highest-risk one, and the early fraud warning of 4000 0000 0000 5423, settled by a refund.

use super::*;

/// A $20 payment intent confirmed at once with `payment_method`: (status, body).
async fn pay(raw: &Raw, payment_method: &str) -> (u16, Value) {
    raw.post(
        "/v1/payment_intents",
        &[("amount", "2000"), ("currency", "usd"), ("payment_method", payment_method), ("confirm", "true")],
    )
    .await
}

async fn charge_of(raw: &Raw, payment_intent: &str) -> Value {
    let (_, charges) = raw.get(&format!("/v1/charges?payment_intent={payment_intent}")).await;
    charges["data"][0].clone()
}

#[tokio::test]
async fn an_elevated_risk_charge_succeeds_in_review_and_highest_risk_cards_are_blocked() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    register(&raw, &rx.url).await;

    let visa = pay(&raw, "pm_card_visa").await.1;
    let outcome = &charge_of(&raw, visa["id"].as_str().unwrap()).await["outcome"];
    assert_eq!((outcome["risk_level"].as_str(), outcome["type"].as_str()), (Some("normal"), Some("authorized")));

    // 4000 0000 0000 9235: elevated, placed in review; the payment goes through.
    let (status, elevated) = pay(&raw, "pm_card_riskLevelElevated").await;
    assert_eq!((status, elevated["status"].as_str()), (200, Some("succeeded")), "{elevated}");
    let charge = charge_of(&raw, elevated["id"].as_str().unwrap()).await;
    let outcome = &charge["outcome"];
    assert_eq!(outcome["risk_level"], "elevated");
    assert_eq!(outcome["type"], "manual_review");
    assert_eq!(outcome["reason"], "elevated_risk_level");
    assert!(outcome["risk_score"].as_i64().is_some_and(|score| (65..75).contains(&score)), "{outcome}");
    let review_id = charge["review"].as_str().expect("the charge names its review");
    assert_eq!(elevated["review"], review_id);
    let (_, review) = raw.get(&format!("/v1/reviews/{review_id}")).await;
    assert_eq!((review["open"].as_bool(), review["reason"].as_str()), (Some(true), Some("rule")));
    assert_eq!(review["charge"], charge["id"]);

    // 4100 0000 0000 0019 (always) and 4000 0000 0000 4954 (the default block rule): blocked.
    for card in ["pm_card_radarBlock", "pm_card_riskLevelHighest"] {
        let (status, error) = pay(&raw, card).await;
        assert_eq!(status, 402, "{error}");
        let error = &error["error"];
        assert_eq!(
            (error["type"].as_str(), error["code"].as_str(), error["decline_code"].as_str()),
            (Some("card_error"), Some("card_declined"), Some("fraudulent"))
        );
        let charge = charge_of(&raw, error["payment_intent"]["id"].as_str().unwrap()).await;
        assert_eq!(charge["status"], "failed");
        let outcome = &charge["outcome"];
        assert_eq!(outcome["type"], "blocked", "{card}: {outcome}");
        assert_eq!(outcome["risk_level"], "highest");
        assert_eq!(outcome["network_status"], "not_sent_to_network");
        assert_eq!(outcome["reason"], "highest_risk_level");
    }

    // Approving closes the review once.
    let approved = raw.ok(&format!("/v1/reviews/{review_id}/approve"), &[]).await;
    assert_eq!((approved["open"].as_bool(), approved["closed_reason"].as_str()), (Some(false), Some("approved")));
    settle(&sb).await;
    assert_eq!(rx.events_of("review.opened").await.len(), 1);
    assert_eq!(rx.events_of("review.closed").await.len(), 1);
    let (_, reviews) = raw.get("/v1/reviews").await;
    assert_eq!(reviews["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_early_fraud_warning_follows_its_card_and_a_full_refund_settles_it() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    register(&raw, &rx.url).await;
    pay(&raw, "pm_card_visa").await;
    let (status, paid) = pay(&raw, "pm_card_createIssuerFraudRecord").await;
    assert_eq!(status, 200, "{paid}");
    let payment_intent = paid["id"].as_str().unwrap();
    let charge = paid["latest_charge"].as_str().unwrap();

    let (_, warnings) = raw.get(&format!("/v1/radar/early_fraud_warnings?charge={charge}")).await;
    let warnings = warnings["data"].as_array().unwrap().clone();
    assert_eq!(warnings.len(), 1, "one warning, for this charge only: {warnings:?}");
    let warning = &warnings[0];
    let id = warning["id"].as_str().unwrap();
    assert!(id.starts_with("issfr_"), "{id}");
    assert_eq!(warning["object"], "radar.early_fraud_warning");
    assert_eq!(
        (warning["actionable"].as_bool(), warning["payment_intent"].as_str()),
        (Some(true), Some(payment_intent))
    );
    assert!(warning["fraud_type"].is_string() && warning["created"].is_i64());
    let (_, all) = raw.get("/v1/radar/early_fraud_warnings").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "the plain Visa has none");
    let (status, missing) = raw.get("/v1/radar/early_fraud_warnings/issfr_missing").await;
    assert_eq!(status, 404, "{missing}");

    // A partial refund leaves it actionable; refunding the rest settles it.
    raw.ok("/v1/refunds", &[("charge", charge), ("amount", "500")]).await;
    let (_, partly) = raw.get(&format!("/v1/radar/early_fraud_warnings/{id}")).await;
    assert_eq!(partly["actionable"], true);
    raw.ok("/v1/refunds", &[("charge", charge), ("reason", "fraudulent")]).await;
    let (_, settled) = raw.get(&format!("/v1/radar/early_fraud_warnings/{id}")).await;
    assert_eq!(settled["actionable"], false);

    settle(&sb).await;
    let created = rx.events_of("radar.early_fraud_warning.created").await;
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["data"]["object"]["charge"], charge);
    let updated = rx.events_of("radar.early_fraud_warning.updated").await;
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["data"]["object"]["actionable"], false);
    assert_eq!(updated[0]["data"]["previous_attributes"]["actionable"], true);
}
