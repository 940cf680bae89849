//! Everything the tests share: `spawn_app()` and the browser-without-JavaScript client the tests
//! drive it with (here); the sandbox's clock (`clock`); an app whose webhooks the tests can post
//! and watch (`hooks`); Stripe's API as its other clients call it (`stripe_api`); the binary as a
//! process (`process`); figures read from pages (`html`); whole tables read back (`tables`); the
//! chaos script and its comparison with the sandbox (`chaos`).

pub mod chaos;
mod clock;
pub mod hooks;
mod html;
mod process;
mod stripe_api;
mod stripe_js;
mod tables;

use std::collections::HashMap;

use reqwest::{header, redirect, Response, StatusCode};
use tollgate::server::{config::Config, db::Db, startup::Application};

pub use clock::*;
pub use html::{data_attribute, kpi, path_of, text_of_class};
pub use process::{spawn_tollgate, tollgate, ServeProcess};
pub use stripe_api::{prices, Api, Lcg, KEY};
pub use stripe_js::PUBLISHABLE_KEY;
pub use tables::{dump_tables, tables_and_columns};

pub const ADMIN_EMAIL: &str = "admin@tollgate.test";
pub const ADMIN_PASSWORD: &str = "admin password 123";
pub const PASSWORD: &str = "correct horse battery";

/// What a browser sends with a plain (no-JavaScript) navigation or form post.
pub const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A fresh, empty database. Postgres databases are dropped when this is dropped.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn new() -> Self {
        match std::env::var("TOLLGATE_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) {
            Some(server_url) => Self::postgres(&server_url).await,
            None => Self::sqlite(),
        }
    }

    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}/data/tollgate.db", dir.path().display());
        Self { url, _dir: Some(dir), postgres: None }
    }

    async fn postgres(server_url: &str) -> Self {
        use sqlx::{Connection, Executor};
        let name = format!("tollgate_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(server_url).await.expect("connecting to TOLLGATE_TEST_POSTGRES_URL");
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await.expect("creating a test database");
        let _ = conn.close().await;
        let mut url = url::Url::parse(server_url).expect("TOLLGATE_TEST_POSTGRES_URL is a URL");
        url.set_path(&name);
        Self { url: url.to_string(), _dir: None, postgres: Some((server_url.to_owned(), name)) }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server_url, name)) = self.postgres.take() else { return };
        // A thread with its own runtime: Drop cannot await, and the test's runtime may be gone.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                use sqlx::{Connection, Executor};
                let mut conn = sqlx::PgConnection::connect(&server_url).await.ok()?;
                conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await.ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    /// Keeps cookies, never follows redirects (tests look at each hop).
    pub client: reqwest::Client,
    pub database: TestDatabase,
    /// The app's own Stripe client (pointing at the sandbox).
    pub stripe: tollgate::server::stripe::client::StripeClient,
    /// The sandbox's base URL (its control API is under `/_sandbox/`): the embedded one, or
    /// the app's own (see [`spawn_public_app`]).
    pub sandbox_url: String,
    /// A sandbox standing in for Stripe at `STRIPE_API_BASE`, kept running with the app.
    pub own_sandbox: Option<stripe_sandbox::RunningSandbox>,
    /// The running app's state, for calling its Rust API (`entitlements::check`, …) directly.
    pub state: tollgate::server::state::AppState,
}

