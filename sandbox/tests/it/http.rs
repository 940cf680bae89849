//! Raw HTTP: auth, errors, pagination, expand, idempotency, Stripe-Account, faults.

use super::*;

#[tokio::test]
async fn auth_is_required() {
    let sb = sandbox().await;
    let http = reqwest::Client::new();
    let r = http.get(format!("{}/v1/customers", sb.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
    let r = http.get(format!("{}/v1/customers", sb.base_url())).bearer_auth("sk_live_nope").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r =
        http.get(format!("{}/v1/customers", sb.base_url())).basic_auth("sk_test_basic", Some("")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("request-id").unwrap().to_str().unwrap().starts_with("req_"));
}

#[tokio::test]
async fn errors_have_stripe_shape() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let (s, v) = raw.get("/v1/customers/cus_missing").await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["code"], "resource_missing");
    assert_eq!(v["error"]["param"], "id");
    assert_eq!(v["error"]["message"], "No such customer: 'cus_missing'");
    let (s, v) = raw.post("/v1/prices", &[("unit_amount", "100")]).await;
    assert_eq!(s, 400);
    assert_eq!(v["error"]["code"], "parameter_missing");
    assert_eq!(v["error"]["param"], "currency");
    let (s, v) = raw.get("/v1/nothing_here").await;
    assert_eq!(s, 404);
    assert!(v["error"]["message"].as_str().unwrap().starts_with("Unrecognized request URL"));
    let cus = raw.ok("/v1/customers", &[]).await;
    let (s, v) = raw
        .post("/v1/payment_methods/pm_card_chargeDeclined/attach", &[("customer", cus["id"].as_str().unwrap())])
        .await;
    assert_eq!(s, 402);
    assert_eq!(v["error"]["type"], "card_error");
    assert_eq!(v["error"]["code"], "card_declined");
    assert_eq!(v["error"]["decline_code"], "generic_decline");
}

#[tokio::test]
async fn pagination_and_expand() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let mut ids = Vec::new();
    for i in 0..5 {
        let email = format!("p{i}@example.com");
        ids.push(raw.ok("/v1/customers", &[("email", email.as_str())]).await["id"].as_str().unwrap().to_string());
    }
    let (_, page1) = raw.get("/v1/customers?limit=2").await;
    assert_eq!(page1["object"], "list");
    assert_eq!(page1["url"], "/v1/customers");
    assert_eq!(page1["has_more"], true);
    let got: Vec<&str> = page1["data"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[4].as_str(), ids[3].as_str()], "newest first");
    let (_, page2) = raw.get(&format!("/v1/customers?limit=2&starting_after={}", ids[3])).await;
    assert_eq!(page2["data"][0]["id"], ids[2].as_str());
    let (_, page3) = raw.get(&format!("/v1/customers?limit=2&starting_after={}", ids[1])).await;
    assert_eq!(page3["data"].as_array().unwrap().len(), 1);
    assert_eq!(page3["has_more"], false);
    let (_, back) = raw.get(&format!("/v1/customers?limit=2&ending_before={}", ids[2])).await;
    assert_eq!(back["data"][0]["id"], ids[4].as_str());

    // expand[] on a retrieve and data.x on a list.
    let prod = raw.ok("/v1/products", &[("name", "X")]).await;
    let price = raw
        .ok("/v1/prices", &[("currency", "usd"), ("unit_amount", "500"), ("product", prod["id"].as_str().unwrap())])
        .await;
    let (_, expanded) = raw.get(&format!("/v1/prices/{}?expand[]=product", price["id"].as_str().unwrap())).await;
    assert_eq!(expanded["product"]["name"], "X");
    let (_, listed) = raw.get("/v1/prices?expand[]=data.product").await;
    assert_eq!(listed["data"][0]["product"]["object"], "product");
}

