//! Time through the app: the sandbox's clock moves (trials end, renewals bill, dunning retries
//! and gives up) and the app follows from webhooks alone. Driven as a browser without
//! JavaScript would, through the same hosted Checkout as a customer.
//!
//! Each scenario starts from every pinned start (month lengths differ there) and moves time to
//! what Stripe's objects say falls due, never by a number of days.

use crate::from_each_pinned_start;
use crate::helpers::*;

impl TestApp {
    /// Signs up a customer and pays a plan on the hosted Checkout page with `card`.
    pub(crate) async fn subscribed_customer(&self, prefix: &str, plan: &str, card: &str, had_trial: bool) -> String {
        let email = unique_email(prefix);
        self.customer(&email).await;
        self.subscribe_with_card(&email, plan, card, had_trial).await;
        email
    }

    /// The signed-in customer `email` pays `plan` monthly on the hosted Checkout page with `card`.
    pub(crate) async fn subscribe_with_card(&self, email: &str, plan: &str, card: &str, had_trial: bool) {
        if had_trial {
            self.trial_used(email).await;
        }
        let res = self.submit("/pricing", "Subscribe", &[("plan", plan), ("interval", "month")]).await;
        let checkout = location(&res).expect("Subscribe redirects to Checkout");
        let paid = self
            .client
            .post(&checkout)
            .form(&[("card_number", card), ("expiry", "12 / 34"), ("cvc", "123")])
            .send()
            .await
            .unwrap();
        assert_eq!(paid.status().as_u16(), 303, "Checkout accepted {card}");
        self.settle().await;
    }

    async fn count(&self, query: &str, email: &str) -> i64 {
        sqlx::query_scalar(query).bind(email).fetch_one(self.db.pool()).await.unwrap()
    }
}

fn plan_name(html: &str) -> String {
    let at = html.find("class=\"plan-name\"").expect("a plan name on /account");
    let start = at + html[at..].find('>').unwrap() + 1;
    let end = start + html[start..].find('<').unwrap();
    html[start..end].to_string()
}

from_each_pinned_start!(
    a_trial_converts_and_the_subscription_renews,
    a_failing_card_goes_past_due_with_a_banner_then_cancels_and_access_ends,
    cancel_at_period_end_keeps_access_until_then,
    a_scheduled_downgrade_takes_effect_at_renewal,
);

async fn a_trial_converts_and_the_subscription_renews(start: PinnedStart) {
    let app = spawn_app().await;
    app.pin_clock(start).await;
    let email = app.subscribed_customer("trial", "pro", "4242424242424242", false).await;
    let account = app.page("/account").await;
    assert!(account.contains(">On a free trial</dd>"), "trialing first");
    assert_eq!(plan_name(&account), "Pro", "a trial gives the plan's features");

    app.advance_through_period_end(&email).await; // the 14-day trial ends: the first invoice is paid
    let account = app.page("/account").await;
    assert!(account.contains(">Active</dd>"), "converted: {account}");
    let paid_query = "SELECT COUNT(*) FROM invoices i JOIN users u ON u.stripe_customer_id = i.customer_id \
                      WHERE u.email = $1 AND i.status = 'paid' AND i.amount_paid = 2900";
    assert_eq!(app.count(paid_query, &email).await, 1);

    app.advance_through_period_end(&email).await; // a renewal
    assert_eq!(app.count(paid_query, &email).await, 2);
    let receipts = "SELECT COUNT(*) FROM emails WHERE kind = 'receipt' AND to_address = $1";
    assert_eq!(app.count(receipts, &email).await, 2, "one receipt per paid invoice");
    let account = app.page("/account").await;
    // The trial's $0.00 invoice is listed too, as Stripe lists it.
    assert_eq!(account.matches(">$29.00</td>").count(), 2, "both paid invoices listed");
    assert_eq!(account.matches(">paid</td>").count(), 3);
}

