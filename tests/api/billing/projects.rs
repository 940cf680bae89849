//! The Projects page: creating and deleting projects within the plan's `projects` limit, the
//! limit enforced on the server (a post past it is refused with a clear message), and after a
//! downgrade the projects kept while creating more is refused. Driven as a browser without
//! JavaScript.

use reqwest::header;
use serde_json::json;

use crate::helpers::*;

impl TestApp {
    /// Creates a project through the page's form; returns the page it redirects back to.
    async fn create_project(&self, name: &str) -> String {
        let res = self.submit("/projects", "Create project", &[("name", name)]).await;
        assert_redirect(&res, "/projects");
        self.page("/projects").await
    }

    /// Posts the create form's fields straight to its action, as a page that still showed the
    /// form (another tab, say) would.
    async fn post_create_project(&self, name: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/projects/create"))
            .header(header::ACCEPT, BROWSER_ACCEPT)
            .form(&[("name", name)])
            .send()
            .await
            .unwrap();
        assert_redirect(&res, "/projects");
        self.page("/projects").await
    }

    async fn project_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM projects").fetch_one(self.db.pool()).await.unwrap()
    }
}

const UPGRADE: &str = r#"data-upgrade="projects""#;

#[tokio::test]
async fn the_projects_page_needs_a_login() {
    let app = spawn_app().await;
    assert_redirect(&app.get("/projects").await, "/login");
    let res = app
        .client
        .post(app.url("/api/projects/create"))
        .header(header::ACCEPT, "application/json")
        .form(&[("name", "x")])
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    assert!(!status.is_success() && body.contains("Unauthorized"), "anonymous create: {status} {body}");
    assert_eq!(app.project_count().await, 0);
}

#[tokio::test]
async fn the_plan_limit_is_enforced_on_the_server_and_survives_a_downgrade() {
    let app = spawn_app().await;
    let email = unique_email("projects");
    app.customer(&email).await;
    let page = app.page("/projects").await;
    assert!(page.contains("0 of 1 project on your Free plan."), "{page}");
    assert!(!page.contains(UPGRADE));

    let page = app.create_project("Alpha").await;
    assert!(notices(&page).iter().any(|n| n.contains("Alpha")), "{page}");
    assert!(page.contains(">Alpha</span>"));
    assert!(page.contains(UPGRADE), "at the limit, the upgrade prompt: {page}");
    assert!(form_action(&page, "Create project").is_none(), "no create form at the limit");

    // Past the limit the server refuses, whatever the page showed.
    let page = app.post_create_project("Beta").await;
    assert_eq!(
        alerts(&page),
        ["Your Free plan allows 1 project and you have 1. Upgrade your plan to create more, or delete one."]
    );
    assert_eq!(app.project_count().await, 1);

    // Starter allows 5.
    app.subscribe_with_card(&email, "starter", "4242424242424242", true).await;
    let page = app.page("/projects").await;
    assert!(page.contains("1 of 5 projects on your Starter plan."), "{page}");
    for name in ["Beta", "Gamma", "Delta", "Epsilon"] {
        app.create_project(name).await;
    }
    assert_eq!(app.api_entitlements().await["usage"]["projects"], json!({"limit": 5, "used": 5, "left": 0}));
    let page = app.post_create_project("Zeta").await;
    assert_eq!(
        alerts(&page),
        ["Your Starter plan allows 5 projects and you have 5. Upgrade your plan to create more, or delete one."]
    );

    // Downgraded to the free plan (the subscription ends): every project stays, none more.
    let subscription = app.stripe_subscription_of(&email).await;
    let res = reqwest::Client::new()
        .delete(format!("{}/v1/subscriptions/{}", app.sandbox_url, subscription["id"].as_str().unwrap()))
        .bearer_auth(tollgate::server::config::SANDBOX_SECRET_KEY)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    app.settle().await;
    let page = app.page("/projects").await;
    assert!(page.contains("5 of 1 project on your Free plan."), "{page}");
    assert!(page.contains(UPGRADE));
    assert_eq!(app.project_count().await, 5, "existing projects stay");
    let page = app.post_create_project("Eta").await;
    assert_eq!(
        alerts(&page),
        ["Your Free plan allows 1 project and you have 5. Upgrade your plan to create more, or delete one."]
    );
    assert_eq!(app.api_entitlements().await["usage"]["projects"], json!({"limit": 1, "used": 5, "left": 0}));

    // Deleting brings the user back under the limit, one project at a time.
    let page = app.submit("/projects", "Delete", &[]).await;
    assert_redirect(&page, "/projects");
    assert_eq!(app.project_count().await, 4);
}

#[tokio::test]
async fn a_user_deletes_only_their_own_projects() {
    let app = spawn_app().await;
    app.customer(&unique_email("owner")).await;
    app.create_project("Mine").await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM projects").fetch_one(app.db.pool()).await.unwrap();
    let other = new_client();
    app.customer_with(&other, &unique_email("other")).await;
    let res = other
        .post(app.url("/api/projects/delete"))
        .header(header::ACCEPT, BROWSER_ACCEPT)
        .form(&[("id", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_redirect(&res, "/projects");
    let page = app.page_with(&other, "/projects").await;
    assert_eq!(alerts(&page), ["That project does not exist."]);
    assert_eq!(app.project_count().await, 1);
}

#[tokio::test]
async fn the_api_call_demo_needs_the_api_feature_and_counts_calls_on_the_metered_plan() {
    let app = spawn_app().await;
    let email = unique_email("api-demo-free");
    app.customer(&email).await;
    let page = app.page("/projects").await;
    assert!(page.contains(r#"data-upgrade="api""#), "the free plan has no API: {page}");
    assert!(form_action(&page, "Call the API").is_none());
    let res =
        app.client.post(app.url("/api/projects/call_api")).header(header::ACCEPT, BROWSER_ACCEPT).send().await.unwrap();
    assert_redirect(&res, "/projects");
    let page = app.page("/projects").await;
    assert_eq!(alerts(&page), ["Your Free plan does not include the API. Upgrade your plan to use it."]);

    // On Scale (Checkout sells the base fee and the metered API calls), each call is usage.
    app.submit("/logout", "Log out", &[]).await;
    let email = app.subscribed_customer("api-demo-scale", "scale", "4242424242424242", true).await;
    for _ in 0..2 {
        let res = app.submit("/projects", "Call the API", &[]).await;
        assert_redirect(&res, "/projects");
    }
    let page = app.page("/projects").await;
    assert!(notices(&page).iter().any(|n| n == "API call made and counted."), "{page}");
    assert!(page.contains("2 API calls this period; 9998 of the 10000 included left."), "{page}");
    let counted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM usage_events e JOIN users u ON u.stripe_customer_id = e.customer_id \
         WHERE u.email = $1 AND e.meter = 'api-calls'",
    )
    .bind(&email)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(counted, 2);
}
