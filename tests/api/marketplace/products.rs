//! Creators' products: drafts, the price rules, publishing only when Stripe enabled the
//! creator, and the public store.

use super::{enabled_creator, finish_onboarding};
use crate::helpers::{html_of, location, spawn_app, TestApp};

/// Submits the "New product" form on /creator; returns the page the browser lands on.
async fn save_draft(app: &TestApp, title: &str, price: &str) -> String {
    let res = app
        .submit(
            "/creator",
            "Save draft",
            &[("title", title), ("description", "A short guide."), ("price", price), ("content", "The secret is 42.")],
        )
        .await;
    let back = location(&res).expect("back to the creator page");
    html_of(app.client.get(app.url(&back)).send().await.unwrap()).await
}

pub async fn set_published(app: &TestApp, slug: &str, publish: bool) -> String {
    set_published_by(app, &app.client, slug, publish).await
}

/// As [`set_published`], by the creator logged in on `client`.
pub async fn set_published_by(app: &TestApp, client: &reqwest::Client, slug: &str, publish: bool) -> String {
    let id: i64 = sqlx::query_scalar("SELECT id FROM products WHERE slug = $1")
        .bind(slug)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let res = client
        .post(app.url("/api/creator/products/publish"))
        .header("accept", "text/html")
        .form(&[("id", id.to_string()), ("publish", publish.to_string())])
        .send()
        .await
        .unwrap();
    let back = location(&res).expect("back to the creator page");
    html_of(client.get(app.url(&back)).send().await.unwrap()).await
}

#[tokio::test]
async fn an_enabled_creator_publishes_a_draft_and_the_store_sells_it_until_unpublished() {
    let app = spawn_app().await;
    app.customer("author@example.com").await;
    enabled_creator(&app).await;

    let page = save_draft(&app, "Rust for Founders", "12.50").await;
    assert!(page.contains("“Rust for Founders” saved as a draft at $12.50."), "{page}");
    assert!(!app.page("/store").await.contains("Rust for Founders"), "a draft is not on sale");
    assert_eq!(app.get("/p/rust-for-founders").await.status().as_u16(), 200);
    assert!(app.page("/p/rust-for-founders").await.contains("Not on sale"));

    let page = set_published(&app, "rust-for-founders", true).await;
    assert!(page.contains("is on sale at /p/rust-for-founders"), "{page}");
    let store = app.page("/store").await;
    assert!(store.contains("Rust for Founders") && store.contains("$12.50"), "{store}");
    let product = app.page("/p/rust-for-founders").await;
    assert!(product.contains("A short guide.") && !product.contains("The secret is 42."), "content only for buyers");

    // The same title again: its own address.
    save_draft(&app, "Rust for Founders", "20").await;
    let slugs: Vec<String> =
        sqlx::query_scalar("SELECT slug FROM products ORDER BY id").fetch_all(app.db.pool()).await.unwrap();
    assert_eq!(slugs, ["rust-for-founders", "rust-for-founders-2"]);

    set_published(&app, "rust-for-founders", false).await;
    assert!(!app.page("/store").await.contains("$12.50"), "unpublished: off the store");
}

#[tokio::test]
async fn prices_of_zero_negative_or_over_the_limit_are_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    app.customer("pricing@example.com").await;
    enabled_creator(&app).await;
    for (price, message) in [
        ("0", "A product must cost something: enter a price above 0."),
        ("-5", "A price cannot be negative."),
        ("10000.01", "A product costs at most $10000.00."),
        ("0.10", "Stripe's smallest charge in USD is $0.50."),
        ("ten", "Enter the price as an amount like 12.50"),
    ] {
        let page = save_draft(&app, "Priced wrong", price).await;
        assert!(page.contains(message), "price {price:?}: {page}");
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn a_creator_stripe_still_needs_something_from_cannot_publish_and_is_told_what() {
    let app = spawn_app().await;
    app.customer("waiting@example.com").await;
    let start = app.submit("/creator", "Become a creator", &[]).await;
    let link = location(&start).expect("to Stripe's onboarding");
    finish_onboarding(&app, &link, "skip_document", "000123456789").await;
    save_draft(&app, "Held back", "9").await;
    let page = set_published(&app, "held-back", true).await;
    assert!(page.contains("Stripe needs more before you can sell: Individual verification document."), "{page}");
    assert!(!app.page("/store").await.contains("Held back"));

    // Someone else cannot publish it either.
    let other = crate::helpers::new_client();
    app.customer_with(&other, "other@example.com").await;
    let id: i64 = sqlx::query_scalar("SELECT id FROM products").fetch_one(app.db.pool()).await.unwrap();
    let res = other
        .post(app.url("/api/creator/products/publish"))
        .header("accept", "text/html")
        .form(&[("id", id.to_string()), ("publish", "true".into())])
        .send()
        .await
        .unwrap();
    let back = location(&res).unwrap();
    let html = html_of(other.get(app.url(&back)).send().await.unwrap()).await;
    assert!(html.contains("Become a creator first."), "{html}");
    let published: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM products WHERE published = TRUE")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(published, 0);
}
