//! The one place the app talks to Stripe or the sandbox. async-stripe pins the API version
//! (2026-09-30.endive); this adds a per-attempt timeout and retries on 429, 5xx and network
//! errors. Every write carries an idempotency key, the same one on every attempt, so a retried
//! create never creates twice.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use stripe::{IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_client_core::StripeMethod;

use super::shared_reads::SharedReads;

/// How many times a request is tried before its last error is returned.
const MAX_ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// A 429 waits at least this long before its retry: Stripe's limit is per second.
const RATE_LIMITED_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Clone)]
pub struct StripeClient {
    inner: stripe::Client,
    first_backoff: Duration,
    /// Every attempt waits for a slot here first (`Config::stripe_rate_limit`).
    limiter: Option<std::sync::Arc<governor::DefaultDirectRateLimiter>>,
    /// Prefixes every given idempotency key (the installation's id), so installations sharing a
    /// Stripe account never replay each other's requests.
    key_namespace: Option<std::sync::Arc<str>>,
    /// Reads shared by every request of one unit of work (`sharing_reads`).
    shared_reads: Option<std::sync::Arc<SharedReads>>,
    /// Writes made through this client and its clones: a shared read older than one is not
    /// served again.
    writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Since when Stripe has not answered (unix seconds; 0 while it answers), shared by every
    /// clone: the "Stripe unreachable" alert reads it.
    failing_since: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// The connected account every request acts on (`Stripe-Account`), see [`Self::on_account`].
    account: Option<stripe_shared::AccountId>,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The inner client holds the secret key: never print it.
        f.debug_struct("StripeClient").finish_non_exhaustive()
    }
}

impl StripeClient {
    /// `api_base` points the client at the sandbox (or any Stripe-compatible server).
    pub fn new(secret_key: &SecretString, api_base: Option<&str>) -> Result<Self, StripeError> {
        let mut builder = stripe::ClientBuilder::new(secret_key.expose_secret())
            .timeout(Duration::from_secs(30))
            .app_info("tollgate", Some(env!("CARGO_PKG_VERSION").to_string()), None);
        if let Some(base) = api_base {
            builder = builder.url(base.trim_end_matches('/'));
        }
        Ok(Self {
            inner: builder.build()?,
            first_backoff: FIRST_BACKOFF,
            limiter: None,
            key_namespace: None,
            shared_reads: None,
            writes: Default::default(),
            failing_since: Default::default(),
            account: None,
        })
    }

    /// Sends at most `per_second` requests per second (attempts and retries included); the
    /// others wait their turn instead of drawing Stripe's 429.
    pub fn with_rate_limit(mut self, per_second: Option<std::num::NonZeroU32>) -> Self {
        self.limiter =
            per_second.map(|n| std::sync::Arc::new(governor::RateLimiter::direct(governor::Quota::per_second(n))));
        self
    }

    /// Every idempotency key this client sends starts with `namespace`.
    pub fn with_key_namespace(mut self, namespace: &str) -> Self {
        self.key_namespace = Some(namespace.into());
        self
    }

    /// A client for one unit of work (a webhook batch) whose reads of the same object share one
    /// request; see `shared_reads`. A write through any clone makes later reads fetch again.
    pub fn sharing_reads(&self) -> Self {
        Self { shared_reads: Some(Default::default()), ..self.clone() }
    }

    /// A client whose requests act on the connected account `account` (Stripe's `Stripe-Account`
    /// header): direct charges, and re-reading what a Connect event is about. Shares the
    /// limiter, the namespace and the batch's reads (kept apart per account).
    pub fn on_account(&self, account: &str) -> Self {
        Self { account: Some(stripe_shared::AccountId::from(account)), ..self.clone() }
    }

    /// The same client acting on the platform's own account: what a connected account's charge
    /// points to there (its transfer, the application fee) is read on the platform.
    pub fn on_platform(&self) -> Self {
        Self { account: None, ..self.clone() }
    }

    /// The connected account this client acts on, if any.
    pub fn account(&self) -> Option<&str> {
        self.account.as_ref().map(|id| id.as_str())
    }

