//! Prints API throughput of the sandbox: customer create and subscription create.
//! `stripe-sandbox-bench [--requests N] [--concurrency C] [--url http://127.0.0.1:12111]`
//! Without `--url` it starts an in-process sandbox on a free loopback port.

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long)]
    url: Option<String>,
}

const KEY: &str = "sk_test_bench";

async fn run<F, Fut>(label: &str, n: usize, concurrency: usize, f: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let failures = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (f, next, failures) = (f.clone(), next.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= n {
                    break;
                }
                if !f(i).await {
                    failures.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label}: {n} requests in {secs:.2}s = {:.0} req/s ({} failed, concurrency {concurrency})",
        n as f64 / secs,
        failures.load(std::sync::atomic::Ordering::SeqCst)
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let (base, _sb) = match args.url {
        Some(u) => (u.trim_end_matches('/').to_string(), None),
        None => {
            let sb = stripe_sandbox::start(([127, 0, 0, 1], 0).into()).await?;
            (sb.base_url(), Some(sb))
        }
    };
    let http = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency).build()?;
    let post = |http: reqwest::Client, url: String, form: Vec<(String, String)>| async move {
        match http.post(url).bearer_auth(KEY).form(&form).send().await {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    };
    // Catalog and a customer with a card for subscriptions.
    let prod: serde_json::Value = serde_json::from_str(
        &http
            .post(format!("{base}/v1/products"))
            .bearer_auth(KEY)
            .form(&[("name", "Bench")])
            .send()
            .await?
            .text()
            .await?,
    )?;
    let price: serde_json::Value = serde_json::from_str(
        &http
            .post(format!("{base}/v1/prices"))
            .bearer_auth(KEY)
            .form(&[
                ("currency", "usd"),
                ("unit_amount", "1000"),
                ("recurring[interval]", "month"),
                ("product", prod["id"].as_str().unwrap_or_default()),
            ])
            .send()
            .await?
            .text()
            .await?,
    )?;
    let price_id = price["id"].as_str().unwrap_or_default().to_string();
    {
        let (http, base) = (http.clone(), base.clone());
        run("POST /v1/customers", args.requests, args.concurrency, move |i| {
            post(http.clone(), format!("{base}/v1/customers"), vec![("email".into(), format!("bench{i}@example.com"))])
        })
        .await;
    }
    {
        let (http, base) = (http.clone(), base.clone());
        run("POST /v1/subscriptions (new customer with card each)", args.requests, args.concurrency, move |i| {
            let (http, base, price_id) = (http.clone(), base.clone(), price_id.clone());
            async move {
                let r = http
                    .post(format!("{base}/v1/customers"))
                    .bearer_auth(KEY)
                    .form(&[("email", format!("sub{i}@example.com")), ("payment_method", "pm_card_visa".into())])
                    .send()
                    .await;
                let Ok(r) = r else { return false };
                let Ok(c) = r.json::<serde_json::Value>().await else { return false };
                let cus = c["id"].as_str().unwrap_or_default().to_string();
                post(
                    http,
                    format!("{base}/v1/subscriptions"),
                    vec![
                        ("customer".into(), cus),
                        ("items[0][price]".into(), price_id),
                        ("payment_behavior".into(), "default_incomplete".into()),
                    ],
                )
                .await
            }
        })
        .await;
    }
    Ok(())
}
