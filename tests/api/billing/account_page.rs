//! The customer's billing, driven as a browser without JavaScript drives it: pricing, Subscribe,
//! the sandbox's hosted Checkout, the success page, /account, plan changes with a preview,
//! cancel and resume, the Customer Portal.

use reqwest::Response;

use crate::helpers::*;

impl TestApp {
    /// Posts the Subscribe form of `plan` on /pricing; returns the response (a redirect).
    async fn subscribe(&self, plan: &str, interval: &str) -> Response {
        self.submit(&format!("/pricing?interval={interval}"), "Subscribe", &[("plan", plan), ("interval", interval)])
            .await
    }

    /// Subscribes and returns the hosted Checkout URL it redirects to.
    async fn checkout_url(&self, plan: &str, interval: &str) -> String {
        let res = self.subscribe(plan, interval).await;
        let to = location(&res).unwrap_or_else(|| panic!("Subscribe did not redirect: {}", res.status()));
        assert!(to.starts_with(&self.sandbox_url), "Subscribe should go to Checkout, went to {to}");
        to
    }

    /// Pays on the hosted Checkout page; returns where Checkout sends the browser.
    async fn pay(&self, checkout_url: &str, card: &str) -> String {
        let paid = self
            .client
            .post(checkout_url)
            .form(&[("card_number", card), ("expiry", "12 / 34"), ("cvc", "123")])
            .send()
            .await
            .unwrap();
        assert_eq!(paid.status().as_u16(), 303, "paying on {checkout_url}");
        location(&paid).unwrap()
    }

    /// The path and query of an absolute URL on this app (`APP_URL` is not the test's port 0).
    fn local(&self, url: &str) -> String {
        let url = url::Url::parse(url).expect("an absolute URL");
        format!("{}?{}", url.path(), url.query().unwrap_or_default())
    }

