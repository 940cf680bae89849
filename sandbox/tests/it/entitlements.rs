//! Entitlements as Stripe documents them, parsed with async-stripe rc.10's types: features
//! (`/v1/entitlements/features`), their attachment to products (`/v1/products/:id/features`), a
//! customer's active entitlements following their subscriptions, and
//! `entitlements.active_entitlement_summary.updated` when those change.

use serde_json::Value;
use stripe_misc::entitlements_active_entitlement::ListEntitlementsActiveEntitlement;
use stripe_misc::entitlements_feature::{
    CreateEntitlementsFeature, ListEntitlementsFeature, UpdateEntitlementsFeature,
};
use stripe_product::product_feature::{CreateProductProductFeature, DeleteProductFeature, ListProductProductFeature};

use super::*;

async fn delete(raw: &Raw, path: &str) -> (u16, Value) {
    let r = raw.http.delete(format!("{}{path}", raw.base)).bearer_auth(KEY).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn features_are_created_listed_attached_and_detached_as_stripe_does() {
    let sb = sandbox().await;
    let client = client(&sb);
    let raw = Raw::new(&sb);
    let api = CreateEntitlementsFeature::new("api", "API access").send(&client).await.unwrap();
    assert!(api.id.as_str().starts_with("feat_"), "{}", api.id.as_str());
    assert!(api.active && api.lookup_key == "api");
    let (status, body) = raw.post("/v1/entitlements/features", &[("lookup_key", "api"), ("name", "Again")]).await;
    assert_eq!((status, body["error"]["type"].as_str()), (400, Some("invalid_request_error")), "{body}");
    let (status, body) = raw.post("/v1/entitlements/features", &[("name", "No key")]).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("parameter_missing")), "{body}");
    let support = CreateEntitlementsFeature::new("support", "Support").send(&client).await.unwrap();

    let listed = ListEntitlementsFeature::new().send(&client).await.unwrap();
    let keys: Vec<&str> = listed.data.iter().map(|f| f.lookup_key.as_str()).collect();
    assert_eq!(keys, ["support", "api"], "newest first");
    let by_key = ListEntitlementsFeature::new().lookup_key("api").send(&client).await.unwrap();
    assert_eq!(by_key.data.len(), 1);

    let product = raw.ok("/v1/products", &[("name", "Pro")]).await["id"].as_str().unwrap().to_string();
    let attached = CreateProductProductFeature::new(product.as_str(), api.id.as_str()).send(&client).await.unwrap();
    assert!(attached.id.as_str().starts_with("prodft_"));
    assert_eq!(attached.entitlement_feature.lookup_key, "api", "the feature is embedded");
    let form = [("entitlement_feature", api.id.as_str())];
    let (status, body) = raw.post(&format!("/v1/products/{product}/features"), &form).await;
    assert_eq!(status, 400, "attached once: {body}");
    CreateProductProductFeature::new(product.as_str(), support.id.as_str()).send(&client).await.unwrap();
    let on_product = ListProductProductFeature::new(product.as_str()).send(&client).await.unwrap();
    assert_eq!(on_product.data.len(), 2);
    let (status, one) = raw.get(&format!("/v1/products/{product}/features/{}", attached.id.as_str())).await;
    assert_eq!((status, one["object"].as_str()), (200, Some("product_feature")));

    let deleted = DeleteProductFeature::new(attached.id.as_str(), product.as_str()).send(&client).await.unwrap();
    assert_eq!(deleted.id.as_str(), attached.id.as_str(), "parsed as deleted (`deleted: true`)");
    let (status, _) = delete(&raw, &format!("/v1/products/{product}/features/{}", attached.id.as_str())).await;
    assert_eq!(status, 404, "gone");
    assert_eq!(ListProductProductFeature::new(product.as_str()).send(&client).await.unwrap().data.len(), 1);

    // Archived: left out of the list unless asked for, and no longer attachable.
    UpdateEntitlementsFeature::new(api.id.as_str()).active(false).send(&client).await.unwrap();
    assert_eq!(ListEntitlementsFeature::new().send(&client).await.unwrap().data.len(), 1);
    assert_eq!(ListEntitlementsFeature::new().archived(true).send(&client).await.unwrap().data.len(), 1);
    let (status, _) = raw.post(&format!("/v1/products/{product}/features"), &form).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn active_entitlements_follow_subscriptions_with_a_summary_event_on_each_change() {
    let sb = sandbox().await;
    let client = client(&sb);
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    let secret = register(&raw, &rx.url).await;
    let price = monthly_price(&raw, "2900").await;
    let product = raw.get(&format!("/v1/prices/{price}")).await.1["product"].as_str().unwrap().to_string();
    let api = CreateEntitlementsFeature::new("api", "API").send(&client).await.unwrap();
    CreateProductProductFeature::new(product.as_str(), api.id.as_str()).send(&client).await.unwrap();
    let form = [("payment_method", "pm_card_visa"), ("invoice_settings[default_payment_method]", "pm_card_visa")];
    let customer = raw.ok("/v1/customers", &form).await["id"].as_str().unwrap().to_string();
    let (status, body) = raw.get("/v1/entitlements/active_entitlements").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("parameter_missing")), "{body}");
    assert!(ListEntitlementsActiveEntitlement::new(customer.as_str()).send(&client).await.unwrap().data.is_empty());

    let form = [("customer", customer.as_str()), ("items[0][price]", price.as_str())];
    let subscription = raw.ok("/v1/subscriptions", &form).await;
    assert_eq!(subscription["status"], "active");
    let active = ListEntitlementsActiveEntitlement::new(customer.as_str()).send(&client).await.unwrap();
    assert_eq!(active.data.len(), 1);
    let entitlement = &active.data[0];
    assert_eq!((entitlement.lookup_key.as_str(), entitlement.feature.id().as_str()), ("api", api.id.as_str()));
    let (status, one) = raw.get(&format!("/v1/entitlements/active_entitlements/{}", entitlement.id.as_str())).await;
    assert_eq!((status, one["object"].as_str()), (200, Some("entitlements.active_entitlement")));

    // A change that leaves the set as it is sends no summary.
    let path = format!("/v1/subscriptions/{}", subscription["id"].as_str().unwrap());
    raw.ok(&path, &[("metadata[x]", "y")]).await;
    let (status, _) = delete(&raw, &path).await;
    assert_eq!(status, 200);
    assert!(ListEntitlementsActiveEntitlement::new(customer.as_str()).send(&client).await.unwrap().data.is_empty());

    settle(&sb).await;
    rx.verify_all(&secret).await;
    let summaries: Vec<Value> = rx
        .events()
        .await
        .into_iter()
        .filter(|e| e["type"] == "entitlements.active_entitlement_summary.updated")
        .collect();
    assert_eq!(summaries.len(), 2, "granted, then revoked");
    let granted = &summaries[0]["data"]["object"];
    assert_eq!(granted["customer"], customer.as_str());
    assert_eq!(granted["entitlements"]["data"][0]["lookup_key"], "api");
    assert_eq!(granted["entitlements"]["data"][0]["feature"]["object"], "entitlements.feature");
    assert_eq!(summaries[1]["data"]["object"]["entitlements"]["data"], serde_json::json!([]));
}
