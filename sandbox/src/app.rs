//! The shared application: state lock, delivery queue, config, faults; what every handler and
//! background task works through.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use axum::http::{header, HeaderMap};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::delivery::{Attempt, Chaos};
use crate::store::{Ctx, Delivery, State, PLATFORM};

/// How the sandbox runs. `SandboxConfig::default()` suits tests: in memory, real-time
/// webhook retries compressed to milliseconds are set with [`SandboxConfig::fast_retries`].
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// JSON file holding the state: loaded at start, saved after changes and on shutdown.
    pub data_file: Option<PathBuf>,
    /// The base URL the sandbox puts in `url` fields (hosted pages). Default: `http://{Host}`.
    pub public_url: Option<String>,
    /// Waits between webhook delivery attempts (attempt n+1 after `schedule[n-1]`).
    pub webhook_retry_schedule: Vec<Duration>,
    /// Timeout of one webhook delivery.
    pub webhook_timeout: Duration,
    /// Chaos switches for webhook delivery at start.
    pub chaos: Chaos,
    /// How often the sandbox-wide clock's due work (renewals, expiries) runs.
    pub tick_interval: Duration,
    /// Offset (seconds) applied to the sandbox-wide clock at start (ignored when a data file
    /// already holds one).
    pub clock_offset: i64,
    /// API requests per second above which the sandbox answers 429 `rate_limit`, as Stripe does
    /// above its limits (about 100/s live, 25/s in test mode). `None`: no limit.
    pub rate_limit_per_sec: Option<std::num::NonZeroU32>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            data_file: None,
            public_url: None,
            webhook_retry_schedule: crate::delivery::default_retry_schedule(1.0),
            webhook_timeout: Duration::from_secs(10),
            chaos: Chaos::default(),
            tick_interval: Duration::from_secs(1),
            clock_offset: 0,
            rate_limit_per_sec: None,
        }
    }
}

impl SandboxConfig {
    /// Webhook retries after 10 ms, 20 ms, 40 ms… (8 retries): for tests.
    pub fn fast_retries(mut self) -> Self {
        self.webhook_retry_schedule = (0..8).map(|i| Duration::from_millis(10 << i)).collect();
        self
    }
    pub fn with_data_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.data_file = Some(path.into());
        self
    }
}

/// A fault injected into API calls: requests whose path contains `path` (and method matches,
/// if given) get `status` (429 or 500…) and/or wait `delay_ms`, `times` times.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Fault {
    pub path: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

pub struct App {
    pub state: Mutex<State>,
    pub config: SandboxConfig,
    pub tx: mpsc::UnboundedSender<Delivery>,
    pub chaos: Mutex<Chaos>,
    pub faults: Mutex<Vec<Fault>>,
    pub attempts: Mutex<Vec<Attempt>>,
    pub dirty: AtomicBool,
    /// Deliveries queued or being sent.
    pub inflight: AtomicUsize,
    /// Deliveries waiting for a retry.
    pub retrying: AtomicUsize,
    pub default_base: Mutex<String>,
    /// One lock per idempotency slot (`account|key`) with a request running.
    idempotency_slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The API rate limit (`SandboxConfig::rate_limit_per_sec`, or set by `/_sandbox/rate_limit`).
    pub rate_limiter: Mutex<Option<RateLimit>>,
    /// API requests answered, and those refused by the rate limit (`/_sandbox/requests`).
    pub requests_served: AtomicUsize,
    pub requests_rate_limited: AtomicUsize,
    /// Requests served by method and resource (`GET /v1/invoices`), ids left out.
    pub requests_by_resource: Mutex<std::collections::BTreeMap<String, usize>>,
}

/// Stripe's API rate limit: requests per second, and the limiter counting them.
#[derive(Clone)]
pub struct RateLimit {
    pub per_second: std::num::NonZeroU32,
    pub limiter: Arc<governor::DefaultDirectRateLimiter>,
}

impl RateLimit {
    pub fn new(per_second: std::num::NonZeroU32) -> Self {
        Self { per_second, limiter: Arc::new(governor::RateLimiter::direct(governor::Quota::per_second(per_second))) }
    }
}