/// The configuration every test app gets, with `overrides` on top.
pub fn test_vars(database_url: &str, overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let mut vars: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("ADMIN_EMAIL", ADMIN_EMAIL),
        ("ADMIN_PASSWORD", ADMIN_PASSWORD),
        // Every test client comes from 127.0.0.1: the per-network limits are tested on their own.
        ("RATE_LIMIT_SIGNUP_PER_HOUR", "100000"),
        ("RATE_LIMIT_CHECKOUT_PER_HOUR", "100000"),
        ("RATE_LIMIT_PORTAL_PER_HOUR", "100000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (k, v) in overrides {
        vars.insert((*k).to_owned(), (*v).to_owned());
    }
    vars
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    // Logs only on request: TEST_LOG=1 cargo test --features ssr
    if std::env::var_os("TEST_LOG").is_some() {
        tollgate::server::telemetry::init();
    }
    let database = TestDatabase::new().await;
    let vars = test_vars(&database.url, overrides);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("valid test config");
    let app = Application::build(config).await.expect("the app builds");
    let port = app.port();
    let db = app.state().db.clone();
    let stripe = app.state().stripe_client.clone();
    let sandbox_url = app.sandbox_url().unwrap_or_else(|| app.state().stripe.api_base.clone());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        db,
        client: new_client(),
        database,
        stripe,
        sandbox_url,
        own_sandbox: None,
        state,
    }
}

/// The public URL of apps set up as in production.
pub const PUBLIC_APP_URL: &str = "https://billing.example.com";

