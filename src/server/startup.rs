//! Building and running the application: database, migrations, admin bootstrap,
//! Stripe (or the embedded sandbox), the listener, graceful shutdown.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use axum::Router;
use leptos::config::{Env, LeptosOptions};
use secrecy::SecretString;
use tokio::{net::TcpListener, task::JoinHandle};

use crate::server::{
    auth::{self, LoginLimiter},
    billing::price_book::{PriceBook, Prices},
    catalog,
    config::{Config, StripeMode, SANDBOX_SECRET_KEY},
    db::Db,
    http,
    instances::{
        leader::{self, Leadership},
        InstanceId,
    },
    mail,
    state::{AppState, AppStateFields, StripeRuntime},
    stripe::{
        client::{is_transient, stripe_cause, StripeClient},
        idempotency, sandbox_brand,
    },
    webhooks::route::Endpoint,
    webhooks::{reconcile, worker},
};

const STRIPE_API_BASE: &str = "https://api.stripe.com";

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    sandbox: Option<stripe_sandbox::RunningSandbox>,
}

impl Application {
    /// Connects and migrates the database, ensures the admin, resolves Stripe (starting
    /// the embedded sandbox when no key is set) and binds the listener (port 0 allowed).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        config.refuse_unsafe_stripe_setup()?;
        let db = Db::connect(&config.database_url).await?;
        db.migrate().await?;
        if let Some(admin) = &config.admin {
            auth::ensure_admin(&db, &admin.email, &admin.password, auth::Promote::No).await?;
        }

        let installation = idempotency::installation_id(db.pool()).await?;
        let (stripe, sandbox) = resolve_stripe(&config).await?;
        let stripe_client = StripeClient::new(&stripe.secret_key, Some(&stripe.api_base))
            .context("building the Stripe client")?
            .with_key_namespace(&installation)
            .with_rate_limit(config.stripe_rate_limit());

        let listener = TcpListener::bind(config.site_addr)
            .await
            .with_context(|| format!("binding LEPTOS_SITE_ADDR {}", config.site_addr))?;
        let addr = listener.local_addr().context("reading the bound address")?;

        let mut webhook_secrets = config.stripe.webhook_secrets.clone();
        let mut connect_webhook_secrets = config.stripe.connect_webhook_secrets.clone();
        if sandbox.is_some() {
            // Offline: make the embedded sandbox look like a configured Stripe account.
            webhook_secrets.push(register_sandbox_webhook(&stripe_client, addr, Endpoint::Platform).await?);
            connect_webhook_secrets.push(register_sandbox_webhook(&stripe_client, addr, Endpoint::Connect).await?);
        }
        let prices = load_price_book(&config, &stripe_client, sandbox.is_some()).await?;
        if stripe.mode == StripeMode::Sandbox {
            // Stripe shows the account's Dashboard branding on its hosted pages; the sandbox is told.
            let app = crate::server::http::app_url::AppUrl::new(config.app_url.as_str());
            if let Err(err) = sandbox_brand::send(&stripe.api_base, &config.brand, &app).await {
                tracing::warn!(error = %format!("{err:#}"), "the sandbox's hosted pages keep their own look");
            }
        }