#[tokio::test]
async fn idempotency_keys() {
    let sb = sandbox().await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/customers", sb.base_url());
    let send = |body: &'static str, key: &'static str| {
        http.post(&url)
            .bearer_auth(KEY)
            .header("Idempotency-Key", key)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let a = send("email=a%40x.com", "k1").await.unwrap();
    assert_eq!(a.status(), 200);
    let a: Value = a.json().await.unwrap();
    let b = send("email=a%40x.com", "k1").await.unwrap();
    assert_eq!(b.headers().get("idempotent-replayed").unwrap(), "true");
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["id"], b["id"], "replayed");
    // Stripe compares parameters, not bytes: the same fields in another order replay too.
    let first: Value = send("email=m%40x.com&metadata[a]=1&metadata[b]=2", "k2").await.unwrap().json().await.unwrap();
    let reordered = send("metadata[b]=2&email=m%40x.com&metadata[a]=1", "k2").await.unwrap();
    assert_eq!(reordered.headers().get("idempotent-replayed").unwrap(), "true");
    assert_eq!(reordered.json::<Value>().await.unwrap()["id"], first["id"]);
    let c = send("email=other%40x.com", "k1").await.unwrap();
    assert_eq!(c.status(), 400);
    let c: Value = c.json().await.unwrap();
    assert_eq!(c["error"]["type"], "idempotency_error");
    let (_, list) = Raw::new(&sb).get("/v1/customers").await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "one customer per key");
    // Keys expire after 24 h of sandbox time.
    sb.advance_clock(86_401);
    let d: Value = send("email=other%40x.com", "k1").await.unwrap().json().await.unwrap();
    assert_ne!(d["id"], a["id"]);
}

