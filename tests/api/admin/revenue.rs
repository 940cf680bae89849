//! The revenue page against a hand-computed fixture of movements (see the table in the test).

use reqwest::StatusCode;
use sqlx::AnyPool;
use tollgate::server::db;

use crate::helpers::*;

const DAY: i64 = 86_400;

async fn movement(pool: &AnyPool, key: &str, customer: &str, kind: &str, before: i64, after: i64, at: i64) {
    sqlx::query(
        "INSERT INTO mrr_movements (cause_key, customer_id, subscription_id, kind, mrr_before, \
           mrr_after, delta, currency, occurred_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'usd', $8)",
    )
    .bind(key)
    .bind(customer)
    .bind(format!("sub_{customer}"))
    .bind(kind)
    .bind(before)
    .bind(after)
    .bind(after - before)
    .bind(at)
    .execute(pool)
    .await
    .unwrap();
}

async fn subscription(pool: &AnyPool, customer: &str, status: &str, mrr: i64) {
    sqlx::query(
        "INSERT INTO subscriptions (id, customer_id, status, price_id, lookup_key, quantity, \
           unit_amount, currency, billing_interval, interval_count, current_period_start, \
           current_period_end, cancel_at_period_end, created, mrr, synced_at) \
         VALUES ($1, $2, $3, 'price_1', 'pro_monthly', 1, $4, 'usd', 'month', 1, 0, 0, FALSE, 0, $4, 0)",
    )
    .bind(format!("sub_{customer}"))
    .bind(customer)
    .bind(status)
    .bind(mrr)
    .execute(pool)
    .await
    .unwrap();
}

async fn invoice(pool: &AnyPool, id: &str, customer: &str, status: &str, attempts: i64, created: i64) {
    sqlx::query(
        "INSERT INTO invoices (id, customer_id, subscription_id, status, amount_due, amount_paid, \
           amount_remaining, currency, attempt_count, period_start, period_end, created, synced_at) \
         VALUES ($1, $2, $3, $4, 2900, 0, 0, 'usd', $5, 0, 0, $6, 0)",
    )
    .bind(id)
    .bind(customer)
    .bind(format!("sub_{customer}"))
    .bind(status)
    .bind(attempts)
    .bind(created)
    .execute(pool)
    .await
    .unwrap();
}