        let inbox = crate::server::webhooks::inbox::InboxWriter::spawn(db.pool().clone());
        let abuse = Arc::new(http::abuse::AbuseLimiter::new(db.pool().clone(), config.abuse_quotas));
        let login_limiter = Arc::new(LoginLimiter::new(db.pool().clone(), config.login_quotas));
        let state = AppState::new(AppStateFields {
            leptos_options: leptos_options(&config, addr),
            db,
            config: Arc::new(config),
            stripe,
            login_limiter,
            abuse,
            stripe_client,
            webhook_secrets: Arc::new(webhook_secrets),
            connect_webhook_secrets: Arc::new(connect_webhook_secrets),
            inbox_notify: Arc::new(tokio::sync::Notify::new()),
            prices: Prices::new(prices),
            inbox,
            instance: InstanceId::generate(),
            leadership: Leadership::default(),
        });
        tracing::info!(instance = %state.instance, "instance started");
        let router = http::router(state.clone(), crate::pages());
        Ok(Self { listener, router, state, sandbox })
    }

    pub fn port(&self) -> u16 {
        self.address().port()
    }

    pub fn address(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The embedded sandbox's URL, when one was started.
    pub fn sandbox_url(&self) -> Option<String> {
        self.sandbox.as_ref().map(|s| s.base_url())
    }

    /// The embedded sandbox's clock, when one was started (see [`crate::server::db::follow_clock`]).
    pub fn sandbox_clock(&self) -> Option<impl Fn() -> i64 + Send + Sync + 'static> {
        self.sandbox.as_ref().map(|s| s.clock())
    }

    /// Serves until SIGINT or SIGTERM, then drains in-flight requests and stops.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Self { listener, router, state, sandbox } = self;
        let background = spawn_background_tasks(&state);
        let served = http::serve::serve(listener, router, http::serve::ServeLimits::default(), shutdown_signal())
            .await
            .context("serving HTTP");
        for task in background {
            task.abort();
        }
        if let Some(sandbox) = sandbox {
            sandbox.abort();
        }
        // Another instance takes the periodic jobs at once instead of after the lease runs out.
        if let Err(err) = leader::release(state.db.pool(), leader::JOBS_LEASE, &state.instance).await {
            tracing::warn!(error = %format!("{err:#}"), "releasing the jobs lease failed");
        }
        state.db.close().await;
        tracing::info!("stopped");
        served
    }
}

async fn resolve_stripe(config: &Config) -> anyhow::Result<(StripeRuntime, Option<stripe_sandbox::RunningSandbox>)> {
    let stripe = &config.stripe;
    let secret_key = stripe.secret_key.clone().unwrap_or_else(|| SecretString::from(SANDBOX_SECRET_KEY.to_owned()));
    let mut sandbox = None;
    let api_base = match &stripe.api_base {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None if stripe.wants_embedded_sandbox() => {
            let running = stripe_sandbox::start(SocketAddr::from(([127, 0, 0, 1], 0)))
                .await
                .context("starting the embedded Stripe sandbox")?;
            let url = running.base_url();
            sandbox = Some(running);
            url
        }
        None => STRIPE_API_BASE.to_owned(),
    };
    let mode = stripe.mode();
    if mode == StripeMode::Sandbox {
        tracing::info!(%api_base, "Stripe mode: sandbox");
    } else {
        tracing::info!(mode = mode.as_str(), %api_base, "Stripe mode");
    }
    Ok((StripeRuntime { mode, api_base, secret_key, publishable_key: stripe.publishable_key.clone() }, sandbox))
}

fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    let site = &config.site;
    LeptosOptions::builder()
        .output_name(site.output_name.as_str())
        .site_root(site.site_root.as_str())
        .site_pkg_dir(site.site_pkg_dir.as_str())
        .env(if site.production { Env::PROD } else { Env::DEV })
        .site_addr(addr)
        .reload_port(site.reload_port)
        .hash_files(site.hash_files)
        .build()
}

/// Registers `POST /webhooks/stripe` (or, with `connect=true`, `/webhooks/stripe/connect`) with
/// the embedded sandbox, as one would in Stripe's dashboard, and returns the signing secret it
/// issued.
async fn register_sandbox_webhook(
    stripe: &StripeClient,
    addr: SocketAddr,
    endpoint: Endpoint,
) -> anyhow::Result<SecretString> {
    use stripe_misc::webhook_endpoint::{CreateWebhookEndpoint, CreateWebhookEndpointEnabledEvents};
    let url = format!("http://{addr}{}", endpoint.path());
    let mut create = CreateWebhookEndpoint::new(vec![CreateWebhookEndpointEnabledEvents::All], url.clone());
    if endpoint == Endpoint::Connect {
        create = create.connect(true);
    }
    let endpoint = stripe.send(&create, None).await.context("registering the webhook endpoint with the sandbox")?;
    let secret = endpoint.secret.context("the sandbox returned no webhook secret")?;
    tracing::info!(%url, "webhook endpoint registered with the embedded sandbox");
    Ok(SecretString::from(secret))
}

