use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use stripe_sandbox::{Chaos, SandboxConfig};

#[derive(Parser)]
#[command(name = "stripe-sandbox", about = "A Stripe-compatible API server for offline development and tests")]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 12111, env = "STRIPE_SANDBOX_PORT")]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// JSON file keeping the state across restarts (created if missing).
    #[arg(long, env = "STRIPE_SANDBOX_DATA")]
    data: Option<PathBuf>,
    /// Base URL put into hosted page links (default: http://HOST:PORT as requested).
    #[arg(long)]
    public_url: Option<String>,
    /// Multiply Stripe's webhook retry schedule by this factor (0.001 turns hours into seconds).
    #[arg(long, default_value_t = 1.0)]
    retry_scale: f64,
    /// Share (0–1) of webhook deliveries sent twice.
    #[arg(long, default_value_t = 0.0)]
    chaos_duplicate: f64,
    /// Shuffle webhook deliveries within batches of this size.
    #[arg(long, default_value_t = 1)]
    chaos_reorder: usize,
    /// Delay every webhook delivery by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    chaos_delay_ms: u64,
    /// Webhook deliveries in flight at once.
    #[arg(long, default_value_t = 1)]
    chaos_concurrency: usize,
    /// API requests per second above which the sandbox answers 429 `rate_limit`, as Stripe
    /// does (about 25/s in test mode, 100/s live). Default: no limit.
    #[arg(long)]
    rate_limit: Option<std::num::NonZeroU32>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let config = SandboxConfig {
        data_file: args.data.clone(),
        public_url: args.public_url.clone(),
        webhook_retry_schedule: stripe_sandbox::delivery::default_retry_schedule(args.retry_scale),
        chaos: Chaos {
            duplicate_share: args.chaos_duplicate,
            reorder_window: args.chaos_reorder.max(1),
            delay_ms: args.chaos_delay_ms,
            concurrency: args.chaos_concurrency.max(1),
        },
        tick_interval: Duration::from_secs(1),
        rate_limit_per_sec: args.rate_limit,
        ..SandboxConfig::default()
    };
    let running = stripe_sandbox::start_with((args.host, args.port).into(), config).await?;
    println!("stripe-sandbox listening on {}", running.base_url());
    if let Some(d) = &args.data {
        println!("state file: {}", d.display());
    }
    tokio::signal::ctrl_c().await?;
    running.shutdown().await?;
    Ok(())
}