/// An app set up as in production (an https `APP_URL`): it will not start on the embedded
/// sandbox, so it gets a Stripe key, a webhook secret and a sandbox of its own at
/// `STRIPE_API_BASE`, as it would get Stripe, with the catalog already synced there.
pub async fn spawn_public_app() -> TestApp {
    let sandbox = stripe_sandbox::start(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("a sandbox");
    let base = sandbox.base_url();
    let key = tollgate::server::config::SANDBOX_SECRET_KEY;
    let stripe = tollgate::server::stripe::client::StripeClient::new(&key.to_owned().into(), Some(&base)).unwrap();
    prices(&stripe).await;
    let mut app = spawn_app_with(&[
        ("APP_URL", PUBLIC_APP_URL),
        ("STRIPE_SECRET_KEY", key),
        ("STRIPE_API_BASE", &base),
        ("STRIPE_WEBHOOK_SECRET", "whsec_public_app_tests"),
    ])
    .await;
    app.own_sandbox = Some(sandbox);
    app
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(redirect::Policy::none())
        // A hang becomes a failure that names the request.
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("a client")
}

impl TestApp {
    /// Waits until the sandbox has delivered every webhook and the app's worker has applied
    /// them; fails naming the events still pending.
    pub async fn settle(&self) {
        let http = reqwest::Client::new();
        for _ in 0..2 {
            let res = http
                .post(format!("{}/_sandbox/deliveries/wait", self.sandbox_url))
                .json(&serde_json::json!({ "timeout_ms": 20_000 }))
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success());
        }
        let unapplied = "SELECT event_type, status, last_error FROM webhook_events \
                         WHERE status IN ('pending', 'retrying', 'dead')";
        for _ in 0..600 {
            let waiting: Vec<(String, String, Option<String>)> =
                sqlx::query_as(unapplied).fetch_all(self.db.pool()).await.unwrap();
            if waiting.is_empty() {
                return;
            }
            if waiting.iter().any(|e| e.1 != "pending") {
                panic!("webhook events failed: {waiting:?}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let stuck: Vec<(String, String, Option<String>)> =
            sqlx::query_as(unapplied).fetch_all(self.db.pool()).await.unwrap();
        panic!("webhook events not applied: {stuck:?}");
    }

    /// A GET on the sandbox (its REST API or its `/_sandbox/` control API), as JSON.
    pub async fn stripe_get_json(&self, path: &str) -> serde_json::Value {
        let res = reqwest::Client::new()
            .get(format!("{}{path}", self.sandbox_url))
            .bearer_auth("sk_test_tollgate_sandbox")
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A browser navigation (no JavaScript).
    pub async fn get(&self, path: &str) -> Response {
        self.get_with(&self.client, path).await
    }

    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> Response {
        client.get(self.url(path)).header(header::ACCEPT, BROWSER_ACCEPT).send().await.expect("GET")
    }

    /// GET, asserting 200, returning the HTML.
    pub async fn page(&self, path: &str) -> String {
        self.page_with(&self.client, path).await
    }

    pub async fn page_with(&self, client: &reqwest::Client, path: &str) -> String {
        let res = self.get_with(client, path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        html_of(res).await
    }

    /// Submits the form on `page` whose submit button reads `button`, as a browser
    /// without JavaScript does: the form's own action, urlencoded, accepting HTML.
    pub async fn submit(&self, page: &str, button: &str, fields: &[(&str, &str)]) -> Response {
        self.submit_with(&self.client, page, button, fields).await
    }

    pub async fn submit_with(
        &self,
        client: &reqwest::Client,
        page: &str,
        button: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let res = self.get_with(client, page).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {page}");
        let html = res.text().await.unwrap();
        let form =
            form_with_button(&html, button).unwrap_or_else(|| panic!("no form with a {button:?} button on {page}"));
        let action = action_of(&form).unwrap_or_else(|| panic!("the {button:?} form on {page} has no action"));
        // As a browser does: the form's hidden fields go along with what was typed (a field given
        // here replaces a hidden one of the same name).
        let mut sent = hidden_fields(&form);
        sent.extend(textarea_fields(&form));
        sent.extend(pressed_button(&html, button));
        sent.retain(|(name, _)| !fields.iter().any(|(given, _)| given == name));
        sent.extend(fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        client.post(self.url(&action)).header(header::ACCEPT, BROWSER_ACCEPT).form(&sent).send().await.expect("POST")
    }

    pub async fn sign_up(&self, email: &str, password: &str) -> Response {
        self.submit("/signup", "Sign up", &[("email", email), ("password", password)]).await
    }

    pub async fn log_in(&self, email: &str, password: &str) -> Response {
        self.submit("/login", "Log in", &[("email", email), ("password", password)]).await
    }

    pub async fn log_in_with(&self, client: &reqwest::Client, email: &str, password: &str) -> Response {
        self.submit_with(client, "/login", "Log in", &[("email", email), ("password", password)]).await
    }

    /// Signs up, confirms the address through the link in the outbox and logs in: the client is
    /// then logged in as that customer, who may pay.
    pub async fn customer(&self, email: &str) {
        self.customer_with(&self.client, email).await;
    }

    pub async fn customer_with(&self, client: &reqwest::Client, email: &str) {
        self.unverified_customer_with(client, email).await;
        let link = self.mailed_link(email, "/verify-email").await;
        let page = self.get_with(client, &link).await;
        assert_eq!(page.status(), StatusCode::OK, "GET {link}");
        let html = html_of(page).await;
        assert!(html.contains("Your email address is confirmed."), "{html}");
    }

    /// Signs up and logs in without opening the verification link.
    pub async fn unverified_customer_with(&self, client: &reqwest::Client, email: &str) {
        let res = self.submit_with(client, "/signup", "Sign up", &[("email", email), ("password", PASSWORD)]).await;
        assert_redirect(&res, "/login");
        assert_redirect(&self.log_in_with(client, email, PASSWORD).await, "/account");
    }

    /// The last one-time link mailed to `to` for `path` (`/verify-email`, `/reset-password`), as
    /// a path and query on the app: read from the outbox, as its owner reads it in their inbox.
    pub async fn mailed_link(&self, to: &str, path: &str) -> String {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM emails WHERE to_address = $1 ORDER BY id DESC")
            .bind(to.trim().to_lowercase())
            .fetch_all(self.db.pool())
            .await
            .unwrap();
        let prefix = format!("{path}?token=");
        bodies
            .iter()
            .find_map(|body| body.find(&prefix).map(|at| body[at..].split_whitespace().next().unwrap().to_owned()))
            .unwrap_or_else(|| panic!("no {path} link mailed to {to}: {bodies:?}"))
    }

    /// The (kind, subject) of every mail queued to `to`, oldest first.
    pub async fn mails_to(&self, to: &str) -> Vec<(String, String)> {
        sqlx::query_as("SELECT kind, subject FROM emails WHERE to_address = $1 ORDER BY id")
            .bind(to.trim().to_lowercase())
            .fetch_all(self.db.pool())
            .await
            .unwrap()
    }

    pub async fn log_in_as_admin(&self) {
        let res = self.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_redirect(&res, "/account");
    }

    pub async fn user_count(&self) -> i64 {
        tollgate::server::db::users::count(self.db.pool()).await.unwrap()
    }
}

/// The `action` of the form containing a button whose text is exactly `button`.
pub fn form_action(html: &str, button: &str) -> Option<String> {
    action_of(&form_with_button(html, button)?)
}

/// The `action` of a form's markup.
fn action_of(form: &str) -> Option<String> {
    attribute(&form[..form.find('>')?], "action")
}

/// The `(name, value)` of each hidden input in a form's markup.
fn hidden_fields(form: &str) -> Vec<(String, String)> {
    form.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            (attribute(tag, "type")? == "hidden").then(|| Some((attribute(tag, "name")?, attribute(tag, "value")?)))?
        })
        .collect()
}

/// Each `<textarea>`'s name and text, as a browser sends it.
fn textarea_fields(form: &str) -> Vec<(String, String)> {
    form.split("<textarea")
        .skip(1)
        .filter_map(|rest| {
            let tag_end = rest.find('>')?;
            let text = &rest[tag_end + 1..rest.find("</textarea>")?];
            Some((attribute(&rest[..tag_end], "name")?, unescape(text)))
        })
        .collect()
}

/// The name and value of the submit button reading `button`, which a browser sends with the form.
fn pressed_button(html: &str, button: &str) -> Option<(String, String)> {
    let html = strip_comments(html);
    let text_at = html.find(&format!(">{button}</button>"))?;
    let tag = &html[html[..text_at].rfind("<button")?..text_at];
    Some((attribute(tag, "name")?, attribute(tag, "value")?))
}

/// Text as the page escaped it, decoded.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The markup of the form whose submit button reads `button`, from `<form` up to that button.
/// Leptos may leave hydration markers (`<!>`) inside a button's text: comments are dropped first.
fn form_with_button(html: &str, button: &str) -> Option<String> {
    let html = strip_comments(html);
    let button_at = html.find(&format!(">{button}</button>"))?;
    let form_at = html[..button_at].rfind("<form")?;
    Some(html[form_at..button_at].to_owned())
}

/// The value of attribute `name` in a tag's markup, `&amp;` decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
    Some(tag[start..start + tag[start..].find('"')?].replace("&amp;", "&"))
}

/// A response's HTML without comments: Leptos leaves hydration markers (`<!>`) between a tag's
/// text and its closing tag, so a check on `>Log in</a>` would otherwise miss, or pass vacuously.
pub async fn html_of(res: Response) -> String {
    strip_comments(&res.text().await.unwrap())
}

/// Every `role="alert"` element's text.
pub fn alerts(html: &str) -> Vec<String> {
    texts_with_role(html, "alert")
}

/// Every `role="status"` element's text (the notices a form post leaves).
pub fn notices(html: &str) -> Vec<String> {
    texts_with_role(html, "status")
}

fn texts_with_role(html: &str, role: &str) -> Vec<String> {
    html.match_indices(&format!("role=\"{role}\""))
        .filter_map(|(at, _)| {
            let open_end = at + html[at..].find('>')? + 1;
            let close = open_end + html[open_end..].find("</")?;
            Some(strip_comments(&html[open_end..close]).trim().to_owned())
        })
        .collect()
}

/// Leptos leaves hydration markers (`<!>`, `<!-- -->`) inside text; drop them.
pub fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!") {
        out.push_str(&rest[..start]);
        match rest[start..].find('>') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

pub fn location(res: &Response) -> Option<String> {
    res.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned())
}

pub fn assert_redirect(res: &Response, to: &str) {
    assert!(res.status().is_redirection(), "expected a redirect to {to}, got {}", res.status());
    assert_eq!(location(res).as_deref(), Some(to));
}

/// The `Set-Cookie` header for the session cookie, if this response sets one.
pub fn session_set_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("tollgate_session="))
        .map(str::to_owned)
}

