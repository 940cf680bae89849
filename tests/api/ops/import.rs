//! `tollgate import` against an account that already lives in Stripe: a standalone sandbox
//! filled through Stripe's API (never the app) with 1,000 customers in mixed states, the import
//! run as an operator runs it, SIGKILLed once it has stored pages and run again; afterwards every
//! subscription, invoice, payment, refund and dispute equals Stripe's, customers are linked by
//! `metadata.user_id` or a verified email (else listed unlinked), MRR equals the paying
//! subscriptions', nothing was emailed, and a second run changes nothing. A dry run writes nothing;
//! a later import takes what changed in Stripe.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use tollgate::server::{config::DatabaseUrl, db::Db};

use crate::helpers::*;

const CUSTOMERS: usize = 1000;

/// What the import must find, as the script made it.
#[derive(Default)]
struct Script {
    /// customer id → the user it must be linked to (None: unlinked).
    links: HashMap<String, Option<i64>>,
}

/// A sandbox of its own standing in for the account, with the catalog's prices.
async fn account() -> (stripe_sandbox::RunningSandbox, Api, HashMap<String, String>) {
    let sandbox = stripe_sandbox::start("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = Api { http: reqwest::Client::new(), base: sandbox.base_url() };
    let stripe = tollgate::server::stripe::client::StripeClient::new(&KEY.to_string().into(), Some(&api.base)).unwrap();
    let prices = prices(&stripe).await;
    (sandbox, api, prices)
}

async fn migrated(database: &TestDatabase) -> Db {
    let db = Db::connect(&DatabaseUrl::parse(&database.url).unwrap()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// The environment of `tollgate import`: the sandbox as Stripe, at `per_second` requests.
fn import_vars<'a>(database: &'a TestDatabase, api: &'a Api, per_second: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("DATABASE_URL", database.url.as_str()),
        ("STRIPE_SECRET_KEY", KEY),
        ("STRIPE_API_BASE", api.base.as_str()),
        ("STRIPE_MAX_REQUESTS_PER_SEC", per_second),
    ]
}

/// Runs `tollgate ARGS` to its end off the runtime (the sandbox answering it runs on it).
async fn run_import(database: &TestDatabase, api: &Api, args: &[&str]) -> String {
    let vars: Vec<(String, String)> =
        import_vars(database, api, "1000").into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        tollgate(dir.path(), &args, &vars)
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "tollgate import failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The summary line of `list` in an import's output: (read, created, updated, unchanged).
fn summary(stdout: &str, list: &str) -> (usize, usize, usize, usize) {
    let line = stdout
        .lines()
        .skip_while(|l| !l.starts_with("import finished") && !l.starts_with("import (dry run"))
        .find(|l| l.trim_start().starts_with(&format!("{list} ")))
        .unwrap_or_else(|| panic!("no summary of {list} in:\n{stdout}"));
    let numbers: Vec<usize> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    match numbers[..] {
        [read, created, updated, unchanged] => (read, created, updated, unchanged),
        _ => panic!("unreadable summary: {line}"),
    }
}

/// Customer `i`'s life, through Stripe's API: its link to a user, its card and subscription,
/// and what happens to it (see the match).
async fn customer(
    api: &Api,
    prices: &HashMap<String, String>,
    i: usize,
    user: Option<(i64, String)>,
) -> (String, Option<i64>) {
    let (email, metadata, linked) = match (i % 3, &user) {
        (0, Some((id, _))) => (format!("stripe{i}@example.com"), Some(id.to_string()), Some(*id)),
        (1, Some((id, email))) => (email.clone(), None, Some(*id)),
        // i % 3 == 2: nobody's, or (i == 2) an unverified user's address: not linked either.
        _ => (format!("nobody{i}@example.com"), None, None),
    };
    let card = if i % 10 == 8 { "pm_card_createDispute" } else { "pm_card_visa" };
    let mut form = vec![
        ("email", email),
        ("payment_method", card.to_string()),
        ("invoice_settings[default_payment_method]", card.to_string()),
    ];
    if let Some(user_id) = metadata {
        form.push(("metadata[user_id]", user_id));
    }
    let customer = api.post("/v1/customers", &form).await["id"].as_str().unwrap().to_string();
    // Yearly plans but for the customers whose renewal the script needs, so that a month renews
    // a few hundred subscriptions, not all (the sandbox's clock pays for each one).
    let tier = ["starter", "pro", "business"][(i / 10) % 3];
    let interval = if matches!(i % 10, 3 | 5) { "monthly" } else { "yearly" };
    let plan = format!("{tier}_{interval}");
    let mut form = vec![("customer", customer.clone()), ("items[0][price]", prices[&plan].clone())];
    if i % 10 == 4 {
        form.push(("trial_period_days", "60".into()));
    }
    let sub = api.post("/v1/subscriptions", &form).await["id"].as_str().unwrap().to_string();
    match i % 10 {
        // Ends at the period's end: canceled once the clock passes it.
        3 => {
            api.post(&format!("/v1/subscriptions/{sub}"), &[("cancel_at_period_end", "true".into())]).await;
        }
        // The card dies: the renewal fails and the subscription goes past due.
        5 => {
            let failing = "pm_card_chargeCustomerFail".to_string();
            api.post(&format!("/v1/payment_methods/{failing}/attach"), &[("customer", customer.clone())]).await;
            api.post(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", failing)])
                .await;
        }
        6 => {
            api.call(reqwest::Method::DELETE, &format!("/v1/subscriptions/{sub}"), &[]).await;
        }
        // The first payment refunded in full.
        7 => {
            let charges = api.get(&format!("/v1/charges?customer={customer}&limit=1")).await;
            api.post("/v1/refunds", &[("charge", charges["data"][0]["id"].as_str().unwrap().into())]).await;
        }
        _ => {}
    }
    (customer, linked)
}

/// 1,000 customers through the API, 32 at a time; a third with `metadata.user_id` of a user,
/// a third with a verified user's email, a third nobody's; then a month passes (monthly
/// renewals, failed renewals, period-end cancellations).
async fn fill(api: &Api, prices: &HashMap<String, String>, db: &Db) -> Script {
    let mut users: HashMap<usize, (i64, String)> = HashMap::new();
    for i in 0..CUSTOMERS {
        let email = match i % 3 {
            0 => format!("meta{i}@example.com"),
            1 => format!("email{i}@example.com"),
            _ if i == 2 => "nobody2@example.com".to_string(),
            _ => continue,
        };
        let id = insert_user(db.pool(), &email).await;
        if i % 3 != 2 {
            users.insert(i, (id, email));
        }
    }
    // Every address but nobody2's is verified.
    sqlx::query("UPDATE users SET email_verified_at = 1 WHERE email <> 'nobody2@example.com'")
        .execute(db.pool())
        .await
        .unwrap();
    let lives = futures::stream::iter(0..CUSTOMERS)
        .map(|i| customer(api, prices, i, users.get(&i).cloned()))
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    move_sandbox_clock_by(&api.base, 32 * 86_400).await;
    Script { links: lives.into_iter().collect() }
}

/// id → the fields compared, of every object of a Stripe list.
async fn stripe_rows(api: &Api, path: &str, fields: &[&str]) -> BTreeMap<String, String> {
    rows_of(&api.all(path).await, fields)
}

/// id → the fields compared, of each object.
fn rows_of(objects: &[Value], fields: &[&str]) -> BTreeMap<String, String> {
    objects
        .iter()
        .map(|o| {
            let values: Vec<String> = fields.iter().map(|f| field(o, f)).collect();
            (o["id"].as_str().unwrap().to_string(), values.join(" "))
        })
        .collect()
}

fn field(o: &Value, name: &str) -> String {
    match &o[name] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// id → the same fields of a local table (`columns` cast to text in the query).
async fn local_rows(db: &Db, table: &str, columns: &str) -> BTreeMap<String, String> {
    let rows: Vec<(String, String)> = sqlx::query_as(&format!("SELECT id, {columns} FROM {table}"))
        .fetch_all(db.pool())
        .await
        .unwrap_or_else(|e| panic!("{table}: {e}"));
    rows.into_iter().collect()
}

async fn assert_local_equals_stripe(api: &Api, db: &Db, script: &Script) {
    // The columns as one text, space-separated (`||` concatenates on both backends).
    let text =
        |cols: &[&str]| cols.iter().map(|c| format!("CAST({c} AS TEXT)")).collect::<Vec<_>>().join(" || ' ' || ");

    let stripe_subscriptions = api.all("/v1/subscriptions?status=all").await;
    let subscriptions = rows_of(&stripe_subscriptions, &["status", "customer"]);
    assert_eq!(subscriptions.len(), CUSTOMERS, "one subscription per customer in Stripe");
    assert_eq!(local_rows(db, "subscriptions", &text(&["status", "customer_id"])).await, subscriptions);
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for row in subscriptions.values() {
        *statuses.entry(row.split(' ').next().unwrap().to_string()).or_default() += 1;
    }
    for status in ["active", "trialing", "past_due", "canceled"] {
        assert!(statuses.get(status).copied().unwrap_or(0) > 0, "no {status} subscription: {statuses:?}");
    }

    let invoice_fields = ["status", "amount_due", "amount_paid"];
    let invoices = stripe_rows(api, "/v1/invoices", &invoice_fields).await;
    assert!(invoices.len() >= CUSTOMERS + CUSTOMERS / 10, "renewals were invoiced: {}", invoices.len());
    assert_eq!(local_rows(db, "invoices", &text(&invoice_fields)).await, invoices);

    let payments = stripe_rows(api, "/v1/payment_intents", &["amount", "status"]).await;
    assert_eq!(local_rows(db, "payments", &text(&["amount", "status"])).await, payments);
    let charges = api.all("/v1/charges").await;
    for charge in &charges {
        let pi = charge["payment_intent"].as_str().unwrap();
        assert!(payments.contains_key(pi), "charge {} of {pi} has no local payment", charge["id"]);
    }

    let refunds = stripe_rows(api, "/v1/refunds", &["amount", "status", "charge"]).await;
    assert_eq!(refunds.len(), CUSTOMERS / 10, "every tenth customer was refunded");
    assert_eq!(local_rows(db, "refunds", &text(&["amount", "status", "charge_id"])).await, refunds);
    let disputes = stripe_rows(api, "/v1/disputes", &["amount", "status", "charge"]).await;
    // Every tenth customer pays with a card whose every charge is disputed.
    assert!(disputes.len() >= CUSTOMERS / 10, "disputed charges: {}", disputes.len());
    assert_eq!(local_rows(db, "disputes", &text(&["amount", "status", "charge_id"])).await, disputes);

    // Links: by metadata.user_id, by a verified email, else none.
    let users: Vec<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, stripe_customer_id FROM users").fetch_all(db.pool()).await.unwrap();
    let linked: HashMap<String, i64> = users.iter().filter_map(|(id, c)| Some((c.clone()?, *id))).collect();
    let stored: Vec<(String, Option<i64>)> =
        sqlx::query_as("SELECT id, user_id FROM customers").fetch_all(db.pool()).await.unwrap();
    assert_eq!(stored.len(), CUSTOMERS);
    for (customer, user) in &stored {
        let expected = script.links[customer];
        assert_eq!(*user, expected, "customer {customer}'s user");
        assert_eq!(linked.get(customer).copied(), expected, "the user of {customer}");
    }

    // MRR: each subscription's movements add up to its MRR, and the whole to what the paying
    // subscriptions bring a month.
    let expected_mrr: i64 = stripe_subscriptions
        .iter()
        .filter(|s| matches!(s["status"].as_str(), Some("active" | "past_due")))
        .map(|s| {
            let price = &s["items"]["data"][0]["price"];
            let amount = price["unit_amount"].as_i64().unwrap() * s["items"]["data"][0]["quantity"].as_i64().unwrap();
            if price["recurring"]["interval"] == "year" {
                (amount + 6) / 12
            } else {
                amount
            }
        })
        .sum();
    let moved: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM mrr_movements")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(moved, expected_mrr, "MRR from the movements");
    let churned: Vec<(String, i64)> = sqlx::query_as(
        "SELECT s.id, (SELECT COUNT(*) FROM mrr_movements m WHERE m.subscription_id = s.id AND m.kind = 'churn') \
         FROM subscriptions s WHERE s.status = 'canceled'",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(churned.iter().all(|(_, churns)| *churns == 1), "each canceled subscription churned once: {churned:?}");
    // One "new" per subscription that ever paid (none of them was canceled in its trial), no other kinds.
    let kinds: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, COUNT(*) FROM mrr_movements GROUP BY kind ORDER BY kind")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let paid = statuses.iter().filter(|(s, _)| s.as_str() != "trialing").map(|(_, n)| *n as i64).sum::<i64>();
    assert_eq!(kinds, vec![("churn".to_string(), statuses["canceled"] as i64), ("new".to_string(), paid)]);

    let emails: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM emails").fetch_one(db.pool()).await.unwrap();
    assert_eq!(emails, 0, "an import sends no email");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_halfway_and_rerun_reproduces_the_account_and_a_second_run_changes_nothing() {
    let started = Instant::now();
    let database = TestDatabase::new().await;
    let db = migrated(&database).await;
    let (_sandbox, api, prices) = account().await;
    let script = fill(&api, &prices, &db).await;
    eprintln!("filled in {:?}", started.elapsed());

    // At ten requests a second the import takes several seconds: killed once the customers are
    // stored and the subscriptions under way.
    let dir = tempfile::tempdir().unwrap();
    let mut first = spawn_tollgate(dir.path(), &["import"], &import_vars(&database, &api, "10"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let progress: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_cursors WHERE list_name = 'subscriptions'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        if progress > 0 {
            break;
        }
        assert!(first.try_wait().unwrap().is_none(), "the import ended before it was killed");
        assert!(Instant::now() < deadline, "the import made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let finished: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM import_cursors WHERE finished").fetch_one(db.pool()).await.unwrap();
    assert!(finished < 6, "the kill came after the end: the test proved nothing");

    let resumed = run_import(&database, &api, &["import"]).await;
    assert!(resumed.contains("import: subscriptions: resuming after"), "{resumed}");
    assert_local_equals_stripe(&api, &db, &script).await;
    let unlinked = resumed.lines().find(|l| l.trim_start().starts_with("unlinked customers:")).unwrap();
    assert_eq!(
        unlinked.trim(),
        format!("unlinked customers: {}", script.links.values().filter(|u| u.is_none()).count())
    );
    assert!(resumed.contains("nobody2@example.com"), "an unverified address's customer is listed unlinked");

    // A second run writes nothing (but its own cursors) and says so.
    let before = dump_tables(&db, &["import_cursors"]).await;
    let again = run_import(&database, &api, &["import"]).await;
    for list in tollgate::server::import::LISTS {
        let (read, created, updated, _) = summary(&again, list);
        assert!(read > 0, "{list}: the second run read nothing");
        assert_eq!((created, updated), (0, 0), "{list}: a second run changed something:\n{again}");
    }
    assert_eq!(dump_tables(&db, &["import_cursors"]).await, before, "a second import changed a table");
    // The revenue page's MRR (as of Stripe's clock: the churns are dated by it) is the movements' sum.
    let as_of = sandbox_now(&api.base).await + 1;
    let revenue = tollgate::server::admin::revenue::report(db.pool(), Default::default(), as_of).await.unwrap();
    let moved: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(delta) AS BIGINT) FROM mrr_movements").fetch_one(db.pool()).await.unwrap();
    assert_eq!(revenue.currencies[0].mrr.minor(), moved, "/admin's MRR");
    eprintln!("import test done in {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_counts_and_writes_nothing_and_a_later_import_takes_what_changed_in_stripe() {
    let database = TestDatabase::new().await;
    let db = migrated(&database).await;
    let (_sandbox, api, prices) = account().await;
    let user = insert_user(db.pool(), "email1@example.com").await;
    sqlx::query("UPDATE users SET email_verified_at = 1").execute(db.pool()).await.unwrap();
    let mut customers = Vec::new();
    for i in 0..3 {
        customers
            .push(customer(&api, &prices, i, Some((user, "email1@example.com".into())).filter(|_| i == 1)).await.0);
    }
    let before = dump_tables(&db, &[]).await;
    let dry = run_import(&database, &api, &["import", "--dry-run"]).await;
    assert_eq!(dump_tables(&db, &[]).await, before, "a dry run wrote:\n{dry}");
    assert!(dry.contains("dry run: nothing was written"), "{dry}");
    assert_eq!(summary(&dry, "customers"), (3, 3, 0, 0), "{dry}");
    assert_eq!(summary(&dry, "subscriptions"), (3, 3, 0, 0), "{dry}");
    assert!(dry.contains("1 by verified email"), "{dry}");
    assert!(dry.contains("unlinked customers: 2"), "{dry}");

    let done = run_import(&database, &api, &["import"]).await;
    assert_eq!(summary(&done, "subscriptions"), (3, 3, 0, 0), "{done}");
    // Stripe changes after the import: the next one sees it, a dry run only says so.
    let sub = api.get(&format!("/v1/subscriptions?customer={}", customers[0])).await["data"][0]["id"].clone();
    let sub = sub.as_str().unwrap();
    api.post(&format!("/v1/subscriptions/{sub}"), &[("cancel_at_period_end", "true".into())]).await;
    let before = dump_tables(&db, &["import_cursors"]).await;
    let dry = run_import(&database, &api, &["import", "--dry-run"]).await;
    assert_eq!(summary(&dry, "subscriptions"), (3, 0, 1, 2), "{dry}");
    assert_eq!(summary(&dry, "customers"), (3, 0, 0, 3), "{dry}");
    assert_eq!(dump_tables(&db, &["import_cursors"]).await, before, "a dry run wrote:\n{dry}");
    let again = run_import(&database, &api, &["import"]).await;
    assert_eq!(summary(&again, "subscriptions"), (3, 0, 1, 2), "{again}");
    let pending: i64 =
        sqlx::query_scalar("SELECT CAST(cancel_at_period_end AS INTEGER) FROM subscriptions WHERE id = $1")
            .bind(sub)
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(pending, 1, "the cancellation Stripe has is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_import_whose_cursor_object_is_gone_reads_that_list_again() {
    let database = TestDatabase::new().await;
    let db = migrated(&database).await;
    let (_sandbox, api, prices) = account().await;
    for i in 0..2 {
        customer(&api, &prices, i, None).await;
    }
    // An import stopped after a page ending with a customer deleted since.
    let gone =
        api.post("/v1/customers", &[("email", "gone@example.com".into())]).await["id"].as_str().unwrap().to_string();
    sqlx::query(
        "INSERT INTO import_cursors (list_name, last_id, finished, updated_at) VALUES ('customers', $1, FALSE, 0)",
    )
    .bind(&gone)
    .execute(db.pool())
    .await
    .unwrap();
    api.call(reqwest::Method::DELETE, &format!("/v1/customers/{gone}"), &[]).await;
    let out = run_import(&database, &api, &["import"]).await;
    assert!(out.contains("import: customers: the cursor's object is gone; reading the list again"), "{out}");
    assert_eq!(summary(&out, "customers"), (2, 2, 0, 0), "{out}");
    assert_eq!(summary(&out, "subscriptions"), (2, 2, 0, 0), "{out}");
}
