//! Chaos on the marketplace: the sandbox duplicates, reorders and concurrently delivers webhooks
//! (to both endpoints) while buyers pay several creators at once — half of them coming back to
//! the success page, racing the webhook — and the admin refunds some orders in full and some in
//! part, a few of them with a double submit. Afterwards every order, library entry, fee and
//! transfer must equal the sandbox's truth, and nothing may be written twice.

use futures::StreamExt;

use super::{onboarding_form, path_of};
use crate::helpers::*;

const CREATORS: usize = 3;
const PURCHASES: usize = 24;

/// A creator on their own client, enabled by Stripe, selling "Guide {n}" at $25.00.
async fn creator_selling(app: &TestApp, n: usize) {
    let client = new_client();
    app.customer_with(&client, &unique_email(&format!("chaos-seller-{n}"))).await;
    let start = app.submit_with(&client, "/creator", "Become a creator", &[]).await;
    let link = location(&start).expect("to Stripe's onboarding");
    let submitted = client.post(&link).form(&onboarding_form("complete", "000123456789")).send().await.unwrap();
    let back = location(&submitted).expect("back to the app");
    client.get(app.url(&path_of(&back))).send().await.unwrap();
    let title = format!("Guide {n}");
    let fields = [("title", title.as_str()), ("description", "A guide."), ("price", "25.00"), ("content", "It.")];
    app.submit_with(&client, "/creator", "Save draft", &fields).await;
    let page = super::products::set_published_by(app, &client, &format!("guide-{n}"), true).await;
    assert!(page.contains(&format!("is on sale at /p/guide-{n}")), "{page}");
}

/// Buyer `i` pays for creator `i % CREATORS`'s guide; every other buyer comes back to the
/// success page, racing the webhook.
async fn buy(app: &TestApp, i: usize) {
    let buyer = new_client();
    app.customer_with(&buyer, &unique_email(&format!("chaos-buyer-{i}"))).await;
    let slug = format!("/p/guide-{}", i % CREATORS);
    let res = app.submit_with(&buyer, &slug, "Buy for $25.00", &[]).await;
    let checkout = location(&res).expect("to Checkout");
    let card = [("card_number", "4242 4242 4242 4242"), ("expiry", "12 / 34"), ("cvc", "123")];
    let paid = buyer.post(&checkout).form(&card).send().await.unwrap();
    let back = location(&paid).expect("back to the app");
    if i.is_multiple_of(2) {
        buyer.get(app.url(&path_of(&back))).send().await.unwrap();
    }
}

/// The admin refunds order `id`: in full with the defaults, or $10.00 keeping the fee;
/// `twice`: the form is submitted twice (a double click).
async fn refund(app: &TestApp, admin: &reqwest::Client, id: i64, full: bool, twice: bool) {
    let page = app.page_with(admin, &format!("/admin/orders/{id}")).await;
    let token = hidden(&page, "token");
    let mut form = vec![
        ("order", id.to_string()),
        ("token", token),
        ("reason", "requested_by_customer".to_owned()),
        ("reverse_transfer", "on".to_owned()),
    ];
    if full {
        form.extend([("amount", "25.00".to_owned()), ("refund_application_fee", "on".to_owned())]);
    } else {
        form.push(("amount", "10.00".to_owned()));
    }
    for _ in 0..if twice { 2 } else { 1 } {
        let res = admin
            .post(app.url("/api/admin_order_refund"))
            .header("accept", BROWSER_ACCEPT)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection());
    }
}