    /// The key sent for `key`: namespaced when the client has a namespace.
    pub fn idempotency_key(&self, key: &str) -> String {
        match &self.key_namespace {
            Some(namespace) => format!("{namespace}-{key}"),
            None => key.to_owned(),
        }
    }

    /// Sends `request`, retrying transient failures. Writes use `idempotency_key` when given (derive
    /// it from what the write means, e.g. user + price + time bucket) and a fresh random key
    /// otherwise; either way every attempt reuses it.
    pub async fn send<R>(&self, request: &R, idempotency_key: Option<&str>) -> Result<R::Output, StripeError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize + Clone + Send + Sync + 'static,
    {
        // Boxed: async-stripe's request futures are large, and a page's server function nests
        // several of these calls deep in a debug build's stack.
        let built = request.build();
        if !matches!(built.method, StripeMethod::Get) {
            let result = Box::pin(self.send_each_time(request, built.method, idempotency_key)).await;
            self.writes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return result;
        }
        let Some(shared) = &self.shared_reads else {
            return Box::pin(self.send_each_time(request, built.method, None)).await;
        };
        let key = format!("{}{}?{}", self.account().unwrap_or_default(), built.path, built.query.unwrap_or_default());
        let writes = self.writes.load(std::sync::atomic::Ordering::SeqCst);
        match Box::pin(shared.get_or_read(key, writes, self.send_each_time(request, built.method, None))).await {
            Some(answer) => answer,
            // An earlier read of this path parsed into another type: read it for this type.
            None => Box::pin(self.send_each_time(request, built.method, None)).await,
        }
    }

    /// Sends `request` (whose method `send` has read) with its retries, never shared.
    async fn send_each_time<R>(
        &self,
        request: &R,
        method: StripeMethod,
        idempotency_key: Option<&str>,
    ) -> Result<R::Output, StripeError>
    where
        R: StripeRequest,
        R::Output: miniserde::Deserialize,
    {
        let strategy = match method {
            StripeMethod::Post | StripeMethod::Delete => {
                let key = match idempotency_key {
                    Some(key) => IdempotencyKey::new(self.idempotency_key(key))
                        .map_err(|e| StripeError::ConfigError(e.to_string()))?,
                    None => IdempotencyKey::new(uuid::Uuid::new_v4().to_string()).expect("a uuid is a valid key"),
                };
                RequestStrategy::Idempotent(key)
            }
            StripeMethod::Get => RequestStrategy::Once,
        };
        let mut attempt = 1;
        loop {
            if let Some(limiter) = &self.limiter {
                limiter.until_ready().await;
            }
            let mut customized = request.customize().request_strategy(strategy.clone());
            if let Some(account) = &self.account {
                customized = customized.account_id(account.clone());
            }
            let result = customized.send(&self.inner).await;
            match result {
                Err(err) if attempt < MAX_ATTEMPTS && is_transient(&err) => {
                    let mut backoff = self.first_backoff * 2u32.pow(attempt - 1);
                    if is_rate_limited(&err) {
                        backoff = backoff.max(RATE_LIMITED_BACKOFF);
                    }
                    let backoff = jittered(backoff);
                    tracing::warn!(attempt, ?backoff, error = %short(&err), "stripe request failed, retrying");
                    tokio::time::sleep(backoff).await;
                    attempt += 1;
                }
                other => {
                    self.note_answer(other.as_ref().err());
                    return other;
                }
            }
        }
    }

    /// Records whether Stripe answered the last request: a success or a refusal is an answer;
    /// no answer at all (network, timeout) or Stripe's own failure (5xx, 429) is not.
    fn note_answer(&self, error: Option<&StripeError>) {
        use std::sync::atomic::Ordering;
        let unanswered = error.is_some_and(|err| {
            matches!(err, StripeError::ClientError(_) | StripeError::Timeout | StripeError::Stripe(_, 429 | 500..=599))
        });
        if unanswered {
            let now = crate::server::db::now();
            let _ = self.failing_since.compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        } else {
            self.failing_since.store(0, Ordering::Relaxed);
        }
    }