    async fn customer_id_of(&self, email: &str) -> Option<String> {
        sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn pricing_shows_the_catalog_with_a_working_interval_toggle() {
    let app = spawn_app().await;
    let monthly = app.page("/pricing").await;
    for name in ["Free", "Starter", "Pro", "Business", "Onboarding session"] {
        assert!(monthly.contains(&format!(">{name}</h")), "{name} missing");
    }
    assert!(monthly.contains("$29.00"), "Pro monthly price");
    assert!(!monthly.contains("$290.00"));
    assert!(monthly.contains("14-day free trial"));
    assert!(monthly.contains(r#"href="/pricing?interval=year""#), "the toggle is a link");
    let yearly = app.page("/pricing?interval=year").await;
    assert!(yearly.contains("$290.00") && !yearly.contains("$29.00 "), "Pro yearly price");
    assert!(yearly.contains(r#"href="/pricing?interval=month""#));
    // Anonymous visitors who press Subscribe are asked to sign up first.
    let res = app.subscribe("pro", "month").await;
    assert_redirect(&res, "/signup");
}

#[tokio::test]
async fn sign_up_creates_the_stripe_customer_with_the_user_id() {
    let app = spawn_app().await;
    let email = unique_email("customer");
    app.customer(&email).await;
    let customer = app.customer_id_of(&email).await.expect("a Stripe customer at sign-up");
    let user_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let fetched =
        app.stripe.send(&stripe_core::customer::RetrieveCustomer::new(customer.as_str()), None).await.unwrap();
    let stripe_core::customer::RetrieveCustomerReturned::Customer(fetched) = fetched else {
        panic!("the customer was deleted")
    };
    assert_eq!(fetched.email.as_deref(), Some(email.as_str()));
    assert_eq!(fetched.metadata.unwrap().get("user_id"), Some(&user_id.to_string()));
}

#[tokio::test]
async fn subscribe_pay_and_manage_the_subscription_without_javascript() {
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    let email = unique_email("subscriber");
    app.customer(&email).await;

    // Business has no trial: paid at once.
    let checkout = app.checkout_url("business", "month").await;
    let back = app.pay(&checkout, "4242 4242 4242 4242").await;
    assert!(app.local(&back).starts_with("/checkout/success?session_id=cs_"), "{back}");
    let success = app.page(&app.local(&back)).await;
    assert!(success.contains("Your Business plan is active."), "{success}");

    let account = app.page("/account").await;
    assert_eq!(text_of_class(&account, "plan-name").as_deref(), Some("Business"));
    assert!(account.contains("$99.00 / month"));
    assert!(account.contains(">Active</dd>"), "status in words");
    assert!(account.contains("Visa •••• 4242"), "payment method");
    assert!(account.contains(">Renews on</dt>"));
    eventually(&pool, "SELECT COUNT(*) FROM invoices WHERE status = 'paid'", 1).await;
    let account = app.page("/account").await;
    assert!(account.contains("$99.00</td>") && account.contains(">paid</td>"), "the invoice is listed");
    assert!(account.contains("Unlimited projects") && account.contains("Seats: up to 25"), "plan features and limits");

    // Pricing now offers a switch, not a second subscription; a stale tab's Subscribe post
    // is turned into a plan change too.
    let pricing = app.page("/pricing").await;
    assert!(pricing.contains("Your current plan") && pricing.contains("Switch to Pro"));
    let again = app
        .client
        .post(app.url("/api/billing/subscribe"))
        .header("accept", BROWSER_ACCEPT)
        .form(&[("plan", "pro"), ("interval", "month")])
        .send()
        .await
        .unwrap();
    assert_redirect(&again, "/account/plan/preview?plan=pro&interval=month");

    // Downgrade: previewed as nothing due now, scheduled for the period end.
    let preview = app.page("/account/plan/preview?plan=pro&interval=month").await;
    assert_eq!(text_of_class(&preview, "due-now").as_deref(), Some("$0.00"));
    assert!(text_of_class(&preview, "next-invoice").unwrap().starts_with("$29.00 on "));
    let res = app
        .submit("/account/plan/preview?plan=pro&interval=month", "Confirm", &[("plan", "pro"), ("interval", "month")])
        .await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(account.contains("Your plan changes to Pro (monthly) on"), "notice: {account}");
    assert_eq!(text_of_class(&account, "plan-name").as_deref(), Some("Business"), "kept until the period ends");
    assert!(account.contains("Pro (monthly) from "), "the scheduled change is shown");

    // Cancel (with its confirm step), then resume.
    let confirm = app.page("/account/cancel").await;
    assert!(confirm.contains("stays active until"));
    let res = app.submit("/account/cancel", "Cancel subscription", &[]).await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(account.contains("You keep access until"), "notice");
    assert!(account.contains("Cancels at the end of the period"));
    assert!(account.contains(">Access ends on</dt>"));
    assert!(!account.contains("Pro (monthly) from "), "canceling drops the scheduled change");
    let res = app.submit("/account", "Resume subscription", &[]).await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(account.contains(">Active</dd>") && account.contains(">Renews on</dt>"), "resumed");

    // Cancel again in the same period: a new form, a new intent, so Stripe is asked again (a key
    // naming only the action and the period would replay the first cancel and change nothing).
    let res = app.submit("/account/cancel", "Cancel subscription", &[]).await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(account.contains("You keep access until"), "notice");
    let subscription = app.stripe_subscription_of(&email).await;
    assert_eq!(subscription["cancel_at_period_end"], true, "Stripe holds the second cancel: {subscription}");
    let res = app.submit("/account", "Resume subscription", &[]).await;
    assert_redirect(&res, "/account");
    let subscription = app.stripe_subscription_of(&email).await;
    assert_eq!(subscription["cancel_at_period_end"], false, "and the second resume: {subscription}");

    // Manage billing opens the Customer Portal.
    let res = app.submit("/account", "Manage billing", &[]).await;
    let portal = location(&res).expect("a redirect to the portal");
    assert!(portal.starts_with(&app.sandbox_url), "{portal}");
}

#[tokio::test]
async fn an_upgrade_is_previewed_with_proration_and_applied_at_once() {
    let app = spawn_app().await;
    let email = unique_email("upgrader");
    app.customer(&email).await;
    // The trial is for first-timers; mark it used so Starter is paid now.
    app.trial_used(&email).await;
    let checkout = app.checkout_url("starter", "month").await;
    let back = app.pay(&checkout, "4242 4242 4242 4242").await;
    app.page(&app.local(&back)).await;

    let preview = app.page("/account/plan/preview?plan=pro&interval=month").await;
    let due: String = text_of_class(&preview, "due-now").unwrap();
    let cents: i64 = due.trim_start_matches('$').replace('.', "").parse().unwrap();
    // Just after paying for Starter ($9), Pro ($29) for the same period costs about $20 more.
    assert!((1900..=2000).contains(&cents), "due now {due}");
    let res = app
        .submit("/account/plan/preview?plan=pro&interval=month", "Confirm", &[("plan", "pro"), ("interval", "month")])
        .await;
    assert_redirect(&res, "/account");
    let account = app.page("/account").await;
    assert!(account.contains("Your plan is now Pro (monthly)."), "notice");
    assert_eq!(text_of_class(&account, "plan-name").as_deref(), Some("Pro"));
    // The proration invoice is paid with the card on file.
    eventually(
        app.db.pool(),
        &format!("SELECT COUNT(*) FROM invoices WHERE status = 'paid' AND amount_paid = {cents}"),
        1,
    )
    .await;
}

#[tokio::test]
async fn a_first_subscription_gets_the_trial_once() {
    let app = spawn_app().await;
    let email = unique_email("trialist");
    app.customer(&email).await;
    let checkout = app.checkout_url("pro", "month").await;
    let back = app.pay(&checkout, "4242 4242 4242 4242").await;
    let success = app.page(&app.local(&back)).await;
    assert!(success.contains("Your Pro trial has started."), "{success}");
    let account = app.page("/account").await;
    assert!(account.contains(">On a free trial</dd>") && account.contains(">Trial ends on</dt>"));
    let had_trial: i64 = sqlx::query_scalar("SELECT CAST(had_trial AS INTEGER) FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(had_trial, 1);
}

#[tokio::test]
async fn the_success_page_only_confirms_the_visitors_own_checkout() {
    let app = spawn_app().await;
    app.customer(&unique_email("owner")).await;
    let checkout = app.checkout_url("business", "month").await;
    let back = app.pay(&checkout, "4242 4242 4242 4242").await;

    let intruder = new_client();
    app.customer_with(&intruder, &unique_email("intruder")).await;
    let page = html_of(app.get_with(&intruder, &app.local(&back)).await).await;
    assert!(alerts(&page).iter().any(|a| a == "This checkout belongs to another account."), "{page}");
    let bogus = html_of(app.get_with(&intruder, "/checkout/success?session_id=cs_nope").await).await;
    assert!(alerts(&bogus).iter().any(|a| a == "We could not find that checkout."), "{bogus}");
}

#[tokio::test]
async fn the_webhook_alone_grants_access_when_the_browser_never_returns() {
    let app = spawn_app().await;
    let email = unique_email("gone");
    app.customer(&email).await;
    let checkout = app.checkout_url("business", "year").await;
    app.pay(&checkout, "4242 4242 4242 4242").await; // and never visits the success page
    eventually(
        app.db.pool(),
        "SELECT COUNT(*) FROM subscriptions WHERE status = 'active' AND billing_interval = 'year'",
        1,
    )
    .await;
    let account = app.page("/account").await;
    assert_eq!(text_of_class(&account, "plan-name").as_deref(), Some("Business"));
    assert!(account.contains("$990.00 / year"));
}

#[tokio::test]
async fn billing_actions_refuse_clearly_when_there_is_nothing_to_act_on() {
    let app = spawn_app().await;
    app.customer(&unique_email("nothing")).await;
    let account = app.page("/account").await;
    assert_eq!(text_of_class(&account, "plan-name").as_deref(), Some("Free"));
    assert!(account.contains("Choose a plan") && !account.contains("Cancel subscription"));
    let cancel = app.page("/account/cancel").await;
    assert!(cancel.contains("You have no subscription to cancel."));
    let preview = app.page("/account/plan/preview?plan=pro&interval=month").await;
    assert!(alerts(&preview).iter().any(|a| a == "You have no subscription to change."), "{preview}");
    // A forged form post: refused with a notice, nothing sent to Stripe.
    let res = app
        .client
        .post(app.url("/api/billing/subscribe"))
        .header("accept", BROWSER_ACCEPT)
        .form(&[("plan", "platinum"), ("interval", "month")])
        .send()
        .await
        .unwrap();
    assert_redirect(&res, "/pricing");
    let pricing = app.page("/pricing").await;
    assert!(alerts(&pricing).iter().any(|a| a.contains("no \"platinum\" plan")), "{pricing}");
}
