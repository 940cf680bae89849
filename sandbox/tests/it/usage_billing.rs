//! Usage-based prices and billing in arrears: metered prices on meters, tiers and packages, the
//! renewal invoice carrying the ended period's usage, the preview showing usage so far, and the
//! final usage bill on cancellation. Driven on a test clock; invoices read with async-stripe.

use serde_json::json;

use super::*;

const T0: i64 = 1_800_000_000;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

struct Shop {
    sb: RunningSandbox,
    raw: Raw,
    clock: String,
    customer: String,
    product: String,
    meter: String,
}

async fn shop() -> Shop {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let t0 = T0.to_string();
    let clock = id_of(raw.ok("/v1/test_helpers/test_clocks", &[("frozen_time", &t0)]).await);
    let customer = id_of(raw.ok("/v1/customers", &[("test_clock", &clock)]).await);
    let pm = id_of(raw.ok("/v1/payment_methods/pm_card_visa/attach", &[("customer", &customer)]).await);
    raw.ok(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", &pm)]).await;
    let product = id_of(raw.ok("/v1/products", &[("name", "API")]).await);
    let meter = id_of(
        raw.ok(
            "/v1/billing/meters",
            &[("display_name", "API calls"), ("event_name", "api_call"), ("default_aggregation[formula]", "sum")],
        )
        .await,
    );
    Shop { sb, raw, clock, customer, product, meter }
}

fn id_of(object: Value) -> String {
    object["id"].as_str().unwrap_or_else(|| panic!("no id: {object}")).to_string()
}

impl Shop {
    /// A monthly price on the product; `extra` makes it metered, tiered…
    async fn price(&self, extra: &[(&str, &str)]) -> String {
        let mut form = vec![("currency", "usd"), ("recurring[interval]", "month"), ("product", self.product.as_str())];
        form.extend_from_slice(extra);
        id_of(self.raw.ok("/v1/prices", &form).await)
    }
    /// A price creation on the product (any, with `currency=usd`), answered raw.
    async fn try_price(&self, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut form = vec![("currency", "usd"), ("product", self.product.as_str())];
        form.extend_from_slice(extra);
        self.raw.post("/v1/prices", &form).await
    }
    async fn metered(&self, extra: &[(&str, &str)]) -> String {
        let mut form = vec![("recurring[usage_type]", "metered"), ("recurring[meter]", self.meter.as_str())];
        form.extend_from_slice(extra);
        self.price(&form).await
    }
    async fn subscribe(&self, prices: &[&str]) -> Value {
        let keys: Vec<String> = (0..prices.len()).map(|i| format!("items[{i}][price]")).collect();
        let mut form = vec![("customer", self.customer.as_str())];
        form.extend(keys.iter().map(String::as_str).zip(prices.iter().copied()));
        self.raw.ok("/v1/subscriptions", &form).await
    }
    async fn report(&self, value: &str, identifier: &str, timestamp: i64) {
        let timestamp = timestamp.to_string();
        let form = [
            ("event_name", "api_call"),
            ("payload[stripe_customer_id]", self.customer.as_str()),
            ("payload[value]", value),
            ("identifier", identifier),
            ("timestamp", timestamp.as_str()),
        ];
        self.raw.ok("/v1/billing/meter_events", &form).await;
    }
    async fn advance_to(&self, t: i64) {
        advance_clock(&self.sb, &self.raw, &self.clock, t).await;
    }
    /// The customer's invoices, oldest first, read with async-stripe.
    async fn invoices(&self) -> Vec<stripe_shared::Invoice> {
        let list = self.raw.get(&format!("/v1/invoices?customer={}&limit=100", self.customer)).await.1;
        let mut invoices: Vec<stripe_shared::Invoice> =
            serde_json::from_value(list["data"].clone()).expect("async-stripe reads the invoices");
        invoices.reverse();
        invoices
    }
    async fn preview(&self, subscription: &str) -> Value {
        self.raw.ok("/v1/invoices/create_preview", &[("subscription", subscription)]).await
    }
}

/// (price id, quantity, amount, period) of each line.
fn lines(invoice: &stripe_shared::Invoice) -> Vec<(String, u64, i64, (i64, i64))> {
    invoice
        .lines
        .data
        .iter()
        .map(|line| {
            let price = line
                .pricing
                .as_ref()
                .and_then(|p| p.price_details.as_ref())
                .map(|d| match &d.price {
                    stripe_types::Expandable::Id(id) => id.to_string(),
                    stripe_types::Expandable::Object(price) => price.id.to_string(),
                })
                .unwrap_or_default();
            (price, line.quantity.unwrap_or(0), line.amount, (line.period.start, line.period.end))
        })
        .collect()
}

#[tokio::test]
async fn usage_is_billed_in_arrears_beside_the_base_fee_paid_in_advance() {
    let shop = shop().await;
    let base = shop.price(&[("unit_amount", "1000")]).await;
    let per_call = shop.metered(&[("unit_amount", "2")]).await;
    let subscription = shop.subscribe(&[&base, &per_call]).await;
    let id = subscription["id"].as_str().unwrap();
    assert_eq!(subscription["status"], "active");
    let period_end = subscription["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    assert_eq!(subscription["items"]["data"][0]["quantity"], 1);
    assert!(subscription["items"]["data"][1].get("quantity").is_none(), "a metered item has no quantity");

    // The first invoice carries only the base fee, in advance.
    let first = &shop.invoices().await[0];
    assert_eq!(lines(first), [(base.clone(), 1, 1000, (T0, period_end))]);
    assert_eq!(first.amount_paid, 1000);

    shop.advance_to(T0 + 10 * DAY).await;
    shop.report("100", "a", T0 + HOUR).await;
    shop.report("50", "b", T0 + 9 * DAY).await;
    // Usage so far shows on the upcoming invoice, beside the next period's base fee.
    let preview = shop.preview(id).await;
    let preview: stripe_shared::Invoice = serde_json::from_value(preview).expect("async-stripe reads the preview");
    let mut previewed = lines(&preview);
    previewed.sort();
    let mut expected = vec![(per_call.clone(), 150, 300, (T0, period_end))];
    expected.push((base.clone(), 1, 1000, (period_end, previewed.iter().find(|l| l.0 == base).unwrap().3 .1)));
    expected.sort();
    assert_eq!(previewed, expected);
    assert_eq!(preview.total, 1300);

    // An event exactly at the period end (sent a minute ahead) belongs to the next period.
    shop.advance_to(period_end - 60).await;
    shop.report("7", "c", period_end).await;
    shop.advance_to(period_end + 2 * HOUR).await;
    let invoices = shop.invoices().await;
    assert_eq!(invoices.len(), 2, "{:?}", invoices.iter().map(|i| i.id.clone()).collect::<Vec<_>>());
    let renewal = &invoices[1];
    assert_eq!(renewal.billing_reason, Some(stripe_shared::InvoiceBillingReason::SubscriptionCycle));
    assert_eq!(renewal.status, Some(stripe_shared::InvoiceStatus::Paid));
    assert_eq!(renewal.total, 1300);
    let usage = lines(renewal).into_iter().find(|line| line.0 == per_call).expect("a usage line");
    assert_eq!(usage, (per_call.clone(), 150, 300, (T0, period_end)));
    let raw_renewal = shop.raw.get(&format!("/v1/invoices/{}", renewal.id.as_ref().unwrap())).await.1;
    let usage_line = raw_renewal["lines"]["data"].as_array().unwrap().iter().find(|l| l["amount"] == 300).unwrap();
    assert_eq!(usage_line["pricing"]["unit_amount_decimal"], "2");
    assert_eq!(usage_line["parent"]["type"], "subscription_item_details");
    assert_eq!(
        usage_line["parent"]["subscription_item_details"]["subscription_item"],
        subscription["items"]["data"][1]["id"]
    );

    // The next preview starts from zero plus the event at the boundary.
    let preview = shop.preview(id).await;
    let usage = preview["lines"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["pricing"]["price_details"]["price"] == per_call.as_str())
        .cloned()
        .unwrap();
    assert_eq!((usage["quantity"].as_i64(), usage["amount"].as_i64()), (Some(7), Some(14)));
}

#[tokio::test]
async fn tiered_and_package_prices_bill_usage_by_their_rules() {
    let shop = shop().await;
    // Graduated: the first 1000 calls are included in a flat 500, then 2 each.
    let tiered = shop
        .metered(&[
            ("billing_scheme", "tiered"),
            ("tiers_mode", "graduated"),
            ("tiers[0][up_to]", "1000"),
            ("tiers[0][flat_amount]", "500"),
            ("tiers[1][up_to]", "inf"),
            ("tiers[1][unit_amount]", "2"),
        ])
        .await;
    let (_, plain) = shop.raw.get(&format!("/v1/prices/{tiered}")).await;
    assert!(plain.get("tiers").is_none(), "tiers only when expanded: {plain}");
    assert_eq!((plain["unit_amount"].clone(), plain["tiers_mode"].clone()), (Value::Null, json!("graduated")));
    let (_, expanded) = shop.raw.get(&format!("/v1/prices/{tiered}?expand[]=tiers")).await;
    let parsed: stripe_shared::Price = serde_json::from_value(expanded.clone()).expect("async-stripe reads it");
    let tiers = parsed.tiers.expect("expanded tiers");
    assert_eq!(
        (tiers[0].up_to, tiers[0].flat_amount, tiers[1].up_to, tiers[1].unit_amount),
        (Some(1000), Some(500), None, Some(2))
    );
    assert_eq!(parsed.recurring.unwrap().meter.as_deref(), Some(shop.meter.as_str()));

    let subscription = shop.subscribe(&[&tiered]).await;
    let first = &shop.invoices().await[0];
    assert_eq!((first.total, first.lines.data.len()), (0, 0), "nothing is billed in advance");
    shop.advance_to(T0 + DAY).await;
    shop.report("1500", "many", T0 + HOUR).await;
    let preview = shop.preview(subscription["id"].as_str().unwrap()).await;
    assert_eq!(preview["total"], 500 + 500 * 2, "{preview}");

    // Packages: 10 per started block of 100 calls.
    let refused = shop
        .try_price(&[
            ("billing_scheme", "tiered"),
            ("tiers_mode", "volume"),
            ("tiers[0][up_to]", "inf"),
            ("tiers[0][unit_amount]", "1"),
            ("transform_quantity[divide_by]", "100"),
            ("transform_quantity[round]", "up"),
        ])
        .await;
    assert_eq!(refused.0, 400, "tiers and packages do not combine: {}", refused.1);
    let package = shop
        .metered(&[
            ("unit_amount", "10"),
            ("transform_quantity[divide_by]", "100"),
            ("transform_quantity[round]", "up"),
        ])
        .await;
    let (_, package_price) = shop.raw.get(&format!("/v1/prices/{package}")).await;
    assert_eq!(package_price["transform_quantity"], json!({"divide_by": 100, "round": "up"}));
    let other = shop.raw.ok("/v1/customers", &[("test_clock", shop.clock.as_str())]).await;
    let other = id_of(other);
    let pm = id_of(shop.raw.ok("/v1/payment_methods/pm_card_visa/attach", &[("customer", &other)]).await);
    shop.raw.ok(&format!("/v1/customers/{other}"), &[("invoice_settings[default_payment_method]", &pm)]).await;
    let packaged = shop.raw.ok("/v1/subscriptions", &[("customer", &other), ("items[0][price]", &package)]).await;
    // Timestamped now (the clock's time, the new subscription's period start).
    let form = [("event_name", "api_call"), ("payload[stripe_customer_id]", other.as_str()), ("payload[value]", "250")];
    shop.raw.ok("/v1/billing/meter_events", &form).await;
    let preview = shop.preview(packaged["id"].as_str().unwrap()).await;
    assert_eq!(preview["total"], 30, "250 calls are 3 started packages: {preview}");
}

#[tokio::test]
async fn metered_prices_are_checked_as_stripe_does() {
    let shop = shop().await;
    let (status, refused) = shop
        .try_price(&[("unit_amount", "1"), ("recurring[interval]", "month"), ("recurring[usage_type]", "metered")])
        .await;
    assert_eq!((status, refused["error"]["param"].as_str()), (400, Some("recurring[meter]")), "{refused}");
    let (status, refused) = shop
        .try_price(&[
            ("billing_scheme", "tiered"),
            ("tiers_mode", "graduated"),
            ("tiers[0][up_to]", "10"),
            ("tiers[0][unit_amount]", "5"),
        ])
        .await;
    assert_eq!(
        (status, refused["error"]["param"].as_str()),
        (400, Some("tiers[0][up_to]")),
        "the last tier is inf: {refused}"
    );
    // A fraction of a cent per call is kept exact.
    let fraction = shop.metered(&[("unit_amount_decimal", "0.5")]).await;
    let (_, price) = shop.raw.get(&format!("/v1/prices/{fraction}")).await;
    assert_eq!((price["unit_amount"].clone(), price["unit_amount_decimal"].clone()), (Value::Null, json!("0.5")));
    let plan = shop.raw.get(&format!("/v1/plans/{fraction}")).await.1;
    assert_eq!((plan["usage_type"].as_str(), plan["meter"].as_str()), (Some("metered"), Some(shop.meter.as_str())));
    let form = [("customer", shop.customer.as_str()), ("items[0][price]", &fraction), ("items[0][quantity]", "2")];
    let (status, refused) = shop.raw.post("/v1/subscriptions", &form).await;
    assert_eq!((status, refused["error"]["param"].as_str()), (400, Some("items[0][quantity]")), "{refused}");
    let subscription = shop.subscribe(&[&fraction]).await;
    shop.advance_to(T0 + HOUR).await;
    shop.report("9", "odd", T0 + 60).await;
    let preview = shop.preview(subscription["id"].as_str().unwrap()).await;
    assert_eq!(preview["total"], 5, "4.5 rounds half away from zero: {preview}");
}

#[tokio::test]
async fn cancelling_bills_the_usage_so_far_only_with_invoice_now() {
    let shop = shop().await;
    let per_call = shop.metered(&[("unit_amount", "3")]).await;
    let dropped = shop.subscribe(&[&per_call]).await;
    shop.advance_to(T0 + 5 * DAY).await;
    shop.report("10", "x", T0 + DAY).await;
    let (status, _) = shop.raw.delete(&format!("/v1/subscriptions/{}", dropped["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert_eq!(shop.invoices().await.len(), 1, "without invoice_now the usage is dropped");

    let billed = shop.subscribe(&[&per_call]).await;
    shop.advance_to(T0 + 6 * DAY).await;
    shop.report("20", "y", T0 + 5 * DAY + HOUR).await;
    let (status, _) =
        shop.raw.delete(&format!("/v1/subscriptions/{}?invoice_now=true", billed["id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    let invoices = shop.invoices().await;
    let last = invoices.last().unwrap();
    assert_eq!(lines(last), [(per_call.clone(), 20, 60, (T0 + 5 * DAY, T0 + 6 * DAY))]);
    assert_eq!(last.status, Some(stripe_shared::InvoiceStatus::Paid));
}

#[tokio::test]
async fn a_subscription_ending_at_period_end_bills_its_last_usage() {
    let shop = shop().await;
    let per_call = shop.metered(&[("unit_amount", "4")]).await;
    let subscription = shop.subscribe(&[&per_call]).await;
    let id = subscription["id"].as_str().unwrap();
    let period_end = subscription["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    shop.raw.ok(&format!("/v1/subscriptions/{id}"), &[("cancel_at_period_end", "true")]).await;
    shop.advance_to(T0 + 3 * DAY).await;
    shop.report("25", "last", T0 + 2 * DAY).await;
    // No renewal comes, but the final usage invoice does.
    let upcoming = shop.preview(id).await;
    assert_eq!((upcoming["total"].as_i64(), upcoming["lines"]["data"][0]["quantity"].as_i64()), (Some(100), Some(25)));
    shop.advance_to(period_end + DAY).await;
    let (_, ended) = shop.raw.get(&format!("/v1/subscriptions/{id}")).await;
    assert_eq!(ended["status"], "canceled");
    let invoices = shop.invoices().await;
    assert_eq!(invoices.len(), 2);
    let last = &invoices[1];
    assert_eq!(lines(last), [(per_call.clone(), 25, 100, (T0, period_end))]);
    assert_eq!(last.amount_paid, 100);
}

#[tokio::test]
async fn checkout_sells_a_metered_price_beside_the_base_fee_without_a_quantity() {
    let shop = shop().await;
    let base = shop.price(&[("unit_amount", "4900")]).await;
    let metered = shop.metered(&[("unit_amount", "1")]).await;
    let form = |extra: &[(&'static str, &'static str)]| {
        let mut form: Vec<(&str, &str)> = vec![
            ("mode", "subscription"),
            ("customer", shop.customer.as_str()),
            ("success_url", "http://app.test/done"),
            ("line_items[0][price]", base.as_str()),
            ("line_items[0][quantity]", "1"),
            ("line_items[1][price]", metered.as_str()),
        ];
        form.extend_from_slice(extra);
        form
    };

    // As on Stripe, a quantity on the metered line is refused.
    let (status, error) = shop.raw.post("/v1/checkout/sessions", &form(&[("line_items[1][quantity]", "1")])).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "line_items[1][quantity]", "{error}");
    assert!(error["error"]["message"].as_str().unwrap().contains("usage_type is `metered`"), "{error}");

    let session = shop.raw.ok("/v1/checkout/sessions", &form(&[])).await;
    assert_eq!(session["amount_total"], 4900, "only the base fee is due today: {session}");
    let (_, items) = shop.raw.get(&format!("/v1/checkout/sessions/{}/line_items", id_of(session.clone()))).await;
    assert_eq!(items["data"][1]["quantity"], Value::Null, "{items}");
    assert_eq!(items["data"][1]["amount_total"], 0, "{items}");
    let url = session["url"].as_str().unwrap().to_string();
    let page = shop.raw.http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Usage-based"), "the page says how the metered line bills: {page}");

    let paid = shop
        .raw
        .http
        .post(&url)
        .form(&[("card_number", "4242424242424242"), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 303, "{}", paid.text().await.unwrap());
    let (_, done) = shop.raw.get(&format!("/v1/checkout/sessions/{}", id_of(session))).await;
    let (_, subscription) =
        shop.raw.get(&format!("/v1/subscriptions/{}", done["subscription"].as_str().unwrap())).await;
    let items = subscription["items"]["data"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{subscription}");
    let metered_item = items.iter().find(|i| i["price"]["id"] == metered.as_str()).expect("the metered item");
    assert_eq!(metered_item["quantity"], Value::Null, "Stripe keeps no quantity on a metered item: {subscription}");
    let (_, invoice) =
        shop.raw.get(&format!("/v1/invoices/{}", subscription["latest_invoice"].as_str().unwrap())).await;
    assert_eq!(invoice["amount_paid"], 4900, "{invoice}");
}
