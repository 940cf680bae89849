//! `tollgate seed --subscriptions N`: realistic-looking local data for the admin (and its
//! benchmark). Writes subscriptions, their MRR movements over the past year, and one invoice
//! each, straight into the local tables (no Stripe): ids are prefixed `seed_` so they never
//! collide with real ones. Deterministic for a given N.

use anyhow::Context;
use sqlx::{AnyPool, Arguments};

use crate::server::db::begin_write;

use super::snapshots::DAY;

/// Rows per INSERT statement (bind parameters stay well under SQLite's limit).
const BATCH: usize = 200;

/// (lookup key, unit amount, months per period).
const PRICES: [(&str, i64, i64); 6] = [
    ("starter_monthly", 900, 1),
    ("pro_monthly", 2900, 1),
    ("business_monthly", 9900, 1),
    ("starter_yearly", 9000, 12),
    ("pro_yearly", 29000, 12),
    ("business_yearly", 99000, 12),
];

/// A small deterministic generator (xorshift64*): the same N gives the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> i64 {
        (self.next() % n.max(1)) as i64
    }
}

fn mrr_of(amount: i64, months: i64) -> i64 {
    crate::domain::revenue::monthly_recurring(
        amount,
        1,
        crate::domain::catalog::BillingInterval::Month,
        months,
        Default::default(),
    )
}

#[derive(Default)]
struct Rows {
    subscriptions: Vec<Vec<Value>>,
    movements: Vec<Vec<Value>>,
    invoices: Vec<Vec<Value>>,
}

#[derive(Clone)]
enum Value {
    Int(i64),
    Text(String),
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub subscriptions: usize,
    pub movements: usize,
    pub invoices: usize,
}

/// Adds `n` subscriptions with a year of history ending at `now`.
pub async fn seed(pool: &AnyPool, n: usize, now: i64) -> anyhow::Result<SeedReport> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let start = now - 365 * DAY;
    let mut report = SeedReport::default();
    let mut rows = Rows::default();
    for i in 0..n {
        plan_one(&mut rng, i, start, now, &mut rows);
        if rows.subscriptions.len() >= 5_000 || i + 1 == n {
            report.subscriptions += rows.subscriptions.len();
            report.movements += rows.movements.len();
            report.invoices += rows.invoices.len();
            write(pool, std::mem::take(&mut rows)).await?;
        }
    }
    Ok(report)
}

/// One subscription's life: created some time in the year, maybe trialing, maybe changed plan,
/// maybe churned (some of them involuntarily, with an unpaid invoice).
fn plan_one(rng: &mut Rng, i: usize, start: i64, now: i64, rows: &mut Rows) {
    let (sub, cus) = (format!("sub_seed_{i}"), format!("cus_seed_{i}"));
    let created = start + rng.below(365 * DAY as u64);
    let (mut key, mut amount, mut months) = PRICES[rng.below(PRICES.len() as u64) as usize];
    let roll = rng.below(100);
    let mut status = "active";
    let mut mrr = mrr_of(amount, months);
    let mut at = created;
    let movement = |rows: &mut Rows, n: usize, kind: &str, before: i64, after: i64, at: i64| {
        rows.movements.push(vec![
            Value::Text(format!("seed_{i}_{n}")),
            Value::Text(cus.clone()),
            Value::Text(sub.clone()),
            Value::Text(kind.to_owned()),
            Value::Int(before),
            Value::Int(after),
            Value::Int(after - before),
            Value::Text("usd".to_owned()),
            Value::Int(at),
        ]);
    };
    if roll < 5 && now - created < 14 * DAY {
        status = "trialing";
        mrr = 0;
    } else {
        movement(rows, 0, "new", 0, mrr, at);
        if roll < 25 {
            // A plan change later on.
            let (k, a, m) = PRICES[rng.below(PRICES.len() as u64) as usize];
            let after = mrr_of(a, m);
            at += rng.below((now - at).max(1) as u64);
            if after != mrr {
                movement(rows, 1, if after > mrr { "expansion" } else { "contraction" }, mrr, after, at);
                (key, amount, months, mrr) = (k, a, m, after);
            }
        }
        if roll % 7 == 0 {
            at += rng.below((now - at).max(1) as u64);
            movement(rows, 2, "churn", mrr, 0, at);
            mrr = 0;
            status = if roll % 2 == 0 { "canceled" } else { "unpaid" };
        } else if roll % 31 == 0 {
            status = "past_due";
        }
    }
    let interval = if months == 12 { "year" } else { "month" };
    rows.subscriptions.push(vec![
        Value::Text(sub.clone()),
        Value::Text(cus.clone()),
        Value::Text(status.to_owned()),
        Value::Text(format!("price_seed_{key}")),
        Value::Text(key.to_owned()),
        Value::Int(amount),
        Value::Text(interval.to_owned()),
        Value::Int(at),
        Value::Int(at + months * 30 * DAY),
        Value::Int(created),
        Value::Int(mrr),
        Value::Int(now),
    ]);
    let paid = !matches!(status, "unpaid" | "past_due");
    rows.invoices.push(vec![
        Value::Text(format!("in_seed_{i}")),
        Value::Text(cus),
        Value::Text(sub),
        Value::Text(if paid { "paid" } else { "open" }.to_owned()),
        Value::Int(amount),
        Value::Int(if paid { amount } else { 0 }),
        Value::Int(if paid { 1 } else { 3 }),
        Value::Int(now - rng.below(30 * DAY as u64)),
    ]);
}