/// The session id in a `Set-Cookie` value.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim_start_matches("tollgate_session=").to_owned()
}

pub fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// A customer row made directly, for tests that drive billing without the sign-up form.
pub async fn insert_user(pool: &sqlx::AnyPool, email: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO users (email, password_hash, role, had_trial, created_at, updated_at) \
         VALUES ($1, 'not-a-hash', 'customer', FALSE, 0, 0) RETURNING id",
    )
    .bind(email)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Polls `query` (one integer) until it equals `want`, or fails naming the unapplied events.
pub async fn eventually(pool: &sqlx::AnyPool, query: &str, want: i64) {
    eventually_within(pool, query, want, std::time::Duration::from_secs(15)).await
}

/// [`eventually`] with a wait of its own.
pub async fn eventually_within(pool: &sqlx::AnyPool, query: &str, want: i64, wait: std::time::Duration) {
    let mut last = -1;
    for _ in 0..wait.as_millis().div_ceil(100) {
        last = sqlx::query_scalar::<_, i64>(query).fetch_one(pool).await.unwrap();
        if last == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let unapplied: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT event_type, status, last_error FROM webhook_events WHERE status NOT IN ('processed', 'ignored')",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    panic!("{query} stayed {last}, wanted {want}; unapplied events: {unapplied:?}");
}

/// Stored already dead in one statement: recorded as pending first, the worker could pick it up.
pub async fn dead_event(app: &TestApp, id: &str) {
    let payload = format!(
        r#"{{"id":"{id}","object":"event","type":"tollgate.test_only","created":1,"livemode":false,"data":{{"object":{{"id":"cus_dead1","object":"customer","email":"private@example.com"}}}}}}"#
    );
    sqlx::query(
        "INSERT INTO webhook_events (id, event_type, object_type, object_id, stripe_created, payload, \
           source, status, attempts, last_error, next_attempt_at, received_at) \
         VALUES ($1, 'tollgate.test_only', 'customer', 'cus_dead1', 1, $2, 'webhook', 'dead', 8, \
           'stripe said no', $3, $3)",
    )
    .bind(id)
    .bind(payload)
    .bind(tollgate::server::db::now())
    .execute(app.db.pool())
    .await
    .unwrap();
}

impl TestApp {
    /// A customer (own client) who pays `plan` monthly with `card` on the hosted Checkout page.
    /// Marks the trial of `email` used (the trial is for first-timers), so a plan is paid at once.
    pub async fn trial_used(&self, email: &str) {
        sqlx::query("UPDATE users SET had_trial = TRUE WHERE email = $1")
            .bind(email)
            .execute(self.db.pool())
            .await
            .unwrap();
    }

    pub async fn paying_customer(&self, prefix: &str, plan: &str, card: &str) -> String {
        let client = new_client();
        let email = unique_email(prefix);
        self.customer_with(&client, &email).await;
        self.trial_used(&email).await;
        let res = self.submit_with(&client, "/pricing", "Subscribe", &[("plan", plan), ("interval", "month")]).await;
        let checkout = location(&res).expect("Checkout");
        let paid = client
            .post(&checkout)
            .form(&[("card_number", card), ("expiry", "12 / 34"), ("cvc", "123")])
            .send()
            .await
            .unwrap();
        assert_eq!(paid.status().as_u16(), 303);
        self.settle().await;
        email
    }
}

/// The value of the hidden input `name` in a form.
pub fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!(r#"name="{name}""#)).unwrap_or_else(|| panic!("no {name} field"));
    let value = at + html[at..].find("value=\"").unwrap() + 7;
    html[value..value + html[value..].find('"').unwrap()].to_string()
}
