//! The shared application: state lock, delivery queue, config, and the HTTP entry for `/v1`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::delivery::{Attempt, Chaos};
use crate::error::ApiError;
use crate::state::{Ctx, Delivery, IdemEntry, State, PLATFORM};
use crate::util::new_id;

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
}

impl App {
    pub fn new(config: SandboxConfig, state: State) -> (Arc<App>, mpsc::UnboundedReceiver<Delivery>) {
        let (tx, rx) = mpsc::unbounded_channel();
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
        });
        (app, rx)
    }

    /// Runs `f` with a context on the state, then stores events and queues their deliveries.
    pub fn with_ctx<R>(&self, acct: &str, base: &str, f: impl FnOnce(&mut Ctx) -> R) -> R {
        let (r, deliveries) = {
            let mut st = self.state.lock();
            let mut cx = Ctx::new(&mut st, acct, base);
            let r = f(&mut cx);
            let d = cx.flush_events();
            (r, d)
        };
        self.dirty.store(true, Ordering::Release);
        self.send(deliveries);
        r
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
        let mut st = self.state.lock();
        let mut cx = Ctx::new(&mut st, &d.account, "");
        if let Some(ev) = cx.get_mut("event", &d.event_id) {
            let n = ev["pending_webhooks"].as_i64().unwrap_or(0);
            ev["pending_webhooks"] = (n - 1).max(0).into();
        }
        self.dirty.store(true, Ordering::Release);
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
            let st = self.state.lock();
            serde_json::to_vec(&*st)?
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

// ---------------------------------------------------------------------------------------------
// `/v1/*`

fn json_response(status: StatusCode, body: String, request_id: &str, replayed: bool) -> Response {
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, "application/json".parse().expect("header"));
    h.insert("request-id", request_id.parse().expect("header"));
    h.insert("stripe-version", crate::state::API_VERSION.parse().expect("header"));
    if replayed {
        h.insert("idempotent-replayed", "true".parse().expect("header"));
    }
    resp
}

fn error_response(e: &ApiError, request_id: &str) -> Response {
    let mut body = e.body();
    body["error"]["request_log_url"] = format!("https://dashboard.stripe.com/test/logs/{request_id}").into();
    json_response(e.status_code(), body.to_string(), request_id, false)
}

/// Extracts the API key from `Authorization: Bearer …` or basic auth.
pub fn api_key(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    if let Some(token) = v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")) {
        return Some(token.trim().to_string());
    }
    if let Some(b) = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")) {
        let decoded = base64::engine::general_purpose::STANDARD.decode(b.trim()).ok()?;
        let s = String::from_utf8(decoded).ok()?;
        return Some(s.split(':').next().unwrap_or_default().to_string());
    }
    None
}

