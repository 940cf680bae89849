//! Subscriptions, customer timeline, mailbox and status pages, through plain GETs.

use sqlx::AnyPool;

use crate::helpers::*;

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn subscription(pool: &AnyPool, id: &str, customer: &str, status: &str, lookup_key: &str) {
    exec(
        pool,
        &format!(
            "INSERT INTO subscriptions (id, customer_id, status, price_id, lookup_key, quantity, \
               unit_amount, currency, interval_count, current_period_start, current_period_end, \
               cancel_at_period_end, created, mrr, synced_at) VALUES ('{id}', '{customer}', '{status}', \
               'price_1', '{lookup_key}', 1, 2900, 'usd', 1, 0, 1800000000, FALSE, 1700000000, 2900, 0)"
        ),
    )
    .await;
}

/// A signed-up customer linked to Stripe customer `cus`.
async fn linked_customer(app: &TestApp, email: &str, cus: &str) {
    let client = new_client();
    app.submit_with(&client, "/signup", "Sign up", &[("email", email), ("password", PASSWORD)]).await;
    exec(app.db.pool(), &format!("UPDATE users SET stripe_customer_id = '{cus}' WHERE email = '{email}'")).await;
}

#[tokio::test]
async fn subscriptions_filter_by_status_and_plan_and_search_by_email() {
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    linked_customer(&app, "ann.pages@example.com", "cus_ann").await;
    linked_customer(&app, "bob.pages@example.com", "cus_bob").await;
    subscription(&pool, "sub_ann", "cus_ann", "active", "pro_monthly").await;
    subscription(&pool, "sub_bob", "cus_bob", "past_due", "starter_yearly").await;
    app.log_in_as_admin().await;

    let all = app.page("/admin/subscriptions").await;
    assert!(all.contains("ann.pages@example.com") && all.contains("bob.pages@example.com"), "{all}");
    assert!(all.contains(r#"<label for="sub-email">Email</label>"#));
    assert!(all.contains(r#"href="/admin/customers/cus_ann""#));

    let search = app.page("/admin/subscriptions?email=ANN.pages").await;
    assert!(search.contains("sub_ann") && !search.contains("sub_bob"), "case-insensitive search");
    let status = app.page("/admin/subscriptions?status=past_due").await;
    assert!(status.contains("sub_bob") && !status.contains("sub_ann"));
    let plan = app.page("/admin/subscriptions?plan=pro_monthly").await;
    assert!(plan.contains("sub_ann") && !plan.contains("sub_bob"));
    let literal = app.page("/admin/subscriptions?email=%25").await;
    assert!(!literal.contains("sub_ann"), "% is searched literally");
}

#[tokio::test]
async fn the_customer_page_shows_a_timeline_with_stripe_links() {
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    linked_customer(&app, "cara.pages@example.com", "cus_cara").await;
    subscription(&pool, "sub_cara", "cus_cara", "active", "pro_monthly").await;
    exec(
        &pool,
        "INSERT INTO invoices (id, customer_id, subscription_id, status, amount_due, amount_paid, \
        amount_remaining, currency, attempt_count, period_start, period_end, created, synced_at) \
        VALUES ('in_cara', 'cus_cara', 'sub_cara', 'paid', 2900, 2900, 0, 'usd', 1, 0, 0, 1700000100, 0)",
    )
    .await;
    exec(
        &pool,
        "INSERT INTO emails (cause_key, kind, to_address, subject, body, status, created_at) \
        VALUES ('k1', 'receipt', 'cara.pages@example.com', 'Your receipt', 'Thanks', 'stored', 1700000200)",
    )
    .await;
    exec(
        &pool,
        "INSERT INTO audit_log (actor_email, action, subject_type, subject_id, customer_id, ip, \
        before_state, after_state, created_at) VALUES ('admin@x', 'webhook_event.replay', 'webhook_event', \
        'evt_cara', 'cus_cara', '127.0.0.1', 'dead', 'pending', 1700000300)",
    )
    .await;
    app.log_in_as_admin().await;

    let html = app.page("/admin/customers/cus_cara").await;
    assert!(html.contains("<h1>cara.pages@example.com</h1>"), "{html}");
    assert!(html.contains(r#"href="https://dashboard.stripe.com/test/customers/cus_cara""#), "test-mode link");
    assert!(html.contains(r#"href="https://dashboard.stripe.com/test/invoices/in_cara""#));
    let (audit, email, invoice) = (
        html.find("webhook_event.replay").unwrap(),
        html.find("Your receipt").unwrap(),
        html.find("Invoice in_cara").unwrap(),
    );
    assert!(audit < email && email < invoice, "newest first");

    let missing = app.page("/admin/customers/cus_nobody").await;
    assert_eq!(alerts(&missing), ["There is no customer cus_nobody."]);
}

#[tokio::test]
async fn the_mailbox_and_status_pages_render() {
    let app = spawn_app().await;
    exec(
        app.db.pool(),
        "INSERT INTO emails (cause_key, kind, to_address, subject, body, status, created_at) \
        VALUES ('k2', 'welcome', 'dan@example.com', 'Welcome aboard', 'Hello Dan', 'stored', 1700000000)",
    )
    .await;
    app.log_in_as_admin().await;

    let mail = app.page("/admin/mail").await;
    assert!(mail.contains("Welcome aboard") && mail.contains("Hello Dan") && mail.contains("dan@example.com"));
    assert!(mail.contains("No SMTP_URL is set"));

    let status = app.page("/admin/status").await;
    assert!(status.contains("<dt>Mode</dt><dd>sandbox</dd>"), "{status}");
    assert!(status.contains("2026-09-30.endive"));
    assert!(status.contains("Go-live checklist: ") && status.contains(" of 15"));
    assert!(
        status.contains("<dt>Customer portal</dt><dd>configured</dd>"),
        "the sandbox has a default portal configuration"
    );
    assert!(
        status.contains("<strong>Missing: </strong>Stripe Tax set up"),
        "read from Stripe: a fresh account has no head office"
    );
    assert!(status.contains("<strong>Missing: </strong>Live Stripe keys"));
}
