//! Prints how long `/admin` takes to render at 10k, 100k and 1M seeded subscriptions on SQLite
//! (goal: under 100 ms at 1M, growing no more than 2× per 10× data).
//!
//! `cargo bench -p tollgate --features ssr --bench admin_render --profile dev [-- 10000 100000]`

use std::time::{Duration, Instant};

use reqwest::header;
use tollgate::server::{admin::seed, config::Config, db::Db, startup::Application};

const ADMIN_EMAIL: &str = "bench@tollgate.test";
const ADMIN_PASSWORD: &str = "bench password 123";
const RUNS: usize = 7;

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.replace('_', "").parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 100_000, 1_000_000] } else { sizes };
    println!("{:>12} {:>10} {:>12} {:>12}", "subscriptions", "seed (s)", "median (ms)", "best (ms)");
    for n in sizes {
        let (seed_time, median, best) = measure(n).await;
        println!(
            "{n:>12} {:>10.1} {:>12.1} {:>12.1}",
            seed_time.as_secs_f64(),
            median.as_secs_f64() * 1e3,
            best.as_secs_f64() * 1e3
        );
    }
}

async fn measure(n: usize) -> (Duration, Duration, Duration) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/bench.db", dir.path().display());
    let db = Db::connect(&Config::from_lookup(|k| lookup(&url, k)).unwrap().database_url).await.unwrap();
    db.migrate().await.unwrap();
    let started = Instant::now();
    seed::run(&db, n).await.expect("seeding");
    let seed_time = started.elapsed();
    db.close().await;

    let app = Application::build(Config::from_lookup(|k| lookup(&url, k)).unwrap()).await.expect("app");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let login = client
        .post(format!("{base}/api/login"))
        .header(header::ACCEPT, "application/json")
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success() || login.status().is_redirection(), "log-in: {}", login.status());

    let mut times = Vec::new();
    for run in 0..=RUNS {
        let started = Instant::now();
        let res =
            client.get(format!("{base}/admin?period=30d")).header(header::ACCEPT, "text/html").send().await.unwrap();
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("MRR"), "the page rendered figures");
        // The first view may write the day's snapshots; it is reported apart from the rest.
        if run > 0 {
            times.push(started.elapsed());
        }
    }
    times.sort();
    (seed_time, times[times.len() / 2], times[0])
}

fn lookup(url: &str, name: &str) -> Option<String> {
    match name {
        "DATABASE_URL" => Some(url.to_owned()),
        "LEPTOS_SITE_ADDR" => Some("127.0.0.1:0".to_owned()),
        "ADMIN_EMAIL" => Some(ADMIN_EMAIL.to_owned()),
        "ADMIN_PASSWORD" => Some(ADMIN_PASSWORD.to_owned()),
        _ => None,
    }
}
