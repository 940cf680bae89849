//! Creators' payouts: Stripe pays a creator's available balance out on its daily schedule, and
//! the Connect endpoint's `payout.*` events keep `payouts` true. The dashboard shows them on
//! their way, then past; a payout to a failing bank account with Stripe's reason, audited and
//! mailed to the creator once however often and in whatever order its events come, and listed
//! on the admin's marketplace page.

use super::orders::{buyer_pays, product_on_sale, product_on_sale_banking_at};
use crate::helpers::{
    alerts, assert_redirect, move_sandbox_clock, new_client, sandbox_now, spawn_app, TestApp, ADMIN_EMAIL,
    ADMIN_PASSWORD,
};
use tollgate::views::format;

const DAY: i64 = 86_400;

/// Stripe's test bank account whose payouts fail with `no_account`.
const FAILING_BANK: &str = "000111111116";

/// Moves Stripe's clock to 01:00 UTC of the next day, so the test knows the day its sale is
/// made on (funds become available at 00:00 UTC two days after it); returns that day (days
/// since 1970-01-01).
async fn one_in_the_morning(app: &TestApp) -> i64 {
    let day = sandbox_now(&app.sandbox_url).await.div_euclid(DAY) + 1;
    move_sandbox_clock(&app.sandbox_url, day * DAY + 3600).await;
    day
}

/// The table labelled `label` on the page (up to its end).
fn table<'a>(page: &'a str, label: &str) -> &'a str {
    let at = page.find(&format!(r#"aria-label="{label}""#)).unwrap_or_else(|| panic!("no {label} in {page}"));
    let rest = &page[at..];
    &rest[..rest.find("</table>").expect("the table's end")]
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(app.db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_payout_shows_as_upcoming_until_it_is_paid_then_in_past_payouts() {
    let app = spawn_app().await;
    let day = one_in_the_morning(&app).await;
    product_on_sale(&app, "25.00").await;
    buyer_pays(&app).await;
    app.settle().await;

    // Paid out at 00:00 two days later (the sale less the fee), submitted to the bank an hour on.
    app.advance_to((day + 2) * DAY + 2 * 3600).await;
    let page = app.page("/creator").await;
    let upcoming = table(&page, "Upcoming payouts");
    assert!(upcoming.contains("$22.50") && upcoming.contains("In transit"), "{upcoming}");
    assert!(upcoming.contains(&format::day((day + 3) * DAY)), "arrives the next day: {upcoming}");
    assert!(page.contains("No payouts yet."), "{page}");

    app.advance_to((day + 3) * DAY + 3600).await;
    let page = app.page("/creator").await;
    assert!(page.contains("No payout on its way."), "{page}");
    let past = table(&page, "Past payouts");
    assert!(past.contains(r#"data-status="paid""#) && past.contains("$22.50") && past.contains("Paid"), "{past}");
    assert!(alerts(&page).is_empty(), "{:?}", alerts(&page));
    let stored: (String, i64, String) =
        sqlx::query_as("SELECT status, amount, currency FROM payouts").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(stored, ("paid".to_owned(), 2250, "usd".to_owned()));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.payout_failed'").await, 0);
}

#[tokio::test]
async fn a_failed_payout_is_shown_with_stripes_reason_and_audited_once_however_its_events_come() {
    let app = spawn_app().await;
    let day = one_in_the_morning(&app).await;
    product_on_sale_banking_at(&app, "25.00", FAILING_BANK).await;
    // Every webhook delivered twice, some at the same time.
    let chaos = serde_json::json!({"duplicate_share": 1.0, "reorder_window": 0, "delay_ms": 0, "concurrency": 4});
    let set = reqwest::Client::new().post(format!("{}/_sandbox/chaos", app.sandbox_url)).json(&chaos).send().await;
    assert!(set.unwrap().status().is_success());
    buyer_pays(&app).await;
    app.settle().await;

    // On its way first, as any payout; then it fails at its arrival date.
    app.advance_to((day + 2) * DAY + 2 * 3600).await;
    let status: String = sqlx::query_scalar("SELECT status FROM payouts").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(status, "in_transit");
    assert!(alerts(&app.page("/creator").await).is_empty());
    app.advance_to((day + 3) * DAY + 3600).await;
    let page = app.page("/creator").await;
    assert_eq!(
        alerts(&page),
        vec![
            "Payout of $22.50 failed: The bank account details on file are probably incorrect. No bank account \
             could be located with those details. Update your bank account in the Stripe dashboard."
        ],
        "{page}"
    );
    let past = table(&page, "Past payouts");
    assert!(past.contains(r#"data-status="failed""#) && past.contains("Failed"), "{past}");
    let deliveries = app.stripe_get_json("/_sandbox/deliveries?event_type=payout.failed").await;
    let twice = deliveries["data"].as_array().unwrap().iter().any(|d| d["duplicate"] == true);
    assert!(twice, "payout.failed was delivered twice: {deliveries}");
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.payout_failed' \
                   AND actor_email = 'stripe' AND subject_type = 'payout'";
    assert_eq!(count(&app, audited).await, 1);
    let before: Option<String> =
        sqlx::query_scalar("SELECT before_state FROM audit_log WHERE action = 'marketplace.payout_failed'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(before.as_deref(), Some(r#"{"status":"in_transit"}"#));

    // Every payout event applied again, newest first: still failed, still one audit row.
    sqlx::query(
        "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = 0, \
           stripe_created = 4102444800 - stripe_created WHERE event_type LIKE 'payout.%'",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    app.settle().await;
    assert_eq!(count(&app, audited).await, 1);
    let status: String = sqlx::query_scalar("SELECT status FROM payouts").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(status, "failed");

    // The creator is told once, with Stripe's reason and the way to their creator page.
    let creator: String =
        sqlx::query_scalar("SELECT users.email FROM creators JOIN users ON users.id = creators.user_id")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        app.mails_to(&creator).await.into_iter().filter(|(kind, _)| kind == "payout_failed").collect::<Vec<_>>(),
        vec![("payout_failed".to_owned(), "Your payout of $22.50 failed".to_owned())]
    );
    let body: String = sqlx::query_scalar("SELECT body FROM emails WHERE kind = 'payout_failed'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(body.contains("No bank account could be located") && body.contains("/creator"), "{body}");

    // The admin sees it among failed payouts, with Stripe's code and the creator's account.
    let payout_id: String = sqlx::query_scalar("SELECT id FROM payouts").fetch_one(app.db.pool()).await.unwrap();
    let admin = new_client();
    assert_redirect(&app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");
    let html = app.page_with(&admin, "/admin/marketplace").await;
    let listed = &html[html.find(&format!(r#"data-payout="{payout_id}""#)).expect("the failed payout is listed")..];
    let listed = &listed[..listed.find("</tr>").expect("its row's end")];
    assert!(listed.contains("$22.50") && listed.contains("(no_account)"), "{listed}");
    let account: String = sqlx::query_scalar("SELECT account_id FROM payouts").fetch_one(app.db.pool()).await.unwrap();
    assert!(listed.contains(&account), "{listed}");

    // Stripe pays nothing more to a bank account a payout failed to: no new payout, no new row.
    app.advance_to((day + 6) * DAY).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM payouts").await, 1);
    assert_eq!(count(&app, audited).await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM emails WHERE kind = 'payout_failed'").await, 1);
}