async fn a_failing_card_goes_past_due_with_a_banner_then_cancels_and_access_ends(start: PinnedStart) {
    let app = spawn_app().await;
    app.pin_clock(start).await;
    // 4000 0000 0000 0341 attaches fine (the trial needs no charge) and declines every charge.
    let email = app.subscribed_customer("failing", "starter", "4000000000000341", false).await;
    app.advance_through_period_end(&email).await; // the trial ends and the first charge fails
    let account = app.page("/account").await;
    assert!(account.contains(">Payment overdue</dd>"), "past due: {account}");
    assert!(account.contains("Your last payment failed."), "the banner");
    assert!(account.contains(">Update payment method</button>"));
    assert!(account.contains(r#"href="/billing/card""#), "a new card on the app's own page: {account}");
    assert_eq!(plan_name(&account), "Starter", "past due keeps access until the period ends");
    let failed = "SELECT COUNT(*) FROM emails WHERE kind = 'payment_failed' AND to_address = $1";
    assert!(app.count(failed, &email).await >= 1, "a payment-failed email");

    // Dunning retries as Stripe schedules them, then cancels.
    let retries = app.advance_through_payment_retries(&email).await;
    assert!(retries >= 1, "Stripe retried the payment");
    let account = app.page("/account").await;
    assert!(account.contains(">Canceled</dd>"), "dunning gave up: {account}");
    assert_eq!(plan_name(&account), "Free", "access ends with the subscription");
    assert!(!account.contains("Your last payment failed."), "no banner once canceled");
    let emails = app.count(failed, &email).await;
    app.advance_by(86_400).await;
    assert_eq!(app.count(failed, &email).await, emails, "no more failure emails after cancelation");
}

async fn cancel_at_period_end_keeps_access_until_then(start: PinnedStart) {
    let app = spawn_app().await;
    app.pin_clock(start).await;
    let email = app.subscribed_customer("leaver", "business", "4242424242424242", true).await;
    let res = app.submit("/account/cancel", "Cancel subscription", &[]).await;
    assert_redirect(&res, "/account");
    app.settle().await;
    let end = app.period_end_of(&email).await;
    app.advance_to(end - 3600).await;
    let account = app.page("/account").await;
    assert_eq!(plan_name(&account), "Business", "still paid for");
    assert!(account.contains("Cancels at the end of the period"));

    app.advance_to(end).await;
    let account = app.page("/account").await;
    assert!(account.contains(">Canceled</dd>"), "{account}");
    assert_eq!(plan_name(&account), "Free");
    assert!(account.contains("Choose a plan"));
    let churned: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM mrr_movements WHERE kind = 'churn' AND delta = -9900")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(churned, 1, "one churn movement");
}

async fn a_scheduled_downgrade_takes_effect_at_renewal(start: PinnedStart) {
    let app = spawn_app().await;
    app.pin_clock(start).await;
    let email = app.subscribed_customer("downgrader", "business", "4242424242424242", true).await;
    let res = app
        .submit(
            "/account/plan/preview?plan=starter&interval=month",
            "Confirm",
            &[("plan", "starter"), ("interval", "month")],
        )
        .await;
    assert_redirect(&res, "/account");
    app.settle().await;
    assert_eq!(plan_name(&app.page("/account").await), "Business", "until the period ends");

    app.advance_through_period_end(&email).await;
    let account = app.page("/account").await;
    assert_eq!(plan_name(&account), "Starter", "{account}");
    assert!(account.contains("$9.00 / month") && !account.contains("Scheduled change"));
    let renewal = "SELECT COUNT(*) FROM invoices i JOIN users u ON u.stripe_customer_id = i.customer_id \
                   WHERE u.email = $1 AND i.status = 'paid' AND i.amount_paid = 900";
    assert_eq!(app.count(renewal, &email).await, 1, "renewed at the Starter price");
    let contraction: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM mrr_movements WHERE kind = 'contraction' AND delta = -9000")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(contraction, 1);
}
