//! Per-seat plans (the catalog's `team`, $12 per seat monthly, 1–50 seats): Checkout with an
//! adjustable quantity, MRR × seats with expansion and contraction movements, adding seats now
//! (prorated, invoiced) and removing them at the period end (a schedule that keeps the count),
//! the admin's audited seat change, and the bounds enforced on the server.

use serde_json::Value;

use crate::helpers::*;

/// The Team plan's price per seat per month, in cents (catalog.toml).
const SEAT: i64 = 1200;

/// Signs up `client` as a verified customer who already had a trial.
async fn customer(app: &TestApp, client: &reqwest::Client, prefix: &str) -> String {
    let email = unique_email(prefix);
    app.customer_with(client, &email).await;
    app.trial_used(&email).await;
    email
}

/// The name of the hosted Checkout page's quantity field (`quantity_<line item>`).
fn quantity_field(checkout: &str) -> String {
    let at = checkout.find(r#"name="quantity_"#).unwrap_or_else(|| panic!("no quantity field: {checkout}"));
    let start = at + r#"name=""#.len();
    checkout[start..start + checkout[start..].find('"').unwrap()].to_string()
}

/// Subscribes `client`'s user to Team monthly asking for `asked` seats on /pricing, then pays on
/// Stripe's page with `paid` seats (the buyer may change the count there).
async fn subscribe_team(app: &TestApp, client: &reqwest::Client, asked: &str, paid: &str) {
    let res = app
        .submit_with(client, "/pricing", "Subscribe", &[("plan", "team"), ("interval", "month"), ("seats", asked)])
        .await;
    let checkout_url = location(&res).unwrap_or_else(|| panic!("Subscribe did not redirect: {}", res.status()));
    assert!(checkout_url.starts_with(&app.sandbox_url), "{checkout_url}");
    let page = client.get(&checkout_url).send().await.unwrap().text().await.unwrap();
    let field = quantity_field(&page);
    assert!(
        page.contains(&format!(r#"min="1" max="50" value="{asked}""#)),
        "the plan's bounds on Stripe's page: {page}"
    );
    let paid = client
        .post(&checkout_url)
        .form(&[(field.as_str(), paid), ("card_number", "4242424242424242"), ("expiry", "12 / 34"), ("cvc", "123")])
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status().as_u16(), 303, "paying on {checkout_url}");
    app.settle().await;
}

async fn stripe_subscription(app: &TestApp, email: &str) -> Value {
    app.stripe_subscription_of(email).await
}

/// (quantity, mrr, pending_quantity) of the user's stored subscription.
async fn stored(app: &TestApp, email: &str) -> (i64, i64, Option<i64>) {
    sqlx::query_as(
        "SELECT s.quantity, s.mrr, s.pending_quantity FROM subscriptions s \
         JOIN users u ON u.stripe_customer_id = s.customer_id WHERE u.email = $1",
    )
    .bind(email)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

/// (kind, delta) of the user's MRR movements, oldest first.
async fn movements(app: &TestApp, email: &str) -> Vec<(String, i64)> {
    sqlx::query_as(
        "SELECT m.kind, m.delta FROM mrr_movements m JOIN users u ON u.stripe_customer_id = m.customer_id \
         WHERE u.email = $1 ORDER BY m.occurred_at, m.cause_key",
    )
    .bind(email)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

fn cents(money: &str) -> i64 {
    money.trim_start_matches('$').replace([',', '.'], "").parse().unwrap_or_else(|_| panic!("money: {money}"))
}

#[tokio::test]
async fn checkout_sells_the_seats_chosen_on_stripes_page_and_mrr_counts_them() {
    let app = spawn_app().await;
    let client = new_client();
    let email = customer(&app, &client, "seats-checkout").await;
    let pricing = app.page_with(&client, "/pricing").await;
    assert!(pricing.contains(r#"name="seats" type="number" min="1" max="50" value="1""#), "{pricing}");

    // Three asked for on /pricing, four chosen on Stripe's page: four are sold.
    subscribe_team(&app, &client, "3", "4").await;
    let live = stripe_subscription(&app, &email).await;
    assert_eq!(live["items"]["data"][0]["quantity"], 4, "{live}");
    let invoice = app.stripe_latest_invoice_of(&email).await;
    assert_eq!(invoice["amount_paid"], 4 * SEAT, "{invoice}");
    assert_eq!(stored(&app, &email).await, (4, 4 * SEAT, None));
    assert_eq!(movements(&app, &email).await, [("new".to_string(), 4 * SEAT)]);

    let account = app.page_with(&client, "/account").await;
    assert!(account.contains("<dt>Seats</dt><dd>4</dd>"), "{account}");
    assert_eq!(text_of_class(&account, "plan-name").as_deref(), Some("Team"));
    assert!(account.contains("$48.00 / month"), "{account}");
    assert_eq!(form_action(&account, "Preview seat change").as_deref(), Some("/account/plan/preview"));

    // The entitlements answer counts the seats bought, not a plan-wide number.
    let res = client.get(app.url("/api/v1/entitlements")).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!((body["plan"].as_str(), body["seats"].as_u64()), (Some("team"), Some(4)), "{body}");
}

#[tokio::test]
async fn adding_seats_is_charged_now_and_removing_them_waits_for_the_period_end() {
    let app = spawn_app().await;
    let client = new_client();
    let email = customer(&app, &client, "seats-change").await;
    subscribe_team(&app, &client, "3", "3").await;

    // Add two: previewed with Stripe's prorated figure, then charged at once.
    let add = "/account/plan/preview?plan=team&interval=month&seats=5";
    let preview = app.page_with(&client, add).await;
    let due = cents(&text_of_class(&preview, "due-now").unwrap());
    assert!((2 * SEAT - 100..=2 * SEAT).contains(&due), "about two seats for the whole period: {due}");
    assert!(preview.contains("Team (monthly), 3 seats") && preview.contains("Team (monthly), 5 seats"), "{preview}");
    let res = app.submit_with(&client, add, "Confirm", &[]).await;
    assert_redirect(&res, "/account");
    app.settle().await;
    let live = stripe_subscription(&app, &email).await;
    assert_eq!(live["items"]["data"][0]["quantity"], 5);
    let proration = app.stripe_latest_invoice_of(&email).await;
    assert_eq!((proration["amount_paid"].as_i64(), proration["status"].as_str()), (Some(due), Some("paid")));
    assert_eq!(stored(&app, &email).await, (5, 5 * SEAT, None));

    // Remove one: nothing due now; Stripe keeps five until the period ends, then four.
    let remove = "/account/plan/preview?plan=team&interval=month&seats=4";
    let preview = app.page_with(&client, remove).await;
    assert_eq!(text_of_class(&preview, "due-now").as_deref(), Some("$0.00"));
    assert!(text_of_class(&preview, "next-invoice").unwrap().starts_with("$48.00 on "), "{preview}");
    let res = app.submit_with(&client, remove, "Confirm", &[]).await;
    assert_redirect(&res, "/account");
    let account = app.page_with(&client, "/account").await;
    assert!(account.contains("Your plan changes to Team (monthly), 4 seats on "), "{account}");
    app.settle().await;
    let live = stripe_subscription(&app, &email).await;
    assert_eq!(live["items"]["data"][0]["quantity"], 5, "not yet: {live}");
    let schedule =
        app.stripe_get_json(&format!("/v1/subscription_schedules/{}", live["schedule"].as_str().unwrap())).await;
    assert_eq!(schedule["phases"][1]["items"][0]["quantity"], 4, "{schedule}");
    assert_eq!(stored(&app, &email).await, (5, 5 * SEAT, Some(4)));
    let account = app.page_with(&client, "/account").await;
    assert!(account.contains("Team (monthly), 4 seats from "), "the scheduled change: {account}");

    app.advance_through_period_end(&email).await;
    let live = stripe_subscription(&app, &email).await;
    assert_eq!(live["items"]["data"][0]["quantity"], 4, "{live}");
    assert_eq!(app.stripe_latest_invoice_of(&email).await["amount_paid"], 4 * SEAT);
    assert_eq!(stored(&app, &email).await, (4, 4 * SEAT, None));
    assert_eq!(
        movements(&app, &email).await,
        [("new".to_string(), 3 * SEAT), ("expansion".to_string(), 2 * SEAT), ("contraction".to_string(), -SEAT)]
    );
}

#[tokio::test]
async fn a_scheduled_downgrade_keeps_the_seat_count() {
    let app = spawn_app().await;
    let client = new_client();
    let email = customer(&app, &client, "seats-downgrade").await;
    subscribe_team(&app, &client, "3", "3").await;
    // Yearly is cheaper per month ($120 / 12 < $12): a downgrade, at the period end, seats kept.
    let preview = app.page_with(&client, "/account/plan/preview?plan=team&interval=year").await;
    assert_eq!(text_of_class(&preview, "due-now").as_deref(), Some("$0.00"));
    assert!(preview.contains("Then Team (yearly), 3 seats starts at $360.00 per year."), "{preview}");
    let res = app.submit_with(&client, "/account/plan/preview?plan=team&interval=year", "Confirm", &[]).await;
    assert_redirect(&res, "/account");
    app.settle().await;
    let live = stripe_subscription(&app, &email).await;
    let schedule =
        app.stripe_get_json(&format!("/v1/subscription_schedules/{}", live["schedule"].as_str().unwrap())).await;
    assert_eq!(schedule["phases"][0]["items"][0]["quantity"], 3, "{schedule}");
    assert_eq!(schedule["phases"][1]["items"][0]["quantity"], 3, "the seats carry over: {schedule}");
    assert_eq!(stored(&app, &email).await.2, Some(3));
}

#[tokio::test]
async fn seat_counts_outside_the_plan_are_refused_on_the_server() {
    let app = spawn_app().await;
    let client = new_client();
    let email = customer(&app, &client, "seats-bounds").await;
    for (seats, message) in [
        ("0", "Choose between 1 and 50 seats."),
        ("51", "Choose between 1 and 50 seats."),
        ("two", "Enter the number of seats as a whole number."),
    ] {
        let res = app
            .submit_with(&client, "/pricing", "Subscribe", &[("plan", "team"), ("interval", "month"), ("seats", seats)])
            .await;
        assert_redirect(&res, "/pricing");
        let page = app.page_with(&client, "/pricing").await;
        assert!(alerts(&page).iter().any(|a| a == message), "{seats}: {page}");
    }
    let res = app
        .submit_with(&client, "/pricing", "Subscribe", &[("plan", "pro"), ("interval", "month"), ("seats", "3")])
        .await;
    assert_redirect(&res, "/pricing");
    let page = app.page_with(&client, "/pricing").await;
    assert!(alerts(&page).iter().any(|a| a == "The Pro plan is not sold per seat."), "{page}");

    // Once subscribed, a change past the bounds is refused too, previewed or posted.
    subscribe_team(&app, &client, "2", "2").await;
    let preview = app.page_with(&client, "/account/plan/preview?plan=team&interval=month&seats=51").await;
    assert!(alerts(&preview).iter().any(|a| a == "Choose between 1 and 50 seats."), "{preview}");
    let preview = app.page_with(&client, "/account/plan/preview?plan=team&interval=month&seats=2").await;
    assert!(alerts(&preview).iter().any(|a| a == "The subscription already has 2 seats on this plan."), "{preview}");
    // A valid confirm form whose seats field was tampered with.
    let res = app
        .submit_with(&client, "/account/plan/preview?plan=team&interval=month&seats=3", "Confirm", &[("seats", "0")])
        .await;
    assert_redirect(&res, "/account");
    let account = app.page_with(&client, "/account").await;
    assert!(alerts(&account).iter().any(|a| a == "Choose between 1 and 50 seats."), "{account}");
    app.settle().await;
    assert_eq!(stored(&app, &email).await.0, 2, "nothing changed");
    assert_eq!(stripe_subscription(&app, &email).await["items"]["data"][0]["quantity"], 2);
}

#[tokio::test]
async fn an_admin_seat_change_is_audited() {
    let app = spawn_app().await;
    let client = new_client();
    let email = customer(&app, &client, "seats-admin").await;
    subscribe_team(&app, &client, "3", "3").await;
    let customer_id: String = sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let subscription = stripe_subscription(&app, &email).await["id"].as_str().unwrap().to_string();
    app.log_in_as_admin().await;

    let page = app.page(&format!("/admin/customers/{customer_id}")).await;
    assert!(page.contains("Team (monthly), 3 seats"), "{page}");
    assert_eq!(form_action(&page, "Change seats"), Some(format!("/admin/customers/{customer_id}/plan")));
    let confirm = app.page(&format!("/admin/customers/{customer_id}/plan?price=team_monthly&seats=60")).await;
    assert!(alerts(&confirm).iter().any(|a| a == "Choose between 1 and 50 seats."), "{confirm}");
    let confirm = app.page(&format!("/admin/customers/{customer_id}/plan?price=team_monthly&seats=6")).await;
    assert!(confirm.contains(r#"class="to-plan">Team (monthly), 6 seats<"#), "{confirm}");
    assert_eq!(hidden(&confirm, "seats"), "6");
    let fields = [
        ("customer", customer_id.as_str()),
        ("subscription", &subscription),
        ("price", "team_monthly"),
        ("seats", "6"),
        ("token", &hidden(&confirm, "token")),
    ];
    for _ in 0..2 {
        let res = app
            .client
            .post(app.url("/api/admin_change_plan"))
            .header("accept", BROWSER_ACCEPT)
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_redirect(&res, &format!("/admin/customers/{customer_id}"));
    }
    assert_eq!(stripe_subscription(&app, &email).await["items"]["data"][0]["quantity"], 6);
    app.settle().await;
    assert_eq!(stored(&app, &email).await, (6, 6 * SEAT, None));
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT action, before_state, after_state FROM audit_log WHERE subject_id = $1 ORDER BY id")
            .bind(&subscription)
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(rows.len(), 1, "one change, audited once: {rows:?}");
    assert_eq!(rows[0].0, "subscription.seat_change");
    assert!(rows[0].1.starts_with("Team (monthly), 3 seats [price_"), "{rows:?}");
    assert!(rows[0].2.starts_with("Team (monthly), 6 seats [price_"), "{rows:?}");
}