/// Seeds `n` subscriptions ending now and writes the daily snapshots, so the first page view
/// does not pay for them. Refuses a database that holds live-mode data: made-up subscriptions
/// would mix with real revenue.
pub async fn run(db: &crate::server::db::Db, n: usize) -> anyhow::Result<SeedReport> {
    let live_events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE livemode = TRUE")
        .fetch_one(db.pool())
        .await
        .context("looking for live-mode data")?;
    if live_events > 0 {
        anyhow::bail!("this database holds live-mode data ({live_events} live events): seed only a test database");
    }
    let now = crate::server::db::now();
    let report = seed(db.pool(), n, now).await?;
    super::snapshots::refresh(db.pool(), now).await?;
    super::counters::fold(db.pool()).await?;
    Ok(report)
}

async fn write(pool: &AnyPool, rows: Rows) -> anyhow::Result<()> {
    let mut tx = begin_write(pool).await.context("starting a seed batch")?;
    insert(
        &mut tx,
        "INSERT INTO subscriptions (id, customer_id, status, price_id, lookup_key, unit_amount, \
           billing_interval, current_period_start, current_period_end, created, mrr, synced_at, \
           quantity, currency, interval_count, cancel_at_period_end) VALUES ",
        ", 1, 'usd', 1, FALSE)",
        &rows.subscriptions,
    )
    .await?;
    insert(
        &mut tx,
        "INSERT INTO mrr_movements (cause_key, customer_id, subscription_id, kind, mrr_before, \
           mrr_after, delta, currency, occurred_at) VALUES ",
        ")",
        &rows.movements,
    )
    .await?;
    insert(
        &mut tx,
        "INSERT INTO invoices (id, customer_id, subscription_id, status, amount_due, amount_paid, \
           attempt_count, created, amount_remaining, currency, period_start, period_end, synced_at) VALUES ",
        ", 0, 'usd', 0, 0, 0)",
        &rows.invoices,
    )
    .await?;
    tx.commit().await.context("committing a seed batch")?;
    Ok(())
}

/// Multi-row INSERTs of `rows`; each row's tuple is its values then `tail` (constants).
async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    head: &str,
    tail: &str,
    rows: &[Vec<Value>],
) -> anyhow::Result<()> {
    for chunk in rows.chunks(BATCH) {
        let mut sql = String::from(head);
        let mut args = sqlx::any::AnyArguments::default();
        let mut n = 0;
        for (r, row) in chunk.iter().enumerate() {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for (c, value) in row.iter().enumerate() {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${n}"));
                match value {
                    Value::Int(v) => args.add(*v).map_err(anyhow::Error::msg)?,
                    Value::Text(v) => args.add(v.clone()).map_err(anyhow::Error::msg)?,
                }
            }
            sql.push_str(tail);
        }
        sqlx::query_with(&sql, args).execute(&mut **tx).await.context("inserting seed rows")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::{admin::revenue, db::test_db};
    use crate::views::admin::revenue::Period;

    #[tokio::test]
    async fn seeded_movements_add_up_to_the_seeded_mrr() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool().clone();
        let now = 1_800_000_000;
        let report = seed(&pool, 500, now).await.unwrap();
        assert_eq!(report.subscriptions, 500);
        assert!(report.movements > 450);
        let mrr: i64 =
            sqlx::query_scalar("SELECT CAST(SUM(mrr) AS BIGINT) FROM subscriptions").fetch_one(&pool).await.unwrap();
        let page = revenue::report(&pool, Period::Months12, now).await.unwrap();
        assert_eq!(page.currencies[0].mrr.minor(), mrr, "snapshots + today's movements = the table");
        assert!(page.active > 0 && page.currencies[0].churn_count > 0);
    }

    #[tokio::test]
    async fn a_database_with_live_mode_data_is_not_seeded() {
        use crate::server::webhooks::inbox::{record, Source};
        let (_dir, db) = test_db(true).await;
        let live = br#"{"id":"evt_live","object":"event","type":"customer.created","created":1,"livemode":true,
            "data":{"object":{"id":"cus_1","object":"customer"}}}"#;
        record(db.pool(), live, Source::Webhook, 1).await.unwrap();
        let refused = run(&db, 10).await.expect_err("live data: refused");
        assert!(refused.to_string().contains("live-mode data"), "{refused}");
        let seeded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscriptions").fetch_one(db.pool()).await.unwrap();
        assert_eq!(seeded, 0);
    }
}