impl App {
    pub fn new(config: SandboxConfig, state: State) -> (Arc<App>, mpsc::UnboundedReceiver<Delivery>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let rate_limiter = config.rate_limit_per_sec.map(RateLimit::new);
        let app = Arc::new(App {
            state: Mutex::new(state),
            chaos: Mutex::new(config.chaos.clone()),
            config,
            tx,
            faults: Mutex::new(Vec::new()),
            attempts: Mutex::new(Vec::new()),
            dirty: AtomicBool::new(false),
            inflight: AtomicUsize::new(0),
            retrying: AtomicUsize::new(0),
            default_base: Mutex::new(String::new()),
            idempotency_slots: Mutex::new(HashMap::new()),
            rate_limiter: Mutex::new(rate_limiter),
            requests_served: AtomicUsize::new(0),
            requests_rate_limited: AtomicUsize::new(0),
            requests_by_resource: Default::default(),
        });
        (app, rx)
    }

    /// Runs `f` with a context on the state, then stores events and queues their deliveries.
    pub fn with_ctx<R>(&self, account: &str, base: &str, handle: impl FnOnce(&mut Ctx) -> R) -> R {
        let (result, deliveries) = {
            let mut state = self.state.lock();
            let mut ctx = Ctx::new(&mut state, account, base);
            let result = handle(&mut ctx);
            let deliveries = crate::engine::finish(&mut ctx);
            (result, deliveries)
        };
        self.dirty.store(true, Ordering::Release);
        self.send(deliveries);
        result
    }

    /// The lock of an idempotency slot, so that requests with one key run one at a time.
    pub fn idempotency_slot(&self, slot: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.idempotency_slots.lock().entry(slot.to_string()).or_default().clone()
    }

    /// Forgets the locks of slots no request holds any more.
    pub fn release_idempotency_slots(&self) {
        self.idempotency_slots.lock().retain(|_, lock| Arc::strong_count(lock) > 1);
    }

    pub fn send(&self, deliveries: Vec<Delivery>) {
        for d in deliveries {
            self.inflight.fetch_add(1, Ordering::SeqCst);
            if self.tx.send(d).is_err() {
                self.inflight.fetch_sub(1, Ordering::SeqCst);
            }
        }
    }

    pub fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.config.public_url {
            return u.trim_end_matches('/').to_string();
        }
        match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(host) => format!("http://{host}"),
            None => self.default_base.lock().clone(),
        }
    }

    /// A delivery got a 2xx: the event has one webhook fewer pending.
    pub fn delivered(&self, d: &Delivery) {
        let mut state = self.state.lock();
        let mut ctx = Ctx::new(&mut state, &d.account, "");
        if let Some(ev) = ctx.get_mut("event", &d.event_id) {
            let n = ev["pending_webhooks"].as_i64().unwrap_or(0);
            ev["pending_webhooks"] = (n - 1).max(0).into();
        }
        self.dirty.store(true, Ordering::Release);
    }

    /// Whether a webhook endpoint still exists and is enabled (endpoints live on the platform).
    pub fn endpoint_enabled(&self, endpoint_id: &str) -> bool {
        let state = self.state.lock();
        state
            .accounts
            .get(PLATFORM)
            .and_then(|account| account.collections.get("webhook_endpoint"))
            .and_then(|endpoints| endpoints.map.get(endpoint_id))
            .is_some_and(|endpoint| endpoint["status"] == "enabled")
    }

    /// Every retry failed; Stripe keeps the event as pending forever, so do we.
    pub fn gave_up(&self, d: &Delivery) {
        tracing::warn!(event = %d.event_id, url = %d.url, "webhook delivery failed after all retries");
    }

    /// Waits until no delivery is queued or being sent (and, if `retries`, none waiting for a
    /// retry), or until `timeout`. Returns whether it became idle.
    pub async fn wait_idle(&self, timeout: Duration, retries: bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let busy =
                self.inflight.load(Ordering::SeqCst) > 0 || (retries && self.retrying.load(Ordering::SeqCst) > 0);
            if !busy {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub fn save(&self) -> anyhow::Result<()> {
        let Some(path) = &self.config.data_file else { return Ok(()) };
        let json = {
            let state = self.state.lock();
            serde_json::to_vec(&*state)?
        };
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

/// Loads the state file if it exists.
pub fn load_state(config: &SandboxConfig) -> anyhow::Result<State> {
    if let Some(path) = &config.data_file {
        if path.exists() {
            let bytes = std::fs::read(path)?;
            if !bytes.is_empty() {
                return Ok(serde_json::from_slice(&bytes)?);
            }
        }
    }
    Ok(State { clock_offset: config.clock_offset, ..State::default() })
}
