//! Shared by the webhook tests: an app whose embedded sandbox URL is known (for the
//! `/_sandbox` control API and raw Stripe calls), polling helpers and one-time purchases on the
//! hosted Checkout page.

use serde_json::Value;
use sqlx::AnyPool;
use tollgate::server::billing::checkout;
use tollgate::server::catalog;
use tollgate::server::config::{Config, SANDBOX_SECRET_KEY};
use tollgate::server::startup::Application;

pub use crate::helpers::eventually;
use crate::helpers::{new_client, test_vars, TestApp, TestDatabase};

/// A signing secret the tests share with the app, to post events of their own making.
pub const TEST_WEBHOOK_SECRET: &str = "whsec_tollgate_hooks_tests";

pub struct HooksApp {
    pub app: TestApp,
    pub sandbox: String,
    pub http: reqwest::Client,
}

pub async fn spawn_hooks_app(overrides: &[(&str, &str)]) -> HooksApp {
    let database = TestDatabase::new().await;
    let mut all = vec![("STRIPE_WEBHOOK_SECRET", TEST_WEBHOOK_SECRET)];
    all.extend_from_slice(overrides);
    let vars = test_vars(&database.url, &all);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("valid test config");
    let app = Application::build(config).await.expect("the app builds");
    let sandbox = app.sandbox_url().expect("the embedded sandbox runs");
    let port = app.port();
    let db = app.state().db.clone();
    let stripe = app.state().stripe_client.clone();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        db,
        client: new_client(),
        database,
        stripe,
        sandbox_url: sandbox.clone(),
        own_sandbox: None,
        state,
    };
    HooksApp { app, sandbox, http: reqwest::Client::new() }
}

impl HooksApp {
    pub fn pool(&self) -> &AnyPool {
        self.app.db.pool()
    }

    /// A raw Stripe API call to the sandbox (form-encoded, like Stripe's own clients).
    pub async fn stripe_post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let res = self
            .http
            .post(format!("{}{path}", self.sandbox))
            .bearer_auth(SANDBOX_SECRET_KEY)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    pub async fn stripe_get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.sandbox))
            .bearer_auth(SANDBOX_SECRET_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A `/_sandbox/…` control call with a JSON body.
    pub async fn control(&self, path: &str, body: Value) -> Value {
        let res = self.http.post(format!("{}/_sandbox{path}", self.sandbox)).json(&body).send().await.unwrap();
        assert!(res.status().is_success(), "POST /_sandbox{path}: {}", res.status());
        res.json().await.unwrap_or(Value::Null)
    }

    pub async fn wait_for_deliveries(&self) {
        self.control("/deliveries/wait", serde_json::json!({"timeout_ms": 10_000, "retries": false})).await;
    }

    pub async fn insert_user(&self, email: &str) -> i64 {
        crate::helpers::insert_user(self.pool(), email).await
    }

    /// Buys the catalog's one-time item on the hosted page with `card`; returns the session id
    /// and the hosted page's status (303 paid, 402 declined).
    pub async fn buy_one_time(&self, user_id: i64, email: &str, card: &str) -> (String, u16) {
        let pool = self.pool();
        let cat = catalog::load(std::path::Path::new(catalog::DEFAULT_PATH)).unwrap();
        let prices = catalog::sync::resolve(&self.app.stripe, &cat).await.unwrap();
        let customer = checkout::ensure_customer(pool, &self.app.stripe, user_id, email, 0).await.unwrap();
        let session = checkout::create_session(
            &self.app.stripe,
            &checkout::CheckoutRequest {
                user_id,
                customer_id: &customer,
                price_id: prices["onboarding_once"].as_str(),
                lookup_key: "onboarding_once",
                recurring: false,
                quantity: checkout::Quantity::One,
                trial: None,
                app_url: &self.app.address,
                now: 0,
                brand: None,
                ui: checkout::SessionUi::Hosted,
            },
        )
        .await
        .unwrap();
        let paid = self
            .app
            .client
            .post(session.url.clone().unwrap())
            .form(&[("card_number", card), ("expiry", "12 / 34"), ("cvc", "123")])
            .send()
            .await
            .unwrap();
        (session.id.as_str().to_string(), paid.status().as_u16())
    }
}

pub async fn count(pool: &AnyPool, query: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(query).fetch_one(pool).await.unwrap()
}

/// Waits up to `wait` until every stored event is processed or ignored (none pending, retrying
/// or dead).
pub async fn inbox_applied_within(pool: &AnyPool, wait: std::time::Duration) {
    let unapplied = "SELECT COUNT(*) FROM webhook_events WHERE status NOT IN ('processed', 'ignored')";
    crate::helpers::eventually_within(pool, unapplied, 0, wait).await;
}

/// Waits until the inbox has nothing left to apply.
pub async fn inbox_drained(pool: &AnyPool) {
    eventually(pool, "SELECT COUNT(*) FROM webhook_events WHERE status IN ('pending', 'retrying', 'dead')", 0).await;
}
