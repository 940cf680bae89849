//! The list endpoints an import of an existing account reads, as Stripe documents them: newest
//! first, `limit` 1..=100 (default 10; outside refused with Stripe's error body),
//! `starting_after` / `ending_before`, `has_more`, `url`; subscriptions without canceled ones
//! unless `status=all`.

use serde_json::Value;

use super::*;

const LISTS: [&str; 6] =
    ["/v1/customers", "/v1/subscriptions?status=all", "/v1/invoices", "/v1/charges", "/v1/refunds", "/v1/disputes"];

fn ids(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_string()).collect()
}

fn with(path: &str, query: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{query}")
}

/// Customers who each subscribe (one canceled, one refunded, one disputed): every list has objects.
async fn fill(raw: &Raw) {
    let product = raw.ok("/v1/products", &[("name", "Pro")]).await;
    let price = raw
        .ok(
            "/v1/prices",
            &[
                ("product", product["id"].as_str().unwrap()),
                ("unit_amount", "1500"),
                ("currency", "usd"),
                ("recurring[interval]", "month"),
            ],
        )
        .await;
    let price = price["id"].as_str().unwrap().to_string();
    for (i, card) in ["pm_card_visa", "pm_card_visa", "pm_card_createDispute", "pm_card_visa"].iter().enumerate() {
        let email = format!("list{i}@example.com");
        let customer = raw
            .ok(
                "/v1/customers",
                &[("email", &email), ("payment_method", card), ("invoice_settings[default_payment_method]", card)],
            )
            .await;
        let customer = customer["id"].as_str().unwrap().to_string();
        let sub = raw.ok("/v1/subscriptions", &[("customer", &customer), ("items[0][price]", &price)]).await;
        let sub = sub["id"].as_str().unwrap().to_string();
        match i {
            0 => {
                let r = raw.http.delete(format!("{}/v1/subscriptions/{sub}", raw.base)).bearer_auth(KEY).send().await;
                assert!(r.unwrap().status().is_success());
            }
            1 => {
                let (_, charges) = raw.get(&format!("/v1/charges?customer={customer}")).await;
                raw.ok("/v1/refunds", &[("charge", charges["data"][0]["id"].as_str().unwrap())]).await;
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn the_lists_an_import_reads_paginate_as_stripe_does() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    fill(&raw).await;

    for path in LISTS {
        for limit in ["0", "101"] {
            let (status, body) = raw.get(&with(path, &format!("limit={limit}"))).await;
            assert_eq!(status, 400, "{path} limit={limit}: {body}");
            assert_eq!(body["error"]["type"], "invalid_request_error", "{path}: {body}");
            assert_eq!(body["error"]["param"], "limit", "{path}: {body}");
        }
        let (status, all) = raw.get(&with(path, "limit=100")).await;
        assert_eq!(status, 200, "{path}: {all}");
        assert_eq!(all["object"], "list");
        assert_eq!(all["url"], path.split('?').next().unwrap(), "{path}");
        assert_eq!(all["has_more"], false, "{path}");
        let every = ids(&all);
        assert!(!every.is_empty(), "{path} lists nothing: the test proves nothing");
        let created: Vec<i64> =
            all["data"].as_array().unwrap().iter().map(|o| o["created"].as_i64().unwrap()).collect();
        assert!(created.windows(2).all(|w| w[0] >= w[1]), "{path} is not newest first: {created:?}");

        // The default page holds ten at most.
        let (_, first) = raw.get(path).await;
        assert!(ids(&first).len() <= 10);

        // One at a time, after each: the same objects in the same order.
        let mut walked = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let query = match &after {
                Some(id) => format!("limit=1&starting_after={id}"),
                None => "limit=1".to_string(),
            };
            let (status, page) = raw.get(&with(path, &query)).await;
            assert_eq!(status, 200, "{path}?{query}: {page}");
            walked.extend(ids(&page));
            assert_eq!(page["has_more"], walked.len() < every.len(), "{path}?{query}");
            if page["has_more"] != true {
                break;
            }
            after = walked.last().cloned();
        }
        assert_eq!(walked, every, "{path}: walking by starting_after");

        // Before the oldest: everything newer.
        let last = every.last().unwrap();
        let (_, before) = raw.get(&with(path, &format!("limit=100&ending_before={last}"))).await;
        assert_eq!(ids(&before), every[..every.len() - 1].to_vec(), "{path}: ending_before");

        let (status, body) = raw.get(&with(path, "starting_after=nope_123")).await;
        assert_eq!(status, 404, "{path}: an unknown cursor: {body}");
        assert_eq!(body["error"]["code"], "resource_missing");
    }

    let (_, live) = raw.get("/v1/subscriptions?limit=100").await;
    let (_, all) = raw.get("/v1/subscriptions?status=all&limit=100").await;
    let statuses = |list: &Value| -> Vec<String> {
        list["data"].as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_string()).collect()
    };
    assert!(!statuses(&live).contains(&"canceled".to_string()), "canceled listed by default: {:?}", statuses(&live));
    assert!(statuses(&all).contains(&"canceled".to_string()), "status=all leaves canceled out");
    assert_eq!(ids(&all).len(), ids(&live).len() + 1);
}
