//! `tollgate catalog migrate`: 50 subscribers grandfathered on Pro at $29 a month after the price
//! became $39 are moved at their first renewal after the notice, each told once; one set to
//! cancel is left alone from the start, one whose plan an operator changes meanwhile is left
//! alone after; a dry run writes nothing and a second run changes nothing.

use serde_json::Value;
use tollgate::server::catalog::{self, migrate};

use crate::helpers::*;

const DAY: i64 = 86_400;
const SUBSCRIBERS: usize = 50;

impl TestApp {
    async fn scalar(&self, query: &str) -> i64 {
        sqlx::query_scalar(query).fetch_one(self.db.pool()).await.unwrap()
    }

    async fn schedules_in_stripe(&self) -> usize {
        let api = self.api();
        api.all("/v1/subscription_schedules").await.iter().filter(|s| s["status"] != "released").count()
    }

    fn api(&self) -> Api {
        Api { http: reqwest::Client::new(), base: self.sandbox_url.clone() }
    }

    async fn subscription_id_of(&self, email: &str) -> String {
        self.stripe_subscription_of(email).await["id"].as_str().unwrap().to_string()
    }

    async fn notices_to(&self, email: &str) -> Vec<(String, String)> {
        self.mails_to(email).await.into_iter().filter(|(kind, _)| kind == "price_change_notice").collect()
    }
}

fn ymd(ts: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(ts).unwrap();
    format!("{}-{:02}-{:02}", at.year(), u8::from(at.month()), at.day())
}

