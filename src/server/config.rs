//! Configuration: defaults → `.env` → environment.
//!
//! Every setting is read through one lookup function so the parsing is testable
//! without touching the process environment. A missing or malformed setting is
//! a [`ConfigError`] whose one-line message names the variable.

use std::{net::SocketAddr, num::NonZeroU32, path::PathBuf};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::domain::brand::{Accent, Brand};
use crate::domain::dunning::{DunningEnd, DunningPolicy};
use crate::domain::{Email, Password};
use crate::server::alerts::AlertThresholds;
use crate::server::auth::LoginQuotas;
use crate::server::http::abuse::AbuseQuotas;
use crate::server::retention::RetentionPolicy;
use crate::server::webhooks::worker::{self, RetryPolicy};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tollgate.db";
pub const DEFAULT_APP_URL: &str = "http://127.0.0.1:3000";
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_RECONCILE_INTERVAL_SECS: u64 = 300;
pub const DEFAULT_WEBHOOK_TOLERANCE_SECS: u64 = 300;
/// The sender of mail in the dev mailbox (no SMTP_URL).
pub const DEV_MAIL_FROM: &str = "tollgate <billing@tollgate.local>";
/// The key the app uses against the embedded sandbox (it accepts any `sk_test_` key).
pub const SANDBOX_SECRET_KEY: &str = "sk_test_tollgate_sandbox";

