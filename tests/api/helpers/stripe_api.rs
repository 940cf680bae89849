//! Stripe's REST API on the sandbox as the SDKs call it, for tests that act as Stripe's other
//! clients would (a customer's life scripted against the API), and a deterministic generator.

use std::collections::HashMap;

use serde_json::Value;
use tollgate::server::catalog;

pub const KEY: &str = "sk_test_tollgate_sandbox";

/// A small deterministic generator: the same script every run.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Stripe's REST API on the sandbox, form-encoded as the SDKs send it.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
}

impl Api {
    pub async fn call(&self, method: reqwest::Method, path: &str, form: &[(&str, String)]) -> Value {
        let res = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .form(form)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert!(status.is_success(), "{path} → {status}: {body}");
        body
    }

    pub async fn post(&self, path: &str, form: &[(&str, String)]) -> Value {
        self.call(reqwest::Method::POST, path, form).await
    }

    pub async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, &[]).await
    }

    /// A customer whose default payment method is the test card `card`; returns its id.
    pub async fn customer_paying_with(&self, email: &str, card: &str) -> String {
        let form = [
            ("email", email.to_string()),
            ("payment_method", card.into()),
            ("invoice_settings[default_payment_method]", card.into()),
        ];
        self.post("/v1/customers", &form).await["id"].as_str().expect("a customer id").to_string()
    }

    /// `customer` subscribed to `price`; returns the subscription.
    pub async fn subscribe(&self, customer: &str, price: &str) -> Value {
        self.post("/v1/subscriptions", &[("customer", customer.into()), ("items[0][price]", price.into())]).await
    }

    /// Every object of a list endpoint (follows `has_more`).
    pub async fn all(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let page = match &after {
                Some(id) => self.get(&format!("{path}{sep}limit=100&starting_after={id}")).await,
                None => self.get(&format!("{path}{sep}limit=100")).await,
            };
            let data = page["data"].as_array().cloned().unwrap_or_default();
            after = data.last().and_then(|o| o["id"].as_str()).map(str::to_string);
            out.extend(data);
            if page["has_more"] != true || after.is_none() {
                return out;
            }
        }
    }
}

pub async fn prices(stripe: &tollgate::server::stripe::client::StripeClient) -> HashMap<String, String> {
    let cat = catalog::load(std::path::Path::new(catalog::DEFAULT_PATH)).unwrap();
    catalog::sync::sync(stripe, &cat).await.unwrap();
    catalog::sync::resolve(stripe, &cat).await.unwrap().into_iter().map(|(k, v)| (k, v.as_str().to_string())).collect()
}
