use reqwest::{header, StatusCode};

use crate::helpers::*;

#[tokio::test]
async fn anonymous_visitors_are_sent_to_log_in() {
    let app = spawn_app().await;
    for path in ["/admin", "/account"] {
        assert_redirect(&app.get(path).await, "/login");
    }
}

#[tokio::test]
async fn customers_get_a_403_forbidden_page_on_admin() {
    let app = spawn_app().await;
    app.customer(&unique_email("customer")).await;
    let res = app.get("/admin").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = html_of(res).await;
    assert!(html.contains("<h1>Forbidden</h1>"), "{html}");
    assert!(!html.contains("Users</dt>"));
    assert!(!html.contains(r#"href="/admin""#), "no Admin link for customers");
}

#[tokio::test]
async fn the_admin_from_the_environment_reaches_admin() {
    let app = spawn_app().await;
    app.log_in_as_admin().await;
    let res = app.get("/admin").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = html_of(res).await;
    assert!(html.contains("<h1>Admin</h1>"), "{html}");
    assert!(html.contains(ADMIN_EMAIL));
    assert!(html.contains(r#"<a href="/admin">Admin</a>"#), "admins see the Admin link");
}

#[tokio::test]
async fn admin_server_functions_check_the_role_themselves() {
    let app = spawn_app().await;
    let call = |client: reqwest::Client| {
        let url = app.url("/api/admin_overview");
        async move {
            let res = client.post(url).header(header::ACCEPT, "application/json").send().await.unwrap();
            (res.status(), html_of(res).await)
        }
    };
    let (status, body) = call(new_client()).await;
    assert!(!status.is_success());
    assert!(body.contains("Unauthorized"), "{body}");

    app.customer(&unique_email("sneaky")).await;
    let (status, body) = call(app.client.clone()).await;
    assert!(!status.is_success());
    assert!(body.contains("Forbidden"), "{body}");

    let admin = new_client();
    assert_redirect(&app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");
    let (status, body) = call(admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(ADMIN_EMAIL));
}

#[tokio::test]
async fn navigation_matches_who_is_looking() {
    let app = spawn_app().await;
    let anonymous = app.page("/").await;
    for link in [">Pricing</a>", ">Account</a>", ">Log in</a>"] {
        assert!(anonymous.contains(link), "{link}");
    }
    assert!(!anonymous.contains(">Admin</a>"));
    assert!(!anonymous.contains(">Log out</button>"));

    app.customer(&unique_email("nav")).await;
    let customer = app.page("/pricing").await;
    assert!(customer.contains(">Log out</button>"));
    assert!(!customer.contains(">Log in</a>"));
    assert!(!customer.contains(">Admin</a>"));
}

#[tokio::test]
async fn restarting_resets_the_admin_password_from_the_environment() {
    let app = spawn_app().await;
    let vars = test_vars(&app.database.url, &[("ADMIN_PASSWORD", "a brand new password")]);
    let config =
        tollgate::server::config::Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let second = tollgate::server::startup::Application::build(config).await.unwrap();
    drop(second);
    assert_redirect(&app.log_in(ADMIN_EMAIL, ADMIN_PASSWORD).await, "/login");
    assert_redirect(&app.log_in(ADMIN_EMAIL, "a brand new password").await, "/account");
}
