use reqwest::{header, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn auth_pages_have_labelled_fields_and_named_buttons() {
    let app = spawn_app().await;
    for (path, button) in [("/signup", "Sign up"), ("/login", "Log in")] {
        let html = app.page(path).await;
        assert!(html.contains(r#"<label for="#), "{path}");
        assert!(html.contains(">Email</label>"), "{path}");
        assert!(html.contains(">Password</label>"), "{path}");
        assert!(html.contains(&format!(">{button}</button>")), "{path}");
        let action = form_action(&html, button).expect("a form");
        assert!(action.starts_with("/api/"), "{action}");
        assert!(alerts(&html).is_empty(), "no alert before submitting: {path}");
    }
}

#[tokio::test]
async fn sign_up_without_javascript_asks_to_check_the_inbox_then_log_in() {
    let app = spawn_app().await;
    let email = unique_email("new");
    let res = app.sign_up(&email, PASSWORD).await;
    assert_redirect(&res, "/login");
    let login = app.page("/login").await;
    assert!(login.contains("Check your inbox: we sent a message to confirm your address."), "{login}");
    assert_redirect(&app.get("/account").await, "/login");
    assert_redirect(&app.log_in(&email, PASSWORD).await, "/account");
    let html = app.page("/account").await;
    assert!(html.contains(&email), "the account page shows the email");
    assert!(html.contains(">Log out</button>"));
    assert!(!html.contains(">Log in</a>"));
    assert_eq!(app.user_count().await, 2, "the admin and the new customer");
}

#[tokio::test]
async fn log_out_then_log_in_without_javascript() {
    let app = spawn_app().await;
    let email = unique_email("cycle");
    app.customer(&email).await;

    let res = app.submit("/account", "Log out", &[]).await;
    assert_redirect(&res, "/");
    assert_redirect(&app.get("/account").await, "/login");
    let home = app.page("/").await;
    assert!(home.contains(">Log in</a>"));
    assert!(!home.contains(">Log out</button>"));

    let res = app.log_in(&email.to_uppercase(), PASSWORD).await;
    assert_redirect(&res, "/account");
    assert!(app.page("/account").await.contains(&email));
}

#[tokio::test]
async fn logout_page_offers_a_single_log_out_button() {
    let app = spawn_app().await;
    app.customer(&unique_email("bye")).await;
    let html = app.page("/logout").await;
    assert_eq!(html.matches(">Log out</button>").count(), 1);
    let res = app.submit("/logout", "Log out", &[]).await;
    assert_redirect(&res, "/");
    assert!(app.page("/logout").await.contains("You are not signed in"));
}

/// A refused plain form post goes back to its form, which then shows the alerts.
async fn refused(app: &TestApp, res: reqwest::Response, form: &str) -> Vec<String> {
    assert_redirect(&res, form);
    alerts(&app.page(form).await)
}

async fn login_alert(app: &TestApp, email: &str, password: &str) -> Vec<String> {
    refused(app, app.log_in(email, password).await, "/login").await
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_message() {
    let app = spawn_app().await;
    let email = unique_email("known");
    app.customer(&email).await;
    app.submit("/account", "Log out", &[]).await;

    let wrong_password = login_alert(&app, &email, "not the password").await;
    let unknown_email = login_alert(&app, &unique_email("nobody"), PASSWORD).await;
    assert_eq!(wrong_password, vec!["Invalid email or password.".to_owned()]);
    assert_eq!(unknown_email, wrong_password);
    assert_redirect(&app.get("/account").await, "/login");
}

#[tokio::test]
async fn the_flash_message_shows_once_and_keeps_the_email() {
    let app = spawn_app().await;
    let res = app.log_in("someone@example.com", "not the password").await;
    assert_redirect(&res, "/login");
    let html = app.page("/login").await;
    assert_eq!(alerts(&html).len(), 1);
    assert!(html.contains(r#"value="someone@example.com""#));
    assert!(!html.contains("not the password"));
    assert!(alerts(&app.page("/login").await).is_empty(), "shown once");
}

async fn signup_alert(app: &TestApp, email: &str, password: &str) -> Vec<String> {
    refused(app, app.sign_up(email, password).await, "/signup").await
}

#[tokio::test]
async fn sign_up_refuses_an_invalid_email() {
    let app = spawn_app().await;
    let alerts = signup_alert(&app, "not-an-email", PASSWORD).await;
    assert_eq!(alerts, vec!["Enter a valid email address, like name@example.com.".to_owned()]);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn sign_up_refuses_short_and_long_passwords() {
    let app = spawn_app().await;
    let short = signup_alert(&app, &unique_email("short"), "1234567").await;
    assert_eq!(short, vec!["Password must be at least 8 characters.".to_owned()]);
    let long = signup_alert(&app, &unique_email("long"), &"x".repeat(129)).await;
    assert_eq!(long, vec!["Password must be at most 128 characters.".to_owned()]);
    assert_eq!(app.user_count().await, 1);
}

#[tokio::test]
async fn sign_up_makes_no_second_account_for_an_address_whatever_its_case() {
    let app = spawn_app().await;
    let email = unique_email("dup");
    app.customer(&email).await;
    app.submit("/account", "Log out", &[]).await;
    assert_redirect(&app.sign_up(&email.to_uppercase(), "another password").await, "/login");
    assert!(alerts(&app.page("/login").await).is_empty(), "no refusal tells the address is taken");
    assert_eq!(app.user_count().await, 2);
}

#[tokio::test]
async fn session_cookie_is_http_only_and_same_site_lax() {
    let app = spawn_app().await;
    let res = app.sign_up(&unique_email("cookie"), PASSWORD).await;
    let cookie = session_set_cookie(&res).expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "http APP_URL: not Secure: {cookie}");
}

#[tokio::test]
async fn session_cookie_is_secure_when_app_url_is_https() {
    let app = spawn_public_app().await;
    let res = app.sign_up(&unique_email("secure"), PASSWORD).await;
    let cookie = session_set_cookie(&res).expect("a session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[tokio::test]
async fn session_id_changes_at_log_in_and_the_old_one_is_useless() {
    let app = spawn_app().await;
    let email = unique_email("fixation");
    app.customer(&email).await;
    app.submit("/account", "Log out", &[]).await;

    // A failed attempt gives this browser a session (it carries the flash).
    let res = app.log_in(&email, "not the password").await;
    let before = cookie_value(&session_set_cookie(&res).expect("a pre-login session"));
    let res = app.log_in(&email, PASSWORD).await;
    assert_redirect(&res, "/account");
    let after = cookie_value(&session_set_cookie(&res).expect("a new session id"));
    assert_ne!(before, after);

    // A client presenting the pre-login id is not logged in.
    let attacker = new_client();
    let res = attacker
        .get(app.url("/account"))
        .header(header::COOKIE, format!("tollgate_session={before}"))
        .send()
        .await
        .unwrap();
    assert_redirect(&res, "/login");
}

#[tokio::test]
async fn log_in_is_rate_limited_per_email() {
    let app = spawn_app().await;
    let email = unique_email("limited");
    app.customer(&email).await;
    app.submit("/account", "Log out", &[]).await;
    // The log-in after sign-up was the first of the five a minute.
    for _ in 0..4 {
        let alerts = login_alert(&app, &email, "not the password").await;
        assert_eq!(alerts, vec!["Invalid email or password.".to_owned()]);
    }
    // Even the right password is refused now.
    let alerts = login_alert(&app, &email, PASSWORD).await;
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].contains("Too many log-in attempts"), "{alerts:?}");
    assert_redirect(&app.get("/account").await, "/login");
}

#[tokio::test]
async fn log_in_is_rate_limited_per_ip() {
    let app = spawn_app().await;
    // 20 a minute per IP, refilled one every 3 s: on a slow machine the budget refills while
    // the test sprays, so count what was allowed against what the quota permits by now.
    let started = std::time::Instant::now();
    let mut allowed = 0;
    loop {
        let alerts = login_alert(&app, &unique_email("spray"), "not the password").await;
        if alerts.len() == 1 && alerts[0].contains("Too many log-in attempts") {
            break;
        }
        assert_eq!(alerts, vec!["Invalid email or password.".to_owned()]);
        allowed += 1;
        let refilled = started.elapsed().as_secs() / 3 + 1;
        assert!(allowed <= 20 + refilled, "{allowed} attempts allowed in {:?}", started.elapsed());
        assert!(allowed < 200, "never refused");
    }
    assert!(allowed >= 20, "the first 20 attempts of a minute are allowed, got {allowed}");
}

#[tokio::test]
async fn the_javascript_client_gets_json_errors_with_4xx_statuses() {
    let app = spawn_app().await;
    let html = app.page("/login").await;
    let action = form_action(&html, "Log in").unwrap();
    let post = |password: &'static str| {
        app.client
            .post(app.url(&action))
            .header(header::ACCEPT, "application/json")
            .form(&[("email", "js@example.com"), ("password", password)])
            .send()
    };
    let res = post("not the password").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(html_of(res).await.contains("Invalid email or password."));
    for _ in 0..4 {
        post("not the password").await.unwrap();
    }
    let res = post("not the password").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(html_of(res).await.contains("Too many log-in attempts"));

    let signup = form_action(&app.page("/signup").await, "Sign up").unwrap();
    let res = app
        .client
        .post(app.url(&signup))
        .header(header::ACCEPT, "application/json")
        .form(&[("email", "js@example.com"), ("password", "short")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html_of(res).await.contains("at least 8 characters"));
}

#[tokio::test]
async fn changing_the_password_logs_out_every_other_session_and_keeps_this_one() {
    let app = spawn_app().await;
    let email = unique_email("changer");
    app.customer(&email).await;
    let other = new_client();
    assert_redirect(&app.log_in_with(&other, &email, PASSWORD).await, "/account");
    assert_eq!(app.get_with(&other, "/account").await.status(), 200);

    // The wrong current password changes nothing.
    let res =
        app.submit("/account/password", "Change password", &[("current", "not it"), ("new", "a new password")]).await;
    assert_redirect(&res, "/account/password");
    let page = app.page("/account/password").await;
    assert!(alerts(&page).iter().any(|a| a == "Your current password is not the one you typed."), "{page}");
    assert_eq!(app.get_with(&other, "/account").await.status(), 200, "nothing changed");

    let res =
        app.submit("/account/password", "Change password", &[("current", PASSWORD), ("new", "a new password")]).await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(account.contains("Your password is changed."), "this browser stays logged in: {account}");
    assert_redirect(&app.get_with(&other, "/account").await, "/login");
    assert_redirect(&app.log_in_with(&new_client(), &email, PASSWORD).await, "/login");
    assert_redirect(&app.log_in_with(&new_client(), &email, "a new password").await, "/account");
}
