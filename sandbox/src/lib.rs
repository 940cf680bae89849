#![recursion_limit = "512"]
// Stripe errors are answered whole (status, type, code, param, message…); they are built once
// per failed request, so their size does not matter.
#![allow(clippy::result_large_err)]
//! A Stripe-compatible API server for offline development and tests.
//!
//! Embed it with [`start`] (or [`start_with`] and a [`SandboxConfig`]), point a Stripe client at
//! [`RunningSandbox::base_url`] with any `sk_test_…` key, and drive time with
//! [`RunningSandbox::advance_clock`] or Stripe's test clocks. See `sandbox/README.md`.

pub mod api;
pub mod app;
pub mod cards;
pub mod control;
pub mod delivery;
pub mod engine;
pub mod error;
pub mod form;
pub mod middleware;
pub mod objects;
pub mod pages;
pub mod store;
pub mod util;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::any;
use axum::Router;

pub use app::{Fault, SandboxConfig};
pub use delivery::{Attempt, Chaos};
pub use store::{DunningFinal, Settings};

use app::App;

/// A running sandbox: its address, and handles to drive and stop it.
pub struct RunningSandbox {
    pub addr: SocketAddr,
    app: Arc<App>,
    handles: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT` — the API base (`/v1/...`) and the hosted pages' origin.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving at once (state is not saved; see [`RunningSandbox::shutdown`]).
    pub fn abort(self) {
        for h in &self.handles {
            h.abort();
        }
    }

    /// Saves the state file (if any) and stops.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let r = self.app.save();
        for h in &self.handles {
            h.abort();
        }
        r
    }

    /// Saves the state file now (no-op without one).
    pub fn save(&self) -> anyhow::Result<()> {
        self.app.save()
    }

    /// The sandbox-wide clock (unix seconds).
    pub fn now(&self) -> i64 {
        self.app.state.lock().now()
    }

    /// A handle on the sandbox-wide clock, for a process that lives in the sandbox's time.
    pub fn clock(&self) -> impl Fn() -> i64 + Send + Sync + 'static {
        let app = Arc::clone(&self.app);
        move || app.state.lock().now()
    }

    /// Moves the sandbox-wide clock forward by `secs` and runs every renewal, retry, trial end and
    /// expiry that falls due on it (customers without a test clock), in order.
    pub fn advance_clock(&self, secs: i64) -> i64 {
        control::advance(&self.app, secs)
    }

    /// Every webhook delivery attempt so far, oldest first.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.app.attempts.lock().clone()
    }

    /// Waits until no webhook delivery is queued or in flight (retries waiting included when
    /// `retries`). Returns false on timeout.
    pub async fn wait_for_deliveries(&self, timeout: Duration, retries: bool) -> bool {
        self.app.wait_idle(timeout, retries).await
    }

    pub fn set_chaos(&self, chaos: Chaos) {
        *self.app.chaos.lock() = chaos;
    }

    pub fn add_fault(&self, fault: Fault) {
        self.app.faults.lock().push(fault);
    }

    pub fn set_settings(&self, settings: Settings) {
        self.app.state.lock().settings = settings;
    }

    /// Number of deliveries queued or being sent right now.
    pub fn deliveries_in_flight(&self) -> usize {
        self.app.inflight.load(Ordering::SeqCst)
    }
}

/// The HTTP routes: `/v1/*` (Stripe's API), hosted pages, and `/_sandbox/*` (control API).
pub fn router_for(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/v1/{*rest}",
            // The last layer added runs first: CORS, request log, key, rate limit, faults,
            // idempotency, entry.
            any(api::entry::entry)
                .layer(from_fn_with_state(app.clone(), middleware::idempotency))
                .layer(from_fn_with_state(app.clone(), middleware::inject_faults))
                .layer(from_fn_with_state(app.clone(), middleware::rate_limit))
                .layer(from_fn(middleware::check_api_key))
                .layer(from_fn(middleware::request_log))
                .layer(from_fn(middleware::cors)),
        )
        .merge(pages::routes())
        .merge(control::routes())
        .with_state(app)
}

/// A router on a fresh in-memory sandbox (no background tasks: deliveries queue up unsent).
pub fn router() -> Router {
    let (app, _rx) = App::new(SandboxConfig::default(), store::State::default());
    router_for(app)
}

/// Starts the sandbox on `addr` (port 0 picks a free one) with the default configuration.
pub async fn start(addr: SocketAddr) -> anyhow::Result<RunningSandbox> {
    start_with(addr, SandboxConfig::default()).await
}

/// Starts the sandbox with a configuration (state file, retry schedule, chaos…).
pub async fn start_with(addr: SocketAddr, config: SandboxConfig) -> anyhow::Result<RunningSandbox> {
    let state = app::load_state(&config)?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (app, rx) = App::new(config, state);
    *app.default_base.lock() = format!("http://{addr}");
    let mut handles = Vec::new();
    handles.push(delivery::spawn_worker(app.clone(), rx));
    let server_app = app.clone();
    // TCP_NODELAY: without it small responses wait for delayed ACKs (~40 ms per request).
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    handles.push(tokio::spawn(async move {
        let _ = axum::serve(listener, router_for(server_app)).await;
    }));
    // Sandbox-wide clock: due work, idempotency key expiry, periodic saves.
    let tick_app = app.clone();
    handles.push(tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick_app.config.tick_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            control::tick(&tick_app);
            if tick_app.dirty.swap(false, Ordering::AcqRel) {
                if let Err(e) = tick_app.save() {
                    tracing::warn!(error = %e, "saving sandbox state failed");
                }
            }
        }
    }));
    Ok(RunningSandbox { addr, app, handles })
}
