use reqwest::{header, StatusCode};

use crate::helpers::*;

/// Every admin page and export.
const ADMIN_ROUTES: [&str; 20] = [
    "/admin",
    "/admin?period=12m",
    "/admin/events",
    "/admin/events?status=dead",
    "/admin/revenue/movements.csv?period=7d",
    "/admin/subscriptions",
    "/admin/subscriptions?status=active&email=matrix",
    "/admin/customers/cus_matrix",
    "/admin/customers/cus_matrix/plan?price=platinum_monthly",
    "/admin/customers/cus_matrix/renewal?action=cancel",
    "/admin/mail",
    "/admin/migrations",
    "/admin/mail/templates",
    "/admin/dunning",
    "/admin/status",
    "/admin/payments",
    "/admin/payments/refund?payment=pi_matrix",
    "/admin/disputes",
    "/admin/orders/1",
    "/admin/disputes/du_matrix",
];

/// Every admin server function, with valid arguments.
const ADMIN_FUNCTIONS: [(&str, &[(&str, &str)]); 12] = [
    ("admin_revenue", &[("period", "Days30")]),
    ("admin_events", &[]),
    ("admin_replay_event", &[("event_id", "evt_does_not_exist")]),
    ("admin_subscriptions", &[("email", "matrix")]),
    ("admin_customer", &[("id", "cus_matrix")]),
    ("admin_renewal_form", &[("customer", "cus_matrix"), ("action", "cancel")]),
    ("admin_mail", &[]),
    ("admin_mail_templates", &[]),
    ("admin_dunning", &[]),
    ("admin_status", &[]),
    ("admin_payments", &[]),
    ("admin_disputes", &[]),
];