pub fn check_key(headers: &HeaderMap) -> Result<(), ApiError> {
    match api_key(headers) {
        None => Err(ApiError::unauthorized(
            "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )),
        Some(k) if (k.starts_with("sk_test_") || k.starts_with("rk_test_")) && k.len() > 8 => Ok(()),
        Some(k) => {
            let shown = if k.len() > 8 { format!("{}{}", &k[..8], "*".repeat(4)) } else { k.clone() };
            Err(ApiError::unauthorized(format!("Invalid API Key provided: {shown}")).with_code("api_key_invalid"))
        }
    }
}

/// Takes a matching fault, if any (decrementing its count).
fn take_fault(app: &App, method: &Method, path: &str) -> Option<Fault> {
    let mut faults = app.faults.lock();
    let idx = faults.iter().position(|f| {
        path.contains(&f.path)
            && f.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
            && f.times > 0
    })?;
    let f = faults[idx].clone();
    faults[idx].times -= 1;
    if faults[idx].times == 0 {
        faults.remove(idx);
    }
    Some(f)
}

pub async fn api_entry(
    AxState(app): AxState<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_id("req");
    if let Err(e) = check_key(&headers) {
        return error_response(&e, &request_id);
    }
    let path = uri.path().to_string();
    if let Some(f) = take_fault(&app, &method, &path) {
        if let Some(ms) = f.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(status) = f.status {
            let e = if status == 429 {
                ApiError::rate_limited()
            } else {
                let mut e = ApiError::internal();
                e.status = status;
                e
            };
            return error_response(&e, &request_id);
        }
    }
    let body_str = String::from_utf8_lossy(&body).to_string();
    let query = uri.query().unwrap_or("").to_string();
    let params = if method == Method::GET || method == Method::DELETE && body_str.is_empty() {
        crate::form::parse(&query)
    } else {
        let mut p = crate::form::parse(&body_str);
        // Stripe also reads query parameters on POST (e.g. `expand[]` in the URL).
        if !query.is_empty() {
            if let (Value::Object(pm), Value::Object(qm)) = (&mut p, crate::form::parse(&query)) {
                for (k, v) in qm {
                    pm.entry(k).or_insert(v);
                }
            }
        }
        p
    };
    let acct = headers.get("stripe-account").and_then(|h| h.to_str().ok()).unwrap_or(PLATFORM).to_string();
    let idem_key = headers.get("idempotency-key").and_then(|h| h.to_str().ok()).map(str::to_string);
    let base = app.base_url(&headers);
    let segs: Vec<String> =
        path.trim_start_matches("/v1/").split('/').filter(|s| !s.is_empty()).map(|s| s.to_string()).collect();
    let is_write = method == Method::POST || method == Method::DELETE;

    let (status, text, replayed) = app.with_ctx(&acct, &base, |cx| {
        cx.request_id = Some(request_id.clone());
        let idem_slot = match (&idem_key, is_write) {
            (Some(k), true) => Some(format!("{}|{}", cx.acct, k)),
            _ => None,
        };
        if let Some(slot) = &idem_slot {
            let now = cx.now();
            if let Some(prev) = cx.st.idempotency.get(slot) {
                if now - prev.created < 86_400 {
                    if prev.method != method.as_str() || prev.path != path || prev.body != body_str {
                        let e = ApiError::idempotency(format!(
                            "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{}' if you meant to execute a different request.",
                            idem_key.as_deref().unwrap_or_default()
                        ));
                        return (e.status, e.body().to_string(), false);
                    }
                    return (prev.status, prev.response.clone(), true);
                }
            }
            cx.idem_key = idem_key.clone();
        }
        let segs_ref: Vec<&str> = segs.iter().map(String::as_str).collect();
        let (status, text) = match crate::api::route(cx, &method, &segs_ref, &params) {
            Ok(mut v) => {
                let expand = crate::state::p_strings(&params, "expand");
                if !expand.is_empty() {
                    crate::state::expand(cx, &mut v, &expand);
                }
                (200u16, v.to_string())
            }
            Err(e) => (e.status, e.body().to_string()),
        };
        if let Some(slot) = idem_slot {
            if status < 500 && status != 429 {
                let now = cx.now();
                cx.st.idempotency.insert(
                    slot,
                    IdemEntry { method: method.to_string(), path: path.clone(), body: body_str.clone(), status, response: text.clone(), created: now },
                );
            }
        }
        (status, text, false)
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_client_error() || status.is_server_error() {
        // Add the request log URL like Stripe does.
        if let Ok(mut v) = serde_json::from_str::<Value>(&text) {
            if v.get("error").is_some() {
                v["error"]["request_log_url"] = format!("https://dashboard.stripe.com/test/logs/{request_id}").into();
                return json_response(status, v.to_string(), &request_id, replayed);
            }
        }
    }
    json_response(status, text, &request_id, replayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn keys_bearer_and_basic() {
        assert!(check_key(&headers("Bearer sk_test_123")).is_ok());
        let basic = base64::engine::general_purpose::STANDARD.encode("sk_test_abc:");
        assert!(check_key(&headers(&format!("Basic {basic}"))).is_ok());
        assert_eq!(check_key(&headers("Bearer sk_live_123")).unwrap_err().status, 401);
        assert_eq!(check_key(&headers("Bearer pk_test_123")).unwrap_err().status, 401);
        assert_eq!(check_key(&HeaderMap::new()).unwrap_err().status, 401);
    }
}
