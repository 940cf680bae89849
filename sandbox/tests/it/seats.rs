//! Quantities as per-seat billing uses them: Checkout's `adjustable_quantity` (checked at
//! creation, changed by the buyer on the hosted page, carried to the line items, the amounts and
//! the subscription) and quantity changes on one price prorated as Stripe does.

use super::*;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A $20 monthly price.
async fn monthly_price(raw: &Raw) -> String {
    let product = raw.ok("/v1/products", &[("name", "Seat")]).await;
    let price = raw
        .ok(
            "/v1/prices",
            &[
                ("currency", "usd"),
                ("unit_amount", "2000"),
                ("recurring[interval]", "month"),
                ("product", &id(&product)),
            ],
        )
        .await;
    id(&price)
}

fn session_form<'a>(price: &'a str, quantity: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("mode", "subscription"),
        ("success_url", "http://app.test/done?session_id={CHECKOUT_SESSION_ID}"),
        ("line_items[0][price]", price),
        ("line_items[0][quantity]", quantity),
    ];
    form.extend_from_slice(extra);
    form
}

#[tokio::test]
async fn adjustable_quantity_is_checked_and_shown_on_the_line_item() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let price = monthly_price(&raw).await;
    let bounds = [
        ("line_items[0][adjustable_quantity][enabled]", "true"),
        ("line_items[0][adjustable_quantity][minimum]", "1"),
        ("line_items[0][adjustable_quantity][maximum]", "10"),
    ];
    let session = raw.ok("/v1/checkout/sessions", &session_form(&price, "3", &bounds)).await;
    assert_eq!(session["amount_total"], 6000);
    let (_, items) = raw.get(&format!("/v1/checkout/sessions/{}/line_items", id(&session))).await;
    let item = &items["data"][0];
    assert_eq!(item["adjustable_quantity"], serde_json::json!({"enabled": true, "maximum": 10, "minimum": 1}));
    assert_eq!(item["quantity"], 3);
    // async-stripe reads the line item as Stripe sends it.
    let parsed: stripe_shared::CheckoutSessionItem = serde_json::from_value(item.clone()).expect("an item");
    let adjustable = parsed.adjustable_quantity.expect("adjustable");
    assert_eq!((adjustable.enabled, adjustable.minimum, adjustable.maximum), (true, Some(1), Some(10)));

    // Without it the field is null, as on Stripe.
    let plain = raw.ok("/v1/checkout/sessions", &session_form(&price, "1", &[])).await;
    let (_, items) = raw.get(&format!("/v1/checkout/sessions/{}/line_items", id(&plain))).await;
    assert!(items["data"][0]["adjustable_quantity"].is_null());

    for (quantity, extra, param) in [
        ("11", bounds.to_vec(), "line_items[0][quantity]"),
        (
            "3",
            vec![("line_items[0][adjustable_quantity][minimum]", "1")],
            "line_items[0][adjustable_quantity][enabled]",
        ),
        (
            "3",
            vec![
                ("line_items[0][adjustable_quantity][enabled]", "true"),
                ("line_items[0][adjustable_quantity][maximum]", "1000000"),
            ],
            "line_items[0][adjustable_quantity][maximum]",
        ),
        (
            "3",
            vec![
                ("line_items[0][adjustable_quantity][enabled]", "true"),
                ("line_items[0][adjustable_quantity][minimum]", "5"),
                ("line_items[0][adjustable_quantity][maximum]", "4"),
            ],
            "line_items[0][adjustable_quantity][minimum]",
        ),
    ] {
        let (status, error) = raw.post("/v1/checkout/sessions", &session_form(&price, quantity, &extra)).await;
        assert_eq!(status, 400, "{extra:?}: {error}");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert_eq!(error["error"]["param"], param, "{error}");
    }
}

