//! Signed webhook delivery with retries and chaos switches.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, Semaphore};

use crate::app::App;
use crate::store::{wall_now, Delivery};
use crate::util::signature_header;

/// Switches that make delivery less polite, for chaos tests.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Chaos {
    /// Share (0.0–1.0) of deliveries sent twice.
    pub duplicate_share: f64,
    /// Deliveries are gathered in batches of up to this many and shuffled (1 = in order).
    pub reorder_window: usize,
    /// Delay before each send, in milliseconds.
    pub delay_ms: u64,
    /// How many deliveries may be in flight at once (1 = strictly sequential).
    pub concurrency: usize,
}

impl Default for Chaos {
    fn default() -> Self {
        Self { duplicate_share: 0.0, reorder_window: 1, delay_ms: 0, concurrency: 1 }
    }
}

/// One attempt to deliver an event to an endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attempt {
    pub event_id: String,
    pub event_type: String,
    pub endpoint_id: String,
    pub url: String,
    pub attempt: u32,
    /// HTTP status answered, if any.
    pub status: Option<u16>,
    pub error: Option<String>,
    pub succeeded: bool,
    pub duplicate: bool,
    /// Wall-clock unix seconds of the attempt (the signature's `t`).
    pub at: i64,
    pub signature: String,
}

pub fn spawn_worker(app: Arc<App>, mut rx: mpsc::UnboundedReceiver<Delivery>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .timeout(app.config.webhook_timeout)
            .user_agent("Stripe/1.0 (+https://stripe.com/docs/webhooks)")
            .build()
            .expect("http client");
        while let Some(first) = rx.recv().await {
            let chaos = app.chaos.lock().clone();
            let mut batch = vec![(first, false)];
            if chaos.reorder_window > 1 {
                // Gather what arrives shortly after, then shuffle it.
                let deadline = tokio::time::Instant::now() + Duration::from_millis(30);
                while batch.len() < chaos.reorder_window {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(d)) => batch.push((d, false)),
                        _ => break,
                    }
                }
                batch.shuffle(&mut rand::thread_rng());
            }
            if chaos.duplicate_share > 0.0 {
                let mut with_dups = Vec::with_capacity(batch.len() * 2);
                for (d, _) in batch {
                    let dup = rand::thread_rng().gen_bool(chaos.duplicate_share.clamp(0.0, 1.0));
                    if dup {
                        app.inflight.fetch_add(1, Ordering::SeqCst);
                        with_dups.push((d.clone(), true));
                    }
                    with_dups.push((d, false));
                }
                batch = with_dups;
            }
            let concurrency = chaos.concurrency.max(1);
            if concurrency == 1 {
                for (d, dup) in batch {
                    send_one(&app, &client, d, dup, chaos.delay_ms).await;
                }
            } else {
                let sem = Arc::new(Semaphore::new(concurrency));
                let mut handles = Vec::new();
                for (d, dup) in batch {
                    let permit = sem.clone().acquire_owned().await.expect("semaphore");
                    let app = app.clone();
                    let client = client.clone();
                    let delay = chaos.delay_ms;
                    handles.push(tokio::spawn(async move {
                        send_one(&app, &client, d, dup, delay).await;
                        drop(permit);
                    }));
                }
                for h in handles {
                    let _ = h.await;
                }
            }
        }
    })
}

async fn send_one(app: &Arc<App>, client: &reqwest::Client, d: Delivery, duplicate: bool, delay_ms: u64) {
    if delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    }
    // An endpoint deleted or disabled since the event was queued gets nothing more, retries
    // included.
    if !app.endpoint_enabled(&d.endpoint_id) {
        app.inflight.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    let t = wall_now();
    let signature = signature_header(&d.secret, t, &d.payload);
    let result = client
        .post(&d.url)
        .header("content-type", "application/json; charset=utf-8")
        .header("stripe-signature", &signature)
        .header("cache-control", "no-cache")
        .body(d.payload.clone())
        .send()
        .await;
    let (status, error) = match result {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let succeeded = status.is_some_and(|s| (200..300).contains(&s));
    app.attempts.lock().push(Attempt {
        event_id: d.event_id.clone(),
        event_type: d.event_type.clone(),
        endpoint_id: d.endpoint_id.clone(),
        url: d.url.clone(),
        attempt: d.attempt,
        status,
        error,
        succeeded,
        duplicate,
        at: t,
        signature,
    });
    if duplicate {
        app.inflight.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    if succeeded {
        app.delivered(&d);
    } else {
        let schedule = &app.config.webhook_retry_schedule;
        if let Some(wait) = schedule.get(d.attempt as usize - 1).copied() {
            let tx = app.tx.clone();
            let mut next = d.clone();
            next.attempt += 1;
            app.retrying.fetch_add(1, Ordering::SeqCst);
            let app2 = app.clone();
            tokio::spawn(async move {
                tokio::time::sleep(wait).await;
                app2.inflight.fetch_add(1, Ordering::SeqCst);
                app2.retrying.fetch_sub(1, Ordering::SeqCst);
                let _ = tx.send(next);
            });
        } else {
            app.gave_up(&d);
        }
    }
    app.inflight.fetch_sub(1, Ordering::SeqCst);
}

/// Stripe's schedule (up to 3 days, exponential) scaled by `scale` (1.0 = real durations).
pub fn default_retry_schedule(scale: f64) -> Vec<Duration> {
    // Roughly what Stripe documents for live mode: retries over three days with exponential backoff.
    let secs: [f64; 8] = [60.0, 300.0, 1800.0, 3600.0, 7200.0, 14_400.0, 28_800.0, 172_800.0];
    secs.iter().map(|s| Duration::from_secs_f64((s * scale).max(0.001))).collect()
}
