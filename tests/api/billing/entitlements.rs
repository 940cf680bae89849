//! One answer to "may they?": `GET /api/v1/entitlements` (and `entitlements::check` / `limit`)
//! for a session, Stripe's active entitlements kept by the summary event, `catalog sync` making
//! the features, and the past-due grace measured from the first failed payment on the sandbox's
//! clock.

use reqwest::StatusCode;
use serde_json::{json, Value};
use tollgate::server::catalog;
use tollgate::server::config::SANDBOX_SECRET_KEY;
use tollgate::server::entitlements;
use tollgate::server::stripe::client::StripeClient;

use crate::helpers::*;

impl TestApp {
    /// `GET /api/v1/entitlements` as the test client's session, asserting 200.
    pub(crate) async fn api_entitlements(&self) -> Value {
        let res = self.client.get(self.url("/api/v1/entitlements")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    async fn user_id(&self, email: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(self.db.pool()).await.unwrap()
    }

    async fn customer_id(&self, email: &str) -> String {
        sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// Stripe's REST API on this app's sandbox.
    pub(crate) fn stripe_api(&self) -> Api {
        Api { http: reqwest::Client::new(), base: self.sandbox_url.clone() }
    }

    /// Stripe's active entitlements of the customer as the app stored them.
    async fn stored_entitlements(&self, email: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT e.lookup_key FROM stripe_entitlements e JOIN users u ON u.stripe_customer_id = e.customer_id \
             WHERE u.email = $1 ORDER BY e.lookup_key",
        )
        .bind(email)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }
}

fn strings(value: &Value) -> Vec<String> {
    value.as_array().expect("an array").iter().map(|v| v.as_str().expect("a string").to_string()).collect()
}

#[tokio::test]
async fn the_api_answers_for_a_session_and_refuses_without_one() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/api/v1/entitlements")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    assert_eq!(res.headers()["www-authenticate"], "Bearer", "a 401 names the scheme that would do");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized", "{body}");

    let email = unique_email("entitled");
    app.customer(&email).await;
    let body = app.api_entitlements().await;
    assert_eq!(body["plan"], "free", "{body}");
    assert_eq!(body["subscribed"], false);
    assert_eq!(body["status"], Value::Null);
    assert_eq!(strings(&body["features"]), ["community_support"]);
    assert_eq!(body["limits"], json!({"projects": 1, "seats": 1}));
    assert_eq!(body["seats"], 1);
    assert_eq!(body["usage"]["projects"], json!({"limit": 1, "used": 0, "left": 1}));

