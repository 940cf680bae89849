//! Email verification: sign-up mails a one-time link, paid actions wait for it, and a new link
//! can be asked for (a few an hour).

use reqwest::header;

use crate::helpers::*;

const WAIT_FOR_LINK: &str = "Confirm your email address before paying";

/// A plain form post to a server function (for actions whose button the page does not show).
async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url(path)).header(header::ACCEPT, BROWSER_ACCEPT).form(fields).send().await.unwrap()
}

#[tokio::test]
async fn paid_actions_wait_for_the_mailed_link_and_say_why() {
    let app = spawn_app().await;
    let email = unique_email("unverified");
    app.unverified_customer_with(&app.client, &email).await;
    assert_eq!(app.mails_to(&email).await, [("verify_email".to_owned(), "Confirm your email address".to_owned())]);
    let account = app.page("/account").await;
    assert!(account.contains(r#"data-banner="verify-email""#), "{account}");
    assert!(account.contains(">Send a new link</button>"), "{account}");

    // Checkout: back to /pricing saying why, never to Stripe.
    let res = app.submit("/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]).await;
    assert_redirect(&res, "/pricing");
    let pricing = app.page("/pricing").await;
    assert!(alerts(&pricing).iter().any(|a| a.starts_with(WAIT_FOR_LINK) && a.contains(&email)), "{pricing}");
    assert!(pricing.contains(">Send a new link</button>"), "the pricing page offers a new link too");
    // The portal and a plan change (no buttons for them yet: posted as their forms would).
    assert_redirect(&post_form(&app, "/api/billing/portal", &[]).await, "/account");
    assert!(alerts(&app.page("/account").await).iter().any(|a| a.starts_with(WAIT_FOR_LINK)));
    let token = uuid::Uuid::new_v4().simple().to_string();
    let fields = [("plan", "pro"), ("interval", "month"), ("token", token.as_str())];
    assert_redirect(&post_form(&app, "/api/billing/change_plan", &fields).await, "/account");
    assert!(alerts(&app.page("/account").await).iter().any(|a| a.starts_with(WAIT_FOR_LINK)));
    let customers: Option<String> = sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(customers, None, "nothing reached Stripe");

    // The link, opened in any browser, confirms the address; then Checkout opens.
    let link = app.mailed_link(&email, "/verify-email").await;
    let page = html_of(app.get_with(&new_client(), &link).await).await;
    assert!(page.contains("Your email address is confirmed."), "{page}");
    assert!(!app.page("/account").await.contains(r#"data-banner="verify-email""#));
    let res = app.submit("/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]).await;
    assert!(location(&res).is_some_and(|to| to.starts_with(&app.sandbox_url)), "to Checkout: {:?}", location(&res));
}

#[tokio::test]
async fn a_link_works_once_and_a_bad_one_says_why() {
    let app = spawn_app().await;
    let email = unique_email("twice");
    app.unverified_customer_with(&app.client, &email).await;
    let link = app.mailed_link(&email, "/verify-email").await;
    let first = app.get(&link).await;
    assert_eq!(first.headers().get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(html_of(first).await.contains("Your email address is confirmed."));
    for path in [link.as_str(), "/verify-email?token=not-a-token", "/verify-email"] {
        let page = app.page(path).await;
        let said = alerts(&page);
        assert!(said.iter().any(|a| a.starts_with("This link has expired or was already used.")), "{path}: {said:?}");
    }
}

#[tokio::test]
async fn a_new_link_can_be_asked_for_a_few_times_an_hour() {
    let app = spawn_app().await;
    let email = unique_email("resend");
    app.unverified_customer_with(&app.client, &email).await;
    let first = app.mailed_link(&email, "/verify-email").await;
    // The sign-up's link and two more make three in the hour.
    for _ in 0..2 {
        assert_redirect(&app.submit("/account", "Send a new link", &[]).await, "/account");
        let notices = app.page("/account").await;
        assert!(notices.contains(&format!("We sent a new link to {email}.")), "{notices}");
    }
    assert_redirect(&app.submit("/account", "Send a new link", &[]).await, "/account");
    let refused = alerts(&app.page("/account").await);
    assert!(
        refused.iter().any(|a| a.starts_with("We already sent you several links in the last hour.")),
        "{refused:?}"
    );
    let kinds: Vec<String> = app.mails_to(&email).await.into_iter().map(|(kind, _)| kind).collect();
    assert_eq!(kinds, ["verify_email"; 3]);

    // Any of them confirms the address, and spends the others.
    let newest = app.mailed_link(&email, "/verify-email").await;
    assert_ne!(first, newest);
    assert!(app.page(&first).await.contains("Your email address is confirmed."));
    assert!(alerts(&app.page(&newest).await).iter().any(|a| a.starts_with("This link has expired")));
    // The banner and its button are gone; a stale form posted still changes nothing.
    assert!(!app.page("/account").await.contains(">Send a new link</button>"));
    assert_redirect(&post_form(&app, "/api/resend_verification", &[]).await, "/account");
    assert!(app.page("/account").await.contains("Your email address is already confirmed."));
    assert_eq!(app.mails_to(&email).await.len(), 3);
}

#[tokio::test]
async fn the_admin_counts_as_verified() {
    let app = spawn_app().await;
    app.log_in_as_admin().await;
    let pricing = app.page("/pricing").await;
    assert!(!pricing.contains(r#"data-banner="verify-email""#), "{pricing}");
    let res = app.submit("/pricing", "Subscribe", &[("plan", "business"), ("interval", "month")]).await;
    assert!(location(&res).is_some_and(|to| to.starts_with(&app.sandbox_url)), "to Checkout: {:?}", location(&res));
}
