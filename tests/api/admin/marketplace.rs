//! The admin's marketplace: `/admin/marketplace` (creators with their sales, fees and the rate in
//! force; the creator's own rate, set and cleared through an audited form; fee revenue by month;
//! failed payouts), `/admin/orders` with its filters and CSV, the revenue page's marketplace
//! figures, and that only admins get any of it.

use reqwest::{header, StatusCode};
use serde_json::Value;
use sqlx::AnyPool;

use crate::helpers::*;
use crate::marketplace::orders::{buyer_pays, product_on_sale};
use crate::marketplace::path_of;
use tollgate::views::format::{month, utc};

/// The page's data as the server function returns it: amounts in exact minor units.
async fn overview_json(app: &TestApp, client: &reqwest::Client) -> Value {
    let res = client
        .post(app.url("/api/admin_marketplace"))
        .header(header::ACCEPT, "application/json")
        .form(&[("page", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn minor(money: &Value) -> (i64, &str) {
    (money["minor"].as_i64().unwrap(), money["currency"].as_str().unwrap())
}

/// Posts the fee form as a browser without JavaScript does; returns where it redirects.
async fn post_fee(app: &TestApp, client: &reqwest::Client, creator: i64, percent: &str, token: &str) -> String {
    let res = client
        .post(app.url("/api/admin_creator_fee"))
        .header(header::ACCEPT, BROWSER_ACCEPT)
        .form(&[("creator", creator.to_string().as_str()), ("percent", percent), ("token", token)])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "the form redirects: {}", res.status());
    location(&res).unwrap()
}

async fn count(pool: &AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn only_creator(pool: &AnyPool) -> i64 {
    sqlx::query_scalar("SELECT user_id FROM creators").fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn the_creators_table_fee_revenue_and_revenue_page_show_a_sale_in_exact_figures() {
    let app = spawn_app_with(&[]).await;
    let account = product_on_sale(&app, "25.00").await;
    let (buyer, back) = buyer_pays(&app).await;
    buyer.get(app.url(&path_of(&back))).send().await.unwrap();
    app.settle().await;
    let pool = app.db.pool();
    let paid_at: i64 = sqlx::query_scalar("SELECT paid_at FROM orders WHERE status = 'paid'")
        .fetch_one(pool)
        .await
        .expect("the order is paid");
    let admin = new_client();
    assert_redirect(&app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");

    let data = overview_json(&app, &admin).await;
    let creator = &data["creators"][0];
    assert_eq!(creator["account_id"], account.as_str());
    assert_eq!(creator["state"], "enabled");
    assert_eq!((creator["published"].as_i64(), creator["sales"].as_i64()), (Some(1), Some(1)));
    assert_eq!(minor(&creator["gross"][0]), (2500, "usd"));
    assert_eq!(minor(&creator["fees"][0]), (250, "usd"), "10% of $25.00");
    assert_eq!((creator["rate"].as_u64(), creator["rate_source"].as_str()), (Some(1000), Some("default")));
    assert_eq!(creator["own_rate"], Value::Null);
    let in_month = &data["fee_revenue"][0];
    assert_eq!(data["fee_revenue"].as_array().unwrap().len(), 1, "{data}");
    assert_eq!(in_month["orders"], 1);
    let month_start = in_month["month_start"].as_i64().unwrap();
    assert_eq!(utc(month_start), format!("{}-01 00:00 UTC", &utc(paid_at)[..7]), "the month the order was paid in");
    assert_eq!(
        (minor(&in_month["gross"]), minor(&in_month["fees"]), minor(&in_month["net_fees"])),
        ((2500, "usd"), (250, "usd"), (250, "usd"))
    );

    let html = app.page_with(&admin, "/admin/marketplace").await;
    assert!(html.contains(r#"<a href="/admin/marketplace" aria-current="page">Marketplace</a>"#), "in the admin nav");
    assert_eq!(text_of_class(&html, "num gross").as_deref(), Some("$25.00"));
    assert_eq!(text_of_class(&html, "num fees").as_deref(), Some("$2.50"));
    assert_eq!(text_of_class(&html, "fee-rate").as_deref(), Some("10% (default)"));
    assert_eq!(text_of_class(&html, "num net-fees").as_deref(), Some("$2.50"));
    assert!(html.contains(&format!("<td>{}</td>", month(paid_at))), "the month in words");

    // A partial refund gives back part of the fee. (The refund columns are kept by the refund
    // work done beside this; set here as it would leave them.)
    sqlx::query(
        "UPDATE orders SET status = 'partially_refunded', refunded = 1000, fee_refunded = 100, transfer_reversed = 900",
    )
    .execute(pool)
    .await
    .unwrap();
    let data = overview_json(&app, &admin).await;
    assert_eq!(minor(&data["creators"][0]["fees"][0]), (150, "usd"), "fees kept: 250 less 100 refunded");
    assert_eq!(data["creators"][0]["sales"], 1, "a refunded sale is still a sale");
    let in_month = &data["fee_revenue"][0];
    assert_eq!((minor(&in_month["fees_refunded"]), minor(&in_month["net_fees"])), ((100, "usd"), (150, "usd")));

    let revenue = app.page_with(&admin, "/admin").await;
    assert_eq!(kpi(&revenue, "Platform fees this month"), "$1.50");
    assert_eq!(kpi(&revenue, "Platform fees, last 30 days"), "$1.50");
    assert!(revenue.contains(r#"<a href="/admin/marketplace">"#), "a link to the marketplace page");

    // A failed payout (the payouts table is kept from Stripe's events by the payout work done
    // beside this; one row as it would store it).
    sqlx::query(
        "INSERT INTO payouts (id, account_id, amount, currency, status, failure_code, failure_message, created, \
           updated_at) VALUES ('po_failed1', $1, 2250, 'usd', 'failed', 'account_closed', \
           'The bank account has been closed.', $2, $2)",
    )
    .bind(&account)
    .bind(paid_at)
    .execute(pool)
    .await
    .unwrap();
    let html = app.page_with(&admin, "/admin/marketplace").await;
    let payout = &html[html.find(r#"data-payout="po_failed1""#).expect("the failed payout is listed")..];
    assert!(payout.contains("$22.50") && payout.contains("The bank account has been closed. (account_closed)"));
    assert!(payout.contains(&account));
}

/// An audit row: actor id, actor email, IP, subject, before, after.
type AuditRow = (Option<i64>, String, Option<String>, String, String, String);

#[tokio::test]
async fn an_own_rate_sets_the_next_sales_fee_and_a_double_submit_is_one_audited_change() {
    let app = spawn_app_with(&[]).await;
    let account = product_on_sale(&app, "25.00").await;
    let creator = only_creator(app.db.pool()).await;
    let admin = new_client();
    assert_redirect(&app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");
    let token = hidden(&app.page_with(&admin, "/admin/marketplace").await, "token");

    // A double click: two posts of one form.
    for _ in 0..2 {
        assert_eq!(post_fee(&app, &admin, creator, "7.5", &token).await, "/admin/marketplace");
    }
    let html = app.page_with(&admin, "/admin/marketplace").await;
    assert_eq!(notices(&html), ["This fee change was already made."], "the second post changed nothing");
    assert_eq!(text_of_class(&html, "fee-rate").as_deref(), Some("7.5% (set for this creator)"));
    let pool = app.db.pool();
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT actor_user_id, actor_email, ip, subject_id, before_state, after_state FROM audit_log \
         WHERE action = 'marketplace.fee_changed'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "one change, one audit row: {rows:?}");
    let (actor, email, ip, subject, before, after) = &rows[0];
    assert!(actor.is_some() && email == ADMIN_EMAIL && ip.is_some(), "{rows:?}");
    assert_eq!(subject, &creator.to_string());
    let (before, after): (Value, Value) = (serde_json::from_str(before).unwrap(), serde_json::from_str(after).unwrap());
    assert_eq!(before["fee_bps"], Value::Null);
    assert_eq!((after["fee_bps"].as_i64(), after["fee"].as_str()), (Some(750), Some("7.5%")));

    // The next sale pays 7.5% of $25.00 = 187.5 cents, rounded half up.
    let (buyer, back) = buyer_pays(&app).await;
    buyer.get(app.url(&path_of(&back))).send().await.unwrap();
    let (fee, fee_bps, source, payment_intent): (i64, i64, String, String) =
        sqlx::query_as("SELECT fee, fee_bps, fee_source, payment_intent_id FROM orders WHERE status = 'paid'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((fee, fee_bps, source.as_str()), (188, 750, "creator"));
    let intent = app.stripe_get_json(&format!("/v1/payment_intents/{payment_intent}")).await;
    assert_eq!(intent["application_fee_amount"], 188);
    assert_eq!(intent["transfer_data"]["destination"], account.as_str());

    // Cleared: the default again, audited as a second change.
    let token = hidden(&app.page_with(&admin, "/admin/marketplace").await, "token");
    post_fee(&app, &admin, creator, "", &token).await;
    let html = app.page_with(&admin, "/admin/marketplace").await;
    assert_eq!(text_of_class(&html, "fee-rate").as_deref(), Some("10% (default)"), "{:?}", notices(&html));
    assert_eq!(count(pool, "SELECT COUNT(*) FROM creators WHERE fee_bps IS NULL").await, 1);
    assert_eq!(count(pool, "SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.fee_changed'").await, 2);
}

/// A creator (and their user) written directly: enough for the admin's pages.
async fn seed_creator(pool: &AnyPool, email: &str, account: &str) -> i64 {
    let id = insert_user(pool, email).await;
    sqlx::query(
        "INSERT INTO creators (user_id, account_id, state, created_at, updated_at) VALUES ($1, $2, 'enabled', $3, $3)",
    )
    .bind(id)
    .bind(account)
    .bind(1_700_000_000 + id)
    .execute(pool)
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn bad_percentages_are_refused_with_a_clear_message_and_change_nothing() {
    let app = spawn_app().await;
    let pool = app.db.pool();
    let creator = seed_creator(pool, "percent.creator@example.com", "acct_percent").await;
    app.log_in_as_admin().await;
    for (percent, why) in [
        ("ten", r#""ten" is not a percentage like 10 or 7.5"#),
        ("-1", r#""-1" is below 0%"#),
        ("101", r#""101" is more than 100%"#),
        ("7.125", r#""7.125" has more than two decimals"#),
        ("1,5", r#""1,5" is not a percentage like 10 or 7.5"#),
    ] {
        let token = hidden(&app.page("/admin/marketplace").await, "token");
        assert_eq!(post_fee(&app, &app.client, creator, percent, &token).await, "/admin/marketplace");
        let html = app.page("/admin/marketplace").await;
        let message = format!("The fee was not changed: {why}. Enter a percentage from 0 to 100, like 7.5.");
        assert_eq!(alerts(&html), [message], "{percent:?}");
    }
    assert_eq!(count(pool, "SELECT COUNT(*) FROM creators WHERE fee_bps IS NULL").await, 1);
    assert_eq!(count(pool, "SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.fee_changed'").await, 0);
}

/// A published product of `creator`, written directly; returns its id.
async fn seed_product(pool: &AnyPool, creator: i64, slug: &str, title: &str, price: i64) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO products (creator_id, slug, title, price, currency, content, published, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'usd', 'content', TRUE, 0, 0) RETURNING id",
    )
    .bind(creator)
    .bind(slug)
    .bind(title)
    .bind(price)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// An order as buying (and refunds, kept by the refund work done beside this) leave it.
struct SeedOrder {
    product: i64,
    buyer: i64,
    creator: i64,
    account: &'static str,
    amount: i64,
    status: &'static str,
    refunded: i64,
    fee_refunded: i64,
    created: i64,
}

/// Writes the order, paid when it is not pending, with a 10% fee; returns its id.
async fn seed_order(pool: &AnyPool, o: SeedOrder) -> i64 {
    let paid_at = (o.status != "pending").then_some(o.created);
    sqlx::query_scalar(
        "INSERT INTO orders (product_id, buyer_id, creator_id, account_id, charge_type, checkout_session_id, \
           payment_intent_id, amount, fee, fee_bps, fee_source, currency, status, refunded, fee_refunded, \
           created_at, paid_at, updated_at) \
         VALUES ($1, $2, $3, $4, 'destination', $5, $6, $7, $8, 1000, 'default', 'usd', $9, $10, $11, $12, $13, $12) \
         RETURNING id",
    )
    .bind(o.product)
    .bind(o.buyer)
    .bind(o.creator)
    .bind(o.account)
    .bind(format!("cs_seed_{}", o.created))
    .bind(paid_at.map(|t| format!("pi_seed_{t}")))
    .bind(o.amount)
    .bind(o.amount / 10)
    .bind(o.status)
    .bind(o.refunded)
    .bind(o.fee_refunded)
    .bind(o.created)
    .bind(paid_at)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The orders a list page shows, in its order (their `data-order` ids).
fn listed(html: &str) -> Vec<i64> {
    html.split(r#"data-order=""#).skip(1).map(|rest| rest[..rest.find('"').unwrap()].parse().unwrap()).collect()
}

#[tokio::test]
async fn orders_filter_by_status_creator_and_buyer_page_and_export_the_same_selection() {
    let app = spawn_app().await;
    let pool = app.db.pool();
    let ann = seed_creator(pool, "ann.creator@example.com", "acct_ann").await;
    let bob = seed_creator(pool, "bob.creator@example.com", "acct_bob").await;
    let carol = insert_user(pool, "carol.buyer@example.com").await;
    let dave = insert_user(pool, "dave.buyer@example.com").await;
    let guide_a = seed_product(pool, ann, "guide-a", "Guide A", 2500).await;
    let guide_b = seed_product(pool, bob, "guide-b", r#"Guide "B", revised"#, 1000).await;
    let order = |product, buyer, creator, account, amount, status, refunded, fee_refunded, created| SeedOrder {
        product,
        buyer,
        creator,
        account,
        amount,
        status,
        refunded,
        fee_refunded,
        created,
    };
    let paid = seed_order(pool, order(guide_a, carol, ann, "acct_ann", 2500, "paid", 0, 0, 1_790_000_000)).await;
    let refunded =
        seed_order(pool, order(guide_a, dave, ann, "acct_ann", 2500, "refunded", 2500, 250, 1_790_000_100)).await;
    let pending = seed_order(pool, order(guide_b, carol, bob, "acct_bob", 1000, "pending", 0, 0, 1_790_000_200)).await;
    let partial =
        seed_order(pool, order(guide_b, dave, bob, "acct_bob", 1000, "partially_refunded", 500, 50, 1_790_000_300))
            .await;
    app.log_in_as_admin().await;

    let all = app.page("/admin/orders").await;
    assert_eq!(listed(&all), [partial, pending, refunded, paid], "newest first");
    assert!(all.contains(&format!(r#"href="/admin/orders/{paid}""#)), "each order links to its page");
    let row = &all[all.find(&format!(r#"data-order="{partial}""#)).unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    for cell in [
        "2026-09-21 14:18 UTC",
        r#"Guide "B", revised"#,
        "dave.buyer@example.com",
        "bob.creator@example.com",
        ">$10.00<",
        ">$1.00<",
        ">$5.00<",
        "Partially refunded",
        "destination",
    ] {
        assert!(strip_comments(row).contains(cell), "{cell} in {row}");
    }
    assert_eq!(listed(&app.page("/admin/orders?status=refunded").await), [refunded]);
    assert_eq!(listed(&app.page(&format!("/admin/orders?creator={bob}")).await), [partial, pending]);
    assert_eq!(listed(&app.page("/admin/orders?email=CAROL.buyer").await), [pending, paid], "case-insensitive");
    assert_eq!(listed(&app.page(&format!("/admin/orders?creator={ann}&email=dave")).await), [refunded]);
    assert_eq!(listed(&app.page("/admin/orders?email=%25").await), Vec::<i64>::new(), "% is searched literally");
    let filtered = app.page(&format!("/admin/orders?status=&creator={bob}&email=")).await;
    assert!(filtered.contains(&format!(r#"href="/admin/orders.csv?creator={bob}""#)), "the export keeps the filters");

    // The export: the same selection, every column, money in minor units beside the currency.
    let res = app.get(&format!("/admin/orders.csv?creator={bob}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(res.headers()[header::CONTENT_DISPOSITION].to_str().unwrap().contains("marketplace-orders.csv"));
    let csv = res.text().await.unwrap();
    let expected = format!(
        "order_id,created_at,paid_at,product,buyer_email,creator_email,account_id,charge_type,status,currency,\
         amount,fee,refunded,fee_refunded,transfer_reversed,payment_intent_id\n\
         {partial},1790000300,1790000300,\"Guide \"\"B\"\", revised\",dave.buyer@example.com,bob.creator@example.com,\
         acct_bob,destination,partially_refunded,usd,1000,100,500,50,0,pi_seed_1790000300\n\
         {pending},1790000200,,\"Guide \"\"B\"\", revised\",carol.buyer@example.com,bob.creator@example.com,\
         acct_bob,destination,pending,usd,1000,100,0,0,0,\n"
    );
    assert_eq!(csv, expected);
    let refunds = app.get("/admin/orders.csv?status=refunded").await.text().await.unwrap();
    assert_eq!(refunds.lines().count(), 2, "the header and the refunded order: {refunds}");
    assert!(refunds.lines().nth(1).unwrap().starts_with(&format!("{refunded},")), "{refunds}");

    // Sorted by a column (ties by id), the filters kept, and the export in the same order.
    let by_amount = app.page("/admin/orders?sort=amount&dir=asc").await;
    assert_eq!(listed(&by_amount), [pending, partial, paid, refunded]);
    assert!(by_amount.contains(r#"href="/admin/orders.csv?sort=amount&amp;dir=asc""#), "{by_amount}");
    assert_eq!(
        listed(&app.page(&format!("/admin/orders?creator={bob}&sort=amount&dir=desc")).await),
        [partial, pending]
    );
    let sorted_csv =
        app.get(&format!("/admin/orders.csv?creator={bob}&sort=amount&dir=asc")).await.text().await.unwrap();
    let ids: Vec<&str> = sorted_csv.lines().skip(1).map(|l| &l[..l.find(',').unwrap()]).collect();
    assert_eq!(ids, [pending.to_string(), partial.to_string()]);
    assert_eq!(listed(&app.page("/admin/orders?sort=o.id;--").await), [partial, pending, refunded, paid], "default");

    // Pages of 50, newest first: 47 older orders make 51.
    for n in 0..47 {
        seed_order(pool, order(guide_a, carol, ann, "acct_ann", 2500, "paid", 0, 0, 1_780_000_000 + n)).await;
    }
    let first = app.page("/admin/orders").await;
    assert_eq!(listed(&first).len(), 50);
    assert!(first.contains(r#"href="/admin/orders?page=1""#), "a next page");
    assert_eq!(listed(&app.page("/admin/orders?page=1").await).len(), 1, "the oldest");
    let everything = app.get("/admin/orders.csv").await.text().await.unwrap();
    assert_eq!(everything.lines().count(), 52, "the export is not paged");
}

#[tokio::test]
async fn only_admins_see_the_marketplace_pages_and_set_fees() {
    let app = spawn_app().await;
    let pool = app.db.pool();
    let creator = seed_creator(pool, "guarded.creator@example.com", "acct_guarded").await;
    let anonymous = new_client();
    let customer = new_client();
    app.customer_with(&customer, &unique_email("nosy")).await;
    for path in ["/admin/marketplace", "/admin/orders", "/admin/orders?status=paid", "/admin/orders.csv"] {
        assert_redirect(&app.get_with(&anonymous, path).await, "/login");
        let res = app.get_with(&customer, path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "customer on {path}");
        assert!(!html_of(res).await.contains("acct_guarded"), "nothing of the marketplace on {path}");
    }
    let token = "0123456789abcdef0123";
    let calls: [(&str, Vec<(&str, String)>); 3] = [
        ("admin_marketplace", vec![]),
        ("admin_orders", vec![("status", "paid".into())]),
        ("admin_creator_fee", vec![("creator", creator.to_string()), ("percent", "1".into()), ("token", token.into())]),
    ];
    for (endpoint, form) in calls {
        for (client, refusal) in [(&anonymous, "Unauthorized"), (&customer, "Forbidden")] {
            let res = client
                .post(app.url(&format!("/api/{endpoint}")))
                .header(header::ACCEPT, "application/json")
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            assert!(!status.is_success() && body.contains(refusal), "{endpoint}: {status} {body}");
        }
    }
    assert_eq!(count(pool, "SELECT COUNT(*) FROM creators WHERE fee_bps IS NULL").await, 1, "nothing changed");
    assert_eq!(count(pool, "SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.fee_changed'").await, 0);
}
