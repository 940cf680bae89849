//! The admin pauses a customer's payment collection (a grace period: still active, access kept,
//! no MRR; the renewal invoice voided instead of charged) and lifts it, and resumes a paused
//! subscription; each once however often the form is sent, each audited.

use super::plan_change::{audit_rows, notice, post, stripe_subscription, subscribed};
use crate::helpers::*;

/// The stored pause of payment collection and MRR of `subscription`.
async fn local_pause(app: &TestApp, subscription: &str) -> (Option<String>, Option<i64>, i64) {
    sqlx::query_as("SELECT pause_behavior, pause_resumes_at, mrr FROM subscriptions WHERE id = $1")
        .bind(subscription)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_pauses_payment_collection_the_renewal_is_voided_then_collection_resumes() {
    let app = spawn_app().await;
    let (customer, subscription) = subscribed(&app, "admin-pause", "pro").await;
    app.log_in_as_admin().await;
    let page_path = format!("/admin/customers/{customer}");
    let page = app.page(&page_path).await;
    assert_eq!(form_action(&page, "Pause payments").as_deref(), Some("/api/admin_pause_collection"));
    let token = hidden(&page, "token");
    let resumes_at = sandbox_now(&app.sandbox_url).await + 90 * 86_400;
    let resumes_on = time::OffsetDateTime::from_unix_timestamp(resumes_at).unwrap().date().to_string();
    let pause = [
        ("customer", customer.as_str()),
        ("subscription", &subscription),
        ("behavior", "void"),
        ("resumes_on", &resumes_on),
        ("token", &token),
    ];
    let res = post(&app, "admin_pause_collection", &pause).await;
    assert_redirect(&res, &page_path);
    let page = app.page(&page_path).await;
    assert!(notice(&page).is_some_and(|n| n.starts_with("Payments are paused until ")), "{page}");
    assert!(page.contains("Payments paused: Invoices voided until "), "{page}");
    // The same form sent again: done once.
    let res = post(&app, "admin_pause_collection", &pause).await;
    assert_redirect(&res, &page_path);
    assert_eq!(notice(&app.page(&page_path).await).as_deref(), Some("This was already done."));
    let stripe = stripe_subscription(&app, &subscription).await;
    assert_eq!(stripe["status"], "active");
    assert_eq!(stripe["pause_collection"]["behavior"], "void", "{stripe}");
    let midnight = stripe["pause_collection"]["resumes_at"].as_i64().unwrap();
    assert!(midnight <= resumes_at && resumes_at - midnight < 86_400, "the day asked for, at 00:00 UTC");
    app.settle().await;
    assert_eq!(local_pause(&app, &subscription).await, (Some("void".into()), Some(midnight), 0), "no MRR while paused");

    // The renewal under the pause: invoiced, voided, nothing charged; the customer keeps access.
    let end = stripe["items"]["data"][0]["current_period_end"].as_i64().unwrap();
    app.advance_to(end + 2 * 3600).await;
    let renewal = app.stripe_get_json(&format!("/v1/invoices?subscription={subscription}&limit=1")).await;
    let renewal = &renewal["data"][0];
    assert_eq!(
        (renewal["billing_reason"].as_str(), renewal["status"].as_str()),
        (Some("subscription_cycle"), Some("void"))
    );
    assert_eq!(renewal["amount_paid"], 0);
    assert_eq!(stripe_subscription(&app, &subscription).await["status"], "active");
    let status: String = sqlx::query_scalar("SELECT status FROM subscriptions WHERE id = $1")
        .bind(&subscription)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "active", "a grace period, not a lapse");

    // Collection resumes: the next renewal is charged again.
    let page = app.page(&page_path).await;
    assert_eq!(form_action(&page, "Resume payment collection").as_deref(), Some("/api/admin_resume_collection"));
    let token = hidden(&page, "token");
    let resume = [("customer", customer.as_str()), ("subscription", &subscription), ("token", &token)];
    for _ in 0..2 {
        let res = post(&app, "admin_resume_collection", &resume).await;
        assert_redirect(&res, &page_path);
    }
    assert!(stripe_subscription(&app, &subscription).await["pause_collection"].is_null());
    app.settle().await;
    assert_eq!(local_pause(&app, &subscription).await, (None, None, 2900));

    let rows = audit_rows(&app, &subscription).await;
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(actions, ["subscription.pause_collection", "subscription.resume_collection"], "one row each: {rows:?}");
    assert!(
        !rows[0].1.contains("payments paused") && rows[0].2.contains("; payments paused (void) until "),
        "{rows:?}"
    );
    assert!(rows[1].1.contains("payments paused (void)") && !rows[1].2.contains("payments paused"), "{rows:?}");
}

#[tokio::test]
async fn a_pause_request_is_checked_before_stripe_is_asked() {
    let app = spawn_app().await;
    let (customer, subscription) = subscribed(&app, "admin-pause-bad", "pro").await;
    app.log_in_as_admin().await;
    let page_path = format!("/admin/customers/{customer}");
    for (behavior, day, says) in [
        ("pause", "", "Choose what happens to the invoices while paused."),
        ("void", "2020-01-01", "The resume date must be in the future."),
        ("void", "31/01/2099", "The resume date must be a date like 2027-01-31."),
    ] {
        let token = hidden(&app.page(&page_path).await, "token");
        let fields = [
            ("customer", customer.as_str()),
            ("subscription", &subscription),
            ("behavior", behavior),
            ("resumes_on", day),
            ("token", &token),
        ];
        let res = post(&app, "admin_pause_collection", &fields).await;
        assert_redirect(&res, &page_path);
        let page = app.page(&page_path).await;
        assert!(page.contains(says), "{behavior} {day}: {page}");
    }
    assert!(stripe_subscription(&app, &subscription).await["pause_collection"].is_null());
    assert!(audit_rows(&app, &subscription).await.is_empty());
}

#[tokio::test]
async fn an_admin_resumes_a_paused_subscription_once_audited() {
    let app = spawn_app().await;
    let (customer, subscription) = subscribed(&app, "admin-unpause", "pro").await;
    app.stripe_api().post(&format!("/v1/subscriptions/{subscription}/pause"), &[]).await;
    let paused = format!("SELECT COUNT(*) FROM subscriptions WHERE id = '{subscription}' AND status = 'paused'");
    eventually(app.db.pool(), &paused, 1).await;
    app.log_in_as_admin().await;
    let page_path = format!("/admin/customers/{customer}");
    let page = app.page(&page_path).await;
    assert_eq!(form_action(&page, "Resume subscription").as_deref(), Some("/api/admin_unpause"));
    assert!(form_action(&page, "Pause payments").is_none(), "a paused subscription has nothing to collect");
    let token = hidden(&page, "token");
    let fields = [("customer", customer.as_str()), ("subscription", &subscription), ("token", &token)];
    for _ in 0..2 {
        let res = post(&app, "admin_unpause", &fields).await;
        assert_redirect(&res, &page_path);
    }
    assert_eq!(stripe_subscription(&app, &subscription).await["status"], "active");
    let rows = audit_rows(&app, &subscription).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, "subscription.unpause");
    assert!(rows[0].1.ends_with("; paused") && !rows[0].2.contains("paused"), "{rows:?}");
}
