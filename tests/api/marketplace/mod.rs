//! The marketplace on Stripe Connect: creators' onboarding, their account state, products,
//! sales, the creator's dashboard and payouts.

mod chaos;
mod creators;
mod dashboard;
pub mod orders;
mod pay_on_page;
mod payouts;
pub mod products;
mod refunds;

use reqwest::Response;

use crate::helpers::{location, TestApp};

/// Stripe's test values for the hosted onboarding form, submitted with `action`:
/// `complete` (Agree and submit) or `skip_document` (Submit without ID document).
pub fn onboarding_form(action: &str, account_number: &str) -> Vec<(&'static str, String)> {
    [
        ("business_type", "individual"),
        ("first_name", "Jenny"),
        ("last_name", "Rosen"),
        ("phone", "000-000-0000"),
        ("sms_code", "000-000"),
        ("dob", "01/01/1901"),
        ("address_line1", "address_full_match"),
        ("city", "San Francisco"),
        ("state", "CA"),
        ("postal_code", "94111"),
        ("ssn_last_4", "0000"),
        ("routing_number", "110000000"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .chain([("account_number", account_number.to_owned()), ("action", action.to_owned())])
    .collect()
}

/// Completes Stripe's hosted onboarding at `link` (`action` as in [`onboarding_form`]) and
/// follows Stripe's redirect back to the app; returns the app's answer to the return URL.
pub async fn finish_onboarding(app: &TestApp, link: &str, action: &str, account_number: &str) -> Response {
    let submitted = app.client.post(link).form(&onboarding_form(action, account_number)).send().await.unwrap();
    assert_eq!(submitted.status().as_u16(), 303, "the onboarding form was accepted");
    let back = location(&submitted).expect("Stripe sends the creator back");
    assert!(back.ends_with("/creator/onboarding/return"), "{back}");
    app.client.get(app.url(&path_of(&back))).send().await.unwrap()
}

pub use crate::helpers::path_of;

/// How many `event_type` events of connected account `account` the app applied.
pub async fn processed_on_account(app: &crate::helpers::TestApp, event_type: &str, account: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_events WHERE event_type = $1 AND account = $2 AND status = 'processed'",
    )
    .bind(event_type)
    .bind(account)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

/// Stripe's test bank account whose payouts succeed.
pub const PAYING_BANK: &str = "000123456789";

/// Makes the logged-in user a creator whose account Stripe enabled; returns the account id.
pub async fn enabled_creator(app: &TestApp) -> String {
    enabled_creator_banking_at(app, PAYING_BANK).await
}

/// [`enabled_creator`] with the bank account number given at onboarding (Stripe's test numbers
/// decide how payouts go, e.g. `000111111116` fails with `no_account`).
pub async fn enabled_creator_banking_at(app: &TestApp, account_number: &str) -> String {
    let start = app.submit("/creator", "Become a creator", &[]).await;
    let link = location(&start).expect("to Stripe's onboarding");
    let back = finish_onboarding(app, &link, "complete", account_number).await;
    assert_eq!(location(&back).as_deref(), Some("/creator"));
    sqlx::query_scalar("SELECT account_id FROM creators WHERE state = 'enabled' ORDER BY created_at DESC LIMIT 1")
        .fetch_one(app.db.pool())
        .await
        .expect("an enabled creator")
}
