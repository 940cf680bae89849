//! Integration tests: the sandbox on port 0, driven through async-stripe rc.10 and raw HTTP.

mod checkout_flow;
mod cli;
mod client_side;
mod clocks;
mod conformance;
mod connect;
mod coupons;
mod entitlements;
mod http;
mod invoice_intents;
mod lists;
mod live_objects;
mod meters;
mod pause;
mod portal;
mod radar;
mod seats;
mod settings;
mod subscription_elements;
mod usage_billing;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use stripe_sandbox::{RunningSandbox, SandboxConfig};
use tokio::sync::Mutex;

pub const KEY: &str = "sk_test_sandbox_tests";

pub async fn sandbox() -> RunningSandbox {
    stripe_sandbox::start_with(([127, 0, 0, 1], 0).into(), SandboxConfig::default().fast_retries())
        .await
        .expect("sandbox starts")
}

pub fn client(sb: &RunningSandbox) -> stripe::Client {
    stripe::ClientBuilder::new(KEY).url(sb.base_url()).build().expect("client")
}

/// A raw HTTP helper speaking Stripe's form encoding.
pub struct Raw {
    pub base: String,
    pub http: reqwest::Client,
}

impl Raw {
    pub fn new(sb: &RunningSandbox) -> Self {
        Raw {
            base: sb.base_url(),
            http: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        }
    }
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self.http.post(format!("{}{path}", self.base)).bearer_auth(KEY).form(form).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.base)).bearer_auth(KEY).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        let r = self.http.delete(format!("{}{path}", self.base)).bearer_auth(KEY).send().await.unwrap();
        let s = r.status().as_u16();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    pub async fn ok(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let (s, v) = self.post(path, form).await;
        assert_eq!(s, 200, "POST {path} → {v}");
        v
    }
}

/// (signature header, body) pairs, as received.
pub type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A local webhook receiver recording (signature header, body) pairs.
pub struct Receiver {
    pub url: String,
    pub got: Received,
    /// Status to answer (changeable).
    pub status: Arc<std::sync::atomic::AtomicU16>,
}

pub async fn receiver() -> Receiver {
    use axum::extract::State;
    use axum::http::HeaderMap;
    let got: Received = Arc::default();
    let status = Arc::new(std::sync::atomic::AtomicU16::new(200));
    let state = (got.clone(), status.clone());
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State((got, status)): State<(Received, Arc<std::sync::atomic::AtomicU16>)>,
                 headers: HeaderMap,
                 body: String| async move {
                    let sig =
                        headers.get("stripe-signature").and_then(|h| h.to_str().ok()).unwrap_or_default().to_string();
                    got.lock().await.push((sig, body));
                    axum::http::StatusCode::from_u16(status.load(std::sync::atomic::Ordering::SeqCst)).unwrap()
                },
            ),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Receiver { url: format!("http://{addr}/hook"), got, status }
}

impl Receiver {
    /// Event types received so far, in arrival order.
    pub async fn types(&self) -> Vec<String> {
        self.got
            .lock()
            .await
            .iter()
            .map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()["type"].as_str().unwrap().to_string())
            .collect()
    }
    /// Verifies every delivery's signature and parses it with async-stripe's typed `Event`
    /// (data.object as the resource type); panics naming the first event that does not parse.
    pub async fn verify_all(&self, secret: &str) {
        let got = self.got.lock().await.clone();
        assert!(!got.is_empty());
        for (sig, body) in got {
            if let Err(e) = stripe_webhook::Webhook::construct_event(&body, &sig, secret) {
                let v: Value = serde_json::from_str(&body).unwrap();
                panic!(
                    "{} does not parse: {e:?}\n{}",
                    v["type"],
                    serde_json::to_string_pretty(&v["data"]["object"]).unwrap()
                );
            }
        }
    }
    pub async fn events(&self) -> Vec<Value> {
        self.got.lock().await.iter().map(|(_, b)| serde_json::from_str::<Value>(b).unwrap()).collect()
    }
    /// The events of one type received so far, in arrival order.
    pub async fn events_of(&self, kind: &str) -> Vec<Value> {
        self.events().await.into_iter().filter(|e| e["type"] == kind).collect()
    }
    /// Event types received so far that start with one of `prefixes` (the billing ones, say,
    /// without payment method or test clock noise), in arrival order.
    pub async fn types_of(&self, prefixes: &[&str]) -> Vec<String> {
        self.types().await.into_iter().filter(|t| prefixes.iter().any(|prefix| t.starts_with(prefix))).collect()
    }
}

/// Moves a test clock to `t` and waits for the webhooks that sends.
pub async fn advance_clock(sb: &RunningSandbox, raw: &Raw, clock: &str, t: i64) {
    let t = t.to_string();
    raw.ok(&format!("/v1/test_helpers/test_clocks/{clock}/advance"), &[("frozen_time", t.as_str())]).await;
    settle(sb).await;
}

/// A product with one monthly price of `amount` (cents of usd); returns the price id.
pub async fn monthly_price(raw: &Raw, amount: &str) -> String {
    let product = raw.ok("/v1/products", &[("name", "Pro")]).await["id"].as_str().unwrap().to_string();
    let form = [("currency", "usd"), ("unit_amount", amount), ("recurring[interval]", "month"), ("product", &product)];
    raw.ok("/v1/prices", &form).await["id"].as_str().unwrap().to_string()
}

/// Registers a webhook endpoint for every event; returns its secret.
pub async fn register(raw: &Raw, url: &str) -> String {
    let v = raw.ok("/v1/webhook_endpoints", &[("url", url), ("enabled_events[]", "*")]).await;
    v["secret"].as_str().unwrap().to_string()
}

pub async fn settle(sb: &RunningSandbox) {
    assert!(sb.wait_for_deliveries(Duration::from_secs(10), false).await, "deliveries did not settle");
}

/// Asserts `expected` appears in `actual` in this relative order.
pub fn assert_subsequence(actual: &[String], expected: &[&str]) {
    let mut it = actual.iter();
    for e in expected {
        assert!(it.any(|a| a == e), "expected {e} (in order {expected:?}) within {actual:?}");
    }
}
