//! /admin/customers/:id: the admin changes a customer's plan (an upgrade at once with
//! proration, a downgrade at the period end), cancels at period end and resumes, after a
//! confirm step; a double submit is one change; each is audited with before and after.

use serde_json::Value;

use crate::helpers::*;

/// A customer paying `plan` monthly, as the admin sees them: (Stripe customer, subscription).
pub(super) async fn subscribed(app: &TestApp, prefix: &str, plan: &str) -> (String, String) {
    let email = app.paying_customer(prefix, plan, "4242424242424242").await;
    let customer: String = sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let subscription: String = sqlx::query_scalar("SELECT id FROM subscriptions WHERE customer_id = $1")
        .bind(&customer)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    (customer, subscription)
}

/// Posts a form to a server function as a browser without JavaScript does.
pub(super) async fn post(app: &TestApp, endpoint: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/{endpoint}")))
        .header("accept", BROWSER_ACCEPT)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// The notice (`role="status"`) on a page, if any.
pub(super) fn notice(html: &str) -> Option<String> {
    let at = html.find(r#"role="status""#)?;
    let start = at + html[at..].find('>')? + 1;
    Some(html[start..start + html[start..].find('<')?].trim().to_string())
}

pub(super) async fn stripe_subscription(app: &TestApp, id: &str) -> Value {
    app.stripe_get_json(&format!("/v1/subscriptions/{id}")).await
}

async fn invoice_count(app: &TestApp, subscription: &str) -> usize {
    let list = app.stripe_get_json(&format!("/v1/invoices?subscription={subscription}&limit=100")).await;
    list["data"].as_array().unwrap().len()
}

/// (action, before, after, actor, ip) of the subscription's audit rows, oldest first.
pub(super) async fn audit_rows(app: &TestApp, subscription: &str) -> Vec<(String, String, String, String, String)> {
    sqlx::query_as(
        "SELECT action, before_state, after_state, actor_email, ip FROM audit_log \
         WHERE subject_type = 'subscription' AND subject_id = $1 ORDER BY id",
    )
    .bind(subscription)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn local(app: &TestApp, subscription: &str) -> (Option<String>, i64, Option<String>) {
    sqlx::query_as(
        "SELECT lookup_key, CAST(cancel_at_period_end AS INTEGER), pending_price_id FROM subscriptions WHERE id = $1",
    )
    .bind(subscription)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn an_admin_upgrade_applies_now_with_proration_once_and_is_audited() {
    let app = spawn_app().await;
    let (customer, subscription) = subscribed(&app, "admin-upgrade", "pro").await;
    app.log_in_as_admin().await;

    let page = app.page(&format!("/admin/customers/{customer}")).await;
    assert!(page.contains("Manage subscription") && page.contains("Pro (monthly)"), "{page}");
    assert!(
        form_action(&page, "Change plan").as_deref() == Some(&format!("/admin/customers/{customer}/plan")[..]),
        "{page}"
    );
    assert!(page.contains(r#"<option value="business_monthly">"#), "catalog prices offered: {page}");
    assert!(!page.contains(r#"<option value="pro_monthly">"#), "the current price is not offered");

    let confirm_path = format!("/admin/customers/{customer}/plan?price=business_monthly");
    let confirm = app.page(&confirm_path).await;
    assert!(confirm.contains(r#"class="to-plan">Business (monthly)<"#), "{confirm}");
    assert!(
        confirm.contains(r#"class="due-now">$"#) && !confirm.contains(r#"class="due-now">$0.00<"#),
        "a prorated charge is previewed: {confirm}"
    );
    assert!(confirm.contains("An upgrade: it applies now"), "{confirm}");
    let token = hidden(&confirm, "token");
    assert_eq!(hidden(&confirm, "subscription"), subscription);
    let fields = [
        ("customer", customer.as_str()),
        ("subscription", &subscription),
        ("price", "business_monthly"),
        ("token", &token),
    ];

    let res = post(&app, "admin_change_plan", &fields).await;
    assert_redirect(&res, &format!("/admin/customers/{customer}"));
    let after = app.page(&format!("/admin/customers/{customer}")).await;
    assert_eq!(notice(&after).as_deref(), Some("The plan is now Business (monthly); the proration was invoiced."));
    // A double submit (the same form again): nothing more happens.
    let res = post(&app, "admin_change_plan", &fields).await;
    assert_redirect(&res, &format!("/admin/customers/{customer}"));
    let again = app.page(&format!("/admin/customers/{customer}")).await;
    assert_eq!(notice(&again).as_deref(), Some("This plan change was already made."));

    let live = stripe_subscription(&app, &subscription).await;
    assert_eq!(live["items"]["data"][0]["price"]["lookup_key"], "business_monthly", "{live}");
    assert_eq!(invoice_count(&app, &subscription).await, 2, "the first invoice and one proration invoice");
    app.settle().await;
    assert_eq!(local(&app, &subscription).await, (Some("business_monthly".into()), 0, None), "after the webhooks too");

    let rows = audit_rows(&app, &subscription).await;
    assert_eq!(rows.len(), 1, "audited once: {rows:?}");
    let (action, before, after_state, actor, ip) = &rows[0];
    assert_eq!(action, "subscription.plan_change");
    assert!(before.starts_with("Pro (monthly) [price_") && before.ends_with("cancel at period end: no"), "{before}");
    assert!(
        after_state.starts_with("Business (monthly) [price_") && after_state.ends_with("cancel at period end: no"),
        "{after_state}"
    );
    assert_eq!((actor.as_str(), ip.as_str()), (ADMIN_EMAIL, "127.0.0.1"));
    let timeline = app.page(&format!("/admin/customers/{customer}")).await;
    assert!(timeline.contains(&format!("subscription.plan_change {subscription}")), "on the timeline: {timeline}");
    assert!(timeline.contains(&format!("by {ADMIN_EMAIL} from 127.0.0.1: Pro (monthly)")), "{timeline}");
}

#[tokio::test]
async fn an_admin_downgrade_is_scheduled_for_the_period_end() {
    let app = spawn_app().await;
    let (customer, subscription) = subscribed(&app, "admin-downgrade", "business").await;
    app.log_in_as_admin().await;
    let confirm = app.page(&format!("/admin/customers/{customer}/plan?price=starter_monthly")).await;
    assert!(confirm.contains(r#"class="due-now">$0.00<"#), "nothing charged now: {confirm}");
    assert!(confirm.contains("A downgrade: the customer keeps Business (monthly) until"), "{confirm}");
    let token = hidden(&confirm, "token");
    let res = post(
        &app,
        "admin_change_plan",
        &[("customer", &customer), ("subscription", &subscription), ("price", "starter_monthly"), ("token", &token)],
    )
    .await;
    assert_redirect(&res, &format!("/admin/customers/{customer}"));

    let live = stripe_subscription(&app, &subscription).await;
    assert_eq!(live["items"]["data"][0]["price"]["lookup_key"], "business_monthly", "not changed yet: {live}");
    assert!(live["schedule"].is_string(), "a schedule carries the change: {live}");
    assert_eq!(invoice_count(&app, &subscription).await, 1, "nothing invoiced now");
    app.settle().await;
    let (lookup_key, cancel, pending) = local(&app, &subscription).await;
    assert_eq!((lookup_key.as_deref(), cancel), (Some("business_monthly"), 0));
    assert!(pending.is_some_and(|p| p.starts_with("price_")), "the pending price is stored");
    let page = app.page(&format!("/admin/customers/{customer}")).await;
    assert!(page.contains("changes to Starter (monthly) on "), "{page}");

    let rows = audit_rows(&app, &subscription).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].1.starts_with("Business (monthly)") && !rows[0].1.contains("then"), "{:?}", rows[0]);
    assert!(
        rows[0].2.starts_with("Business (monthly)") && rows[0].2.contains("; then Starter (monthly) [price_"),
        "{:?}",
        rows[0]
    );
}

#[tokio::test]
async fn an_admin_cancels_at_period_end_and_resumes_each_once() {
    let app = spawn_app().await;
    let (customer, subscription) = subscribed(&app, "admin-cancel", "pro").await;
    app.log_in_as_admin().await;
    let page = app.page(&format!("/admin/customers/{customer}")).await;
    assert_eq!(form_action(&page, "Cancel at period end"), Some(format!("/admin/customers/{customer}/renewal")));

    let confirm = app.page(&format!("/admin/customers/{customer}/renewal?action=cancel")).await;
    assert!(confirm.contains("stays active until"), "{confirm}");
    assert_eq!(form_action(&confirm, "Confirm cancel at period end").as_deref(), Some("/api/admin_set_renewal"));
    let token = hidden(&confirm, "token");
    let cancel =
        [("customer", customer.as_str()), ("subscription", &subscription), ("action", "cancel"), ("token", &token)];
    for _ in 0..2 {
        let res = post(&app, "admin_set_renewal", &cancel).await;
        assert_redirect(&res, &format!("/admin/customers/{customer}"));
    }
    assert_eq!(stripe_subscription(&app, &subscription).await["cancel_at_period_end"], true);
    app.settle().await;
    assert_eq!(local(&app, &subscription).await.1, 1);
    let page = app.page(&format!("/admin/customers/{customer}")).await;
    assert!(page.contains("Pro (monthly)</strong> — ends on "), "{page}");
    assert!(form_action(&page, "Resume").is_some(), "{page}");
    // A plan change waits for the resume, as on the customer's side.
    let refused = app.page(&format!("/admin/customers/{customer}/plan?price=business_monthly")).await;
    assert_eq!(alerts(&refused), ["The subscription is set to end. Resume it before changing plan."]);

    let confirm = app.page(&format!("/admin/customers/{customer}/renewal?action=resume")).await;
    let token = hidden(&confirm, "token");
    let res = post(
        &app,
        "admin_set_renewal",
        &[("customer", &customer), ("subscription", &subscription), ("action", "resume"), ("token", &token)],
    )
    .await;
    assert_redirect(&res, &format!("/admin/customers/{customer}"));
    assert_eq!(
        notice(&app.page(&format!("/admin/customers/{customer}")).await)
            .as_deref()
            .map(|n| n.starts_with("The subscription continues")),
        Some(true)
    );
    assert_eq!(stripe_subscription(&app, &subscription).await["cancel_at_period_end"], false);
    app.settle().await;
    assert_eq!(local(&app, &subscription).await.1, 0);

    let rows = audit_rows(&app, &subscription).await;
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(actions, ["subscription.cancel_at_period_end", "subscription.resume"], "one row each: {rows:?}");
    assert!(
        rows[0].1.ends_with("cancel at period end: no") && rows[0].2.ends_with("cancel at period end: yes"),
        "{rows:?}"
    );
    assert!(
        rows[1].1.ends_with("cancel at period end: yes") && rows[1].2.ends_with("cancel at period end: no"),
        "{rows:?}"
    );
}

#[tokio::test]
async fn bad_plan_changes_are_refused_clearly_and_change_nothing() {
    let app = spawn_app().await;
    let (customer, subscription) = subscribed(&app, "admin-refused", "pro").await;
    // A customer with a Stripe customer (made when the address was verified) but no subscription.
    let idle = unique_email("admin-idle");
    app.customer_with(&new_client(), &idle).await;
    let idle_customer: String = sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
        .bind(&idle)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    app.log_in_as_admin().await;

    let unknown = app.page(&format!("/admin/customers/{customer}/plan?price=platinum_monthly")).await;
    assert_eq!(alerts(&unknown), ["There is no such price in the catalog."]);
    let one_time = app.page(&format!("/admin/customers/{customer}/plan?price=onboarding_once")).await;
    assert_eq!(alerts(&one_time), ["There is no such price in the catalog."]);
    let same = app.page(&format!("/admin/customers/{customer}/plan?price=pro_monthly")).await;
    assert_eq!(alerts(&same), ["The subscription is already on this plan."]);
    let nothing = app.page(&format!("/admin/customers/{idle_customer}/plan?price=business_monthly")).await;
    assert_eq!(alerts(&nothing), ["This customer has no subscription to change."]);
    let idle_page = app.page(&format!("/admin/customers/{idle_customer}")).await;
    assert!(!idle_page.contains("Manage subscription"), "no controls without a subscription");
    let resume = app.page(&format!("/admin/customers/{customer}/renewal?action=resume")).await;
    assert_eq!(alerts(&resume), ["The subscription is not set to end: there is nothing to resume."]);

    // Posted anyway: back to the confirm step with the reason.
    let token = "0123456789abcdef0123456789abcdef";
    let cases = [
        (customer.as_str(), subscription.as_str(), "platinum_monthly", token, "There is no such price in the catalog."),
        (&customer, &subscription, "pro_monthly", token, "The subscription is already on this plan."),
        (
            &customer,
            "sub_someone_else",
            "business_monthly",
            token,
            "The customer's subscription changed since this form was opened: open it again.",
        ),
        (&customer, &subscription, "business_monthly", "short", "The form expired: open the page again."),
        (&idle_customer, &subscription, "business_monthly", token, "This customer has no subscription to change."),
    ];
    for (customer, subscription, price, token, reason) in cases {
        let res = post(
            &app,
            "admin_change_plan",
            &[("customer", customer), ("subscription", subscription), ("price", price), ("token", token)],
        )
        .await;
        let back = format!("/admin/customers/{customer}/plan?price={price}");
        assert_redirect(&res, &back);
        let html = app.page(&back).await;
        assert!(alerts(&html).iter().any(|a| a == reason), "{price}: {:?}", alerts(&html));
    }
    let res = post(
        &app,
        "admin_set_renewal",
        &[("customer", &customer), ("subscription", &subscription), ("action", "resume"), ("token", token)],
    )
    .await;
    assert_redirect(&res, &format!("/admin/customers/{customer}/renewal?action=resume"));

    let live = stripe_subscription(&app, &subscription).await;
    assert_eq!(live["items"]["data"][0]["price"]["lookup_key"], "pro_monthly");
    assert_eq!((live["cancel_at_period_end"].as_bool(), live["schedule"].is_null()), (Some(false), true), "{live}");
    assert_eq!(invoice_count(&app, &subscription).await, 1);
    assert_eq!(local(&app, &subscription).await, (Some("pro_monthly".into()), 0, None));
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(audited, 0, "nothing was done, nothing audited");
}