#[tokio::test]
async fn the_buyer_changes_the_quantity_on_the_hosted_page_within_the_bounds() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let price = monthly_price(&raw).await;
    let bounds = [
        ("line_items[0][adjustable_quantity][enabled]", "true"),
        ("line_items[0][adjustable_quantity][minimum]", "2"),
        ("line_items[0][adjustable_quantity][maximum]", "6"),
    ];
    let session = raw.ok("/v1/checkout/sessions", &session_form(&price, "3", &bounds)).await;
    let url = session["url"].as_str().unwrap().to_string();
    let page = raw.http.get(&url).send().await.unwrap().text().await.unwrap();
    let (_, items) = raw.get(&format!("/v1/checkout/sessions/{}/line_items", id(&session))).await;
    let field = format!("quantity_{}", id(&items["data"][0]));
    assert!(page.contains(&format!(r#"name="{field}""#)) && page.contains(r#"min="2" max="6" value="3""#), "{page}");

    // Outside the bounds: refused, nothing changes.
    let refused = raw.http.post(&url).form(&[(field.as_str(), "7"), ("action", "update")]).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 400);
    assert!(refused.text().await.unwrap().contains("The quantity must be between 2 and 6."));
    // "Update quantity" (no card needed): the total follows.
    let updated = raw.http.post(&url).form(&[(field.as_str(), "5"), ("action", "update")]).send().await.unwrap();
    assert_eq!(updated.status().as_u16(), 200);
    assert!(updated.text().await.unwrap().contains("Total due today: $100.00"));

    // Paying with 4 chosen: the session, its line items and the subscription all say 4.
    let paid = raw
        .http
        .post(&url)
        .form(&[
            (field.as_str(), "4"),
            ("email", "team@example.com"),
            ("card_number", "4242424242424242"),
            ("expiry", "12 / 34"),
            ("cvc", "123"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 303);
    let (_, done) = raw.get(&format!("/v1/checkout/sessions/{}", id(&session))).await;
    assert_eq!((done["status"].as_str(), done["amount_total"].as_i64()), (Some("complete"), Some(8000)));
    let (_, items) = raw.get(&format!("/v1/checkout/sessions/{}/line_items", id(&session))).await;
    assert_eq!(
        (items["data"][0]["quantity"].as_i64(), items["data"][0]["amount_total"].as_i64()),
        (Some(4), Some(8000))
    );
    let (_, subscription) = raw.get(&format!("/v1/subscriptions/{}", done["subscription"].as_str().unwrap())).await;
    assert_eq!(subscription["items"]["data"][0]["quantity"], 4);
    let (_, invoice) = raw.get(&format!("/v1/invoices/{}", subscription["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(invoice["amount_paid"], 8000);
    assert_eq!(invoice["lines"]["data"][0]["quantity"], 4);
}

/// A subscription to `price` for `quantity`, paid by a test card: (id, period start, period end).
async fn subscription(raw: &Raw, price: &str, quantity: &str) -> (String, i64, i64) {
    let customer = raw
        .ok(
            "/v1/customers",
            &[("payment_method", "pm_card_visa"), ("invoice_settings[default_payment_method]", "pm_card_visa")],
        )
        .await;
    let subscription = raw
        .ok(
            "/v1/subscriptions",
            &[("customer", &id(&customer)), ("items[0][price]", price), ("items[0][quantity]", quantity)],
        )
        .await;
    let item = &subscription["items"]["data"][0];
    (id(&subscription), item["current_period_start"].as_i64().unwrap(), item["current_period_end"].as_i64().unwrap())
}

#[tokio::test]
async fn quantity_changes_on_one_price_are_prorated_both_ways() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let price = monthly_price(&raw).await;
    let (sub, start, end) = subscription(&raw, &price, "3").await;
    let half = start + (end - start) / 2;
    let item =
        raw.get(&format!("/v1/subscriptions/{sub}")).await.1["items"]["data"][0]["id"].as_str().unwrap().to_string();
    let half_text = half.to_string();

    // 3 → 5 at half time, invoiced now: credit half of 3 seats, charge half of 5 seats = +$20.
    let more = raw
        .ok(
            &format!("/v1/subscriptions/{sub}"),
            &[
                ("items[0][id]", &item),
                ("items[0][quantity]", "5"),
                ("proration_behavior", "always_invoice"),
                ("proration_date", &half_text),
            ],
        )
        .await;
    assert_eq!(more["items"]["data"][0]["quantity"], 5);
    assert_eq!(more["items"]["data"][0]["price"]["id"], price.as_str(), "same price");
    let (_, invoice) = raw.get(&format!("/v1/invoices/{}", more["latest_invoice"].as_str().unwrap())).await;
    let mut amounts: Vec<i64> =
        invoice["lines"]["data"].as_array().unwrap().iter().map(|l| l["amount"].as_i64().unwrap()).collect();
    amounts.sort();
    assert_eq!(amounts, [-3000, 5000], "{invoice}");
    assert_eq!(invoice["total"], 2000);
    assert_eq!(invoice["status"], "paid");

    // 5 → 2 at half time with create_prorations: a net credit left pending for the next invoice.
    let fewer = raw
        .ok(
            &format!("/v1/subscriptions/{sub}"),
            &[
                ("items[0][id]", &item),
                ("items[0][quantity]", "2"),
                ("proration_behavior", "create_prorations"),
                ("proration_date", &half_text),
            ],
        )
        .await;
    assert_eq!(fewer["items"]["data"][0]["quantity"], 2);
    assert_eq!(fewer["latest_invoice"], more["latest_invoice"], "nothing invoiced now");
    let customer = fewer["customer"].as_str().unwrap();
    let (_, pending) = raw.get(&format!("/v1/invoiceitems?customer={customer}&pending=true")).await;
    let mut amounts: Vec<i64> =
        pending["data"].as_array().unwrap().iter().map(|i| i["amount"].as_i64().unwrap()).collect();
    amounts.sort();
    assert_eq!(amounts, [-5000, 2000], "{pending}");
    assert!(pending["data"].as_array().unwrap().iter().all(|i| i["proration"] == true));

    // 2 → 2 changes nothing and prorates nothing.
    raw.ok(&format!("/v1/subscriptions/{sub}"), &[("items[0][id]", &item), ("items[0][quantity]", "2")]).await;
    let (_, again) = raw.get(&format!("/v1/invoiceitems?customer={customer}&pending=true")).await;
    assert_eq!(again["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_portal_changes_the_quantity_within_the_configurations_bounds() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let price = monthly_price(&raw).await;
    let (sub, _, _) = subscription(&raw, &price, "3").await;
    let (_, live) = raw.get(&format!("/v1/subscriptions/{sub}")).await;
    let product = live["items"]["data"][0]["price"]["product"].as_str().unwrap().to_string();
    let configuration = raw
        .ok(
            "/v1/billing_portal/configurations",
            &[
                ("features[subscription_update][enabled]", "true"),
                ("features[subscription_update][default_allowed_updates][]", "price"),
                ("features[subscription_update][default_allowed_updates][]", "quantity"),
                ("features[subscription_update][proration_behavior]", "always_invoice"),
                ("features[subscription_update][products][0][product]", &product),
                ("features[subscription_update][products][0][prices][]", &price),
                ("features[subscription_update][products][0][adjustable_quantity][enabled]", "true"),
                ("features[subscription_update][products][0][adjustable_quantity][minimum]", "2"),
                ("features[subscription_update][products][0][adjustable_quantity][maximum]", "5"),
            ],
        )
        .await;
    let products = &configuration["features"]["subscription_update"]["products"];
    assert_eq!(products[0]["adjustable_quantity"], serde_json::json!({"enabled": true, "maximum": 5, "minimum": 2}));
    let session = raw
        .ok(
            "/v1/billing_portal/sessions",
            &[("customer", live["customer"].as_str().unwrap()), ("configuration", &id(&configuration))],
        )
        .await;
    let page = raw.http.get(session["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(r#"name="quantity" type="number" min="2" max="5" value="3""#), "{page}");

    let update = format!("{}/portal/{}/subscriptions/{sub}/update", raw.base, id(&session));
    let refused = raw.http.post(&update).form(&[("price", price.as_str()), ("quantity", "6")]).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 402);
    assert!(refused.text().await.unwrap().contains("The quantity must be at least 2 and at most 5."));
    let (_, unchanged) = raw.get(&format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(unchanged["items"]["data"][0]["quantity"], 3);

    let done = raw.http.post(&update).form(&[("price", price.as_str()), ("quantity", "4")]).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 303);
    let (_, changed) = raw.get(&format!("/v1/subscriptions/{sub}")).await;
    assert_eq!(changed["items"]["data"][0]["quantity"], 4);
    let (_, invoice) = raw.get(&format!("/v1/invoices/{}", changed["latest_invoice"].as_str().unwrap())).await;
    assert!(
        invoice["lines"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["parent"]["invoice_item_details"]["proration"] == true),
        "{invoice}"
    );
    assert_eq!(invoice["total"], 2000, "one more seat for the whole period, invoiced at once: {invoice}");
}