/// A setting that is missing or malformed. `Display` is one line naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration error: {variable}: {message}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, message: impl Into<String>) -> Self {
        Self { variable, message: message.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database URL. Its `Display` hides any password in it.
#[derive(Clone)]
pub struct DatabaseUrl {
    url: SecretString,
    backend: Backend,
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let var = "DATABASE_URL";
        let backend = if raw.starts_with("sqlite:") {
            Backend::Sqlite
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(ConfigError::new(var, "expected a URL starting with sqlite:// or postgres://"));
        };
        if backend == Backend::Postgres {
            Url::parse(raw).map_err(|e| ConfigError::new(var, format!("not a valid URL ({e})")))?;
        } else if raw.trim_start_matches("sqlite:").trim_start_matches("//").is_empty() {
            return Err(ConfigError::new(var, "the SQLite URL names no file"));
        }
        Ok(Self { url: SecretString::from(raw.to_owned()), backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, password included: only for connecting.
    pub fn expose(&self) -> &str {
        self.url.expose_secret()
    }

    /// For SQLite URLs: the database file (None for in-memory databases).
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self.expose().trim_start_matches("sqlite:").trim_start_matches("//");
        let path = rest.split('?').next().unwrap_or_default();
        if path.is_empty() || path == ":memory:" || self.expose().contains("mode=memory") {
            None
        } else {
            Some(PathBuf::from(path))
        }
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match Url::parse(self.expose()) {
            Ok(mut url) if url.password().is_some() => {
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            _ => self.expose().to_owned(),
        }
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Which Stripe the app talks to, decided by the secret key (or its absence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StripeMode {
    /// No `STRIPE_SECRET_KEY`: the sandbox (embedded, or external via `STRIPE_API_BASE`).
    Sandbox,
    /// An `sk_test_`/`rk_test_` key.
    Test,
    /// An `sk_live_`/`rk_live_` key.
    Live,
}

impl StripeMode {
    pub fn as_str(self) -> &'static str {
        match self {
            StripeMode::Sandbox => "sandbox",
            StripeMode::Test => "test",
            StripeMode::Live => "live",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub secret_key: Option<SecretString>,
    pub publishable_key: Option<String>,
    pub webhook_secrets: Vec<SecretString>,
    /// `STRIPE_CONNECT_WEBHOOK_SECRET`: the secrets of the Connect endpoint
    /// (`/webhooks/stripe/connect`, registered with `connect=true`), a comma-separated list.
    pub connect_webhook_secrets: Vec<SecretString>,
    pub api_base: Option<Url>,
    pub webhook_tolerance_secs: u64,
}

/// Stripe's published API limits are about 100 requests/s live and 25 in test mode; an
/// instance stays below them by default.
const LIVE_REQUESTS_PER_SEC: u32 = 80;
const TEST_REQUESTS_PER_SEC: u32 = 20;

impl Config {
    /// The ceiling on this instance's Stripe requests per second: `STRIPE_MAX_REQUESTS_PER_SEC`,
    /// else below Stripe's limit for the key's mode; none against the sandbox unless set. Several
    /// instances share one Stripe account's limit: divide it between them.
    pub fn stripe_rate_limit(&self) -> Option<NonZeroU32> {
        self.stripe_requests_per_sec.or(match self.stripe.mode() {
            StripeMode::Live => NonZeroU32::new(LIVE_REQUESTS_PER_SEC),
            StripeMode::Test => NonZeroU32::new(TEST_REQUESTS_PER_SEC),
            StripeMode::Sandbox => None,
        })
    }
}

impl StripeConfig {
    pub fn mode(&self) -> StripeMode {
        match &self.secret_key {
            None => StripeMode::Sandbox,
            Some(key) if key.expose_secret().contains("_live_") => StripeMode::Live,
            Some(_) => StripeMode::Test,
        }
    }

    /// True when `serve` must start the embedded sandbox.
    pub fn wants_embedded_sandbox(&self) -> bool {
        self.secret_key.is_none() && self.api_base.is_none()
    }
}

/// The admin created (or whose password is reset) at start.
#[derive(Debug, Clone)]
pub struct AdminBootstrap {
    pub email: Email,
    pub password: Password,
}

/// Where the compiled site (wasm, js, css, public assets) lives.
#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub output_name: String,
    pub site_root: String,
    pub site_pkg_dir: String,
    pub production: bool,
    /// Only used by `cargo leptos watch` (live reload).
    pub reload_port: u32,
    pub hash_files: bool,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub app_url: Url,
    pub site_addr: SocketAddr,
    pub stripe: StripeConfig,
    pub admin: Option<AdminBootstrap>,
    pub smtp_url: Option<SecretString>,
    /// The sender of every email (`MAIL_FROM`).
    pub mail_from: lettre::message::Mailbox,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy you control).
    pub trust_proxy_headers: bool,
    /// The product catalog (`catalog.toml`), relative to the working directory.
    pub catalog_path: PathBuf,
    pub site: SiteConfig,
    /// How often `serve` reads Stripe's events list to heal missed webhooks; 0 turns it off.
    pub reconcile_interval_secs: u64,
    /// Usage alerts and reconciliation (`server/usage/config.rs`).
    pub usage: crate::server::usage::config::UsageConfig,
    /// The bearer token `/metrics` asks for; without one the route is not served.
    pub metrics_token: Option<SecretString>,
    /// How the webhook worker retries a failed event before dead-lettering it.
    pub webhook_retry: RetryPolicy,
    /// Stripe's dunning as configured in its dashboard (`DUNNING_ATTEMPTS`, `DUNNING_END`).
    pub dunning: DunningPolicy,
    /// Per-client-network hourly limits on sign-up, Checkout, portal and password reset.
    pub abuse_quotas: AbuseQuotas,
    /// Log-in attempts per client network and per email, per minute.
    pub login_quotas: LoginQuotas,
    /// `STRIPE_MAX_REQUESTS_PER_SEC`: this instance's ceiling on Stripe requests, when set.
    pub stripe_requests_per_sec: Option<NonZeroU32>,
    /// How long webhook payloads and mail bodies are kept.
    pub retention: RetentionPolicy,
    /// When each operational alert fires, and how often they are evaluated (`ALERT_*`).
    pub alerts: AlertThresholds,
    /// How long a past-due subscription keeps access after its first failed payment
    /// (`PAST_DUE_GRACE_DAYS`, default 7).
    pub past_due_grace_secs: i64,
    /// `CONNECT_CHARGES`: how marketplace sales are charged (default `destination`).
    pub connect_charges: ConnectCharges,
    /// `BRAND_NAME`, `BRAND_LOGO_URL`, `BRAND_ACCENT`, `SUPPORT_EMAIL`: what pages, emails and
    /// the hosted Checkout show as the product.
    pub brand: Brand,
    /// `CHECKOUT_UI`: where the pricing page's buttons lead (`hosted` Checkout by default,
    /// `embedded` Checkout or the Payment Element, `elements`, on the app's own pages).
    pub checkout_ui: crate::views::payment_element::CheckoutUi,
    /// `FRAUD_WARNING_AUTO_REFUND`: refund a charge in full when its issuer sends an early fraud
    /// warning, before it can become a dispute (default off: the admins are alerted either way).
    pub fraud_warning_auto_refund: bool,
}

/// How a marketplace sale is charged on Stripe Connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectCharges {
    /// On the platform, transferred to the creator (`transfer_data[destination]`), the fee kept.
    Destination,
    /// On the creator's account (`Stripe-Account`), the fee collected for the platform.
    Direct,
}

impl ConnectCharges {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Destination => "destination",
            Self::Direct => "direct",
        }
    }
}

impl Config {
    /// Builds the configuration from a lookup function (the environment, or a map in tests).
    /// Empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());

        let database_url = DatabaseUrl::parse(&get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.into()))?;
        let app_url = parse_http_url("APP_URL", &get("APP_URL").unwrap_or_else(|| DEFAULT_APP_URL.into()))?;
        let site_addr = get("LEPTOS_SITE_ADDR")
            .unwrap_or_else(|| DEFAULT_SITE_ADDR.into())
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::new("LEPTOS_SITE_ADDR", "expected IP:PORT, like 127.0.0.1:3000"))?;

        let secret_key = get("STRIPE_SECRET_KEY")
            .map(|key| with_prefix("STRIPE_SECRET_KEY", key, &["sk_test_", "sk_live_", "rk_test_", "rk_live_"]))
            .transpose()?
            .map(SecretString::from);
        let publishable_key = get("STRIPE_PUBLISHABLE_KEY")
            .map(|key| with_prefix("STRIPE_PUBLISHABLE_KEY", key, &["pk_test_", "pk_live_"]))
            .transpose()?;
        let webhook_secrets = secret_list(&get, "STRIPE_WEBHOOK_SECRET")?;
        let connect_webhook_secrets = secret_list(&get, "STRIPE_CONNECT_WEBHOOK_SECRET")?;
        let api_base = get("STRIPE_API_BASE").map(|raw| parse_http_url("STRIPE_API_BASE", &raw)).transpose()?;
        let webhook_tolerance_secs = get("STRIPE_WEBHOOK_TOLERANCE_SECS")
            .map(|raw| {
                raw.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    ConfigError::new("STRIPE_WEBHOOK_TOLERANCE_SECS", "expected a positive whole number of seconds")
                })
            })
            .transpose()?
            .unwrap_or(DEFAULT_WEBHOOK_TOLERANCE_SECS);

        let admin = match (get("ADMIN_EMAIL"), lookup("ADMIN_PASSWORD").filter(|p| !p.is_empty())) {
            (None, None) => None,
            (Some(_), None) => return Err(ConfigError::new("ADMIN_PASSWORD", "must be set when ADMIN_EMAIL is set")),
            // A password alone is not a bootstrap request: `admin create --email` reads it.
            (None, Some(_)) => None,
            (Some(email), Some(password)) => Some(AdminBootstrap {
                email: Email::parse(&email).map_err(|e| ConfigError::new("ADMIN_EMAIL", e.to_string()))?,
                password: Password::parse(&password).map_err(|e| ConfigError::new("ADMIN_PASSWORD", e.to_string()))?,
            }),
        };

        let smtp_url = get("SMTP_URL").map(|raw| parse_smtp_url(&raw)).transpose()?;
        let mail_from = match (get("MAIL_FROM"), &smtp_url) {
            (Some(raw), _) => raw.parse::<lettre::message::Mailbox>().map_err(|_| {
                ConfigError::new("MAIL_FROM", "expected an address, like Billing <billing@example.com>")
            })?,
            (None, None) => DEV_MAIL_FROM.parse().expect("the dev sender parses"),
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "MAIL_FROM",
                    "must be set with SMTP_URL: the sender your mail provider has verified",
                ))
            }
        };

        let trust_proxy_headers =
            get("TRUST_PROXY_HEADERS").map(|raw| parse_bool("TRUST_PROXY_HEADERS", &raw)).transpose()?.unwrap_or(false);

        let catalog_path = PathBuf::from(get("CATALOG_PATH").unwrap_or_else(|| "catalog.toml".into()));
        let reconcile_interval_secs = get("RECONCILE_INTERVAL_SECS")
            .map(|raw| {
                raw.parse::<u64>()
                    .map_err(|_| ConfigError::new("RECONCILE_INTERVAL_SECS", "expected whole seconds (0 turns it off)"))
            })
            .transpose()?
            .unwrap_or(DEFAULT_RECONCILE_INTERVAL_SECS);

        let metrics_token = get("METRICS_TOKEN")
            .map(|raw| {
                if raw.len() >= 16 {
                    Ok(SecretString::from(raw))
                } else {
                    Err(ConfigError::new("METRICS_TOKEN", "expected at least 16 characters"))
                }
            })
            .transpose()?;
        let positive = |name: &'static str, default: i64| {
            get(name)
                .map(|raw| {
                    raw.parse::<i64>()
                        .ok()
                        .filter(|n| (1..=1_000_000).contains(n))
                        .ok_or_else(|| ConfigError::new(name, "expected a positive whole number"))
                })
                .transpose()
                .map(|n| n.unwrap_or(default))
        };
        let webhook_retry = RetryPolicy {
            max_attempts: positive("WEBHOOK_MAX_ATTEMPTS", worker::MAX_ATTEMPTS)?,
            first_retry_secs: positive("WEBHOOK_RETRY_SECS", worker::FIRST_RETRY_SECS)?,
        };

        let dunning = DunningPolicy {
            attempts: positive("DUNNING_ATTEMPTS", DunningPolicy::default().attempts)?,
            end: get("DUNNING_END")
                .map(|raw| DunningEnd::parse(&raw).map_err(|err| ConfigError::new("DUNNING_END", err)))
                .transpose()?
                .unwrap_or(DunningPolicy::default().end),
        };

        let defaults = AbuseQuotas::default();
        let nonzero = |name: &'static str, default: NonZeroU32| {
            let n = positive(name, i64::from(default.get()))?;
            Ok::<_, ConfigError>(NonZeroU32::new(n as u32).expect("positive() is at least 1 and at most 1,000,000"))
        };
        let abuse_quotas = AbuseQuotas {
            sign_up: nonzero("RATE_LIMIT_SIGNUP_PER_HOUR", defaults.sign_up)?,
            checkout: nonzero("RATE_LIMIT_CHECKOUT_PER_HOUR", defaults.checkout)?,
            portal: nonzero("RATE_LIMIT_PORTAL_PER_HOUR", defaults.portal)?,
            password_reset: nonzero("RATE_LIMIT_PASSWORD_RESET_PER_HOUR", defaults.password_reset)?,
        };

        let login_defaults = LoginQuotas::default();
        let login_quotas = LoginQuotas {
            per_ip_per_minute: nonzero(
                "RATE_LIMIT_LOGIN_PER_MINUTE",
                NonZeroU32::new(login_defaults.per_ip_per_minute).expect("a non-zero default"),
            )?
            .get(),
            per_email_per_minute: nonzero(
                "RATE_LIMIT_LOGIN_PER_EMAIL_PER_MINUTE",
                NonZeroU32::new(login_defaults.per_email_per_minute).expect("a non-zero default"),
            )?
            .get(),
        };

        let stripe_requests_per_sec = match get("STRIPE_MAX_REQUESTS_PER_SEC") {
            Some(_) => Some(nonzero("STRIPE_MAX_REQUESTS_PER_SEC", NonZeroU32::MIN)?),
            None => None,
        };

        let retention_defaults = RetentionPolicy::default();
        let retention = RetentionPolicy {
            webhook_payload_days: positive("RETENTION_WEBHOOK_DAYS", retention_defaults.webhook_payload_days)?,
            mail_body_days: positive("RETENTION_MAIL_DAYS", retention_defaults.mail_body_days)?,
        };

        let usage = crate::server::usage::config::UsageConfig::read(get)?;

        let alert_defaults = AlertThresholds::default();
        let alerts = AlertThresholds {
            payment_failure_rate_percent: positive(
                "ALERT_PAYMENT_FAILURE_RATE_PERCENT",
                alert_defaults.payment_failure_rate_percent,
            )?,
            payment_min_attempts: positive("ALERT_PAYMENT_MIN_ATTEMPTS", alert_defaults.payment_min_attempts)?,
            payment_window_hours: positive("ALERT_PAYMENT_WINDOW_HOURS", alert_defaults.payment_window_hours)?,
            dead_letters: positive("ALERT_DEAD_LETTERS", alert_defaults.dead_letters)?,
            outbox_lag_secs: positive("ALERT_OUTBOX_LAG_SECS", alert_defaults.outbox_lag_secs)?,
            refused_webhooks_per_hour: positive(
                "ALERT_REFUSED_WEBHOOKS_PER_HOUR",
                alert_defaults.refused_webhooks_per_hour,
            )?,
            stripe_unreachable_secs: positive("ALERT_STRIPE_UNREACHABLE_SECS", alert_defaults.stripe_unreachable_secs)?,
            check_interval_secs: positive("ALERT_CHECK_INTERVAL_SECS", alert_defaults.check_interval_secs)?,
        };
        if alerts.payment_failure_rate_percent > 100 {
            return Err(ConfigError::new("ALERT_PAYMENT_FAILURE_RATE_PERCENT", "expected a percentage from 1 to 100"));
        }

        let connect_charges = match get("CONNECT_CHARGES").as_deref() {
            None | Some("destination") => ConnectCharges::Destination,
            Some("direct") => ConnectCharges::Direct,
            Some(_) => return Err(ConfigError::new("CONNECT_CHARGES", "expected destination or direct")),
        };
        let past_due_grace_secs =
            positive("PAST_DUE_GRACE_DAYS", crate::domain::subscription::DEFAULT_PAST_DUE_GRACE_SECS / 86_400)?
                * 86_400;

        let brand = brand(&get)?;
        let checkout_ui = crate::views::payment_element::CheckoutUi::parse(&get("CHECKOUT_UI").unwrap_or_default())
            .map_err(|why| ConfigError::new("CHECKOUT_UI", why))?;

        let fraud_warning_auto_refund = get("FRAUD_WARNING_AUTO_REFUND")
            .map(|raw| parse_bool("FRAUD_WARNING_AUTO_REFUND", &raw))
            .transpose()?
            .unwrap_or(false);

        let production = match get("LEPTOS_ENV").as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("dev") | Some("development") => false,
            Some("prod") | Some("production") => true,
            Some(_) => return Err(ConfigError::new("LEPTOS_ENV", "expected DEV or PROD")),
        };
        let site = SiteConfig {
            output_name: get("LEPTOS_OUTPUT_NAME").unwrap_or_else(|| "tollgate".into()),
            site_root: get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            site_pkg_dir: get("LEPTOS_SITE_PKG_DIR").unwrap_or_else(|| "pkg".into()),
            production,
            reload_port: get("LEPTOS_RELOAD_PORT")
                .map(|raw| {
                    raw.parse::<u32>().map_err(|_| ConfigError::new("LEPTOS_RELOAD_PORT", "expected a port number"))
                })
                .transpose()?
                .unwrap_or(3001),
            hash_files: get("LEPTOS_HASH_FILES")
                .map(|raw| parse_bool("LEPTOS_HASH_FILES", &raw))
                .transpose()?
                .unwrap_or(false),
        };

        Ok(Self {
            database_url,
            app_url,
            site_addr,
            stripe: StripeConfig {
                secret_key,
                publishable_key,
                webhook_secrets,
                connect_webhook_secrets,
                api_base,
                webhook_tolerance_secs,
            },
            admin,
            smtp_url,
            mail_from,
            trust_proxy_headers,
            catalog_path,
            site,
            reconcile_interval_secs,
            usage,
            metrics_token,
            webhook_retry,
            dunning,
            abuse_quotas,
            login_quotas,
            stripe_requests_per_sec,
            retention,
            alerts,
            past_due_grace_secs,
            connect_charges,
            brand,
            checkout_ui,
            fraud_warning_auto_refund,
        })
    }

    /// What `serve` refuses to start with (other commands still run, so `doctor` can say why):
    /// the sandbox standing in for Stripe in production, a live key over plain http, a Stripe
    /// account without a way to verify its webhooks. Fails closed, naming the variable.
    pub fn refuse_unsafe_stripe_setup(&self) -> Result<(), ConfigError> {
        let stripe = &self.stripe;
        let public = self.site.production || self.app_url.scheme() == "https";
        // Without a key the app talks to a sandbox (embedded, or at STRIPE_API_BASE).
        let Some(key) = &stripe.secret_key else {
            return if public {
                Err(ConfigError::new(
                    "STRIPE_SECRET_KEY",
                    "must be set in production (LEPTOS_ENV=PROD or an https APP_URL): the sandbox takes no real \
                     payments",
                ))
            } else {
                Ok(())
            };
        };
        let live = key.expose_secret().contains("_live_");
        if live && stripe.api_base.as_ref().is_some_and(|base| base.scheme() != "https") {
            return Err(ConfigError::new("STRIPE_API_BASE", "a live key is only ever sent over https"));
        }
        if stripe.webhook_secrets.is_empty() {
            return Err(ConfigError::new(
                "STRIPE_WEBHOOK_SECRET",
                "must be set when STRIPE_SECRET_KEY is (the endpoint's signing secret, whsec_…): without it no \
                 webhook can be verified",
            ));
        }
        Ok(())
    }

    /// Session cookies are `Secure` when the public URL is https.
    pub fn secure_cookies(&self) -> bool {
        self.app_url.scheme() == "https"
    }
}

