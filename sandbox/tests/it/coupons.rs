//! Coupons and promotion codes as Stripe redeems them: a coupon's `valid` (redeem_by,
//! max_redemptions), `applies_to[products]`, a promotion code's limits (`expires_at`,
//! `max_redemptions`, `customer`, `active`) and restrictions (`first_time_transaction`,
//! `minimum_amount`), redemptions counted in subscription and payment mode, deleted coupons,
//! the lists' filters, and no discount parameters on customers (removed in 2025-03-31.basil).

use super::*;

const T0: i64 = 1_800_000_000;
const DAY: i64 = 86_400;

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// A customer on a test clock at `T0` paying with a Visa.
async fn paying_customer(raw: &Raw, clock: Option<&str>) -> String {
    let mut form = vec![("email", "coupon@x.com")];
    if let Some(clock) = clock {
        form.push(("test_clock", clock));
    }
    let customer = id_of(&raw.ok("/v1/customers", &form).await);
    let pm = id_of(&raw.ok("/v1/payment_methods/pm_card_visa/attach", &[("customer", customer.as_str())]).await);
    raw.ok(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", pm.as_str())]).await;
    customer
}

async fn promotion_code(raw: &Raw, coupon: &str, code: &str, extra: &[(&str, &str)]) -> String {
    let mut form = vec![("promotion[type]", "coupon"), ("promotion[coupon]", coupon), ("code", code)];
    form.extend_from_slice(extra);
    id_of(&raw.ok("/v1/promotion_codes", &form).await)
}

/// Subscribes `customer` to `price` with a `discounts[0]` of `kind` (`coupon`/`promotion_code`).
async fn subscribe(raw: &Raw, customer: &str, price: &str, kind: &str, id: &str) -> (u16, Value) {
    let param = format!("discounts[0][{kind}]");
    raw.post("/v1/subscriptions", &[("customer", customer), ("items[0][price]", price), (param.as_str(), id)]).await
}

#[tokio::test]
async fn a_coupon_out_of_redemptions_is_no_longer_valid() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let price = monthly_price(&raw, "1500").await;
    let coupon = raw.ok("/v1/coupons", &[("percent_off", "50"), ("duration", "once"), ("max_redemptions", "1")]).await;
    assert_eq!((coupon["valid"].as_bool(), coupon["times_redeemed"].as_i64()), (Some(true), Some(0)));
    let coupon = id_of(&coupon);
    let first = paying_customer(&raw, None).await;
    let (status, sub) = subscribe(&raw, &first, &price, "coupon", &coupon).await;
    assert_eq!(status, 200, "{sub}");
    let (_, fetched) = raw.get(&format!("/v1/coupons/{coupon}")).await;
    assert_eq!((fetched["valid"].as_bool(), fetched["times_redeemed"].as_i64()), (Some(false), Some(1)));
    let second = paying_customer(&raw, None).await;
    let (status, error) = subscribe(&raw, &second, &price, "coupon", &coupon).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["code"], "coupon_expired");
    assert_eq!(error["error"]["param"], "discounts[0][coupon]");
    let (_, subs) = raw.get(&format!("/v1/subscriptions?customer={second}")).await;
    assert_eq!(subs["data"].as_array().unwrap().len(), 0, "a refused discount leaves no subscription behind");
}

