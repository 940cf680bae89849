//! `tollgate catalog migrate`: grandfathering ended on purpose. `catalog sync` moves a lookup key
//! to a new price when its amount changes and leaves existing subscribers on the old one; this
//! moves them: each subscriber of the old price gets a subscription schedule that keeps the old
//! price until their first renewal on or after the chosen day (and never sooner than the notice
//! allows), then renews on the current price with the same seats, then releases the subscription.
//! Each is told `notice_days` before (`notices`). Subscribers who cancel or change plan meanwhile
//! release the schedule and are left alone; a subscription that already has a schedule, or is
//! set to end, is left alone from the start. A second run finds everyone scheduled and changes
//! nothing.

pub mod cycle;
pub mod notices;
pub mod request;

use std::fmt;

use anyhow::Context;
use sqlx::AnyPool;
use stripe_billing::subscription::RetrieveSubscription;
use stripe_billing::subscription_schedule::{
    CreateSubscriptionSchedule, UpdateSubscriptionSchedule, UpdateSubscriptionSchedulePhases,
    UpdateSubscriptionSchedulePhasesDuration, UpdateSubscriptionSchedulePhasesDurationInterval,
    UpdateSubscriptionSchedulePhasesEndDate, UpdateSubscriptionSchedulePhasesItems,
    UpdateSubscriptionSchedulePhasesStartDate,
};
use stripe_shared::SubscriptionScheduleEndBehavior;

use crate::domain::catalog::{BillingInterval, Catalog};
use crate::server::billing::price_book::PriceBook;
use crate::server::stripe::client::StripeClient;
use crate::views::format;
pub use request::{MigrationRequest, OldPrice};

const DAY: i64 = 86_400;
/// Names the migration on the schedules it makes (seen in Stripe's dashboard).
pub const SCHEDULE_METADATA: &str = "tollgate_price_migration";

/// A subscriber of the old price, as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Subscriber {
    id: String,
    customer_id: String,
    price_id: String,
    unit_amount: i64,
    quantity: i64,
    billing_interval: Option<String>,
    interval_count: i64,
    current_period_end: i64,
    cancel_pending: i64,
    schedule_id: Option<String>,
    email: Option<String>,
}

/// One subscriber's move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub subscription_id: String,
    pub email: Option<String>,
    pub quantity: i64,
    pub switch_at: i64,
    pub notice_at: i64,
}

/// A subscriber this migration does not move, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftAlone {
    pub subscription_id: String,
    pub why: &'static str,
}

/// What a run did (or, dry, would do).
#[derive(Debug, Clone)]
pub struct Report {
    pub dry_run: bool,
    pub lookup_key: String,
    pub from_amount: i64,
    pub to_amount: i64,
    pub currency: String,
    pub interval: BillingInterval,
    pub scheduled: Vec<Move>,
    pub already_scheduled: usize,
    pub left_alone: Vec<LeftAlone>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let price = |amount: i64| format!("{} a {}", format::money(amount, &self.currency), self.interval.as_str());
        let verb = if self.dry_run { "would move" } else { "moves" };
        for step in &self.scheduled {
            let seats = if step.quantity == 1 { String::new() } else { format!(" × {}", step.quantity) };
            writeln!(
                f,
                "{} ({}) {verb} on {} from {} to {}{seats}; notice on {}",
                step.subscription_id,
                step.email.as_deref().unwrap_or("no email"),
                format::day(step.switch_at),
                price(self.from_amount),
                price(self.to_amount),
                format::day(step.notice_at),
            )?;
        }
        for left in &self.left_alone {
            writeln!(f, "{} left alone: {}", left.subscription_id, left.why)?;
        }
        let done = if self.dry_run { "to schedule (dry run: nothing written)" } else { "scheduled" };
        writeln!(
            f,
            "{}: {} {done}, {} already scheduled, {} left alone",
            self.lookup_key,
            self.scheduled.len(),
            self.already_scheduled,
            self.left_alone.len()
        )
    }
}

