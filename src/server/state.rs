//! Application state shared by handlers and server functions.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use secrecy::SecretString;

use crate::server::{
    auth::LoginLimiter,
    billing::price_book::Prices,
    config::{Config, StripeMode},
    db::Db,
    instances::{leader::Leadership, InstanceId},
    stripe::client::StripeClient,
};

/// Cloned for every request (each `State` extractor and stateful middleware takes a copy): one
/// reference count, not a copy of every field.
#[derive(Clone)]
pub struct AppState(Arc<AppStateFields>);

impl AppState {
    pub fn new(fields: AppStateFields) -> Self {
        Self(Arc::new(fields))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppStateFields;

    fn deref(&self) -> &AppStateFields {
        &self.0
    }
}

pub struct AppStateFields {
    pub leptos_options: LeptosOptions,
    pub db: Db,
    pub config: Arc<Config>,
    pub stripe: StripeRuntime,
    pub login_limiter: Arc<LoginLimiter>,
    /// Per-client-network limits on sign-up, Checkout, portal and password reset.
    pub abuse: Arc<crate::server::http::abuse::AbuseLimiter>,
    pub stripe_client: StripeClient,
    /// Secrets a webhook signature may match: `STRIPE_WEBHOOK_SECRET`'s, plus the one the
    /// embedded sandbox issued when the app registered its endpoint.
    pub webhook_secrets: Arc<Vec<SecretString>>,
    /// Secrets of the Connect endpoint: `STRIPE_CONNECT_WEBHOOK_SECRET`'s, plus the embedded
    /// sandbox's.
    pub connect_webhook_secrets: Arc<Vec<SecretString>>,
    /// Wakes the webhook worker when a new event is stored.
    pub inbox_notify: Arc<tokio::sync::Notify>,
    /// The catalog with its Stripe price ids, resolved at start.
    pub prices: Prices,
    /// Stores webhook deliveries in group commits.
    pub inbox: crate::server::webhooks::inbox::InboxWriter,
    /// This process among the instances sharing the database (claims and leases carry it).
    pub instance: InstanceId,
    /// Whether this instance runs the periodic jobs now.
    pub leadership: Leadership,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The Stripe the app talks to, resolved at start (the embedded sandbox's URL included).
#[derive(Clone, Debug)]
pub struct StripeRuntime {
    pub mode: StripeMode,
    /// e.g. `https://api.stripe.com` or `http://127.0.0.1:PORT` for the sandbox.
    pub api_base: String,
    pub secret_key: SecretString,
    pub publishable_key: Option<String>,
}