#[tokio::test]
async fn creating_a_coupon_checks_its_terms() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    for (form, param) in [
        (vec![("percent_off", "0"), ("duration", "once")], Some("percent_off")),
        (vec![("percent_off", "101"), ("duration", "once")], Some("percent_off")),
        (vec![("percent_off", "10"), ("amount_off", "100"), ("currency", "usd")], None),
        (vec![("amount_off", "100")], Some("currency")),
        (vec![("percent_off", "10"), ("duration", "repeating")], Some("duration_in_months")),
        (vec![("percent_off", "10"), ("duration", "weekly")], Some("duration")),
        (vec![("percent_off", "10"), ("redeem_by", "1000")], Some("redeem_by")),
        (vec![("percent_off", "10"), ("applies_to[products][0]", "prod_missing")], Some("applies_to[products]")),
    ] {
        let (status, error) = raw.post("/v1/coupons", &form).await;
        assert_eq!(status / 100, 4, "{form:?}: {error}");
        assert_eq!(error["error"]["param"].as_str(), param, "{form:?}: {error}");
    }
    let (_, list) = raw.get("/v1/coupons").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn customers_take_no_coupon_since_basil() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let coupon = id_of(&raw.ok("/v1/coupons", &[("percent_off", "10"), ("duration", "forever")]).await);
    let customer = id_of(&raw.ok("/v1/customers", &[("email", "c@x.com")]).await);
    for param in ["coupon", "promotion_code"] {
        let (status, error) = raw.post(&format!("/v1/customers/{customer}"), &[(param, coupon.as_str())]).await;
        assert_eq!((status, error["error"]["code"].as_str()), (400, Some("parameter_unknown")), "{error}");
        assert_eq!(error["error"]["message"], format!("Received unknown parameter: {param}"));
    }
    let (_, fetched) = raw.get(&format!("/v1/customers/{customer}")).await;
    assert!(fetched["discount"].is_null(), "{fetched}");
}

#[tokio::test]
async fn promotion_code_limits_and_restrictions_are_enforced_on_redemption() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let price = monthly_price(&raw, "1500").await;
    let clock = id_of(&raw.ok("/v1/test_helpers/test_clocks", &[("frozen_time", T0.to_string().as_str())]).await);
    let coupon = id_of(&raw.ok("/v1/coupons", &[("percent_off", "10"), ("duration", "forever")]).await);
    let refused = |(status, error): (u16, Value), why: &str| {
        assert_eq!(status, 400, "{why}: {error}");
        assert_eq!(error["error"]["param"], "discounts[0][promotion_code]", "{why}: {error}");
        error["error"]["message"].as_str().unwrap().to_string()
    };

    // First-time customers only: one who has paid is refused, a new one is not.
    let first_time =
        promotion_code(&raw, &coupon, "NEWHERE", &[("restrictions[first_time_transaction]", "true")]).await;
    let (_, code) = raw.get(&format!("/v1/promotion_codes/{first_time}")).await;
    assert_eq!(code["restrictions"]["first_time_transaction"], true);
    let veteran = paying_customer(&raw, Some(&clock)).await;
    raw.ok("/v1/subscriptions", &[("customer", veteran.as_str()), ("items[0][price]", price.as_str())]).await;
    let message = refused(subscribe(&raw, &veteran, &price, "promotion_code", &first_time).await, "paid before");
    assert!(message.contains("without any successful payments or invoices"), "{message}");
    let newcomer = paying_customer(&raw, Some(&clock)).await;
    assert_eq!(subscribe(&raw, &newcomer, &price, "promotion_code", &first_time).await.0, 200);

    // A minimum order: $15.00 is less than $20.00.
    let minimum = promotion_code(
        &raw,
        &coupon,
        "BIGORDER",
        &[("restrictions[minimum_amount]", "2000"), ("restrictions[minimum_amount_currency]", "usd")],
    )
    .await;
    let message = refused(subscribe(&raw, &newcomer, &price, "promotion_code", &minimum).await, "minimum");
    assert!(message.contains("minimum amount of 2000 USD"), "{message}");

    // At most one redemption, and only by `newcomer`.
    let once =
        promotion_code(&raw, &coupon, "ONCE", &[("max_redemptions", "1"), ("customer", newcomer.as_str())]).await;
    let message = refused(subscribe(&raw, &veteran, &price, "promotion_code", &once).await, "other customer");
    assert!(message.contains("cannot be redeemed by this customer"), "{message}");
    assert_eq!(subscribe(&raw, &newcomer, &price, "promotion_code", &once).await.0, 200);
    let message = refused(subscribe(&raw, &newcomer, &price, "promotion_code", &once).await, "used up");
    assert!(message.contains("maximum number of times"), "{message}");
    let (_, code) = raw.get(&format!("/v1/promotion_codes/{once}")).await;
    assert_eq!(code["times_redeemed"], 1);

    // Expiry, on the customer's clock.
    let expires = (T0 + DAY).to_string();
    let expiring = promotion_code(&raw, &coupon, "SOON", &[("expires_at", expires.as_str())]).await;
    advance_clock(&sb, &raw, &clock, T0 + 2 * DAY).await;
    let message = refused(subscribe(&raw, &newcomer, &price, "promotion_code", &expiring).await, "expired");
    assert!(message.contains("has expired"), "{message}");

    // Deactivated: refused, and listed as inactive.
    let stopped = promotion_code(&raw, &coupon, "STOPPED", &[]).await;
    raw.ok(&format!("/v1/promotion_codes/{stopped}"), &[("active", "false")]).await;
    let message = refused(subscribe(&raw, &newcomer, &price, "promotion_code", &stopped).await, "inactive");
    assert!(message.contains("is inactive"), "{message}");
    let (_, inactive) = raw.get(&format!("/v1/promotion_codes?active=false&coupon={coupon}")).await;
    assert_eq!(inactive["data"].as_array().unwrap().len(), 1);
    assert_eq!(inactive["data"][0]["id"], stopped.as_str());
    let (_, by_code) = raw.get("/v1/promotion_codes?code=newhere").await;
    assert_eq!(by_code["data"][0]["id"], first_time.as_str(), "codes are matched regardless of case");
    let (status, taken) = raw
        .post(
            "/v1/promotion_codes",
            &[("promotion[type]", "coupon"), ("promotion[coupon]", coupon.as_str()), ("code", "once")],
        )
        .await;
    assert_eq!(status, 400, "an active code is unique regardless of case: {taken}");
}

