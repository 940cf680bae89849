//! Creators' payouts: Stripe pays a creator's available balance out on its daily schedule, and
//! the Connect endpoint's `payout.*` events keep `payouts` true. The dashboard shows them on
//! their way, then past; a payout to a failing bank account with Stripe's reason, audited once
//! however often and in whatever order its events come.

use super::orders::{buyer_pays, product_on_sale, product_on_sale_banking_at};
use crate::helpers::{alerts, move_sandbox_clock, sandbox_now, spawn_app, TestApp};
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

    // Stripe pays nothing more to a bank account a payout failed to: no new payout, no new row.
    app.advance_to((day + 6) * DAY).await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM payouts").await, 1);
    assert_eq!(count(&app, audited).await, 1);
}
