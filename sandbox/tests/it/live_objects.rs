//! Objects as Stripe shows them now: embedded prices are the live price objects, and includable
//! fields appear only when `expand[]` asks for them.

use super::*;

/// A customer paying with a visa card.
async fn paying_customer(raw: &Raw) -> String {
    let customer = raw.ok("/v1/customers", &[("email", "live@x.com")]).await["id"].as_str().unwrap().to_string();
    let card = raw.ok("/v1/payment_methods/pm_card_visa/attach", &[("customer", customer.as_str())]).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    raw.ok(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", card.as_str())]).await;
    customer
}

async fn keyed_price(raw: &Raw, product: &str, amount: &str, lookup_key: &str, transfer: bool) -> String {
    let transfer = if transfer { "true" } else { "false" };
    raw.ok(
        "/v1/prices",
        &[
            ("currency", "usd"),
            ("unit_amount", amount),
            ("recurring[interval]", "month"),
            ("product", product),
            ("lookup_key", lookup_key),
            ("transfer_lookup_key", transfer),
            ("metadata[plan]", "pro"),
        ],
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn subscription_items_show_the_price_as_it_is_now() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    register(&raw, &rx.url).await;
    let product = raw.ok("/v1/products", &[("name", "Pro")]).await["id"].as_str().unwrap().to_string();
    let old = keyed_price(&raw, &product, "1000", "pro_monthly", false).await;
    let customer = paying_customer(&raw).await;
    let subscription =
        raw.ok("/v1/subscriptions", &[("customer", customer.as_str()), ("items[0][price]", old.as_str())]).await;
    let id = subscription["id"].as_str().unwrap().to_string();
    assert_eq!(subscription["items"]["data"][0]["price"]["lookup_key"], "pro_monthly");

    // `catalog sync` moving the lookup key to a new price, as the app does when an amount changes.
    let new = keyed_price(&raw, &product, "1200", "pro_monthly", true).await;
    raw.ok(&format!("/v1/prices/{old}"), &[("nickname", "Pro (2024)")]).await;

    let (_, fetched) = raw.get(&format!("/v1/subscriptions/{id}")).await;
    let item = &fetched["items"]["data"][0];
    assert_eq!(item["price"]["id"], old.as_str(), "the subscriber keeps the old price");
    assert_eq!(item["price"]["lookup_key"], Value::Null, "which no longer holds the lookup key");
    assert_eq!(item["price"]["nickname"], "Pro (2024)");
    assert_eq!(item["plan"]["nickname"], "Pro (2024)");
    assert_eq!(item["price"]["metadata"]["plan"], "pro", "the metadata set at creation stays");
    let (_, listed) = raw.get(&format!("/v1/subscriptions?customer={customer}")).await;
    assert_eq!(listed["data"][0]["items"]["data"][0]["price"]["lookup_key"], Value::Null);
    let (_, item) = raw.get(&format!("/v1/subscription_items/{}", item["id"].as_str().unwrap())).await;
    assert_eq!(item["price"]["lookup_key"], Value::Null);
    let (_, invoice) =
        raw.get(&format!("/v1/invoices/{}?expand[]=subscription", fetched["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(invoice["subscription"]["items"]["data"][0]["price"]["lookup_key"], Value::Null);
    let (_, with_new) = raw.get(&format!("/v1/prices/{new}")).await;
    assert_eq!(with_new["lookup_key"], "pro_monthly");

    // Events sent from now on carry the live price too.
    raw.ok(&format!("/v1/subscriptions/{id}"), &[("metadata[seen]", "yes")]).await;
    settle(&sb).await;
    let events = rx.events().await;
    let updated = events.iter().rev().find(|e| e["type"] == "customer.subscription.updated").unwrap();
    assert_eq!(updated["data"]["object"]["items"]["data"][0]["price"]["lookup_key"], Value::Null);
}

#[tokio::test]
async fn invoice_payments_and_charge_refunds_only_when_expanded() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let rx = receiver().await;
    register(&raw, &rx.url).await;
    let product = raw.ok("/v1/products", &[("name", "Pro")]).await["id"].as_str().unwrap().to_string();
    let price = keyed_price(&raw, &product, "1000", "pro_monthly", false).await;
    let customer = paying_customer(&raw).await;
    let subscription =
        raw.ok("/v1/subscriptions", &[("customer", customer.as_str()), ("items[0][price]", price.as_str())]).await;
    let invoice_id = subscription["latest_invoice"].as_str().unwrap().to_string();

    let (_, invoice) = raw.get(&format!("/v1/invoices/{invoice_id}")).await;
    assert_eq!(invoice["status"], "paid");
    assert!(invoice.get("payments").is_none(), "includable: absent unless expanded");
    let (_, invoice) = raw.get(&format!("/v1/invoices/{invoice_id}?expand[]=payments")).await;
    let payment_intent = invoice["payments"]["data"][0]["payment"]["payment_intent"].as_str().unwrap().to_string();
    let (_, listed) = raw.get(&format!("/v1/invoices?customer={customer}")).await;
    assert!(listed["data"][0].get("payments").is_none());
    let (_, listed) = raw.get(&format!("/v1/invoices?customer={customer}&expand[]=data.payments")).await;
    assert_eq!(listed["data"][0]["payments"]["object"], "list");
    let (_, fetched) =
        raw.get(&format!("/v1/subscriptions/{}?expand[]=latest_invoice", subscription["id"].as_str().unwrap())).await;
    assert!(fetched["latest_invoice"].get("payments").is_none());
    let (_, fetched) = raw
        .get(&format!("/v1/subscriptions/{}?expand[]=latest_invoice.payments", subscription["id"].as_str().unwrap()))
        .await;
    assert_eq!(fetched["latest_invoice"]["payments"]["data"][0]["payment"]["payment_intent"], payment_intent.as_str());

    let (_, intent) = raw.get(&format!("/v1/payment_intents/{payment_intent}")).await;
    let charge = intent["latest_charge"].as_str().unwrap().to_string();
    let (_, plain) = raw.get(&format!("/v1/charges/{charge}")).await;
    assert!(plain.get("refunds").is_none(), "charge.refunds is includable since 2022-11-15");
    let (_, expanded) = raw.get(&format!("/v1/charges/{charge}?expand[]=refunds")).await;
    assert_eq!(expanded["refunds"]["object"], "list");

    settle(&sb).await;
    for event in rx.events().await {
        let object = &event["data"]["object"];
        assert!(object.get("payments").is_none() && object.get("refunds").is_none(), "{}", event["type"]);
    }
}