#[tokio::test]
async fn a_coupon_for_some_products_discounts_only_their_line_items() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let pro = raw.ok("/v1/products", &[("name", "Pro")]).await;
    let extra = raw.ok("/v1/products", &[("name", "Extra")]).await;
    let price = |product: String, amount: &'static str| {
        let raw = &raw;
        async move {
            let form = [("currency", "usd"), ("unit_amount", amount), ("product", product.as_str())];
            id_of(&raw.ok("/v1/prices", &form).await)
        }
    };
    let pro_price = price(id_of(&pro), "2000").await;
    let extra_price = price(id_of(&extra), "1000").await;
    let pro_id = id_of(&pro);
    let form = [("percent_off", "50"), ("duration", "once"), ("applies_to[products][0]", pro_id.as_str())];
    let coupon = id_of(&raw.ok("/v1/coupons", &form).await);
    let (_, expanded) = raw.get(&format!("/v1/coupons/{coupon}?expand[]=applies_to")).await;
    assert_eq!(expanded["applies_to"]["products"][0], pro_id.as_str());
    let (_, plain) = raw.get(&format!("/v1/coupons/{coupon}")).await;
    assert!(plain.get("applies_to").is_none(), "includable: only when expanded");

    let session = |items: Vec<(&'static str, String)>| {
        let raw = &raw;
        let coupon = coupon.clone();
        async move {
            let mut form: Vec<(&str, String)> = vec![
                ("mode", "payment".into()),
                ("success_url", "http://x/s".into()),
                ("discounts[0][coupon]", coupon),
            ];
            form.extend(items);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            raw.post("/v1/checkout/sessions", &form).await
        }
    };
    let (status, both) = session(vec![
        ("line_items[0][price]", pro_price.clone()),
        ("line_items[0][quantity]", "1".into()),
        ("line_items[1][price]", extra_price.clone()),
        ("line_items[1][quantity]", "1".into()),
    ])
    .await;
    assert_eq!(status, 200, "{both}");
    assert_eq!(
        (
            both["amount_subtotal"].as_i64(),
            both["total_details"]["amount_discount"].as_i64(),
            both["amount_total"].as_i64()
        ),
        (Some(3000), Some(1000), Some(2000)),
        "half of Pro's 2,000 only"
    );
    let (status, error) =
        session(vec![("line_items[0][price]", extra_price), ("line_items[0][quantity]", "1".into())]).await;
    assert_eq!(status, 400, "nothing it applies to: {error}");
}

