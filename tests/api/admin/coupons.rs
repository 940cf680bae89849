//! Coupons and promotion codes from `/admin/coupons`: the admin makes a first month free for the
//! Pro plan, a customer subscribes with the code (access, nothing charged, no MRR), and when the
//! month is over the full price is revenue; every action audited once, bad input refused with
//! the reason, and nobody else may do any of it.

use reqwest::{header, StatusCode};

use crate::helpers::*;

const PAGE: &str = "/admin/coupons";

/// (action, subject_type, subject_id, after) of every coupon audit row, oldest first.
async fn coupon_audit(app: &TestApp) -> Vec<(String, String, String, Option<String>)> {
    sqlx::query_as(
        "SELECT action, subject_type, subject_id, after_state FROM audit_log \
         WHERE subject_type IN ('coupon', 'promotion_code') ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

/// The admin, logged in on a client of their own.
async fn admin(app: &TestApp) -> reqwest::Client {
    let admin = new_client();
    assert_redirect(&app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");
    admin
}

/// Submits the form with `button` on the coupons page as the admin, then reads what the page
/// says after the redirect (the notice, or the refusal).
async fn act(app: &TestApp, admin: &reqwest::Client, button: &str, fields: &[(&str, &str)]) -> String {
    let res = app.submit_with(admin, PAGE, button, fields).await;
    assert!(res.status().is_redirection(), "{button:?}: {}", res.status());
    assert_eq!(location(&res).as_deref(), Some(PAGE));
    said(&app.page_with(admin, PAGE).await)
}

/// The one notice or alert on a page.
fn said(page: &str) -> String {
    let mut said = notices(page);
    said.extend(alerts(page));
    assert_eq!(said.len(), 1, "one notice: {said:?}");
    said.remove(0)
}

async fn stripe_coupons(app: &TestApp) -> Vec<serde_json::Value> {
    app.stripe_get_json("/v1/coupons?limit=100").await["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_first_month_free_code_grants_access_without_payment_and_mrr_starts_when_it_ends() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let page = app.page_with(&admin, PAGE).await;
    assert!(page.contains(r#"href="/admin/coupons" aria-current="page""#), "the admin nav links it: {page}");

    // 100% off for one month, Pro only, at most 10 redemptions.
    let created = act(
        &app,
        &admin,
        "Create coupon",
        &[
            ("name", "First month free"),
            ("percent_off", "100"),
            ("duration", "repeating"),
            ("months", "1"),
            ("max_redemptions", "10"),
            ("plans[]", "pro"),
        ],
    )
    .await;
    assert!(created.starts_with("Coupon ") && created.ends_with(": 100% off for 1 month."), "{created}");
    let coupons = stripe_coupons(&app).await;
    assert_eq!(coupons.len(), 1, "{coupons:?}");
    let coupon = &coupons[0];
    let coupon_id = coupon["id"].as_str().unwrap().to_string();
    assert_eq!(
        (coupon["percent_off"].as_f64(), coupon["duration"].as_str(), coupon["duration_in_months"].as_i64()),
        (Some(100.0), Some("repeating"), Some(1))
    );
    assert_eq!((coupon["max_redemptions"].as_i64(), coupon["name"].as_str()), (Some(10), Some("First month free")));
    let applies = app.stripe_get_json(&format!("/v1/coupons/{coupon_id}?expand[]=applies_to")).await;
    assert_eq!(applies["applies_to"]["products"], serde_json::json!(["tg_pro"]), "{applies}");

    let made = act(&app, &admin, "Create promotion code", &[("code", "welcome"), ("max_redemptions", "5")]).await;
    assert_eq!(made, format!("Promotion code WELCOME created on coupon {coupon_id}."));
    let codes = app.stripe_get_json(&format!("/v1/promotion_codes?coupon={coupon_id}")).await;
    let code = &codes["data"][0];
    assert_eq!((code["code"].as_str(), code["max_redemptions"].as_i64()), (Some("WELCOME"), Some(5)), "{codes}");
    assert_eq!(code["promotion"]["coupon"], coupon_id.as_str());
    let page = app.page_with(&admin, PAGE).await;
    assert!(page.contains("100% off for 1 month") && page.contains("WELCOME"), "{page}");
    assert_eq!(text_of_class(&page, "coupon-redeemed").as_deref(), Some("0 / 10"));

    // A customer subscribes to Pro with the code: nothing to pay today.
    let email = unique_email("first-month-free");
    app.customer(&email).await;
    app.trial_used(&email).await;
    let res = app.submit("/pricing", "Subscribe", &[("plan", "pro"), ("interval", "month")]).await;
    let checkout = location(&res).expect("Subscribe goes to Checkout");
    let form =
        [("promotion_code", "welcome"), ("card_number", "4242 4242 4242 4242"), ("expiry", "12 / 34"), ("cvc", "123")];
    let paid = app.client.post(&checkout).form(&form).send().await.unwrap();
    assert_eq!(paid.status().as_u16(), 303, "Checkout accepted the code");
    let back = url::Url::parse(&location(&paid).unwrap()).unwrap();
    let success = app.page(&format!("{}?{}", back.path(), back.query().unwrap_or_default())).await;
    assert!(success.contains("Your Pro plan is active."), "{success}");
    app.settle().await;
    let subscription = app.stripe_subscription_of(&email).await;
    let invoice =
        app.stripe_get_json(&format!("/v1/invoices/{}", subscription["latest_invoice"].as_str().unwrap())).await;
    assert_eq!((invoice["amount_due"].as_i64(), invoice["total"].as_i64()), (Some(0), Some(0)), "{invoice}");
    let customer = subscription["customer"].as_str().unwrap();
    let charges = app.stripe_get_json(&format!("/v1/charges?customer={customer}")).await;
    assert_eq!(charges["data"].as_array().unwrap().len(), 0, "nothing was charged: {charges}");
    let account = app.page("/account").await;
    assert!(account.contains(">Active</dd>"), "access granted: {account}");
    let local =
        "SELECT s.mrr FROM subscriptions s JOIN users u ON u.stripe_customer_id = s.customer_id WHERE u.email = $1";
    let mrr: i64 = sqlx::query_scalar(local).bind(&email).fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(mrr, 0, "free this month: no MRR");
    let movements: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM mrr_movements").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(movements, 0, "no revenue yet, no movement");

    // Stripe counted the redemption on both; the page shows Stripe's counts.
    let page = app.page_with(&admin, PAGE).await;
    assert_eq!(text_of_class(&page, "coupon-redeemed").as_deref(), Some("1 / 10"), "{page}");
    assert_eq!(text_of_class(&page, "code-redeemed").as_deref(), Some("1 / 5"), "{page}");

    // The month is over: the renewal is charged in full and the full price is new revenue.
    let end = app
        .stripe_get_json(&format!("/v1/subscriptions/{}?expand[]=discounts", subscription["id"].as_str().unwrap()))
        .await["discounts"][0]["end"]
        .as_i64()
        .expect("a repeating discount ends");
    assert_eq!(end, app.period_end_of(&email).await, "the free month is the first period");
    app.advance_through_period_end(&email).await;
    app.settle().await;
    let id = subscription["id"].as_str().unwrap();
    eventually(app.db.pool(), &format!("SELECT COUNT(*) FROM subscriptions WHERE id = '{id}' AND mrr = 2900"), 1).await;
    let movements: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, delta FROM mrr_movements WHERE subscription_id = $1 ORDER BY occurred_at")
            .bind(id)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    // Never paid before: the first revenue is `new` (revenue::classify), not an expansion.
    assert_eq!(movements, [("new".to_string(), 2900)]);
    let renewal = app.stripe_latest_invoice_of(&email).await;
    assert_eq!((renewal["amount_paid"].as_i64(), renewal["status"].as_str()), (Some(2900), Some("paid")), "{renewal}");

    // Deactivate the code, delete the coupon; each audited once however often it is sent.
    let page = app.page_with(&admin, PAGE).await;
    let deactivate = form_with_fields(&page, "Deactivate");
    for _ in 0..2 {
        let res = post(&app, &admin, "admin_deactivate_promotion_code", &deactivate, BROWSER_ACCEPT).await;
        assert_redirect(&res, PAGE);
    }
    assert_eq!(said(&app.page_with(&admin, PAGE).await), "This was already done.");
    let code = app.stripe_get_json(&format!("/v1/promotion_codes?coupon={coupon_id}")).await;
    assert_eq!(code["data"][0]["active"], false);
    let deleted = act(&app, &admin, "Delete coupon", &[]).await;
    assert!(deleted.starts_with(&format!("Coupon {coupon_id} deleted")), "{deleted}");
    assert!(stripe_coupons(&app).await.is_empty());
    let rows = coupon_audit(&app).await;
    let actions: Vec<(&str, &str)> = rows.iter().map(|(a, t, _, _)| (a.as_str(), t.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("coupon.created", "coupon"),
            ("promotion_code.created", "promotion_code"),
            ("promotion_code.deactivated", "promotion_code"),
            ("coupon.deleted", "coupon")
        ]
    );
    let created: serde_json::Value = serde_json::from_str(rows[0].3.as_deref().unwrap()).unwrap();
    assert_eq!((created["percent_off_bps"].as_i64(), created["plans"][0].as_str()), (Some(10_000), Some("pro")));
    assert_eq!(rows[0].2, coupon_id);
    // The subscription keeps going on its own terms.
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "active");
}

/// The hidden fields of the form whose button reads `button`.
fn form_with_fields(page: &str, button: &str) -> Vec<(String, String)> {
    let at = page.find(&format!(">{button}</button>")).unwrap_or_else(|| panic!("no {button} button"));
    let start = page[..at].rfind("<form").unwrap();
    let form = &page[start..at];
    ["promotion_code", "coupon", "token"]
        .into_iter()
        .filter(|name| form.contains(&format!(r#"name="{name}""#)))
        .map(|name| (name.to_string(), hidden(form, name)))
        .collect()
}

/// Posts `form` to a server function as `client`, accepting `accept` (a browser's form post, or
/// JSON for the answer itself).
async fn post<F: serde::Serialize + ?Sized>(
    app: &TestApp,
    client: &reqwest::Client,
    endpoint: &str,
    form: &F,
    accept: &str,
) -> reqwest::Response {
    client.post(app.url(&format!("/api/{endpoint}"))).header(header::ACCEPT, accept).form(form).send().await.unwrap()
}

#[tokio::test]
async fn bad_input_is_refused_with_the_reason_and_nothing_is_created() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let refusals: [(&[(&str, &str)], &str); 6] = [
        (&[("duration", "once")], "Enter a percentage or an amount off."),
        (
            &[("percent_off", "10"), ("amount_off", "5"), ("duration", "once")],
            "Enter a percentage or an amount off, not both.",
        ),
        (&[("percent_off", "150"), ("duration", "forever")], r#"Percent off: "150" is more than 100%."#),
        (&[("amount_off", "5"), ("duration", "repeating")], "Months: a repeating coupon lasts 1 to 36 months."),
        (
            &[("percent_off", "10"), ("duration", "once"), ("redeem_by", "2001-01-01")],
            "Redeem by: the date must be in the future.",
        ),
        (
            &[("percent_off", "10"), ("duration", "once"), ("plans[]", "free")],
            r#"Plans: "free" is not a paid plan of the catalog."#,
        ),
    ];
    for (fields, reason) in refusals {
        assert_eq!(act(&app, &admin, "Create coupon", fields).await, reason, "{fields:?}");
    }
    assert!(stripe_coupons(&app).await.is_empty(), "nothing reached Stripe");

    // A code on a coupon made through Stripe: a bad code, then one already taken.
    let api = app.stripe_api();
    let coupon = api.post("/v1/coupons", &[("percent_off", "20".into()), ("duration", "once".into())]).await;
    let coupon = coupon["id"].as_str().unwrap();
    let bad = act(&app, &admin, "Create promotion code", &[("code", "TWO WORDS")]).await;
    assert!(bad.starts_with("Code: 1 to 32 letters and digits"), "{bad}");
    let made = act(&app, &admin, "Create promotion code", &[("code", "TAKEN")]).await;
    assert_eq!(made, format!("Promotion code TAKEN created on coupon {coupon}."));
    let taken = act(&app, &admin, "Create promotion code", &[("code", "taken")]).await;
    assert!(taken.starts_with("Stripe refused the promotion code: "), "{taken}");
    let expired = act(&app, &admin, "Create promotion code", &[("code", "OLD"), ("expires_on", "2001-01-01")]).await;
    assert_eq!(expired, "Expires: the date must be in the future.");

    // A code's restrictions reach Stripe as its restrictions, and the page says them.
    let fields = [("code", "newbie"), ("first_time", "on"), ("minimum", "20"), ("expires_on", "2099-12-31")];
    act(&app, &admin, "Create promotion code", &fields).await;
    let newbie = app.stripe_get_json("/v1/promotion_codes?code=NEWBIE").await;
    let newbie = &newbie["data"][0];
    assert_eq!(newbie["restrictions"]["first_time_transaction"], true, "{newbie}");
    assert_eq!(
        (newbie["restrictions"]["minimum_amount"].as_i64(), newbie["restrictions"]["minimum_amount_currency"].as_str()),
        (Some(2000), Some("usd"))
    );
    assert_eq!(newbie["expires_at"].as_i64(), Some(4_102_444_799), "through 2099-12-31, UTC");
    let page = app.page_with(&admin, PAGE).await;
    assert!(page.contains("first-time customers, orders of $20.00 or more"), "{page}");
    let rows = coupon_audit(&app).await;
    assert_eq!(rows.len(), 2, "only the codes created are audited: {rows:?}");
}

#[tokio::test]
async fn only_the_admin_sees_coupons_or_changes_them() {
    let app = spawn_app().await;
    let customer = new_client();
    app.customer_with(&customer, &unique_email("not-admin")).await;
    let res = app.get_with(&customer, PAGE).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let token = "0123456789abcdef0123";
    let calls: [(&str, Vec<(&str, &str)>); 5] = [
        ("admin_coupons", vec![]),
        ("admin_create_coupon", vec![("percent_off", "100"), ("duration", "forever"), ("token", token)]),
        ("admin_create_promotion_code", vec![("coupon", "c"), ("code", "FREE"), ("token", token)]),
        ("admin_deactivate_promotion_code", vec![("promotion_code", "promo_x"), ("token", token)]),
        ("admin_delete_coupon", vec![("coupon", "c"), ("token", token)]),
    ];
    for (endpoint, form) in calls {
        let res = post(&app, &customer, endpoint, &form, "application/json").await;
        let status = res.status();
        let body = html_of(res).await;
        assert!(!status.is_success() && body.contains("Forbidden"), "customer {endpoint}: {status} {body}");
    }
    assert!(stripe_coupons(&app).await.is_empty());
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(audited, 0);
}