#[tokio::test]
async fn catalog_migrate_moves_grandfathered_subscribers_at_renewal_after_notice_once() {
    // Fifty log-ins from 127.0.0.1 within the sandbox's frozen minute.
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN_PER_MINUTE", "1000")]).await;
    // 30 January: the next period ends on 28 February, the one after on 30 March.
    app.pin_clock(PinnedStart::January30).await;
    let t0 = sandbox_now(&app.sandbox_url).await;
    let mut subscribers = Vec::new();
    for i in 0..SUBSCRIBERS {
        subscribers.push(app.paying_customer(&format!("grandfathered{i}"), "pro", "4242424242424242").await);
    }
    let api = app.api();
    // One is set to cancel before the migration: left alone from the start.
    let leaver = app.subscription_id_of(&subscribers[0]).await;
    api.post(&format!("/v1/subscriptions/{leaver}"), &[("cancel_at_period_end", "true".into())]).await;
    app.settle().await;

    // The price goes up; existing subscribers keep $29.
    let text = std::fs::read_to_string(catalog::DEFAULT_PATH).unwrap();
    let raised = catalog::parse(&text.replace("monthly = 2900", "monthly = 3900")).unwrap();
    catalog::sync::sync(&app.stripe, &raised).await.unwrap();
    let prices = catalog::sync::resolve(&app.stripe, &raised).await.unwrap();
    let new_price = prices["pro_monthly"].as_str().to_string();
    app.settle().await;

    let at = ymd(t0 + 10 * DAY);
    let request = migrate::MigrationRequest::parse("pro_monthly@2900", "pro_monthly", &at, 30).unwrap();
    let pool = app.db.pool();
    let now = sandbox_now(&app.sandbox_url).await;

    // The dry run says who moves when, and writes nothing anywhere.
    let dry = migrate::run(pool, &app.stripe, &raised, &request, now, true).await.unwrap();
    assert_eq!((dry.scheduled.len(), dry.already_scheduled, dry.left_alone.len()), (SUBSCRIBERS - 1, 0, 1));
    assert_eq!(dry.left_alone[0].subscription_id, leaver);
    // 30 days of notice from 30 January reach past 28 February: everyone moves on 30 March, at
    // the time of day they subscribed (the sandbox's clock runs on from t0), and is told 30 days
    // before. (That it is a renewal to the second shows below: the move is billed unprorated.)
    let march_30 = t0 + 59 * DAY;
    let wrong: Vec<_> = dry
        .scheduled
        .iter()
        .filter(|s| !(march_30..march_30 + 600).contains(&s.switch_at) || s.notice_at != s.switch_at - 30 * DAY)
        .collect();
    assert!(wrong.is_empty(), "t0 {t0}, now {now}: {wrong:?}");
    let switch_at = dry.scheduled.iter().map(|s| s.switch_at).max().unwrap();
    let printed = dry.to_string();
    assert!(printed.contains("would move on 30 March"), "{printed}");
    assert!(printed.contains("from $29.00 a month to $39.00 a month"), "{printed}");
    assert!(
        printed.contains("49 to schedule (dry run: nothing written), 0 already scheduled, 1 left alone"),
        "{printed}"
    );
    assert_eq!(app.scalar("SELECT COUNT(*) FROM price_migrations").await, 0);
    assert_eq!(app.schedules_in_stripe().await, 0);

    let done = migrate::run(pool, &app.stripe, &raised, &request, now, false).await.unwrap();
    assert_eq!((done.scheduled.len(), done.already_scheduled, done.left_alone.len()), (SUBSCRIBERS - 1, 0, 1));
    assert_eq!(done.scheduled, dry.scheduled, "the dry run said what the run did");
    assert_eq!(app.schedules_in_stripe().await, SUBSCRIBERS - 1);
    app.settle().await;
    // A second run changes nothing.
    let again = migrate::run(pool, &app.stripe, &raised, &request, now, false).await.unwrap();
    assert_eq!((again.scheduled.len(), again.already_scheduled, again.left_alone.len()), (0, SUBSCRIBERS - 1, 1));
    assert_eq!(app.schedules_in_stripe().await, SUBSCRIBERS - 1);

    // An operator moves one subscriber to Business meanwhile: the migration leaves them alone.
    let changer = app.subscription_id_of(&subscribers[1]).await;
    let schedule = api.get(&format!("/v1/subscriptions/{changer}")).await["schedule"].as_str().unwrap().to_string();
    api.post(&format!("/v1/subscription_schedules/{schedule}/release"), &[]).await;
    let item =
        api.get(&format!("/v1/subscriptions/{changer}")).await["items"]["data"][0]["id"].as_str().unwrap().to_string();
    let business = prices["business_monthly"].as_str().to_string();
    api.post(&format!("/v1/subscriptions/{changer}"), &[("items[0][id]", item), ("items[0][price]", business)]).await;
    app.settle().await;

    // Nothing is told before the notice day.
    assert_eq!(migrate::notices::send_due(pool, &raised, &app.address, now).await.unwrap(), 0);
    app.advance_to(switch_at - 30 * DAY).await;
    let notice_day = sandbox_now(&app.sandbox_url).await;
    let (first, second) = tokio::join!(
        migrate::notices::send_due(pool, &raised, &app.address, notice_day),
        migrate::notices::send_due(pool, &raised, &app.address, notice_day),
    );
    assert_eq!(first.unwrap() + second.unwrap(), SUBSCRIBERS - 2, "told once each, the changer not at all");
    assert_eq!(migrate::notices::send_due(pool, &raised, &app.address, notice_day).await.unwrap(), 0);
    let subject = format!("Your Pro price changes on {}", tollgate::views::format::day(switch_at));
    assert!(subject.starts_with("Your Pro price changes on 30 March"), "{subject}");
    assert_eq!(app.notices_to(&subscribers[2]).await, [("price_change_notice".to_string(), subject)]);
    assert!(app.notices_to(&subscribers[0]).await.is_empty() && app.notices_to(&subscribers[1]).await.is_empty());
    let body: String =
        sqlx::query_scalar("SELECT body FROM emails WHERE kind = 'price_change_notice' AND to_address = $1")
            .bind(&subscribers[2])
            .fetch_one(pool)
            .await
            .unwrap();
    assert!(body.contains("renews at $39.00 a month instead of $29.00"), "{body}");
    assert!(body.contains(&format!("{}/account", app.address)), "{body}");

    // The renewal on 30 March is on the new price, for the 48 still on the migration.
    app.advance_to(switch_at).await;
    // Renewal invoices are finalized and charged an hour after they are made.
    app.advance_to(switch_at + 2 * 3600).await;
    let moved: Vec<Value> = app.api().all("/v1/subscriptions?status=active").await;
    let on_new = moved.iter().filter(|s| s["items"]["data"][0]["price"]["id"] == new_price.as_str()).count();
    assert_eq!(on_new, SUBSCRIBERS - 2);
    let renewal = app.stripe_latest_invoice_of(&subscribers[2]).await;
    assert_eq!(
        (renewal["amount_paid"].as_i64(), renewal["billing_reason"].as_str()),
        (Some(3900), Some("subscription_cycle"))
    );
    assert_eq!(
        app.scalar(&format!("SELECT COUNT(*) FROM subscriptions WHERE price_id = '{new_price}' AND mrr = 3900")).await,
        (SUBSCRIBERS - 2) as i64,
        "the local rows follow, and MRR with them"
    );

    app.log_in_as_admin().await;
    let page = app.page("/admin/migrations").await;
    assert!(page.contains("pro_monthly: $29.00 a month → $39.00 a month"), "{page}");
    assert!(page.contains("Moved: 48"), "{page}");
    assert!(page.contains("Left alone: 1"), "{page}");
    assert!(page.contains("Waiting for notice: 0 · Notified: 0"), "{page}");
}

#[test]
fn the_command_refuses_what_it_cannot_read() {
    for (from, to, at) in [
        ("pro_monthly", "pro_monthly", "2027-03-01"),
        ("pro_monthly@2900", "pro_monthly", "soon"),
        ("pro_monthly@0", "pro_monthly", "2027-03-01"),
    ] {
        assert!(migrate::MigrationRequest::parse(from, to, at, 30).is_err(), "{from} {to} {at}");
    }
}