/// Reads the catalog and resolves its prices by lookup key. With the embedded sandbox the
/// catalog is synced first, so the pricing page works offline at once; against Stripe a missing
/// price stops the start with a message naming it (`tollgate catalog sync` creates it). When
/// Stripe cannot be reached the app starts anyway, with the catalog unpriced (nothing can be
/// bought), and `spawn_price_retry` resolves it once Stripe answers.
async fn load_price_book(config: &Config, stripe: &StripeClient, sync_first: bool) -> anyhow::Result<PriceBook> {
    let catalog = catalog::load(&config.catalog_path).context("CATALOG_PATH")?;
    if sync_first {
        let report = catalog::sync::sync(stripe, &catalog).await?;
        tracing::info!(changed = report.changed_anything(), "catalog synced with the sandbox");
    }
    match PriceBook::resolve(stripe, catalog.clone()).await {
        Ok(book) => Ok(book),
        // Stripe never answered (network, timeouts) or said it is failing (5xx, 429): worth
        // waiting for, unlike a refusal (a wrong key, a missing price).
        Err(err) if stripe_cause(&err).is_some_and(is_transient) => {
            tracing::error!(error = %format!("{err:#}"), "Stripe unreachable at start: serving without prices; retrying");
            Ok(PriceBook::unresolved(catalog))
        }
        Err(err) => Err(err),
    }
}

/// Retries resolving the prices until it succeeds (waits from a second, doubling, to a minute);
/// nothing to do when they were resolved at start.
fn spawn_price_retry(state: &AppState) -> Option<JoinHandle<()>> {
    if state.prices.current().is_resolved() {
        return None;
    }
    let state = state.clone();
    Some(tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        loop {
            tokio::time::sleep(wait).await;
            let catalog = state.prices.current().catalog.clone();
            match PriceBook::resolve(&state.stripe_client, catalog).await {
                Ok(book) => {
                    state.prices.replace(book);
                    tracing::info!("Stripe answered: prices resolved");
                    return;
                }
                Err(err) => tracing::warn!(error = %format!("{err:#}"), ?wait, "prices still unresolved"),
            }
            wait = (wait * 2).min(Duration::from_secs(60));
        }
    }))
}

/// Every instance applies webhook events and sends mail (each row claimed by one of them); the
/// periodic jobs run on the leader only.
fn spawn_background_tasks(state: &AppState) -> Vec<JoinHandle<()>> {
    let leadership = &state.leadership;
    let (pool, purging) = (state.db.pool().clone(), leadership.clone());
    let mut tasks = vec![
        leadership.spawn_renewal(state.db.pool().clone(), state.instance.clone()),
        worker::spawn_webhook_worker(state.clone()),
        mail::sender::spawn_mail_sender(state.clone()),
        state.db.session_store().spawn_expiry_sweeper(Duration::from_secs(60 * 10), leadership.clone()),
        crate::server::retention::spawn_retention_job(
            state.db.pool().clone(),
            state.config.retention,
            leadership.clone(),
        ),
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                if purging.is_leader() {
                    if let Err(err) = crate::server::db::rate_limits::purge(&pool, crate::server::db::now()).await {
                        tracing::warn!(error = %format!("{err:#}"), "purging rate-limit counters failed");
                    }
                }
            }
        }),
    ];
    tasks.extend(reconcile::spawn_reconcile_job(state.clone(), state.config.reconcile_interval_secs));
    tasks.extend(spawn_price_retry(state));
    tasks.push(crate::server::alerts::job::spawn_alert_job(state.clone()));
    tasks.push(crate::server::catalog::migrate::notices::spawn_notice_job(state.clone()));
    tasks.push(crate::server::usage::worker::spawn_usage_worker(state.clone()));
    tasks.extend(crate::server::usage::reconcile::spawn_usage_reconcile_job(state.clone()));
    tasks
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; draining requests");
}
