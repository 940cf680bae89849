//! The `tollgate` command line: serve (default), migrate, admin create, doctor, catalog sync,
//! reconcile, import, seed.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::{
    domain::{Email, Password},
    server::{
        auth,
        config::{self, Backend, Config, StripeMode},
        db::Db,
        startup::Application,
        telemetry,
    },
};

#[derive(Debug, Parser)]
#[command(name = "tollgate", version, about = "Self-hostable Stripe billing")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app on LEPTOS_SITE_ADDR (the default command).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Check the configuration, the database and the migrations; secrets shown only as present/absent.
    Doctor,
    /// Fill the local tables with N demo subscriptions and a year of MRR movements (admin demos, benchmarks).
    Seed {
        #[arg(long, default_value_t = 1000)]
        subscriptions: usize,
    },
    /// The product catalog in Stripe.
    Catalog {
        #[command(subcommand)]
        command: CatalogCommand,
    },
    /// Read Stripe's events list since the newest stored event into the webhook inbox (heals
    /// missed deliveries; a running `serve` applies them).
    Reconcile,
    /// Backfill what the Stripe account already holds (customers, subscriptions, invoices,
    /// payments, refunds, disputes) and rebuild MRR movements; resumable, and a rerun changes nothing.
    Import {
        /// Count what would be created or updated; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum CatalogCommand {
    /// Make Stripe match the catalog file (by price lookup_key); says "nothing to do" when it does.
    Sync {
        /// The catalog file; default: CATALOG_PATH, else catalog.toml.
        #[arg(long)]
        catalog: Option<std::path::PathBuf>,
    },
    /// Move the subscribers of an old price to the current one at their first renewal on or
    /// after a day, with notice (grandfathering ended on purpose); a rerun changes nothing.
    Migrate {
        /// The old price: <lookup key>@<amount in minor units>, or <lookup key>@<price id>.
        #[arg(long)]
        from: String,
        /// The lookup key whose current price they move to.
        #[arg(long)]
        to: String,
        /// No one moves before this day (YYYY-MM-DD, UTC).
        #[arg(long)]
        at: String,
        /// Days of notice each subscriber gets by email before their move.
        #[arg(long, default_value_t = 30)]
        notice_days: u32,
        /// Print who moves when and what they will pay; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin, or set an existing admin's password (ending their sessions).
    Create {
        #[arg(long)]
        email: String,
        /// Defaults to ADMIN_PASSWORD (prefer it: flags show up in process lists).
        #[arg(long)]
        password: Option<String>,
        /// Make an existing customer account with this email an admin (its sessions end).
        #[arg(long)]
        promote: bool,
    },
}

/// Exit code for a missing or malformed setting.
const CONFIG_ERROR: u8 = 2;

pub async fn run() -> ExitCode {
    if let Err(error) = config::load_dotenv() {
        eprintln!("{error}");
        return ExitCode::from(CONFIG_ERROR);
    }
    let cli = Cli::parse();
    telemetry::init();
    let config = match Config::from_lookup(|name| std::env::var(name).ok()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(CONFIG_ERROR);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if let (Command::Serve, Err(error)) = (&command, config.refuse_unsafe_stripe_setup()) {
        eprintln!("{error}");
        return ExitCode::from(CONFIG_ERROR);
    }
    let outcome = match command {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(config).await,
        Command::Admin { command: AdminCommand::Create { email, password, promote } } => {
            let promote = if promote { auth::Promote::Yes } else { auth::Promote::No };
            admin_create(config, &email, password, promote).await
        }
        Command::Doctor => doctor(config).await,
        Command::Seed { subscriptions } => seed(config, subscriptions).await,
        Command::Catalog { command: CatalogCommand::Sync { catalog } } => {
            let path = catalog.unwrap_or_else(|| config.catalog_path.clone());
            crate::server::catalog::command::catalog_sync(&config, &path).await.map(|()| ExitCode::SUCCESS)
        }
        Command::Catalog { command: CatalogCommand::Migrate { from, to, at, notice_days, dry_run } } => {
            match crate::server::catalog::migrate::MigrationRequest::parse(&from, &to, &at, notice_days) {
                Ok(request) => crate::server::catalog::migrate::command(&config, &request, dry_run)
                    .await
                    .map(|_| ExitCode::SUCCESS),
                Err(message) => {
                    eprintln!("{message}");
                    return ExitCode::from(CONFIG_ERROR);
                }
            }
        }
        Command::Reconcile => crate::server::webhooks::reconcile::command(&config).await.map(|_| ExitCode::SUCCESS),
        Command::Import { dry_run } => {
            crate::server::import::command(&config, dry_run).await.map(|_| ExitCode::SUCCESS)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "tollgate failed");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let app_url = config.app_url.clone();
    // Held until `serve` ends: a second `serve` on the same SQLite file refuses before it
    // touches the database.
    let _sqlite_lock = config
        .database_url
        .sqlite_file()
        .map(|file| crate::server::instances::sqlite_lock::acquire(&file))
        .transpose()?;
    let app = Application::build(config).await?;
    if let Some(clock) = app.sandbox_clock() {
        crate::server::db::follow_clock(clock);
    }
    if _sqlite_lock.is_some() {
        let released = crate::server::instances::release_claims_of_the_dead(app.state().db.pool()).await?;
        if released > 0 {
            tracing::info!(released, "claims left by a stopped server released");
        }
    }
    println!("tollgate listening on http://{} (APP_URL {app_url})", app.address());
    let stripe = &app.state().stripe;
    match app.sandbox_url() {
        Some(url) => {
            println!("Stripe: embedded sandbox at {url} (no STRIPE_SECRET_KEY set); the app runs on its clock")
        }
        None => println!("Stripe: {} mode at {}", stripe.mode.as_str(), stripe.api_base),
    }
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

async fn migrate(config: Config) -> anyhow::Result<ExitCode> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let status = db.migration_status().await?;
    println!("migrations current ({} applied) on {}", status.applied, config.database_url);
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn admin_create(
    config: Config,
    email: &str,
    password: Option<String>,
    promote: auth::Promote,
) -> anyhow::Result<ExitCode> {
    let email = match Email::parse(email) {
        Ok(email) => email,
        Err(e) => {
            eprintln!("--email: {e}");
            return Ok(ExitCode::from(CONFIG_ERROR));
        }
    };
    let Some(raw) = password.or_else(|| std::env::var("ADMIN_PASSWORD").ok()).filter(|p| !p.is_empty()) else {
        eprintln!("--password: required (or set ADMIN_PASSWORD)");
        return Ok(ExitCode::from(CONFIG_ERROR));
    };
    let password = match Password::parse(&raw) {
        Ok(password) => password,
        Err(e) => {
            eprintln!("--password: {e}");
            return Ok(ExitCode::from(CONFIG_ERROR));
        }
    };
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let admin = auth::ensure_admin(&db, &email, &password, promote).await?;
    println!("admin {} is ready (user id {})", admin.email, admin.id);
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn seed(config: Config, subscriptions: usize) -> anyhow::Result<ExitCode> {
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let report = crate::server::admin::seed::run(&db, subscriptions).await?;
    println!(
        "seeded {} subscriptions, {} MRR movements, {} invoices into {}",
        report.subscriptions, report.movements, report.invoices, config.database_url
    );
    db.close().await;
    Ok(ExitCode::SUCCESS)
}

fn present(set: bool) -> &'static str {
    if set {
        "present"
    } else {
        "absent"
    }
}

/// Prints what the app would run with. Never prints a secret: keys, webhook secrets,
/// passwords and SMTP URLs only as present/absent; the database URL without its password.
async fn doctor(config: Config) -> anyhow::Result<ExitCode> {
    let mut healthy = true;
    let stripe = &config.stripe;
    let mode = match (stripe.mode(), stripe.api_base.as_ref()) {
        (StripeMode::Sandbox, None) => "sandbox (no STRIPE_SECRET_KEY: `serve` starts the embedded sandbox)".to_owned(),
        (StripeMode::Sandbox, Some(base)) => format!("sandbox (external, at {base})"),
        (StripeMode::Test, _) => "test (STRIPE_SECRET_KEY is a test key)".to_owned(),
        (StripeMode::Live, _) => "live (STRIPE_SECRET_KEY is a live key)".to_owned(),
    };
    println!("tollgate doctor");
    println!("  mode:                          {mode}");
    println!("  APP_URL:                       {}", config.app_url);
    println!("  LEPTOS_SITE_ADDR:              {}", config.site_addr);
    if let Err(refusal) = config.refuse_unsafe_stripe_setup() {
        healthy = false;
        println!("  serve:                         refuses to start: {}: {}", refusal.variable, refusal.message);
    }

    let backend = match config.database_url.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    println!("  DATABASE_URL:                  {} ({backend})", config.database_url);
    let missing_file = config.database_url.sqlite_file().filter(|file| !file.exists());
    if let Some(file) = missing_file {
        healthy = false;
        println!(
            "  database:                      not created yet ({} is missing; run `tollgate migrate`)",
            file.display()
        );
        println!("  migrations:                    not applied");
    } else {
        match Db::connect(&config.database_url).await.context("connecting") {
            Ok(db) if db.ping().await => {
                println!("  database:                      reachable");
                match db.migration_status().await {
                    Ok(status) if status.is_current() => println!(
                        "  migrations:                    current ({} of {} applied)",
                        status.applied, status.known
                    ),
                    Ok(status) => {
                        healthy = false;
                        println!(
                            "  migrations:                    {} pending (run `tollgate migrate`)",
                            status.pending
                        );
                    }
                    Err(e) => {
                        healthy = false;
                        println!("  migrations:                    unknown ({e:#})");
                    }
                }
                db.close().await;
            }
            Ok(_) => {
                healthy = false;
                println!("  database:                      NOT reachable");
            }
            Err(e) => {
                healthy = false;
                println!("  database:                      NOT reachable ({})", redact_error(&e));
            }
        }
    }

    println!("  STRIPE_SECRET_KEY:             {}", present(stripe.secret_key.is_some()));
    println!("  STRIPE_PUBLISHABLE_KEY:        {}", present(stripe.publishable_key.is_some()));
    println!(
        "  STRIPE_WEBHOOK_SECRET:         {}{}",
        present(!stripe.webhook_secrets.is_empty()),
        match stripe.webhook_secrets.len() {
            0 | 1 => String::new(),
            n => format!(" ({n} secrets)"),
        }
    );
    println!(
        "  STRIPE_CONNECT_WEBHOOK_SECRET: {}",
        if stripe.connect_webhook_secrets.is_empty() { "absent (no marketplace events)" } else { "present" }
    );
    println!(
        "  STRIPE_API_BASE:               {}",
        stripe.api_base.as_ref().map_or("absent (default)".to_owned(), |u| u.to_string())
    );
    println!("  STRIPE_WEBHOOK_TOLERANCE_SECS: {}", stripe.webhook_tolerance_secs);
    println!("  ADMIN_EMAIL:                   {}", present(config.admin.is_some()));
    println!(
        "  ADMIN_PASSWORD:                {}",
        present(std::env::var("ADMIN_PASSWORD").is_ok_and(|p| !p.is_empty()))
    );
    println!(
        "  SMTP_URL:                      {}",
        if config.smtp_url.is_some() { "present" } else { "absent (mail goes to the dev mailbox)" }
    );
    println!("  TRUST_PROXY_HEADERS:           {}", config.trust_proxy_headers);
    println!(
        "  METRICS_TOKEN:                 {}",
        if config.metrics_token.is_some() { "present" } else { "absent (/metrics is not served)" }
    );
    go_live_checklist(&config).await;
    println!("  result:                        {}", if healthy { "ok" } else { "problems found" });
    Ok(if healthy { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The go-live checklist of /admin/status. Informational: it does not change the exit code
/// (a sandbox install is healthy yet not live). Never creates a missing database file.
async fn go_live_checklist(config: &Config) {
    if config.database_url.sqlite_file().is_some_and(|file| !file.exists()) {
        return;
    }
    let Ok(db) = Db::connect(&config.database_url).await else { return };
    // Stripe is asked only when there is one to ask (the embedded sandbox lives inside `serve`).
    let stripe = crate::server::catalog::command::stripe_client(config).ok();
    match crate::server::admin::status::report(config, &db, stripe.as_ref(), None, crate::server::db::now()).await {
        Ok(report) => crate::server::admin::status::print(&report),
        Err(e) => println!("  go-live checklist:             unavailable ({})", redact_error(&e)),
    }
    db.close().await;
}

/// Connection errors can echo the URL; strip anything that looks like credentials.
fn redact_error(error: &anyhow::Error) -> String {
    let text = format!("{error:#}");
    match text.find("://") {
        Some(_) => text
            .split_whitespace()
            .map(|word| match (word.find("://"), word.find('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    format!("{}://***{}", &word[..scheme], &word[at..])
                }
                _ => word.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_parses_the_documented_commands() {
        Cli::try_parse_from(["tollgate"]).unwrap();
        Cli::try_parse_from(["tollgate", "serve"]).unwrap();
        Cli::try_parse_from(["tollgate", "migrate"]).unwrap();
        Cli::try_parse_from(["tollgate", "doctor"]).unwrap();
        Cli::try_parse_from(["tollgate", "reconcile"]).unwrap();
        let cli = Cli::try_parse_from(["tollgate", "import", "--dry-run"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Import { dry_run: true })));
        let cli = Cli::try_parse_from(["tollgate", "catalog", "sync", "--catalog", "x.toml"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Catalog { command: CatalogCommand::Sync { catalog: Some(ref catalog) } }) if catalog.as_os_str() == "x.toml"
        ));
        let cli = Cli::try_parse_from(["tollgate", "admin", "create", "--email", "a@b.co"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Admin { command: AdminCommand::Create { password: None, .. } })));
        assert!(Cli::try_parse_from(["tollgate", "admin", "create"]).is_err());
    }

    #[test]
    fn redacts_credentials_in_error_text() {
        let e = anyhow::anyhow!("failed to connect to postgres://u:hunter2@db:5432/x: refused");
        let shown = redact_error(&e);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("@db:5432"));
    }
}
