//! A plan whose trial asks for no card (`trial_without_card` in the catalog): Checkout collects
//! none (`payment_method_collection=if_required`), the account page asks for one, the trial's end
//! without one pauses the subscription (or cancels it), and a card added on `/billing/card` pays
//! the first period and resumes it, once.

use serde_json::Value;

use crate::helpers::*;

/// A card that attaches, then declines every charge.
const ATTACH_THEN_DECLINE: &str = "4000000000000341";

/// The shipped catalog with Starter's 14-day trial made card-less, ending as `end` says.
fn cardless_catalog(dir: &tempfile::TempDir, end: &str) -> String {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/catalog.toml")).unwrap();
    let starter = shipped.find("key = \"starter\"").expect("a Starter plan");
    let trial = starter + shipped[starter..].find("trial_days = 14\n").expect("Starter's trial");
    let edited = format!(
        "{}trial_days = 14\ntrial_without_card = \"{end}\"\n{}",
        &shipped[..trial],
        &shipped[trial + "trial_days = 14\n".len()..]
    );
    let path = dir.path().join("catalog.toml");
    std::fs::write(&path, edited).unwrap();
    path.display().to_string()
}

impl TestApp {
    /// The signed-in customer starts Starter's trial on Checkout, giving no card.
    async fn start_cardless_trial(&self, email: &str) -> Value {
        self.customer(email).await;
        let res = self.submit("/pricing", "Subscribe", &[("plan", "starter"), ("interval", "month")]).await;
        let checkout = location(&res).expect("Subscribe redirects to Checkout");
        let page = self.client.get(&checkout).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("card_number"), "Checkout asks for no card: {page}");
        let started = self.client.post(&checkout).form(&[("promotion_code", "")]).send().await.unwrap();
        assert_eq!(started.status().as_u16(), 303, "the trial starts without a card");
        self.settle().await;
        self.stripe_subscription_of(email).await
    }

    async fn stored(&self, email: &str) -> (String, i64, Option<String>) {
        sqlx::query_as(
            "SELECT s.status, s.mrr, s.pause_reason FROM subscriptions s \
             JOIN users u ON u.stripe_customer_id = s.customer_id WHERE u.email = $1",
        )
        .bind(email)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    /// Saves `card` on `/billing/card` and opens the return page.
    async fn add_card(&self, card: &str) -> (String, String) {
        let page = self.page("/billing/card").await;
        let (status, started) =
            self.start_intent(&self.client, "/api/pay/start_card", &[("attempt", &hidden(&page, "attempt"))]).await;
        assert_eq!(status, 200, "{started}");
        let saved = self
            .confirm_with_card(
                started["client_secret"].as_str().unwrap(),
                card,
                started["return_url"].as_str().unwrap(),
            )
            .await;
        assert_eq!(saved["status"], "succeeded", "{saved}");
        let seti = saved["id"].as_str().unwrap().to_string();
        let outcome = self.page(&format!("/billing/card/complete?setup_intent={seti}")).await;
        (seti, outcome)
    }
}