/// (MRR, subscriptions) of a movement row.
fn movement_row(html: &str, label: &str) -> (String, String) {
    let at = html.find(&format!(r#"<th scope="row">{label}</th>"#)).unwrap_or_else(|| panic!("no {label} row"));
    let cells: Vec<String> = html[at..]
        .split("<td class=\"num\">")
        .skip(1)
        .take(2)
        .map(|c| c[..c.find("</td>").unwrap()].to_owned())
        .collect();
    (cells[0].clone(), cells[1].clone())
}

/// Customers a–e, usd, days before today (0 = today):
///
/// | day | customer | kind         | delta  |
/// | 40  | a        | new          | +2900  |
/// | 40  | b        | new          | +9900  |
/// | 35  | c        | new (yearly) | +2417  |  → 3 paying, MRR 15217 when 30 days begin
/// | 20  | a        | expansion    | +7000  |
/// | 10  | b        | churn        | -9900  |
/// |  5  | d        | new          | +2900  |
/// |  3  | c        | contraction  | -1417  |
/// |  2  | e        | new          | +2900  |
/// |  1  | e        | churn (unpaid invoice) | -2900 |
/// |  0  | b        | reactivation | +2900  |
///
/// Last 30 days: new 5800 (2), expansion 7000, contraction -1417, churn -12800 (2),
/// reactivation 2900 (1), net new 1483 → MRR 16700, ARR 200400, 4 paying, ARPU 4175,
/// churn 2 of 3 = 66.67 %, involuntary 1 of 2.
async fn fixture(pool: &AnyPool, today: i64) {
    let day = |n: i64| today - n * DAY + 3600;
    movement(pool, "m1", "a", "new", 0, 2900, day(40)).await;
    movement(pool, "m2", "b", "new", 0, 9900, day(40)).await;
    movement(pool, "m3", "c", "new", 0, 2417, day(35)).await;
    movement(pool, "m4", "a", "expansion", 2900, 9900, day(20)).await;
    movement(pool, "m5", "b", "churn", 9900, 0, day(10)).await;
    movement(pool, "m6", "d", "new", 0, 2900, day(5)).await;
    movement(pool, "m7", "c", "contraction", 2417, 1000, day(3)).await;
    movement(pool, "m8", "e", "new", 0, 2900, day(2)).await;
    movement(pool, "m9", "e", "churn", 2900, 0, day(1)).await;
    movement(pool, "m10", "b", "reactivation", 0, 2900, today).await;
    for (customer, status, mrr) in [
        ("a", "active", 9900),
        ("b", "active", 2900),
        ("c", "active", 1000),
        ("d", "active", 2900),
        ("e", "canceled", 0),
        ("f", "trialing", 0),
    ] {
        subscription(pool, customer, status, mrr).await;
    }
    // Payment success over 30 days: 2 paid of 3 attempted (the open one was never attempted,
    // the 40-day-old one is too old).
    invoice(pool, "in_1", "a", "paid", 1, day(10)).await;
    invoice(pool, "in_2", "d", "paid", 1, day(5)).await;
    invoice(pool, "in_3", "e", "uncollectible", 4, day(2)).await;
    invoice(pool, "in_4", "c", "open", 0, day(1)).await;
    invoice(pool, "in_5", "b", "paid", 1, day(40)).await;
}

#[tokio::test]
async fn revenue_figures_match_a_hand_computed_fixture() {
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    let today = db::now() - db::now().rem_euclid(DAY);
    fixture(&pool, today).await;
    app.log_in_as_admin().await;

    let html = app.page("/admin?period=30d").await;
    assert_eq!(kpi(&html, "MRR"), "$167.00");
    assert_eq!(kpi(&html, "ARR"), "$2004.00");
    assert_eq!(kpi(&html, "Paying subscriptions"), "4");
    assert_eq!(kpi(&html, "ARPU"), "$41.75");
    assert_eq!(kpi(&html, "Active subscriptions"), "4");
    assert_eq!(kpi(&html, "Trialing"), "1");
    assert_eq!(kpi(&html, "Customer churn"), "66.67%");
    assert_eq!(kpi(&html, "Net new MRR"), "$14.83");
    assert_eq!(kpi(&html, "Payment success (30 days)"), "66.67% (2 of 3)");
    assert_eq!(kpi(&html, "Involuntary churn share"), "50.00% (1 of 2)");
    assert_eq!(movement_row(&html, "New"), ("$58.00".into(), "2".into()));
    assert_eq!(movement_row(&html, "Expansion").0, "$70.00");
    assert_eq!(movement_row(&html, "Contraction").0, "-$14.17");
    assert_eq!(movement_row(&html, "Churned"), ("-$128.00".into(), "2".into()));
    assert_eq!(movement_row(&html, "Reactivation"), ("$29.00".into(), "1".into()));
    assert!(html.contains(r#"src="data:image/svg+xml;base64,"#), "charts are SVG images");

    // 7 days: started at MRR 12317 with 2 paying (a, c); the same MRR now.
    let week = app.page("/admin?period=7d").await;
    assert_eq!(kpi(&week, "MRR"), "$167.00");
    assert_eq!(kpi(&week, "Net new MRR"), "$43.83");
    assert_eq!(kpi(&week, "Customer churn"), "50.00%");

    // A late movement (dated 15 days ago, after the snapshots were written) is counted.
    movement(&pool, "m11", "g", "new", 0, 1000, today - 15 * DAY).await;
    let html = app.page("/admin?period=30d").await;
    assert_eq!(kpi(&html, "MRR"), "$177.00");
    assert_eq!(movement_row(&html, "New"), ("$68.00".into(), "3".into()));
}

#[tokio::test]
async fn movements_export_as_csv_for_the_period() {
    let app = spawn_app().await;
    let today = db::now() - db::now().rem_euclid(DAY);
    fixture(app.db.pool(), today).await;
    app.log_in_as_admin().await;
    let res = app.get("/admin/revenue/movements.csv?period=30d").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let body = res.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "occurred_at,customer_id,subscription_id,kind,mrr_before,mrr_after,delta,currency,cause_key");
    assert_eq!(lines.len(), 1 + 7, "the 7 movements of the last 30 days: {body}");
    assert!(lines[1].ends_with(",a,sub_a,expansion,2900,9900,7000,usd,m4"), "{}", lines[1]);
    assert!(!body.contains(",m1\n"), "older movements are left out");
}

/// The trigger-kept counters equal a direct count after inserts, status changes, deletes and
/// folds in between (folding must neither lose nor double a delta).
#[tokio::test]
async fn counters_equal_direct_counts_through_changes_and_folds() {
    use tollgate::server::admin::counters;
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    let today = db::now() - db::now().rem_euclid(DAY);
    let statuses = ["active", "trialing", "past_due", "canceled"];
    let invoice_statuses = ["paid", "open", "uncollectible"];
    let direct = |pool: AnyPool| async move {
        let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, COUNT(*) FROM subscriptions GROUP BY status")
            .fetch_all(&pool)
            .await
            .unwrap();
        let since = db::now() - db::now().rem_euclid(DAY) - 29 * DAY;
        let attempts: (i64, i64) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END), 0) AS BIGINT), COUNT(*) \
             FROM invoices WHERE created >= $1 AND attempt_count > 0 AND amount_due > 0",
        )
        .bind(since)
        .fetch_one(&pool)
        .await
        .unwrap();
        (rows.into_iter().collect::<std::collections::BTreeMap<_, _>>(), attempts)
    };
    let counted = |pool: AnyPool| async move {
        (
            counters::subscription_statuses(&pool).await.unwrap(),
            counters::invoice_attempts(&pool, today - 29 * DAY).await.unwrap(),
        )
    };
    for round in 0..4_i64 {
        for i in 0..30_i64 {
            let customer = format!("r{round}c{i}");
            subscription(&pool, &customer, statuses[(i % 4) as usize], 2900).await;
            // Some invoices fall outside the 30 days, some were never attempted.
            let created = today - (i % 40) * DAY + 60;
            invoice(&pool, &format!("in_{customer}"), &customer, invoice_statuses[(i % 3) as usize], i % 2, created)
                .await;
        }
        sqlx::query("UPDATE subscriptions SET status = 'canceled' WHERE status = 'past_due'")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE subscriptions SET status = status WHERE status = 'active'").execute(&pool).await.unwrap();
        sqlx::query("UPDATE invoices SET status = 'paid', attempt_count = attempt_count + 1 WHERE status = 'open'")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM subscriptions WHERE status = 'trialing' AND id LIKE $1")
            .bind(format!("sub_r{round}c1%"))
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM invoices WHERE id LIKE $1")
            .bind(format!("in_r{round}c2%"))
            .execute(&pool)
            .await
            .unwrap();
        let (statuses_direct, attempts_direct) = direct(pool.clone()).await;
        assert!(attempts_direct.1 > 0 && statuses_direct.len() >= 3, "the fixture counts something");
        assert_eq!(counted(pool.clone()).await, (statuses_direct.clone(), attempts_direct), "round {round}, unfolded");
        if round % 2 == 1 {
            counters::fold(&pool).await.unwrap();
            let left: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM admin_counter_deltas").fetch_one(&pool).await.unwrap();
            assert_eq!(left, 0, "a fold leaves no delta behind");
            assert_eq!(counted(pool.clone()).await, (statuses_direct, attempts_direct), "round {round}, folded");
        }
    }
}