/// Plans, and unless `dry_run` makes, the moves `request` asks for, at `now`.
pub async fn run(
    pool: &AnyPool,
    stripe: &StripeClient,
    catalog: &Catalog,
    request: &MigrationRequest,
    now: i64,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let book = PriceBook::resolve(stripe, catalog.clone()).await?;
    let (plan, interval) = catalog
        .plan_for_lookup_key(&request.to)
        .with_context(|| format!("{} is not a price in the catalog", request.to))?;
    let target = book.plan_price(plan.key.as_str(), interval).context("the catalog's price is not in Stripe")?;
    let subscribers = subscribers_of(pool, &request.from, &target.price_id).await?;
    let from_price_id = old_price_id(&subscribers, &request.from)?;
    let mut report = Report {
        dry_run,
        lookup_key: request.to.clone(),
        from_amount: subscribers.first().map_or(0, |s| s.unit_amount),
        to_amount: target.spec.amount.minor(),
        currency: target.spec.amount.currency().as_str().to_ascii_lowercase(),
        interval,
        scheduled: Vec::new(),
        already_scheduled: 0,
        left_alone: Vec::new(),
    };
    let Some(from_price_id) = from_price_id else { return Ok(report) };
    let migration = if dry_run {
        None
    } else {
        Some(record_migration(pool, request, &report, &from_price_id, &target.price_id, now).await?)
    };
    let members = match migration {
        Some(id) => scheduled_members(pool, id).await?,
        None => Vec::new(),
    };
    let earliest = request.not_before.max(now + i64::from(request.notice_days) * DAY);
    for subscriber in subscribers {
        if members.contains(&subscriber.id) {
            report.already_scheduled += 1;
            continue;
        }
        if let Some(why) = why_left_alone(&subscriber, interval) {
            report.left_alone.push(LeftAlone { subscription_id: subscriber.id, why });
            continue;
        }
        let live = stripe
            .send(&RetrieveSubscription::new(subscriber.id.as_str()), None)
            .await
            .with_context(|| format!("reading subscription {}", subscriber.id))?;
        let switch_at = cycle::first_renewal_from(
            subscriber.current_period_end,
            live.billing_cycle_anchor,
            interval,
            subscriber.interval_count,
            earliest,
        )?;
        let step = Move {
            subscription_id: subscriber.id.clone(),
            email: subscriber.email.clone(),
            quantity: subscriber.quantity,
            switch_at,
            notice_at: switch_at - i64::from(request.notice_days) * DAY,
        };
        if let Some(migration) = migration {
            let schedule = schedule_move(stripe, migration, &subscriber, &target.price_id, interval, switch_at).await?;
            store_member(pool, migration, &subscriber, &schedule, &step).await?;
        }
        report.scheduled.push(step);
    }
    Ok(report)
}

/// The live subscribers of an old price of `from`'s lookup key (not the current one).
async fn subscribers_of(pool: &AnyPool, from: &OldPrice, current_price_id: &str) -> anyhow::Result<Vec<Subscriber>> {
    let rows: Vec<Subscriber> = sqlx::query_as(
        "SELECT s.id, s.customer_id, s.price_id, s.unit_amount, s.quantity, s.billing_interval, \
           s.interval_count, s.current_period_end, CAST(s.cancel_at_period_end AS INTEGER) AS cancel_pending, \
           s.schedule_id, u.email \
         FROM subscriptions s LEFT JOIN users u ON u.stripe_customer_id = s.customer_id \
         WHERE s.lookup_key = $1 AND s.price_id <> $2 AND s.status IN ('active', 'trialing', 'past_due') \
         ORDER BY s.created, s.id",
    )
    .bind(&from.lookup_key)
    .bind(current_price_id)
    .fetch_all(pool)
    .await
    .context("reading the old price's subscribers")?;
    Ok(rows.into_iter().filter(|s| from.matches(&s.price_id, s.unit_amount)).collect())
}

/// The one old price the subscribers are on; several (one amount, prices made twice) must be
/// told apart by id. `None`: nobody is on it.
fn old_price_id(subscribers: &[Subscriber], from: &OldPrice) -> anyhow::Result<Option<String>> {
    let mut ids: Vec<&str> = subscribers.iter().map(|s| s.price_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    match ids.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).to_string())),
        several => anyhow::bail!(
            "{from} matches several prices ({}): name one, as {}@<price id>",
            several.join(", "),
            from.lookup_key
        ),
    }
}

fn why_left_alone(subscriber: &Subscriber, interval: BillingInterval) -> Option<&'static str> {
    if subscriber.cancel_pending != 0 {
        Some("set to cancel at the period end")
    } else if subscriber.schedule_id.is_some() {
        Some("a change is already scheduled")
    } else if subscriber.billing_interval.as_deref() != Some(interval.as_str()) {
        Some("billed at another interval than the new price")
    } else {
        None
    }
}

