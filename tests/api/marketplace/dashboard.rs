//! The creator's dashboard on `/creator`: their sales with the platform's fee and what they
//! keep, per currency, and sales by day as a chart with its figures as text; only for them.

use super::orders::{buyer_pays, product_on_sale};
use crate::helpers::{kpi, new_client, spawn_app, unique_email};

#[tokio::test]
async fn a_sale_shows_on_the_creators_dashboard_with_the_fee_and_the_net() {
    let app = spawn_app().await;
    product_on_sale(&app, "25.00").await;
    let before = app.page("/creator").await;
    assert!(before.contains("No sales yet."), "{before}");
    assert!(before.contains("No payout on its way.") && before.contains("No payouts yet."), "{before}");

    buyer_pays(&app).await;
    app.settle().await;
    let page = app.page("/creator").await;
    assert_eq!(kpi(&page, "Sales"), "1");
    assert_eq!(kpi(&page, "Gross"), "$25.00");
    assert_eq!(kpi(&page, "Platform fees"), "$2.50", "10% by default");
    assert_eq!(kpi(&page, "Refunds"), "$0.00");
    assert_eq!(kpi(&page, "Net"), "$22.50");

    // The chart is an image with its figures as text: in its alt text and in a table.
    assert!(page.contains("Sales by day, last 30 days (USD)"), "{page}");
    assert!(page.contains(r#"src="data:image/svg+xml;base64,"#), "{page}");
    let paid_at: i64 = sqlx::query_scalar("SELECT paid_at FROM orders").fetch_one(app.db.pool()).await.unwrap();
    let day = tollgate::views::format::day(paid_at);
    assert!(page.contains(&format!("{day}: $25.00")), "the alt text names the day's sales: {page}");
    assert!(page.contains(&format!("<td>{day}</td>")), "the table has the day: {page}");
}

#[tokio::test]
async fn only_the_creator_sees_their_figures() {
    let app = spawn_app().await;
    product_on_sale(&app, "25.00").await;
    buyer_pays(&app).await;
    app.settle().await;
    assert!(app.page("/creator").await.contains("$22.50"));

    // Another signed-in user gets their own (empty) standing, never the creator's figures.
    let other = new_client();
    app.customer_with(&other, &unique_email("someone")).await;
    let theirs = app.page_with(&other, "/creator").await;
    assert!(theirs.contains("Become a creator"), "{theirs}");
    assert!(!theirs.contains("$22.50") && !theirs.contains("Your sales"), "{theirs}");
    // Nobody signed in: to the login page.
    let anonymous = new_client().get(app.url("/creator")).send().await.unwrap();
    assert_eq!(crate::helpers::location(&anonymous).as_deref(), Some("/login"));
}
