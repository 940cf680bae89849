//! A customer pauses their subscription from /account (Stripe's pause: status `paused`, access
//! off, no invoices, the unused time credited) and resumes it (a new period from that day, paid
//! before access returns); a pause made in Stripe reaches the app by its webhook alone.

use serde_json::Value;
use tollgate::server::entitlements;

use crate::helpers::*;

impl TestApp {
    async fn local_status(&self, email: &str) -> (String, i64) {
        sqlx::query_as(
            "SELECT s.status, s.mrr FROM subscriptions s JOIN users u ON u.stripe_customer_id = s.customer_id \
             WHERE u.email = $1",
        )
        .bind(email)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    async fn movements_of(&self, email: &str) -> Vec<(String, i64)> {
        sqlx::query_as(
            "SELECT m.kind, m.delta FROM mrr_movements m JOIN users u ON u.stripe_customer_id = m.customer_id \
             WHERE u.email = $1 ORDER BY m.occurred_at, m.cause_key",
        )
        .bind(email)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }

    pub(crate) async fn may_use_the_api(&self, email: &str) -> bool {
        let user: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(self.db.pool())
            .await
            .unwrap();
        entitlements::check(&self.state, user, "api").await.unwrap()
    }
}

/// The invoices Stripe made for the subscription, newest first.
async fn stripe_invoices(app: &TestApp, subscription: &str) -> Vec<Value> {
    let list = app.stripe_get_json(&format!("/v1/invoices?subscription={subscription}&limit=100")).await;
    list["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_customer_pauses_then_resumes_and_pays_the_new_period_less_the_credit() {
    let app = spawn_app().await;
    let email = app.subscribed_customer("pauser", "business", "4242424242424242", true).await;
    assert!(app.may_use_the_api(&email).await);
    let account = app.page("/account").await;
    assert!(account.contains(r#"href="/account/pause""#), "the pause link: {account}");

    // A third of the period used: the other two thirds are credited at the pause.
    app.advance_by(10 * 86_400).await;
    let confirm = app.page("/account/pause").await;
    assert!(confirm.contains("credited to your first payment when you resume"), "{confirm}");
    let res = app.submit("/account/pause", "Pause subscription", &[]).await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(notices(&account).iter().any(|n| n.starts_with("Your subscription is paused.")), "{account}");
    assert!(account.contains(">Paused</dd>"), "{account}");
    assert!(!account.contains(">Renews on</dt>"), "a paused subscription does not renew");
    assert!(!account.contains(r#"href="/account/pause""#), "paused once");

    let subscription = app.stripe_subscription_of(&email).await;
    assert_eq!(subscription["status"], "paused", "{subscription}");
    let id = subscription["id"].as_str().unwrap().to_string();
    app.settle().await;
    assert_eq!(app.local_status(&email).await, ("paused".into(), 0));
    assert!(!app.may_use_the_api(&email).await, "a paused subscription grants nothing");
    assert_eq!(app.movements_of(&email).await, [("new".into(), 9900), ("churn".into(), -9900)]);

    // A month on nothing is billed while paused.
    let invoices_before = stripe_invoices(&app, &id).await.len();
    app.advance_by(40 * 86_400).await;
    assert_eq!(stripe_invoices(&app, &id).await.len(), invoices_before, "no invoice while paused");
    assert_eq!(app.local_status(&email).await.0, "paused");

    // Resuming: a new period from now, its invoice paid less the credit for the unused time.
    let res = app.submit("/account", "Resume subscription", &[]).await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(notices(&account).iter().any(|n| n.starts_with("The subscription is active again.")), "{account}");
    assert!(account.contains(">Active</dd>") && account.contains(">Renews on</dt>"), "{account}");
    let subscription = app.stripe_subscription_of(&email).await;
    assert_eq!(subscription["status"], "active");
    let resumed = &stripe_invoices(&app, &id).await[0];
    assert_eq!(resumed["status"], "paid", "{resumed}");
    let paid = resumed["amount_paid"].as_i64().unwrap();
    assert!((2900..=3900).contains(&paid), "a new period less two thirds of one credited at the pause: {resumed:#}");
    app.settle().await;
    assert_eq!(app.local_status(&email).await, ("active".into(), 9900));
    assert!(app.may_use_the_api(&email).await, "access is back");
    assert_eq!(
        app.movements_of(&email).await,
        [("new".into(), 9900), ("churn".into(), -9900), ("reactivation".into(), 9900)]
    );
}

#[tokio::test]
async fn a_resume_whose_payment_is_declined_stays_paused_and_says_why() {
    let app = spawn_app().await;
    let email = app.subscribed_customer("pause-declined", "pro", "4242424242424242", true).await;
    app.advance_by(10 * 86_400).await;
    let res = app.submit("/account/pause", "Pause subscription", &[]).await;
    assert_redirect(&res, "/account");
    // The subscription's card now declines every charge.
    let subscription = app.stripe_subscription_of(&email).await;
    let customer = subscription["customer"].as_str().unwrap().to_string();
    let api = app.stripe_api();
    let declining =
        api.post("/v1/payment_methods/pm_card_chargeCustomerFail/attach", &[("customer", customer.clone())]).await;
    let declining = declining["id"].as_str().expect("an attached card").to_string();
    let id = subscription["id"].as_str().unwrap();
    api.post(&format!("/v1/subscriptions/{id}"), &[("default_payment_method", declining)]).await;

    let res = app.submit("/account", "Resume subscription", &[]).await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(
        alerts(&account).iter().chain(notices(&account).iter()).any(|m| m.contains("stays paused")),
        "{:?} {:?}",
        alerts(&account),
        notices(&account)
    );
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "paused");
    app.settle().await;
    assert_eq!(app.local_status(&email).await.0, "paused");
    assert!(!app.may_use_the_api(&email).await);
}

#[tokio::test]
async fn a_pause_made_in_stripe_reaches_the_app_by_its_webhook() {
    let app = spawn_app().await;
    let email = app.subscribed_customer("pause-webhook", "pro", "4242424242424242", true).await;
    let id = app.stripe_subscription_of(&email).await["id"].as_str().unwrap().to_string();
    let api = app.stripe_api();
    api.post(&format!("/v1/subscriptions/{id}/pause"), &[]).await;
    let query = format!("SELECT COUNT(*) FROM subscriptions WHERE id = '{id}' AND status = 'paused' AND mrr = 0");
    eventually(app.db.pool(), &query, 1).await;
    assert!(!app.may_use_the_api(&email).await);
    api.post(&format!("/v1/subscriptions/{id}/resume"), &[]).await;
    let query = format!("SELECT COUNT(*) FROM subscriptions WHERE id = '{id}' AND status = 'active' AND mrr = 2900");
    eventually(app.db.pool(), &query, 1).await;
    assert!(app.may_use_the_api(&email).await);
}

#[tokio::test]
async fn pausing_is_refused_clearly_when_it_cannot_be_done() {
    let app = spawn_app().await;
    // No subscription at all.
    let email = unique_email("pause-none");
    app.customer(&email).await;
    let page = app.page("/account/pause").await;
    assert!(page.contains("Your subscription cannot be paused now."), "{page}");
    let res = app
        .client
        .post(app.url("/api/billing/pause"))
        .header("accept", BROWSER_ACCEPT)
        .form(&[("token", "madeuptoken0123456789abcdef")])
        .send()
        .await
        .unwrap();
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(
        notices(&account).iter().chain(alerts(&account).iter()).any(|m| m.contains("no subscription")),
        "{account}"
    );

    // A subscription set to end: resume it first.
    let email = app.subscribed_customer("pause-ending", "pro", "4242424242424242", true).await;
    let res = app.submit("/account/cancel", "Cancel subscription", &[]).await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(!account.contains(r#"href="/account/pause""#), "no pause link on an ending subscription");
    let page = app.page("/account/pause").await;
    assert!(page.contains("Your subscription cannot be paused now."), "{page}");
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "active");
}