/// Loads `.env` from the working directory if there is one. Variables already in the
/// environment win. A malformed file is an error naming `.env`.
pub fn load_dotenv() -> Result<(), ConfigError> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(e) if e.not_found() => Ok(()),
        Err(e) => Err(ConfigError::new(".env", e.to_string())),
    }
}

/// A comma-separated list of webhook signing secrets (`whsec_…`) in `var`, several while one is
/// rotated; empty when unset.
fn secret_list(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<Vec<SecretString>, ConfigError> {
    let Some(list) = get(var) else { return Ok(vec![]) };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| with_prefix(var, s.to_owned(), &["whsec_"]).map(SecretString::from))
        .collect()
}

/// `value` if it starts with one of `prefixes`; the error names the variable and the prefixes.
fn with_prefix(var: &'static str, value: String, prefixes: &[&str]) -> Result<String, ConfigError> {
    if prefixes.iter().any(|p| value.starts_with(p)) {
        Ok(value)
    } else {
        Err(ConfigError::new(var, format!("expected a value starting with {}", prefixes.join(", "))))
    }
}

/// `smtps://…` (TLS from the first byte), `smtp://…?tls=required` (STARTTLS), or plain `smtp://`
/// to this machine only: credentials and mail never cross a network in clear.
fn parse_smtp_url(raw: &str) -> Result<SecretString, ConfigError> {
    let shape = "expected smtps://[user:password@]host[:port], or smtp://…?tls=required";
    let url = Url::parse(raw).map_err(|_| ConfigError::new("SMTP_URL", shape))?;
    let Some(host) = url.host_str() else { return Err(ConfigError::new("SMTP_URL", shape)) };
    let starttls = url.query_pairs().any(|(key, value)| key == "tls" && value == "required");
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match url.scheme() {
        "smtps" => Ok(SecretString::from(raw.to_owned())),
        "smtp" if starttls || local => Ok(SecretString::from(raw.to_owned())),
        "smtp" => Err(ConfigError::new(
            "SMTP_URL",
            "smtp:// without TLS only to localhost: use smtps://, or add ?tls=required for STARTTLS",
        )),
        _ => Err(ConfigError::new("SMTP_URL", shape)),
    }
}