/// The migration's row (made once per old and new price), returning its id.
async fn record_migration(
    pool: &AnyPool,
    request: &MigrationRequest,
    report: &Report,
    from_price_id: &str,
    to_price_id: &str,
    now: i64,
) -> anyhow::Result<i64> {
    sqlx::query(
        "INSERT INTO price_migrations (lookup_key, from_price_id, to_price_id, from_amount, to_amount, currency, \
           billing_interval, not_before, notice_days, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (from_price_id, to_price_id) DO NOTHING",
    )
    .bind(&report.lookup_key)
    .bind(from_price_id)
    .bind(to_price_id)
    .bind(report.from_amount)
    .bind(report.to_amount)
    .bind(&report.currency)
    .bind(report.interval.as_str())
    .bind(request.not_before)
    .bind(i64::from(request.notice_days))
    .bind(now)
    .execute(pool)
    .await
    .context("recording the price migration")?;
    sqlx::query_scalar("SELECT id FROM price_migrations WHERE from_price_id = $1 AND to_price_id = $2")
        .bind(from_price_id)
        .bind(to_price_id)
        .fetch_one(pool)
        .await
        .context("reading the price migration")
}

async fn scheduled_members(pool: &AnyPool, migration: i64) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar("SELECT subscription_id FROM price_migration_members WHERE migration_id = $1")
        .bind(migration)
        .fetch_all(pool)
        .await
        .context("reading the migration's subscribers")
}

/// Two phases: the old price until `switch_at` (a renewal, so nothing is prorated), then the new
/// one for a period with the same seats; then the schedule releases the subscription, which
/// renews on the new price. Keys name the migration and the subscription: a rerun after an
/// interruption gets the same schedule back.
async fn schedule_move(
    stripe: &StripeClient,
    migration: i64,
    subscriber: &Subscriber,
    to_price_id: &str,
    interval: BillingInterval,
    switch_at: i64,
) -> anyhow::Result<String> {
    let key = format!("price-migration-{migration}-{}", subscriber.id);
    let metadata = std::collections::HashMap::from([(SCHEDULE_METADATA.to_string(), migration.to_string())]);
    let create = CreateSubscriptionSchedule::new().from_subscription(subscriber.id.as_str()).metadata(metadata);
    let schedule = stripe
        .send(&create, Some(&format!("{key}-schedule")))
        .await
        .with_context(|| format!("creating the schedule of {}", subscriber.id))?;
    let start = crate::server::billing::plan_change::first_phase_start(&schedule)?;
    let quantity = u64::try_from(subscriber.quantity).context("seat count")?;
    let item = |price: &str| {
        let mut item = UpdateSubscriptionSchedulePhasesItems::new();
        item.price = Some(price.to_string());
        item.quantity = Some(quantity);
        item
    };
    let mut old_phase = UpdateSubscriptionSchedulePhases::new(vec![item(&subscriber.price_id)]);
    old_phase.start_date = Some(UpdateSubscriptionSchedulePhasesStartDate::Timestamp(start));
    old_phase.end_date = Some(UpdateSubscriptionSchedulePhasesEndDate::Timestamp(switch_at));
    let mut new_phase = UpdateSubscriptionSchedulePhases::new(vec![item(to_price_id)]);
    new_phase.duration = Some(UpdateSubscriptionSchedulePhasesDuration::new(match interval {
        BillingInterval::Month => UpdateSubscriptionSchedulePhasesDurationInterval::Month,
        BillingInterval::Year => UpdateSubscriptionSchedulePhasesDurationInterval::Year,
    }));
    let update = UpdateSubscriptionSchedule::new(schedule.id.as_str())
        .phases(vec![old_phase, new_phase])
        .end_behavior(SubscriptionScheduleEndBehavior::Release);
    stripe
        .send(&update, Some(&format!("{key}-phases")))
        .await
        .with_context(|| format!("scheduling the move of {}", subscriber.id))?;
    Ok(schedule.id.as_str().to_string())
}

async fn store_member(
    pool: &AnyPool,
    migration: i64,
    subscriber: &Subscriber,
    schedule: &str,
    step: &Move,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO price_migration_members (migration_id, subscription_id, customer_id, schedule_id, switch_at, \
           notice_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (migration_id, subscription_id) DO NOTHING",
    )
    .bind(migration)
    .bind(&subscriber.id)
    .bind(&subscriber.customer_id)
    .bind(schedule)
    .bind(step.switch_at)
    .bind(step.notice_at)
    .execute(pool)
    .await
    .with_context(|| format!("recording the move of {}", subscriber.id))?;
    Ok(())
}

/// `tollgate catalog migrate …`: prints the report.
pub async fn command(
    config: &crate::server::config::Config,
    request: &MigrationRequest,
    dry_run: bool,
) -> anyhow::Result<Report> {
    let catalog = super::load(&config.catalog_path)?;
    let stripe = super::command::stripe_client(config)?;
    let db = crate::server::db::Db::connect(&config.database_url).await?;
    db.migrate().await?;
    let report = run(db.pool(), &stripe, &catalog, request, crate::server::db::now(), dry_run).await;
    db.close().await;
    let report = report?;
    print!("{report}");
    Ok(report)
}