#[tokio::test]
async fn stripe_account_scopes_objects() {
    let sb = sandbox().await;
    let http = reqwest::Client::new();
    let account = super::connect::express_account(&Raw::new(&sb), "s@x.com").await;
    let r: Value = http
        .post(format!("{}/v1/customers", sb.base_url()))
        .bearer_auth(KEY)
        .header("Stripe-Account", &account)
        .form(&[("email", "c@x.com")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["id"].as_str().unwrap();
    let raw = Raw::new(&sb);
    let (s, _) = raw.get(&format!("/v1/customers/{id}")).await;
    assert_eq!(s, 404, "not visible on the platform");
    let s = http
        .get(format!("{}/v1/customers/{id}", sb.base_url()))
        .bearer_auth(KEY)
        .header("Stripe-Account", &account)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 200);
}

#[tokio::test]
async fn fault_injection() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let r = raw
        .http
        .post(format!("{}/_sandbox/faults", sb.base_url()))
        .json(&serde_json::json!({"path": "/v1/customers", "status": 429, "times": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(raw.post("/v1/customers", &[]).await.0, 429);
    let (s, v) = raw.post("/v1/customers", &[]).await;
    assert_eq!(s, 429);
    assert_eq!(v["error"]["code"], "rate_limit");
    assert_eq!(raw.post("/v1/customers", &[]).await.0, 200);
    sb.add_fault(stripe_sandbox::Fault {
        path: "/v1/products".into(),
        method: Some("POST".into()),
        status: Some(500),
        delay_ms: None,
        times: 1,
    });
    assert_eq!(raw.post("/v1/products", &[("name", "x")]).await.0, 500);
    assert_eq!(raw.post("/v1/products", &[("name", "x")]).await.0, 200);
    // Clearing one path's faults leaves the others.
    for path in ["/v1/customers", "/v1/products"] {
        sb.add_fault(stripe_sandbox::Fault {
            path: path.into(),
            method: None,
            status: Some(500),
            delay_ms: None,
            times: 100,
        });
    }
    let r = raw.http.delete(format!("{}/_sandbox/faults?path=/v1/customers", sb.base_url())).send().await.unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(raw.post("/v1/customers", &[]).await.0, 200);
    assert_eq!(raw.post("/v1/products", &[("name", "x")]).await.0, 500);
    raw.http.delete(format!("{}/_sandbox/faults", sb.base_url())).send().await.unwrap();
    assert_eq!(raw.post("/v1/products", &[("name", "x")]).await.0, 200);
}

#[tokio::test]
async fn state_survives_restart_with_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    let sb = stripe_sandbox::start_with(([127, 0, 0, 1], 0).into(), SandboxConfig::default().with_data_file(&file))
        .await
        .unwrap();
    let id = Raw::new(&sb).ok("/v1/customers", &[("email", "keep@x.com")]).await["id"].as_str().unwrap().to_string();
    sb.shutdown().await.unwrap();
    let sb2 = stripe_sandbox::start_with(([127, 0, 0, 1], 0).into(), SandboxConfig::default().with_data_file(&file))
        .await
        .unwrap();
    let (s, v) = Raw::new(&sb2).get(&format!("/v1/customers/{id}")).await;
    assert_eq!(s, 200);
    assert_eq!(v["email"], "keep@x.com");
}

#[tokio::test]
async fn events_list_filters() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    raw.ok("/v1/customers", &[]).await;
    raw.ok("/v1/products", &[("name", "x")]).await;
    let (_, all) = raw.get("/v1/events").await;
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    let (_, typed) = raw.get("/v1/events?types[]=product.created&types[]=price.created").await;
    assert_eq!(typed["data"].as_array().unwrap().len(), 1);
    assert_eq!(typed["data"][0]["type"], "product.created");
    let (_, wild) = raw.get("/v1/events?type=customer.*").await;
    assert_eq!(wild["data"][0]["type"], "customer.created");
    let created = all["data"][0]["created"].as_i64().unwrap();
    let (_, later) = raw.get(&format!("/v1/events?created[gt]={created}")).await;
    assert_eq!(later["data"].as_array().unwrap().len(), 0);
    let (_, since) = raw.get(&format!("/v1/events?created[gte]={created}")).await;
    assert!(!since["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn includable_fields_on_expand() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let prod = raw.ok("/v1/products", &[("name", "Thing")]).await["id"].as_str().unwrap().to_string();
    let price = raw.ok("/v1/prices", &[("currency", "usd"), ("unit_amount", "700"), ("product", prod.as_str())]).await
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cs = raw
        .ok(
            "/v1/checkout/sessions",
            &[
                ("mode", "payment"),
                ("success_url", "http://x/s"),
                ("line_items[0][price]", price.as_str()),
                ("line_items[0][quantity]", "3"),
            ],
        )
        .await;
    assert!(cs.get("line_items").is_none(), "not included unless expanded");
    let (_, got) = raw.get(&format!("/v1/checkout/sessions/{}?expand[]=line_items", cs["id"].as_str().unwrap())).await;
    assert_eq!(got["line_items"]["data"][0]["quantity"], 3);
    assert_eq!(got["line_items"]["data"][0]["amount_total"], 2100);
    let (_, listed) = raw.get("/v1/checkout/sessions?expand[]=data.line_items").await;
    assert_eq!(listed["data"][0]["line_items"]["object"], "list");
}

#[tokio::test]
async fn checkout_ui_modes_use_the_current_api_names() {
    let sb = sandbox().await;
    let raw = Raw::new(&sb);
    let prod = raw.ok("/v1/products", &[("name", "Thing")]).await["id"].as_str().unwrap().to_string();
    let price = raw.ok("/v1/prices", &[("currency", "usd"), ("unit_amount", "700"), ("product", prod.as_str())]).await
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let item = [
        ("mode", "payment"),
        ("success_url", "http://x/s"),
        ("line_items[0][price]", price.as_str()),
        ("line_items[0][quantity]", "1"),
    ];
    let cs = raw.ok("/v1/checkout/sessions", &item).await;
    assert_eq!(cs["ui_mode"], "hosted_page", "the default since 2026-03-25.dahlia");
    assert!(cs["url"].as_str().is_some_and(|u| u.contains("/checkout/")));
    let mut embedded = item.to_vec();
    embedded[1] = ("ui_mode", "embedded_page");
    embedded.push(("return_url", "http://x/r"));
    let cs = raw.ok("/v1/checkout/sessions", &embedded).await;
    assert!(cs["url"].is_null() && cs["client_secret"].is_string());
    let mut old = item.to_vec();
    old.push(("ui_mode", "hosted"));
    let (status, body) = raw.post("/v1/checkout/sessions", &old).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "ui_mode");
}

#[tokio::test]
async fn above_its_rate_limit_the_sandbox_answers_stripes_429() {
    let config = SandboxConfig { rate_limit_per_sec: std::num::NonZeroU32::new(5), ..SandboxConfig::default() };
    let sb = stripe_sandbox::start_with(([127, 0, 0, 1], 0).into(), config).await.unwrap();
    let raw = Raw::new(&sb);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(raw.get("/v1/customers").await);
    }
    let refused: Vec<&(u16, Value)> = statuses.iter().filter(|(status, _)| *status == 429).collect();
    assert!(refused.len() >= 2, "a burst of 8 above 5/s: {:?}", statuses.iter().map(|s| s.0).collect::<Vec<_>>());
    let (_, body) = refused[0];
    assert_eq!(body["error"]["code"], "rate_limit");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    // A second later the budget is back.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(raw.get("/v1/customers").await.0, 200);
    let counts: Value =
        reqwest::get(format!("{}/_sandbox/requests", sb.base_url())).await.unwrap().json().await.unwrap();
    assert_eq!(counts["rate_limited"].as_u64().unwrap() as usize, refused.len());
    assert_eq!(counts["limit_per_second"], 5);
}