    /// How long (seconds, as of `now`) Stripe has failed every request since it last answered;
    /// 0 when its last answer came.
    pub fn unanswered_secs(&self, now: i64) -> i64 {
        match self.failing_since.load(std::sync::atomic::Ordering::Relaxed) {
            0 => 0,
            since => (now - since).max(1),
        }
    }
}

/// `backoff` plus up to half of it again, at random: instances that failed together (a Stripe
/// incident, a 429 wave) do not all retry in the same instant.
fn jittered(backoff: Duration) -> Duration {
    use rand::Rng;
    let extra = rand::thread_rng().gen_range(0..=backoff.as_millis() as u64 / 2);
    backoff + Duration::from_millis(extra)
}

/// Worth retrying with the same idempotency key: rate limits, Stripe's own failures, a key still in
/// flight (409 lock), and anything that never got an answer.
pub fn is_transient(err: &StripeError) -> bool {
    match err {
        StripeError::Stripe(_, status) => matches!(status, 409 | 429 | 500..=599),
        StripeError::ClientError(_) | StripeError::Timeout => true,
        StripeError::JSONDeserialize(_) | StripeError::ConfigError(_) => false,
    }
}

/// The Stripe error anywhere in `err`'s chain of causes, if Stripe's client raised one.
pub fn stripe_cause(err: &anyhow::Error) -> Option<&StripeError> {
    err.chain().find_map(|cause| cause.downcast_ref::<StripeError>())
}

/// Stripe refused the request for its rate limit (429).
pub fn is_rate_limited(err: &StripeError) -> bool {
    matches!(err, StripeError::Stripe(_, 429))
}

/// Stripe's message without the request body or any key material.
pub fn short(err: &StripeError) -> String {
    match err {
        StripeError::Stripe(api, status) => format!(
            "{status} {}: {}",
            api.code.as_ref().map(|c| c.as_str().to_string()).unwrap_or_else(|| "error".into()),
            api.message.as_deref().unwrap_or("")
        ),
        other => other.to_string(),
    }
}

/// Whether Stripe answered that the object does not exist.
pub fn is_not_found(err: &anyhow::Error) -> bool {
    err.downcast_ref::<StripeError>().and_then(api_error).is_some_and(|(status, _)| status == 404)
}

/// Stripe's status code and error code, when Stripe answered.
pub fn api_error(err: &StripeError) -> Option<(u16, Option<String>)> {
    match err {
        StripeError::Stripe(api, status) => Some((*status, api.code.as_ref().map(|c| c.as_str().to_string()))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stripe_is_unanswered_from_its_first_failure_until_it_answers() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let mut client = StripeClient::new(&SecretString::from("sk_test_x".to_owned()), Some(&base)).unwrap();
        client.first_backoff = Duration::from_millis(1);
        let now = crate::server::db::now();
        assert_eq!(client.unanswered_secs(now), 0, "nothing asked yet");
        let list = stripe_product::price::ListPrice::new();
        assert!(client.send(&list, None).await.is_err(), "nobody listens there");
        assert!(client.unanswered_secs(now + 60) >= 60, "failing since the first failure");
        let clone = client.clone();
        assert!(clone.send(&list, None).await.is_err());
        assert!(client.unanswered_secs(now + 60) >= 60, "a later failure keeps the start, in every clone");
        client.note_answer(None);
        assert_eq!(clone.unanswered_secs(now + 60), 0, "any answer resets it");
    }

    #[test]
    fn retries_wait_their_backoff_plus_a_random_share_of_it() {
        let base = Duration::from_millis(400);
        let waits: Vec<Duration> = (0..64).map(|_| jittered(base)).collect();
        assert!(waits.iter().all(|w| (base..=base + base / 2).contains(w)), "{waits:?}");
        let distinct: std::collections::HashSet<_> = waits.iter().collect();
        assert!(distinct.len() > 8, "spread, not one instant: {distinct:?}");
    }
}