async fn paid_invoices(app: &TestApp, subscription: &str) -> Vec<i64> {
    let list = app.stripe_get_json(&format!("/v1/invoices?subscription={subscription}&limit=100")).await;
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|invoice| invoice["status"] == "paid" && invoice["amount_paid"].as_i64() > Some(0))
        .map(|invoice| invoice["amount_paid"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_trial_without_a_card_pauses_at_its_end_and_a_card_resumes_it() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(&[("CATALOG_PATH", &cardless_catalog(&dir, "pause"))]).await;
    let pricing = app.page("/pricing").await;
    assert!(pricing.contains("14-day free trial, no card needed"), "{pricing}");

    let email = unique_email("cardless");
    let subscription = app.start_cardless_trial(&email).await;
    assert_eq!(subscription["status"], "trialing", "{subscription}");
    assert_eq!(subscription["trial_settings"]["end_behavior"]["missing_payment_method"], "pause");
    assert_eq!(subscription["default_payment_method"], Value::Null);
    let id = subscription["id"].as_str().unwrap().to_string();
    assert!(app.may_use_the_api(&email).await, "a trial grants the plan");
    let account = app.page("/account").await;
    assert!(account.contains("Card needed."), "{account}");
    assert!(account.contains("Add a card to keep your plan after it."), "{account}");
    assert!(account.contains(r#"href="/billing/card""#), "{account}");

    // The trial ends without a card: paused, nothing billed, no access, no resume button.
    app.advance_through_period_end(&email).await;
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "paused");
    assert_eq!(app.stored(&email).await, ("paused".into(), 0, Some("trial_end_without_payment_method".into())));
    assert!(!app.may_use_the_api(&email).await, "a paused subscription grants nothing");
    assert!(paid_invoices(&app, &id).await.is_empty());
    let account = app.page("/account").await;
    assert!(account.contains("Your trial has ended and your subscription is paused."), "{account}");
    assert!(!account.contains("Resume subscription"), "a card resumes it, not the button: {account}");
    let card_page = app.page("/billing/card").await;
    assert!(card_page.contains("first period now and resumes it"), "{card_page}");

    // A card the bank refuses is saved, but the subscription stays paused.
    let (_, outcome) = app.add_card(ATTACH_THEN_DECLINE).await;
    assert!(outcome.contains("the payment for your subscription was refused, so it stays paused"), "{outcome}");
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "paused");
    assert!(!app.may_use_the_api(&email).await);

    // A good card pays the first period's open invoice ($9.00), which resumes it, once however
    // often the page loads.
    let card_page = app.page("/billing/card").await;
    assert!(card_page.contains("Your new card pays your open invoice of $9.00 now"), "{card_page}");
    let (seti, outcome) = app.add_card("4242424242424242").await;
    assert!(outcome.contains("Your card is saved and your open invoice of $9.00 is paid."), "{outcome}");
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "active");
    let (status, mrr, reason) = app.stored(&email).await;
    assert_eq!((status.as_str(), mrr, reason), ("active", 900, None));
    assert!(app.may_use_the_api(&email).await);
    assert_eq!(paid_invoices(&app, &id).await, [900]);
    app.page(&format!("/billing/card/complete?setup_intent={seti}")).await;
    app.settle().await;
    assert_eq!(paid_invoices(&app, &id).await, [900], "the return page's reload charges nothing more");
    let account = app.page("/account").await;
    assert!(!account.contains("Card needed."), "{account}");
}

#[tokio::test]
async fn a_first_good_card_resumes_the_paused_trial_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(&[("CATALOG_PATH", &cardless_catalog(&dir, "pause"))]).await;
    let email = unique_email("cardless-good");
    let id = app.start_cardless_trial(&email).await["id"].as_str().unwrap().to_string();
    app.advance_through_period_end(&email).await;
    app.settle().await;
    assert_eq!(app.stored(&email).await.0, "paused");
    let (seti, outcome) = app.add_card("4242424242424242").await;
    assert!(outcome.contains("Your card is saved and your subscription is active again."), "{outcome}");
    assert_eq!(app.stored(&email).await.0, "active", "the return page stored it at once");
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "active");
    assert!(app.may_use_the_api(&email).await);
    app.page(&format!("/billing/card/complete?setup_intent={seti}")).await;
    app.settle().await;
    assert_eq!(paid_invoices(&app, &id).await, [900], "one payment, however often the return page loads");
}

#[tokio::test]
async fn a_trial_set_to_cancel_ends_the_subscription_without_a_card() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_with(&[("CATALOG_PATH", &cardless_catalog(&dir, "cancel"))]).await;
    let email = unique_email("cardless-cancel");
    let subscription = app.start_cardless_trial(&email).await;
    assert_eq!(subscription["trial_settings"]["end_behavior"]["missing_payment_method"], "cancel");
    app.advance_through_period_end(&email).await;
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "canceled");
    assert_eq!(app.stored(&email).await, ("canceled".into(), 0, None));
    assert!(!app.may_use_the_api(&email).await);
}

#[tokio::test]
async fn a_catalog_with_a_cardless_trial_but_no_trial_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.toml");
    std::fs::write(
        &path,
        "currency = \"usd\"\n[[plans]]\nkey = \"pro\"\nname = \"Pro\"\nmonthly = 900\ntrial_without_card = \"pause\"\n",
    )
    .unwrap();
    let error = tollgate::server::catalog::load(&path).unwrap_err();
    assert!(format!("{error:#}").contains("pro: trial_without_card needs trial_days"), "{error:#}");
}