/// Admin server functions that act on money (a payment, a subscription): refused to others; for
/// the admin, an unknown payment, price or subscription is refused with this reason.
/// (server function, its form fields, the reason the admin is refused).
type MoneyCall = (&'static str, &'static [(&'static str, &'static str)], &'static str);

const ADMIN_MONEY_FUNCTIONS: [MoneyCall; 10] = [
    (
        "admin_retry_invoice",
        &[
            ("customer", "cus_matrix"),
            ("subscription", "sub_matrix"),
            ("invoice", "in_matrix"),
            ("token", "0123456789abcdef0123"),
        ],
        "Nothing to retry",
    ),
    ("admin_refund_form", &[("payment", "pi_matrix")], "No such payment."),
    (
        "admin_refund",
        &[("payment", "pi_matrix"), ("amount", "1.00"), ("reason", "duplicate"), ("token", "0123456789abcdef0123")],
        "No such payment.",
    ),
    ("admin_order", &[("id", "999")], "No such order."),
    ("admin_dispute", &[("id", "du_matrix")], "No such dispute."),
    (
        "admin_dispute_respond",
        &[
            ("dispute", "du_matrix"),
            ("token", "0123456789abcdef0123"),
            ("intent", "submit"),
            ("uncategorized_text", "winning_evidence"),
        ],
        "No such dispute.",
    ),
    (
        "admin_order_refund",
        &[
            ("order", "999"),
            ("amount", "1.00"),
            ("reason", "duplicate"),
            ("reverse_transfer", "on"),
            ("token", "0123456789abcdef0123"),
        ],
        "No such order.",
    ),
    (
        "admin_plan_change_form",
        &[("customer", "cus_matrix"), ("price", "platinum_monthly")],
        "There is no such price in the catalog.",
    ),
    (
        "admin_change_plan",
        &[
            ("customer", "cus_matrix"),
            ("subscription", "sub_matrix"),
            ("price", "platinum_monthly"),
            ("token", "0123456789abcdef0123"),
        ],
        "There is no such price in the catalog.",
    ),
    (
        "admin_set_renewal",
        &[
            ("customer", "cus_nobody"),
            ("subscription", "sub_matrix"),
            ("action", "cancel"),
            ("token", "0123456789abcdef0123"),
        ],
        "This customer has no subscription to change.",
    ),
];

async fn call(app: &TestApp, client: &reqwest::Client, endpoint: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let res = client
        .post(app.url(&format!("/api/{endpoint}")))
        .header(header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    (res.status(), html_of(res).await)
}

#[tokio::test]
async fn authorization_matrix_for_every_admin_route_and_function() {
    let app = spawn_app().await;
    // A customer for /admin/customers/cus_matrix to find.
    sqlx::query(
        "INSERT INTO subscriptions (id, customer_id, status, price_id, quantity, unit_amount, currency, \
           interval_count, current_period_start, current_period_end, cancel_at_period_end, created, mrr, \
           synced_at) VALUES ('sub_matrix', 'cus_matrix', 'active', 'price_1', 1, 900, 'usd', 1, 0, 0, \
           FALSE, 0, 900, 0)",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let anonymous = new_client();
    let customer = new_client();
    let email = unique_email("matrix");
    app.customer_with(&customer, &email).await;
    let admin = new_client();
    assert_redirect(&app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");

    for path in ADMIN_ROUTES {
        assert_redirect(&app.get_with(&anonymous, path).await, "/login");
        let res = app.get_with(&customer, path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "customer on {path}");
        assert!(!html_of(res).await.contains("MRR"), "customer sees no figures on {path}");
        let res = app.get_with(&admin, path).await;
        assert_eq!(res.status(), StatusCode::OK, "admin on {path}");
    }
    for (endpoint, form) in ADMIN_FUNCTIONS {
        let (status, body) = call(&app, &anonymous, endpoint, form).await;
        assert!(!status.is_success() && body.contains("Unauthorized"), "anonymous {endpoint}: {status} {body}");
        let (status, body) = call(&app, &customer, endpoint, form).await;
        assert!(!status.is_success() && body.contains("Forbidden"), "customer {endpoint}: {status} {body}");
        let (status, body) = call(&app, &admin, endpoint, form).await;
        assert_eq!(status, StatusCode::OK, "admin {endpoint}: {body}");
    }
    for (endpoint, form, reason) in ADMIN_MONEY_FUNCTIONS {
        let (status, body) = call(&app, &anonymous, endpoint, form).await;
        assert!(!status.is_success() && body.contains("Unauthorized"), "anonymous {endpoint}: {status} {body}");
        let (status, body) = call(&app, &customer, endpoint, form).await;
        assert!(!status.is_success() && body.contains("Forbidden"), "customer {endpoint}: {status} {body}");
        let (status, body) = call(&app, &admin, endpoint, form).await;
        assert!(!status.is_success() && body.contains(reason), "admin {endpoint}: {status} {body}");
    }
}

#[tokio::test]
async fn customers_get_a_403_forbidden_page_on_admin() {
    let app = spawn_app().await;
    app.customer(&unique_email("customer")).await;
    let res = app.get("/admin").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = html_of(res).await;
    assert!(html.contains("<h1>Forbidden</h1>"), "{html}");
    assert!(!html.contains("<h1>Revenue</h1>"));
    assert!(!html.contains(r#"href="/admin""#), "no Admin link for customers");
}

#[tokio::test]
async fn the_admin_from_the_environment_reaches_admin() {
    let app = spawn_app().await;
    app.log_in_as_admin().await;
    let html = app.page("/admin").await;
    assert!(html.contains("<h1>Revenue</h1>"), "{html}");
    assert!(html.contains("No revenue yet"), "an empty database says so: {html}");
    assert!(html.contains(r#"<a href="/admin">Admin</a>"#), "admins see the Admin link");
}

#[tokio::test]
async fn navigation_matches_who_is_looking() {
    let app = spawn_app().await;
    let anonymous = app.page("/").await;
    for link in [">Pricing</a>", ">Account</a>", ">Log in</a>"] {
        assert!(anonymous.contains(link), "{link}");
    }
    assert!(!anonymous.contains(">Admin</a>"));
    assert!(!anonymous.contains(">Log out</button>"));

    app.customer(&unique_email("nav")).await;
    let customer = app.page("/pricing").await;
    assert!(customer.contains(">Log out</button>"));
    assert!(!customer.contains(">Log in</a>"));
    assert!(!customer.contains(">Admin</a>"));
}

#[tokio::test]
async fn restarting_resets_the_admin_password_from_the_environment() {
    let app = spawn_app().await;
    let vars = test_vars(&app.database.url, &[("ADMIN_PASSWORD", "a brand new password")]);
    let config = tollgate::server::config::Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let second = tollgate::server::startup::Application::build(config).await.unwrap();
    drop(second);
    assert_redirect(&app.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await, "/login");
    assert_redirect(&app.log_in(ADMIN_EMAIL, "a brand new password").await, "/account");
}

#[tokio::test]
async fn a_new_admin_password_ends_the_sessions_started_with_the_old_one() {
    let app = spawn_app().await;
    app.log_in_as_admin().await;
    assert_eq!(app.get("/admin").await.status(), 200);
    // The same password at a restart: the admin stays logged in.
    let same = test_vars(&app.database.url, &[]);
    let config = tollgate::server::config::Config::from_lookup(|name| same.get(name).cloned()).unwrap();
    drop(tollgate::server::startup::Application::build(config).await.unwrap());
    assert_eq!(app.get("/admin").await.status(), 200, "a restart alone ends nothing");
    // A new password: the old session is over.
    let changed = test_vars(&app.database.url, &[("ADMIN_PASSWORD", "a brand new password")]);
    let config = tollgate::server::config::Config::from_lookup(|name| changed.get(name).cloned()).unwrap();
    drop(tollgate::server::startup::Application::build(config).await.unwrap());
    assert_redirect(&app.get("/admin").await, "/login");
}

#[tokio::test]
async fn admin_email_of_a_customer_account_is_refused_at_start() {
    let app = spawn_app().await;
    let email = unique_email("squatter");
    app.customer(&email).await;
    let vars = test_vars(&app.database.url, &[("ADMIN_EMAIL", &email), ("ADMIN_PASSWORD", "an admin password")]);
    let config = tollgate::server::config::Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let refused = tollgate::server::startup::Application::build(config).await.err().expect("refused");
    assert!(format!("{refused:#}").contains("--promote"), "{refused:#}");
    // The customer is still a customer, still logged in.
    let account = app.get("/account").await;
    assert_eq!(account.status(), 200);
    assert_eq!(app.get("/admin").await.status(), 403);
}
