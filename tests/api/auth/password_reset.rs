//! Password reset by emailed one-time link: the same answer for every address, a link that
//! works once for an hour, a new password that ends every session.

use reqwest::{header, StatusCode};

use crate::helpers::*;

const LINK_SENT: &str =
    "If an account exists for that address, we sent it a link to choose a new password. The link works for an hour.";
const LINK_EXPIRED: &str = "This reset link has expired or was already used. Ask for a new one below.";

async fn ask_for_link(app: &TestApp, client: &reqwest::Client, email: &str) -> reqwest::Response {
    app.submit_with(client, "/forgot-password", "Email me a link", &[("email", email)]).await
}

async fn set_password(app: &TestApp, client: &reqwest::Client, link: &str, password: &str) -> reqwest::Response {
    app.submit_with(client, link, "Set password", &[("password", password)]).await
}

#[tokio::test]
async fn the_login_page_links_to_the_reset_form() {
    let app = spawn_app().await;
    let login = app.page("/login").await;
    assert!(login.contains(r#"<a href="/forgot-password">Forgot your password?</a>"#), "{login}");
    let form = app.page("/forgot-password").await;
    assert!(form.contains(">Email</label>") && form.contains(">Email me a link</button>"), "{form}");
}

#[tokio::test]
async fn a_reset_link_sets_the_password_once_and_ends_every_session() {
    let app = spawn_app().await;
    let email = unique_email("forgetful");
    app.customer(&email).await;
    let other = new_client();
    assert_redirect(&app.log_in_with(&other, &email, PASSWORD).await, "/account");

    let stranger = new_client();
    assert_redirect(&ask_for_link(&app, &stranger, &email.to_uppercase()).await, "/forgot-password");
    let page = app.get_with(&stranger, "/forgot-password").await;
    assert!(html_of(page).await.contains(LINK_SENT));
    let link = app.mailed_link(&email, "/reset-password").await;
    let form = app.get_with(&stranger, &link).await;
    assert_eq!(form.headers().get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(html_of(form).await.contains(">Set password</button>"));

    // A refused password keeps the link usable.
    let short = set_password(&app, &stranger, &link, "short").await;
    assert_redirect(&short, &link);
    let again = html_of(app.get_with(&stranger, &link).await).await;
    assert!(alerts(&again).iter().any(|a| a == "New password: Password must be at least 8 characters."), "{again}");

    assert_redirect(&set_password(&app, &stranger, &link, "a brand new password").await, "/login");
    let login = html_of(app.get_with(&stranger, "/login").await).await;
    assert!(login.contains("Your password is set and every session of your account was logged out."), "{login}");
    for client in [&app.client, &other] {
        assert_redirect(&app.get_with(client, "/account").await, "/login");
    }
    assert_redirect(&app.log_in_with(&new_client(), &email, PASSWORD).await, "/login");
    assert_redirect(&app.log_in_with(&new_client(), &email, "a brand new password").await, "/account");

    // Used once: the same link is refused and changes nothing.
    assert_redirect(&set_password(&app, &stranger, &link, "a third password").await, "/forgot-password");
    let refused = html_of(app.get_with(&stranger, "/forgot-password").await).await;
    assert!(alerts(&refused).iter().any(|a| a == LINK_EXPIRED), "{refused}");
    assert_redirect(&app.log_in_with(&new_client(), &email, "a brand new password").await, "/account");
}

#[tokio::test]
async fn using_one_link_spends_the_others_and_an_old_link_expires() {
    let app = spawn_app().await;
    let email = unique_email("two-links");
    app.customer(&email).await;
    let client = new_client();
    ask_for_link(&app, &client, &email).await;
    let first = app.mailed_link(&email, "/reset-password").await;
    ask_for_link(&app, &client, &email).await;
    let second = app.mailed_link(&email, "/reset-password").await;
    assert_ne!(first, second);
    assert_redirect(&set_password(&app, &client, &second, "the second password").await, "/login");
    assert_redirect(&set_password(&app, &client, &first, "the first password").await, "/forgot-password");

    ask_for_link(&app, &client, &email).await;
    let late = app.mailed_link(&email, "/reset-password").await;
    // An hour later (the clock moved by rewriting the link's expiry).
    sqlx::query("UPDATE account_tokens SET expires_at = created_at WHERE used_at IS NULL")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_redirect(&set_password(&app, &client, &late, "a late password").await, "/forgot-password");
    assert_redirect(&app.log_in_with(&new_client(), &email, "the second password").await, "/account");
}

#[tokio::test]
async fn only_the_hash_of_a_link_is_stored() {
    let app = spawn_app().await;
    let email = unique_email("hashed");
    app.customer(&email).await;
    ask_for_link(&app, &new_client(), &email).await;
    let link = app.mailed_link(&email, "/reset-password").await;
    let token = link.rsplit('=').next().unwrap();
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT token_hash FROM account_tokens").fetch_all(app.db.pool()).await.unwrap();
    assert!(!stored.is_empty());
    assert!(stored.iter().all(|hash| !hash.contains(token) && hash.len() == 64), "{stored:?}");
}

/// What a browser can observe of one answer: status, where it goes, which cookies it sets, and
/// the page it lands on.
async fn observed(
    app: &TestApp,
    client: &reqwest::Client,
    res: reqwest::Response,
) -> (StatusCode, Option<String>, Vec<String>, Vec<String>) {
    let status = res.status();
    let to = location(&res);
    let cookies = res.cookies().map(|c| c.name().to_owned()).collect();
    let page = html_of(app.get_with(client, to.as_deref().unwrap_or("/")).await).await;
    (status, to, cookies, notices(&page))
}

#[tokio::test]
async fn the_answer_is_the_same_for_an_address_without_an_account() {
    let app = spawn_app().await;
    let known = unique_email("known");
    app.customer(&known).await;
    let unknown = unique_email("unknown");
    let (a, b) = (new_client(), new_client());
    let for_known = observed(&app, &a, ask_for_link(&app, &a, &known).await).await;
    let for_unknown = observed(&app, &b, ask_for_link(&app, &b, &unknown).await).await;
    assert_eq!(for_known, for_unknown);
    assert_eq!(for_known.3, [LINK_SENT]);
    assert_eq!(app.mails_to(&unknown).await, []);
    assert_eq!(app.mails_to(&known).await.last().unwrap().0, "password_reset");
}

#[tokio::test]
async fn requests_for_links_are_limited_per_network() {
    let app = spawn_app_with(&[("RATE_LIMIT_PASSWORD_RESET_PER_HOUR", "2")]).await;
    let email = unique_email("limited-reset");
    app.customer(&email).await;
    for _ in 0..2 {
        ask_for_link(&app, &new_client(), &unique_email("someone")).await;
    }
    let client = new_client();
    assert_redirect(&ask_for_link(&app, &client, &email).await, "/forgot-password");
    let page = html_of(app.get_with(&client, "/forgot-password").await).await;
    let said = alerts(&page);
    assert_eq!(said, ["Too many password resets asked for from your network. Try again later."]);
    assert!(app.mails_to(&email).await.iter().all(|(kind, _)| kind != "password_reset"));
}