#[derive(Debug, sqlx::FromRow)]
struct OrderRow {
    id: i64,
    status: String,
    amount: i64,
    fee: i64,
    refunded: i64,
    fee_refunded: i64,
    transfer_reversed: i64,
    payment_intent_id: Option<String>,
    account_id: String,
}

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql).bind(id).fetch_one(app.db.pool()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_and_refunds_under_chaos_end_equal_to_the_sandbox() {
    // Thirty people log in from one address within the minute.
    let app = spawn_app_with(&[("RATE_LIMIT_LOGIN_PER_MINUTE", "1000")]).await;
    let api = Api { http: reqwest::Client::new(), base: app.sandbox_url.clone() };
    for n in 0..CREATORS {
        creator_selling(&app, n).await;
    }
    crate::helpers::chaos::set_chaos(&api).await;
    futures::stream::iter(0..PURCHASES).for_each_concurrent(8, |i| buy(&app, i)).await;
    app.settle().await;

    let admin = new_client();
    assert_redirect(&app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM orders ORDER BY id").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(ids.len(), PURCHASES, "one order per purchase");
    // A third refunded in full, a sixth in part; every fourth refund double-submitted.
    let refunds: Vec<(i64, bool, bool)> = ids
        .iter()
        .enumerate()
        .filter_map(|(k, id)| match k % 6 {
            0 | 1 => Some((*id, true, k.is_multiple_of(4))),
            2 => Some((*id, false, k.is_multiple_of(4))),
            _ => None,
        })
        .collect();
    futures::stream::iter(&refunds)
        .for_each_concurrent(4, |(id, full, twice)| refund(&app, &admin, *id, *full, *twice))
        .await;
    app.settle().await;

    let orders: Vec<OrderRow> = sqlx::query_as(
        "SELECT id, status, amount, fee, refunded, fee_refunded, transfer_reversed, payment_intent_id, account_id \
         FROM orders ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let mut mismatches = Vec::new();
    for order in &orders {
        let pi = order.payment_intent_id.as_deref().unwrap_or_else(|| panic!("order {} never paid", order.id));
        let charge = api.get(&format!("/v1/charges?payment_intent={pi}")).await["data"][0].clone();
        let transfer = api.get(&format!("/v1/transfers/{}", charge["transfer"].as_str().unwrap())).await;
        let fee = api.get(&format!("/v1/application_fees/{}", charge["application_fee"].as_str().unwrap())).await;
        let truth = (
            charge["amount"].as_i64().unwrap(),
            fee["amount"].as_i64().unwrap(),
            charge["amount_refunded"].as_i64().unwrap(),
            fee["amount_refunded"].as_i64().unwrap(),
            transfer["amount_reversed"].as_i64().unwrap(),
            transfer["destination"].as_str().unwrap().to_owned(),
        );
        let local = (
            order.amount,
            order.fee,
            order.refunded,
            order.fee_refunded,
            order.transfer_reversed,
            order.account_id.clone(),
        );
        if local != truth {
            mismatches.push(format!("order {}: local {local:?}, Stripe {truth:?}", order.id));
        }
        let full = charge["refunded"] == true;
        let expected = match (full, order.refunded) {
            (true, _) => "refunded",
            (false, 0) => "paid",
            _ => "partially_refunded",
        };
        if order.status != expected {
            mismatches.push(format!("order {}: {} but Stripe says {expected}", order.id, order.status));
        }
        // Exactly once: the paid order's audit row and its library entry; the revocation with
        // its audit row exactly when refunded in full; one admin refund row per refund issued.
        let once = [
            ("SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.order_paid' AND subject_id = CAST($1 AS TEXT)", 1),
            ("SELECT COUNT(*) FROM library WHERE order_id = $1", 1),
            ("SELECT COUNT(*) FROM library WHERE order_id = $1 AND revoked_at IS NOT NULL", i64::from(full)),
            (
                "SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.access_revoked' AND subject_id = CAST($1 AS TEXT)",
                i64::from(full),
            ),
            (
                "SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.refund' AND subject_id = CAST($1 AS TEXT)",
                i64::from(order.refunded > 0),
            ),
        ];
        for (sql, wanted) in once {
            let got = count(&app, sql, order.id).await;
            if got != wanted {
                mismatches.push(format!("order {}: {got} rows, wanted {wanted}: {sql}", order.id));
            }
        }
        let refunds_in_stripe =
            api.get(&format!("/v1/refunds?payment_intent={pi}")).await["data"].as_array().unwrap().len();
        if refunds_in_stripe != usize::from(order.refunded > 0) {
            mismatches.push(format!("order {}: {refunds_in_stripe} refunds in Stripe", order.id));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
    let full = orders.iter().filter(|o| o.status == "refunded").count();
    let partial = orders.iter().filter(|o| o.status == "partially_refunded").count();
    assert_eq!((full, partial), (8, 4), "the refunds issued all landed");
}
