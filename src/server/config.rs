//! Configuration: defaults → `.env` → environment.
//!
//! Every setting is read through one lookup function so the parsing is testable
//! without touching the process environment. A missing or malformed setting is
//! a [`ConfigError`] whose one-line message names the variable.

use std::{net::SocketAddr, path::PathBuf};

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::domain::{Email, Password};
use crate::server::webhooks::worker::{self, RetryPolicy};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tollgate.db";
pub const DEFAULT_APP_URL: &str = "http://127.0.0.1:3000";
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_RECONCILE_INTERVAL_SECS: u64 = 300;
pub const DEFAULT_WEBHOOK_TOLERANCE_SECS: u64 = 300;
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
    fn new(variable: &'static str, message: impl Into<String>) -> Self {
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
    pub api_base: Option<Url>,
    pub webhook_tolerance_secs: u64,
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
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy you control).
    pub trust_proxy_headers: bool,
    /// The product catalog (`catalog.toml`), relative to the working directory.
    pub catalog_path: PathBuf,
    pub site: SiteConfig,
    /// How often `serve` reads Stripe's events list to heal missed webhooks; 0 turns it off.
    pub reconcile_interval_secs: u64,
    /// The bearer token `/metrics` asks for; without one the route is not served.
    pub metrics_token: Option<SecretString>,
    /// How the webhook worker retries a failed event before dead-lettering it.
    pub webhook_retry: RetryPolicy,
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
        let webhook_secrets = get("STRIPE_WEBHOOK_SECRET")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| with_prefix("STRIPE_WEBHOOK_SECRET", s.to_owned(), &["whsec_"]).map(SecretString::from))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
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

        let smtp_url = get("SMTP_URL")
            .map(|raw| match Url::parse(&raw) {
                Ok(url) if ["smtp", "smtps"].contains(&url.scheme()) && url.host().is_some() => {
                    Ok(SecretString::from(raw))
                }
                _ => Err(ConfigError::new("SMTP_URL", "expected smtp://[user:password@]host[:port] or smtps://…")),
            })
            .transpose()?;

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
            stripe: StripeConfig { secret_key, publishable_key, webhook_secrets, api_base, webhook_tolerance_secs },
            admin,
            smtp_url,
            trust_proxy_headers,
            catalog_path,
            site,
            reconcile_interval_secs,
            metrics_token,
            webhook_retry,
        })
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

/// `value` if it starts with one of `prefixes`; the error names the variable and the prefixes.
fn with_prefix(var: &'static str, value: String, prefixes: &[&str]) -> Result<String, ConfigError> {
    if prefixes.iter().any(|p| value.starts_with(p)) {
        Ok(value)
    } else {
        Err(ConfigError::new(var, format!("expected a value starting with {}", prefixes.join(", "))))
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
    fn webhook_retries_default_to_eight_attempts_from_thirty_seconds_and_can_be_set() {
        let c = config(&[]).unwrap();
        assert_eq!(c.webhook_retry, RetryPolicy { max_attempts: 8, first_retry_secs: 30 });
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
        assert_eq!(error_variable(&[("LEPTOS_ENV", "staging")]), "LEPTOS_ENV");
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
            ("SMTP_URL", "smtp://u:TOPSECRET@mail.example.com"),
            ("DATABASE_URL", "postgres://u:TOPSECRET@db/x"),
            ("METRICS_TOKEN", "TOPSECRET-metrics-token"),
        ])
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("TOPSECRET"), "{shown}");
    }

    #[test]
    fn https_app_url_means_secure_cookies() {
        assert!(config(&[("APP_URL", "https://billing.example.com")]).unwrap().secure_cookies());
    }
}
