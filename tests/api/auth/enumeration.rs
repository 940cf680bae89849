//! Sign-up does not tell whether an address has an account: a taken address gets the answer a
//! new one gets (no one is logged in either way), and its owner gets a mail instead.

use reqwest::{header, Response, StatusCode};

use crate::helpers::*;

/// What a browser can observe of an answer, cookies' values aside (a fresh session id each time).
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    /// Header names, and the values of those that are not per response (ids, dates, nonces).
    headers: Vec<(String, String)>,
    body: String,
}

async fn answer(res: Response) -> Answer {
    let varying = ["date", "set-cookie", "x-request-id", "content-security-policy", "content-length"];
    let headers = res
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = if varying.contains(&name.as_str()) { "…" } else { value.to_str().unwrap_or("?") };
            (name.as_str().to_owned(), value.to_owned())
        })
        .collect::<Vec<_>>();
    Answer {
        status: res.status(),
        location: location(&res),
        cookies: res.cookies().map(|c| c.name().to_owned()).collect(),
        headers,
        body: res.text().await.unwrap(),
    }
}

#[tokio::test]
async fn without_javascript_a_taken_address_gets_the_answer_a_new_one_gets() {
    let app = spawn_app().await;
    let owner = unique_email("owner");
    app.customer(&owner).await;
    let mails_before = app.mails_to(&owner).await.len();

    let (fresh, taken) = (new_client(), new_client());
    let new_one =
        app.submit_with(&fresh, "/signup", "Sign up", &[("email", &unique_email("new")), ("password", PASSWORD)]).await;
    let taken_one = app
        .submit_with(&taken, "/signup", "Sign up", &[("email", &owner.to_uppercase()), ("password", "someone else's")])
        .await;
    let (new_one, taken_one) = (answer(new_one).await, answer(taken_one).await);
    assert_eq!(new_one, taken_one);
    assert_eq!(new_one.location.as_deref(), Some("/login"), "no one is logged in by signing up");

    let (new_page, taken_page) = (app.page_with(&fresh, "/login").await, app.page_with(&taken, "/login").await);
    assert_eq!(notices(&new_page), notices(&taken_page));
    assert_eq!(notices(&new_page).len(), 1, "{new_page}");
    assert!(notices(&new_page)[0].starts_with("Check your inbox"), "{new_page}");
    for client in [&fresh, &taken] {
        assert_redirect(&app.get_with(client, "/account").await, "/login");
    }

    // The owner hears of it; their account is unchanged.
    let mails = app.mails_to(&owner).await;
    assert_eq!(mails.len(), mails_before + 1);
    assert_eq!(
        mails.last().unwrap(),
        &("sign_up_attempt".to_owned(), "Someone tried to sign up with your address".to_owned())
    );
    assert_redirect(&app.log_in_with(&new_client(), &owner, "someone else's").await, "/login");
    assert_redirect(&app.log_in_with(&new_client(), &owner, PASSWORD).await, "/account");
    assert_eq!(app.user_count().await, 3, "the admin, the owner and the new customer");
}

#[tokio::test]
async fn with_javascript_a_taken_address_gets_the_answer_a_new_one_gets() {
    let app = spawn_app().await;
    let owner = unique_email("js-owner");
    app.customer(&owner).await;
    let action = form_action(&app.page("/signup").await, "Sign up").unwrap();
    let post = |email: String| {
        new_client()
            .post(app.url(&action))
            .header(header::ACCEPT, "application/json")
            .form(&[("email", email), ("password", PASSWORD.to_owned())])
            .send()
    };
    let new_one = answer(post(unique_email("js-new")).await.unwrap()).await;
    let taken_one = answer(post(owner.clone()).await.unwrap()).await;
    assert_eq!(new_one, taken_one);
    assert!(new_one.status.is_success() || new_one.status.is_redirection(), "{new_one:?}");
    assert_eq!(app.mails_to(&owner).await.last().unwrap().0, "sign_up_attempt");
}

#[tokio::test]
async fn the_owner_is_told_at_most_once_an_hour() {
    let app = spawn_app().await;
    let owner = unique_email("pestered");
    app.customer(&owner).await;
    for _ in 0..3 {
        let res =
            app.submit_with(&new_client(), "/signup", "Sign up", &[("email", &owner), ("password", PASSWORD)]).await;
        assert_redirect(&res, "/login");
    }
    let notices = app.mails_to(&owner).await.into_iter().filter(|(kind, _)| kind == "sign_up_attempt").count();
    assert_eq!(notices, 1);
}