#[tokio::test]
async fn payment_mode_redemptions_are_counted() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let product = id_of(&raw.ok("/v1/products", &[("name", "Guide")]).await);
    let price = id_of(
        &raw.ok("/v1/prices", &[("currency", "usd"), ("unit_amount", "2000"), ("product", product.as_str())]).await,
    );
    let coupon =
        id_of(&raw.ok("/v1/coupons", &[("amount_off", "500"), ("currency", "usd"), ("duration", "once")]).await);
    let code = promotion_code(&raw, &coupon, "FIVEOFF", &[]).await;
    let session = raw
        .ok(
            "/v1/checkout/sessions",
            &[
                ("mode", "payment"),
                ("success_url", "http://x/s"),
                ("allow_promotion_codes", "true"),
                ("line_items[0][price]", price.as_str()),
                ("line_items[0][quantity]", "1"),
            ],
        )
        .await;
    let form = [
        ("email", "buyer@x.com"),
        ("promotion_code", "fiveoff"),
        ("card_number", "4242424242424242"),
        ("expiry", "12/34"),
        ("cvc", "123"),
    ];
    let paid = raw.http.post(session["url"].as_str().unwrap()).form(&form).send().await.unwrap();
    assert_eq!(paid.status(), 303);
    let (_, completed) = raw.get(&format!("/v1/checkout/sessions/{}", id_of(&session))).await;
    assert_eq!((completed["status"].as_str(), completed["amount_total"].as_i64()), (Some("complete"), Some(1500)));
    assert_eq!(completed["discounts"][0]["promotion_code"], code.as_str());
    let (_, coupon) = raw.get(&format!("/v1/coupons/{coupon}")).await;
    let (_, code) = raw.get(&format!("/v1/promotion_codes/{code}")).await;
    assert_eq!((coupon["times_redeemed"].as_i64(), code["times_redeemed"].as_i64()), (Some(1), Some(1)));
}

#[tokio::test]
async fn a_deleted_coupon_keeps_its_discounts_and_takes_no_new_redemptions() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let clock = id_of(&raw.ok("/v1/test_helpers/test_clocks", &[("frozen_time", T0.to_string().as_str())]).await);
    let price = monthly_price(&raw, "1500").await;
    let coupon = id_of(&raw.ok("/v1/coupons", &[("percent_off", "20"), ("duration", "forever")]).await);
    let code = promotion_code(&raw, &coupon, "TWENTY", &[]).await;
    let customer = paying_customer(&raw, Some(&clock)).await;
    let (status, sub) = subscribe(&raw, &customer, &price, "promotion_code", &code).await;
    assert_eq!(status, 200, "{sub}");
    let (status, deleted) = raw.delete(&format!("/v1/coupons/{coupon}")).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));
    let (status, _) = raw.get(&format!("/v1/coupons/{coupon}")).await;
    assert_eq!(status, 404);
    let other = paying_customer(&raw, Some(&clock)).await;
    let (status, error) = subscribe(&raw, &other, &price, "coupon", &coupon).await;
    assert_eq!((status, error["error"]["code"].as_str()), (404, Some("resource_missing")), "{error}");
    let (status, _) = subscribe(&raw, &other, &price, "promotion_code", &code).await;
    assert_eq!(status / 100, 4, "its promotion code cannot be redeemed either");
    // The renewal still takes 20% off.
    advance_clock(&sb, &raw, &clock, T0 + 32 * DAY).await;
    let (_, invoices) = raw.get(&format!("/v1/invoices?subscription={}&limit=1", id_of(&sub))).await;
    let renewal = &invoices["data"][0];
    assert_eq!(
        (renewal["billing_reason"].as_str(), renewal["total"].as_i64()),
        (Some("subscription_cycle"), Some(1200))
    );
}