    // Logged out, the same client is refused again.
    let res = app.submit("/logout", "Log out", &[]).await;
    assert!(res.status().is_redirection());
    let res = app.client.get(app.url("/api/v1/entitlements")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_subscriber_has_the_features_stripe_entitles_and_the_summary_event_keeps_them_in_step() {
    let app = spawn_app().await;
    let email = app.subscribed_customer("entitled-pro", "pro", "4242424242424242", true).await;
    let pro = ["api", "community_support", "email_support", "priority_support"];
    assert_eq!(app.stored_entitlements(&email).await, pro, "the summary event was applied");
    let body = app.api_entitlements().await;
    assert_eq!((body["plan"].as_str(), body["subscribed"].as_bool()), (Some("pro"), Some(true)), "{body}");
    assert_eq!(body["status"], "active");
    assert_eq!(strings(&body["features"]), pro);
    assert_eq!(body["limits"], json!({"projects": 50, "seats": 5}));
    let user = app.user_id(&email).await;
    assert!(entitlements::check(&app.state, user, "priority_support").await.unwrap());
    assert!(!entitlements::check(&app.state, user, "phone_support").await.unwrap());
    assert_eq!(entitlements::limit(&app.state, user, "projects").await.unwrap(), Some(50));

    // Stripe stops entitling to priority support (the feature detached from the product): its
    // next summary for the customer, on the subscription's next change, takes it away here.
    let features = app.stripe_api().get("/v1/products/tg_pro/features").await;
    let priority = features["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["entitlement_feature"]["lookup_key"] == "priority_support")
        .expect("priority_support attached to tg_pro")["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.stripe_api().call(reqwest::Method::DELETE, &format!("/v1/products/tg_pro/features/{priority}"), &[]).await;
    let subscription = app.stripe_subscription_of(&email).await;
    let subscription_id = subscription["id"].as_str().unwrap().to_string();
    let path = format!("/v1/subscriptions/{subscription_id}");
    app.stripe_api().post(&path, &[("metadata[note]", "touched".to_string())]).await;
    app.settle().await;
    assert_eq!(app.stored_entitlements(&email).await, ["api", "community_support", "email_support"]);
    assert!(!entitlements::check(&app.state, user, "priority_support").await.unwrap());
    assert_eq!(app.api_entitlements().await["plan"], "pro", "the plan itself is unchanged");

    // Canceled now: Stripe's summary empties, and the free plan is what is left.
    app.stripe_api().call(reqwest::Method::DELETE, &path, &[]).await;
    app.settle().await;
    assert!(app.stored_entitlements(&email).await.is_empty());
    let body = app.api_entitlements().await;
    assert_eq!((body["plan"].as_str(), body["subscribed"].as_bool()), (Some("free"), Some(false)), "{body}");
    assert_eq!(strings(&body["features"]), ["community_support"]);
    assert_eq!(body["limits"]["projects"], 1);
}

#[tokio::test]
async fn catalog_sync_creates_the_features_and_attaches_them_and_a_second_run_changes_nothing() {
    let sandbox = stripe_sandbox::start(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("a sandbox");
    let stripe = StripeClient::new(&SANDBOX_SECRET_KEY.to_owned().into(), Some(&sandbox.base_url())).unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    let mut cat = catalog::load(std::path::Path::new(catalog::DEFAULT_PATH)).unwrap();

    let first = catalog::sync::sync(&stripe, &cat).await.unwrap();
    let mut created = first.features_created.clone();
    created.sort();
    let mut wanted: Vec<String> = cat.entitlement_keys().into_iter().map(str::to_string).collect();
    wanted.sort();
    assert_eq!(created, wanted);
    let attachments: usize = cat.plans.iter().filter(|p| !p.is_free()).map(|p| p.entitlements.len()).sum();
    assert_eq!(first.features_attached.len(), attachments);
    let features = api.all("/v1/entitlements/features").await;
    let mut in_stripe: Vec<String> = features.iter().map(|f| f["lookup_key"].as_str().unwrap().to_string()).collect();
    in_stripe.sort();
    assert_eq!(in_stripe, wanted);
    for plan in cat.plans.iter().filter(|p| !p.is_free()) {
        let attached = api.all(&format!("/v1/products/tg_{}/features", plan.key)).await;
        let mut keys: Vec<&str> =
            attached.iter().map(|a| a["entitlement_feature"]["lookup_key"].as_str().unwrap()).collect();
        keys.sort();
        let mut expected: Vec<&str> = plan.entitlements.iter().map(String::as_str).collect();
        expected.sort();
        assert_eq!(keys, expected, "{}", plan.key);
    }

    let second = catalog::sync::sync(&stripe, &cat).await.unwrap();
    assert!(!second.changed_anything(), "{second}");
    assert_eq!(api.all("/v1/entitlements/features").await.len(), wanted.len());

    // A plan that stops naming a feature has it detached, once.
    let starter = cat.plans.iter_mut().find(|p| p.key.as_str() == "starter").unwrap();
    starter.entitlements.retain(|key| key != "api");
    let third = catalog::sync::sync(&stripe, &cat).await.unwrap();
    assert_eq!(third.features_detached, ["api ✕ tg_starter"]);
    assert!(third.features_created.is_empty() && third.features_attached.is_empty());
    assert!(!catalog::sync::sync(&stripe, &cat).await.unwrap().changed_anything());
}

/// A trial that ends on a card that declines: past due from the first failed payment, which is
/// what Stripe's open invoice says (not an event's time), unmoved by retries and by every event
/// applied again newest first; access lasts the grace (7 days) from it and no longer, while
/// Stripe still says past due.
#[tokio::test]
async fn the_past_due_grace_runs_from_the_first_failed_payment_through_retries_and_replays() {
    let app = spawn_app().await;
    app.pin_clock(PinnedStart::FirstOfJanuary).await;
    let email = app.subscribed_customer("grace", "starter", "4000000000000341", false).await;
    app.advance_through_period_end(&email).await; // the trial ends and the first charge fails
    let invoice = app.stripe_latest_invoice_of(&email).await;
    assert_eq!(invoice["status"], "open");
    let failed_at = invoice["status_transitions"]["finalized_at"].as_i64().expect("finalized");
    let since_query = "SELECT s.past_due_since FROM subscriptions s JOIN users u ON u.stripe_customer_id = \
                       s.customer_id WHERE u.email = $1";
    let since = |app: &TestApp| {
        let email = email.clone();
        let pool = app.db.pool().clone();
        async move { sqlx::query_scalar::<_, Option<i64>>(since_query).bind(email).fetch_one(&pool).await.unwrap() }
    };
    assert_eq!(since(&app).await, Some(failed_at), "recorded from the invoice's first attempt");
    let user =
        tollgate::server::db::users::find_by_id(app.db.pool(), app.user_id(&email).await).await.unwrap().unwrap();
    let at = |now: i64| {
        let (state, user) = (app.state.clone(), user.clone());
        async move { entitlements::of_user_at(&state, &user, now).await.unwrap() }
    };
    assert!(at(failed_at + 60).await.subscribed);

    // Every event so far applied again, newest first: the first failure stays where it was.
    sqlx::query(
        "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = 0, \
           stripe_created = 4102444800 - stripe_created",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    app.settle().await;
    assert_eq!(since(&app).await, Some(failed_at), "replayed in reverse");

    const GRACE: i64 = 7 * 86_400;
    app.advance_to(failed_at + GRACE - 3600).await; // the first retry (day 3) fails too
    let retried = app.stripe_latest_invoice_of(&email).await;
    assert!(retried["attempt_count"].as_i64().unwrap() >= 2, "retried: {retried}");
    assert_eq!(since(&app).await, Some(failed_at), "a retry is not the first failure");
    let inside = at(failed_at + GRACE - 3600).await;
    assert!(inside.subscribed && inside.allows("api"), "inside the grace: {inside:?}");
    assert_eq!(inside.limit("projects"), Some(5));

    app.advance_to(failed_at + GRACE + 60).await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "past_due", "Stripe still retries");
    let after = at(failed_at + GRACE + 60).await;
    assert!(!after.subscribed && !after.allows("api"), "after the grace: {after:?}");
    assert_eq!(after.limit("projects"), Some(1), "the free plan's limit");

    // Paid at last (a working card, the open invoice paid): active again, the mark cleared.
    let customer = app.customer_id(&email).await;
    let api = app.stripe_api();
    let card = api.post("/v1/payment_methods/pm_card_visa/attach", &[("customer", customer)]).await;
    let card = card["id"].as_str().unwrap().to_string();
    let invoice_id = invoice["id"].as_str().unwrap().to_string();
    api.post(&format!("/v1/invoices/{invoice_id}/pay"), &[("payment_method", card)]).await;
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "active");
    assert_eq!(since(&app).await, None, "cleared once paid");
    assert!(at(failed_at + GRACE + 120).await.subscribed);
}