fn parse_http_url(var: &'static str, raw: &str) -> Result<Url, ConfigError> {
    match Url::parse(raw) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(url),
        _ => Err(ConfigError::new(var, "expected an http:// or https:// URL")),
    }
}

fn parse_bool(var: &'static str, raw: &str) -> Result<bool, ConfigError> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::new(var, "expected true or false")),
    }
}

/// The brand from `BRAND_*` and `SUPPORT_EMAIL`; tollgate's own where unset.
fn brand(get: &impl Fn(&str) -> Option<String>) -> Result<Brand, ConfigError> {
    let defaults = Brand::default();
    Ok(Brand {
        name: get("BRAND_NAME").unwrap_or(defaults.name),
        logo_url: get("BRAND_LOGO_URL")
            .map(|raw| Brand::check_logo_path(&raw).map_err(|e| ConfigError::new("BRAND_LOGO_URL", e)))
            .transpose()?,
        accent: get("BRAND_ACCENT")
            .map(|raw| Accent::parse(&raw).map_err(|e| ConfigError::new("BRAND_ACCENT", e)))
            .transpose()?
            .unwrap_or(defaults.accent),
        support_email: get("SUPPORT_EMAIL")
            .map(|raw| {
                Email::parse(&raw).map(|e| e.to_string()).map_err(|e| ConfigError::new("SUPPORT_EMAIL", e.to_string()))
            })
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn error_variable(vars: &[(&str, &str)]) -> &'static str {
        config(vars).expect_err("should be refused").variable
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.database_url.expose(), DEFAULT_DATABASE_URL);
        assert_eq!(c.database_url.backend(), Backend::Sqlite);
        assert_eq!(c.database_url.sqlite_file(), Some(PathBuf::from("data/tollgate.db")));
        assert_eq!(c.app_url.as_str(), "http://127.0.0.1:3000/");
        assert_eq!(c.site_addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(c.stripe.webhook_tolerance_secs, 300);
        assert_eq!(c.stripe.mode(), StripeMode::Sandbox);
        assert!(c.stripe.wants_embedded_sandbox());
        assert!(c.admin.is_none());
        assert!(!c.secure_cookies());
        assert!(!c.trust_proxy_headers);
        assert_eq!(c.site.output_name, "tollgate");
        assert_eq!(c.site.site_root, "target/site");
        assert_eq!(c.site.site_pkg_dir, "pkg");
    }

    #[test]
    fn the_brand_defaults_to_tollgate_and_refuses_what_would_break_the_pages() {
        let c = config(&[]).unwrap();
        assert_eq!((c.brand.name.as_str(), c.brand.accent.as_str()), ("tollgate", "#3451b2"));
        let c = config(&[
            ("BRAND_NAME", "Acme Cloud"),
            ("BRAND_LOGO_URL", "/acme.svg"),
            ("BRAND_ACCENT", "#0B6E4F"),
            ("SUPPORT_EMAIL", "help@acme.test"),
        ])
        .unwrap();
        assert_eq!(c.brand.name, "Acme Cloud");
        assert_eq!(c.brand.logo_url.as_deref(), Some("/acme.svg"));
        assert_eq!(c.brand.accent.as_str(), "#0b6e4f");
        assert_eq!(c.brand.support_email.as_deref(), Some("help@acme.test"));
        assert_eq!(error_variable(&[("BRAND_ACCENT", "#ffee00")]), "BRAND_ACCENT");
        assert_eq!(error_variable(&[("BRAND_LOGO_URL", "https://cdn.test/a.svg")]), "BRAND_LOGO_URL");
        assert_eq!(error_variable(&[("SUPPORT_EMAIL", "nobody")]), "SUPPORT_EMAIL");
    }

    #[test]
    fn webhook_retries_default_to_stripes_three_day_horizon_and_can_be_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.webhook_retry, RetryPolicy { max_attempts: 21, first_retry_secs: 60 });
        let c = config(&[("WEBHOOK_MAX_ATTEMPTS", "3"), ("WEBHOOK_RETRY_SECS", "1")]).unwrap();
        assert_eq!(c.webhook_retry, RetryPolicy { max_attempts: 3, first_retry_secs: 1 });
        assert_eq!(error_variable(&[("WEBHOOK_MAX_ATTEMPTS", "0")]), "WEBHOOK_MAX_ATTEMPTS");
        assert_eq!(error_variable(&[("WEBHOOK_RETRY_SECS", "soon")]), "WEBHOOK_RETRY_SECS");
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("STRIPE_SECRET_KEY", ""), ("DATABASE_URL", " ")]).unwrap();
        assert_eq!(c.stripe.mode(), StripeMode::Sandbox);
        assert_eq!(c.database_url.expose(), DEFAULT_DATABASE_URL);
    }

    #[test]
    fn mode_follows_the_key_prefix() {
        let test = config(&[("STRIPE_SECRET_KEY", "sk_test_abc")]).unwrap();
        assert_eq!(test.stripe.mode(), StripeMode::Test);
        assert!(!test.stripe.wants_embedded_sandbox());
        let live = config(&[("STRIPE_SECRET_KEY", "sk_live_abc")]).unwrap();
        assert_eq!(live.stripe.mode(), StripeMode::Live);
        let external = config(&[("STRIPE_API_BASE", "http://127.0.0.1:12111")]).unwrap();
        assert_eq!(external.stripe.mode(), StripeMode::Sandbox);
        assert!(!external.stripe.wants_embedded_sandbox());
    }

    #[test]
    fn postgres_urls_select_postgres_and_hide_the_password() {
        let c = config(&[("DATABASE_URL", "postgres://app:s3cret@db:5432/tollgate")]).unwrap();
        assert_eq!(c.database_url.backend(), Backend::Postgres);
        assert!(!c.database_url.to_string().contains("s3cret"));
        assert!(!format!("{:?}", c.database_url).contains("s3cret"));
        assert!(c.database_url.sqlite_file().is_none());
    }

    #[test]
    fn webhook_secrets_are_a_comma_separated_list() {
        let c = config(&[("STRIPE_WEBHOOK_SECRET", "whsec_a, whsec_b,")]).unwrap();
        let secrets: Vec<&str> = c.stripe.webhook_secrets.iter().map(|s| s.expose_secret()).collect();
        assert_eq!(secrets, ["whsec_a", "whsec_b"]);
    }

    #[test]
    fn malformed_settings_name_their_variable() {
        assert_eq!(error_variable(&[("DATABASE_URL", "mysql://x")]), "DATABASE_URL");
        assert_eq!(error_variable(&[("APP_URL", "localhost:3000")]), "APP_URL");
        assert_eq!(error_variable(&[("LEPTOS_SITE_ADDR", "nope")]), "LEPTOS_SITE_ADDR");
        assert_eq!(error_variable(&[("STRIPE_SECRET_KEY", "pk_test_x")]), "STRIPE_SECRET_KEY");
        assert_eq!(error_variable(&[("STRIPE_PUBLISHABLE_KEY", "sk_test_x")]), "STRIPE_PUBLISHABLE_KEY");
        assert_eq!(error_variable(&[("STRIPE_WEBHOOK_SECRET", "whsec_a,oops")]), "STRIPE_WEBHOOK_SECRET");
        assert_eq!(error_variable(&[("STRIPE_API_BASE", "ftp://x")]), "STRIPE_API_BASE");
        assert_eq!(error_variable(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", "5m")]), "STRIPE_WEBHOOK_TOLERANCE_SECS");
        assert_eq!(error_variable(&[("SMTP_URL", "mail.example.com")]), "SMTP_URL");
        assert_eq!(error_variable(&[("METRICS_TOKEN", "short")]), "METRICS_TOKEN");
        assert_eq!(error_variable(&[("TRUST_PROXY_HEADERS", "maybe")]), "TRUST_PROXY_HEADERS");
        assert_eq!(error_variable(&[("FRAUD_WARNING_AUTO_REFUND", "sometimes")]), "FRAUD_WARNING_AUTO_REFUND");
        assert_eq!(error_variable(&[("LEPTOS_ENV", "staging")]), "LEPTOS_ENV");
        assert_eq!(error_variable(&[("RATE_LIMIT_SIGNUP_PER_HOUR", "0")]), "RATE_LIMIT_SIGNUP_PER_HOUR");
        assert_eq!(error_variable(&[("RATE_LIMIT_CHECKOUT_PER_HOUR", "lots")]), "RATE_LIMIT_CHECKOUT_PER_HOUR");
    }

    #[test]
    fn the_fraud_warning_refund_is_off_unless_asked_for() {
        assert!(!config(&[]).unwrap().fraud_warning_auto_refund);
        assert!(config(&[("FRAUD_WARNING_AUTO_REFUND", "true")]).unwrap().fraud_warning_auto_refund);
    }

    #[test]
    fn alert_thresholds_default_and_can_be_set() {
        assert_eq!(config(&[]).unwrap().alerts, AlertThresholds::default());
        let c = config(&[("ALERT_PAYMENT_FAILURE_RATE_PERCENT", "10"), ("ALERT_OUTBOX_LAG_SECS", "60")]).unwrap();
        assert_eq!((c.alerts.payment_failure_rate_percent, c.alerts.outbox_lag_secs), (10, 60));
        let err = config(&[("ALERT_PAYMENT_FAILURE_RATE_PERCENT", "101")]).unwrap_err();
        assert_eq!(err.variable, "ALERT_PAYMENT_FAILURE_RATE_PERCENT");
        assert_eq!(config(&[("ALERT_DEAD_LETTERS", "0")]).unwrap_err().variable, "ALERT_DEAD_LETTERS");
    }

    #[test]
    fn retention_defaults_to_ninety_days_and_can_be_set() {
        assert_eq!(config(&[]).unwrap().retention, RetentionPolicy { webhook_payload_days: 90, mail_body_days: 90 });
        let c = config(&[("RETENTION_WEBHOOK_DAYS", "30"), ("RETENTION_MAIL_DAYS", "365")]).unwrap();
        assert_eq!(c.retention, RetentionPolicy { webhook_payload_days: 30, mail_body_days: 365 });
        assert_eq!(error_variable(&[("RETENTION_MAIL_DAYS", "0")]), "RETENTION_MAIL_DAYS");
    }

    #[test]
    fn mail_goes_out_over_tls_or_stays_on_this_machine() {
        let with = |url: &str| config(&[("SMTP_URL", url), ("MAIL_FROM", "Billing <billing@example.com>")]);
        assert!(with("smtps://u:p@mail.example.com").is_ok());
        assert!(with("smtp://u:p@mail.example.com:587?tls=required").is_ok());
        assert!(with("smtp://localhost:1025").is_ok());
        assert!(with("smtp://127.0.0.1:25").is_ok());
        let clear = with("smtp://u:p@mail.example.com:587").unwrap_err();
        assert_eq!(clear.variable, "SMTP_URL");
        assert!(!clear.to_string().contains("u:p"), "{clear}");
        assert_eq!(with("smtp://u:p@mail.example.com?tls=opportunistic").unwrap_err().variable, "SMTP_URL");
    }

    #[test]
    fn the_sender_is_set_with_smtp_and_defaults_only_for_the_dev_mailbox() {
        assert_eq!(config(&[]).unwrap().mail_from.to_string(), DEV_MAIL_FROM);
        assert_eq!(error_variable(&[("SMTP_URL", "smtps://mail.example.com")]), "MAIL_FROM");
        let c = config(&[("SMTP_URL", "smtps://mail.example.com"), ("MAIL_FROM", "Billing <billing@example.com>")]);
        assert_eq!(c.unwrap().mail_from.email.to_string(), "billing@example.com");
        assert_eq!(error_variable(&[("MAIL_FROM", "not an address")]), "MAIL_FROM");
    }

    #[test]
    fn abuse_limits_default_and_can_be_set() {
        assert_eq!(config(&[]).unwrap().abuse_quotas, AbuseQuotas::default());
        let c = config(&[("RATE_LIMIT_SIGNUP_PER_HOUR", "3"), ("RATE_LIMIT_PORTAL_PER_HOUR", "7")]).unwrap();
        assert_eq!((c.abuse_quotas.sign_up.get(), c.abuse_quotas.portal.get()), (3, 7));
        assert_eq!(c.abuse_quotas.checkout, AbuseQuotas::default().checkout);
        let c =
            config(&[("RATE_LIMIT_LOGIN_PER_MINUTE", "40"), ("RATE_LIMIT_LOGIN_PER_EMAIL_PER_MINUTE", "9")]).unwrap();
        assert_eq!((c.login_quotas.per_ip_per_minute, c.login_quotas.per_email_per_minute), (40, 9));
        assert!(config(&[("RATE_LIMIT_LOGIN_PER_MINUTE", "0")]).is_err());
    }

    #[test]
    fn admin_settings_come_as_a_pair_and_are_validated() {
        assert_eq!(error_variable(&[("ADMIN_EMAIL", "a@b.co")]), "ADMIN_PASSWORD");
        assert!(config(&[("ADMIN_PASSWORD", "long enough")]).unwrap().admin.is_none());
        assert_eq!(
            error_variable(&[("ADMIN_EMAIL", "not-an-email"), ("ADMIN_PASSWORD", "long enough")]),
            "ADMIN_EMAIL"
        );
        assert_eq!(error_variable(&[("ADMIN_EMAIL", "a@b.co"), ("ADMIN_PASSWORD", "short")]), "ADMIN_PASSWORD");
        let c = config(&[("ADMIN_EMAIL", "Boss@Example.com"), ("ADMIN_PASSWORD", "long enough")]).unwrap();
        assert_eq!(c.admin.unwrap().email.as_str(), "boss@example.com");
    }

    #[test]
    fn error_is_one_line_naming_the_variable() {
        let err = config(&[("STRIPE_WEBHOOK_TOLERANCE_SECS", "abc")]).unwrap_err();
        let line = err.to_string();
        assert!(line.contains("STRIPE_WEBHOOK_TOLERANCE_SECS"), "{line}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let c = config(&[
            ("STRIPE_SECRET_KEY", "sk_test_TOPSECRET"),
            ("STRIPE_WEBHOOK_SECRET", "whsec_TOPSECRET"),
            ("ADMIN_EMAIL", "a@b.co"),
            ("ADMIN_PASSWORD", "TOPSECRET-pw"),
            ("SMTP_URL", "smtps://u:TOPSECRET@mail.example.com"),
            ("MAIL_FROM", "billing@example.com"),
            ("DATABASE_URL", "postgres://u:TOPSECRET@db/x"),
            ("METRICS_TOKEN", "TOPSECRET-metrics-token"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("TOPSECRET"), "{shown}");
    }

    const REAL_STRIPE: [(&str, &str); 2] = [("STRIPE_SECRET_KEY", "sk_test_abc"), ("STRIPE_WEBHOOK_SECRET", "whsec_a")];

    /// The variable `serve` names when it refuses to start with `vars`.
    fn serve_refusal(vars: &[(&str, &str)]) -> &'static str {
        config(vars).unwrap().refuse_unsafe_stripe_setup().expect_err("serve should refuse").variable
    }

    fn serve_accepts(vars: &[(&str, &str)]) -> bool {
        config(vars).unwrap().refuse_unsafe_stripe_setup().is_ok()
    }

    #[test]
    fn https_app_url_means_secure_cookies() {
        assert!(config(&[("APP_URL", "https://billing.example.com")]).unwrap().secure_cookies());
    }

    #[test]
    fn the_sandbox_never_stands_in_for_stripe_in_production() {
        assert_eq!(serve_refusal(&[("LEPTOS_ENV", "PROD")]), "STRIPE_SECRET_KEY");
        assert_eq!(serve_refusal(&[("APP_URL", "https://billing.example.com")]), "STRIPE_SECRET_KEY");
        let external = [("APP_URL", "https://billing.example.com"), ("STRIPE_API_BASE", "http://127.0.0.1:12111")];
        assert_eq!(serve_refusal(&external), "STRIPE_SECRET_KEY");
        assert!(serve_accepts(&[REAL_STRIPE[0], REAL_STRIPE[1], ("LEPTOS_ENV", "PROD")]));
        assert!(serve_accepts(&[("APP_URL", "http://127.0.0.1:3000")]));
        assert!(serve_accepts(&[]), "development: the embedded sandbox");
    }

    #[test]
    fn a_live_key_only_travels_over_https() {
        let live = [("STRIPE_SECRET_KEY", "sk_live_abc"), ("STRIPE_WEBHOOK_SECRET", "whsec_a")];
        assert_eq!(
            serve_refusal(&[live[0], live[1], ("STRIPE_API_BASE", "http://stripe-proxy.internal")]),
            "STRIPE_API_BASE"
        );
        assert!(serve_accepts(&[live[0], live[1], ("STRIPE_API_BASE", "https://stripe-proxy.internal")]));
        let test_over_http = [REAL_STRIPE[0], REAL_STRIPE[1], ("STRIPE_API_BASE", "http://127.0.0.1:12111")];
        assert!(serve_accepts(&test_over_http), "a test key may go to a local sandbox");
    }

    #[test]
    fn a_stripe_key_needs_a_webhook_secret() {
        assert_eq!(serve_refusal(&[("STRIPE_SECRET_KEY", "sk_test_abc")]), "STRIPE_WEBHOOK_SECRET");
        assert_eq!(serve_refusal(&[("STRIPE_SECRET_KEY", "sk_live_abc")]), "STRIPE_WEBHOOK_SECRET");
    }
}
