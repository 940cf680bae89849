//! Moving Stripe's time in tests, never by a calendar guess: a test starts from a pinned
//! instant and advances to what an object says is due next (a period end, an invoice's
//! finalization, its next payment attempt).

use serde_json::{json, Value};
use time::{Date, Month, OffsetDateTime};

use super::TestApp;

/// Calendar shapes a time-moving test starts from, chosen because month lengths differ there.
#[derive(Clone, Copy, Debug)]
pub enum PinnedStart {
    /// 1 January: a 31-day month.
    FirstOfJanuary,
    /// 28 February of a non-leap year: a 28-day month, ending the day the period starts.
    February28NonLeap,
    /// 30 January: the next month has no 30th, so Stripe clamps the period end.
    January30,
}

impl PinnedStart {
    /// The next instant of this shape (midnight UTC) at least two days from now. The sandbox
    /// clock only moves forward, and the app compares Stripe's times with its own wall clock,
    /// as it does in production; so the pinned instant is the next one, never a past one.
    pub fn next_instant(self) -> i64 {
        let earliest = OffsetDateTime::now_utc() + time::Duration::days(2);
        let (month, day, skip_leap) = match self {
            Self::FirstOfJanuary => (Month::January, 1, false),
            Self::February28NonLeap => (Month::February, 28, true),
            Self::January30 => (Month::January, 30, false),
        };
        (earliest.year()..)
            .filter(|year| !(skip_leap && time::util::is_leap_year(*year)))
            .map(|year| Date::from_calendar_date(year, month, day).expect("a real date").midnight().assume_utc())
            .find(|instant| *instant >= earliest)
            .expect("a later year has it")
            .unix_timestamp()
    }
}

/// Runs a time-moving scenario once from each pinned start, as its own test.
#[macro_export]
macro_rules! from_each_pinned_start {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use $crate::helpers::PinnedStart;

            #[tokio::test]
            async fn from_1_january() {
                super::$scenario(PinnedStart::FirstOfJanuary).await
            }

            #[tokio::test]
            async fn from_28_february_non_leap() {
                super::$scenario(PinnedStart::February28NonLeap).await
            }

            #[tokio::test]
            async fn from_30_january() {
                super::$scenario(PinnedStart::January30).await
            }
        }
    )*};
}

/// Moves the sandbox-wide clock of `sandbox_url` to `to` (unix seconds); refuses to go back.
pub async fn move_sandbox_clock(sandbox_url: &str, to: i64) {
    let res = reqwest::Client::new()
        .post(format!("{sandbox_url}/_sandbox/clock/advance"))
        .json(&json!({ "to": to }))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "moving the sandbox clock to {to}: {}", res.status());
}

/// The sandbox-wide clock (unix seconds).
pub async fn sandbox_now(sandbox_url: &str) -> i64 {
    let clock: Value = reqwest::get(format!("{sandbox_url}/_sandbox/clock")).await.unwrap().json().await.unwrap();
    clock["now"].as_i64().expect("the sandbox clock")
}

/// Moves the sandbox-wide clock `seconds` on from where it is.
pub async fn move_sandbox_clock_by(sandbox_url: &str, seconds: i64) {
    let now = sandbox_now(sandbox_url).await;
    move_sandbox_clock(sandbox_url, now + seconds).await;
}

impl TestApp {
    /// Sets the sandbox clock to `start` before the test makes any customer.
    pub async fn pin_clock(&self, start: PinnedStart) {
        move_sandbox_clock(&self.sandbox_url, start.next_instant()).await;
    }

    /// Moves the sandbox clock to `to`, then waits for its webhooks and the app's worker.
    pub async fn advance_to(&self, to: i64) {
        move_sandbox_clock(&self.sandbox_url, to).await;
        self.settle().await;
    }

    /// Moves the sandbox clock `seconds` on (for "nothing more happens" checks).
    pub async fn advance_by(&self, seconds: i64) {
        move_sandbox_clock_by(&self.sandbox_url, seconds).await;
        self.settle().await;
    }

    /// Stripe's view of the customer's (only) subscription.
    pub async fn stripe_subscription_of(&self, email: &str) -> Value {
        let customer: String = sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(self.db.pool())
            .await
            .unwrap();
        let list = self.stripe_get_json(&format!("/v1/subscriptions?customer={customer}&status=all")).await;
        let subscriptions = list["data"].as_array().expect("a subscription list");
        assert_eq!(subscriptions.len(), 1, "one subscription for {email}");
        subscriptions[0].clone()
    }

    /// Stripe's view of the customer's latest invoice.
    pub async fn stripe_latest_invoice_of(&self, email: &str) -> Value {
        let subscription = self.stripe_subscription_of(email).await;
        let invoice = subscription["latest_invoice"].as_str().expect("a latest invoice");
        self.stripe_get_json(&format!("/v1/invoices/{invoice}")).await
    }

    /// The end of the subscription's current period (a trial is a period too), from Stripe.
    pub async fn period_end_of(&self, email: &str) -> i64 {
        let subscription = self.stripe_subscription_of(email).await;
        subscription["items"]["data"][0]["current_period_end"].as_i64().expect("a current period end")
    }

    /// Through the end of the current period, and through the finalization of the invoice it
    /// opens, which Stripe finalizes (and charges) about an hour after making it.
    pub async fn advance_through_period_end(&self, email: &str) {
        let end = self.period_end_of(email).await;
        self.advance_to(end).await;
        let invoice = self.stripe_latest_invoice_of(email).await;
        if let Some(finalizes_at) = invoice["automatically_finalizes_at"].as_i64() {
            self.advance_to(finalizes_at).await;
        }
    }

    /// Through every retry of the latest invoice that Stripe schedules, until it stops
    /// scheduling them (paid, or dunning gave up). Returns how many retries there were.
    pub async fn advance_through_payment_retries(&self, email: &str) -> usize {
        for retries in 0..16 {
            let invoice = self.stripe_latest_invoice_of(email).await;
            match invoice["next_payment_attempt"].as_i64() {
                Some(at) => self.advance_to(at).await,
                None => return retries,
            }
        }
        panic!("Stripe kept retrying the invoice of {email}");
    }
}
