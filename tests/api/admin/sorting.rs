//! The admin lists sorted by a column: the URL's `sort` and `dir` change the order (ties broken
//! by id, the same way), header links and `aria-sort` follow, filters stay, and a sort that means
//! nothing shows the default order instead of an error.

use sqlx::AnyPool;

use crate::helpers::*;

async fn exec(pool: &AnyPool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A subscription with its MRR and creation time (no local user: the list shows its customer id).
async fn subscription(pool: &AnyPool, id: &str, status: &str, mrr: i64, created: i64) {
    exec(
        pool,
        &format!(
            "INSERT INTO subscriptions (id, customer_id, status, price_id, lookup_key, quantity, \
               unit_amount, currency, interval_count, current_period_start, current_period_end, \
               cancel_at_period_end, created, mrr, synced_at) VALUES ('{id}', 'cus_{id}', '{status}', \
               'price_1', 'pro_monthly', 1, {mrr}, 'usd', 1, 0, 1800000000, FALSE, {created}, {mrr}, 0)"
        ),
    )
    .await;
}

/// The ids `marker` precedes in `html`, in page order (`marker` ends where the id starts).
fn ids_after(html: &str, marker: &str, prefix: &str) -> Vec<String> {
    html.split(marker)
        .skip(1)
        .filter(|rest| rest.starts_with(prefix))
        .map(|rest| rest[..rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap()].to_owned())
        .collect()
}

/// The subscription ids a list page shows, in its order.
fn subscriptions(html: &str) -> Vec<String> {
    ids_after(html, "<code>", "sub_")
}

/// The `<th>` whose link sorts by `key`, whole.
fn header<'a>(html: &'a str, key: &str) -> &'a str {
    let link = html.find(&format!(r#"data-sort="{key}""#)).unwrap_or_else(|| panic!("no {key} header in {html}"));
    let start = html[..link].rfind("<th").unwrap();
    let end = link + html[link..].find("</th>").unwrap();
    &html[start..end]
}

#[tokio::test]
async fn subscriptions_sort_by_a_header_with_ties_broken_by_id_and_fall_back_on_nonsense() {
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    subscription(&pool, "sub_a", "active", 1000, 1_700_000_001).await;
    subscription(&pool, "sub_b", "active", 5000, 1_700_000_002).await;
    subscription(&pool, "sub_c", "active", 1000, 1_700_000_003).await;
    subscription(&pool, "sub_d", "canceled", 9000, 1_700_000_004).await;
    app.log_in_as_admin().await;

    let default = app.page("/admin/subscriptions").await;
    assert_eq!(subscriptions(&default), ["sub_d", "sub_c", "sub_b", "sub_a"], "newest first");
    assert!(header(&default, "created").contains(r#"aria-sort="descending""#), "{}", header(&default, "created"));
    assert!(!header(&default, "mrr").contains("aria-sort"));
    assert!(header(&default, "mrr").contains(r#"class="num""#), "the money column's heading is right-aligned");
    assert!(
        header(&default, "mrr").contains(r#"href="/admin/subscriptions?page=0&amp;sort=mrr&amp;dir=desc""#),
        "a figure sorts largest first on the first click: {}",
        header(&default, "mrr")
    );

    let ascending = app.page("/admin/subscriptions?sort=mrr&dir=asc").await;
    assert_eq!(subscriptions(&ascending), ["sub_a", "sub_c", "sub_b", "sub_d"], "equal MRR: by id");
    assert!(header(&ascending, "mrr").contains(r#"aria-sort="ascending""#));
    assert!(header(&ascending, "mrr").contains("sort=mrr&amp;dir=desc"), "a second click turns the order round");
    assert!(!header(&ascending, "created").contains("aria-sort"));

    let descending = app.page("/admin/subscriptions?sort=mrr&dir=desc").await;
    assert_eq!(subscriptions(&descending), ["sub_d", "sub_b", "sub_c", "sub_a"], "ties turned round too");
    assert_eq!(subscriptions(&app.page("/admin/subscriptions?sort=mrr").await), subscriptions(&descending));

    // Filters and sort together; the filter form and the header links keep both.
    let filtered = app.page("/admin/subscriptions?status=active&sort=customer&dir=desc").await;
    assert_eq!(subscriptions(&filtered), ["sub_c", "sub_b", "sub_a"]);
    assert!(filtered.contains(r#"type="hidden" name="sort" value="customer""#), "{filtered}");
    assert!(filtered.contains(r#"type="hidden" name="dir" value="desc""#), "{filtered}");
    assert!(header(&filtered, "mrr").contains("status=active&amp;sort=mrr"), "{}", header(&filtered, "mrr"));

    // Nonsense (or an attempt at SQL) is the default order, not an error page.
    for bad in ["sort=bogus&dir=sideways", "sort=s.mrr%3B%20DROP%20TABLE%20users&dir=asc", "sort=&dir=asc"] {
        let page = app.page(&format!("/admin/subscriptions?{bad}")).await;
        assert_eq!(subscriptions(&page), ["sub_d", "sub_c", "sub_b", "sub_a"], "{bad}");
        assert!(header(&page, "created").contains(r#"aria-sort="descending""#), "{bad}");
    }
    let wrong_dir = app.page("/admin/subscriptions?sort=mrr&dir=up").await;
    assert_eq!(subscriptions(&wrong_dir), subscriptions(&descending), "an unknown direction: the column's first");
}

async fn dead_event_with(pool: &AnyPool, id: &str, event_type: &str, attempts: i64, received_at: i64) {
    exec(
        pool,
        &format!(
            "INSERT INTO webhook_events (id, event_type, object_type, object_id, stripe_created, payload, \
               source, status, attempts, last_error, next_attempt_at, received_at) \
             VALUES ('{id}', '{event_type}', 'customer', 'cus_x', 1, '{{}}', 'webhook', 'dead', {attempts}, \
               'stripe said no', {received_at}, {received_at})"
        ),
    )
    .await;
}

#[tokio::test]
async fn the_event_inbox_sorts_by_attempts_and_type_within_its_filters() {
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    dead_event_with(&pool, "evt_sort1", "invoice.paid", 2, 1_700_000_010).await;
    dead_event_with(&pool, "evt_sort2", "customer.updated", 8, 1_700_000_020).await;
    dead_event_with(&pool, "evt_sort3", "invoice.paid", 5, 1_700_000_030).await;
    app.log_in_as_admin().await;
    let events = |html: &str| ids_after(html, "<code>", "evt_sort");

    assert_eq!(events(&app.page("/admin/events?status=dead").await), ["evt_sort3", "evt_sort2", "evt_sort1"]);
    let by_attempts = app.page("/admin/events?status=dead&sort=attempts&dir=desc").await;
    assert_eq!(events(&by_attempts), ["evt_sort2", "evt_sort3", "evt_sort1"]);
    assert!(header(&by_attempts, "attempts").contains(r#"aria-sort="descending""#));
    let by_type = app.page("/admin/events?status=dead&sort=type&dir=asc").await;
    assert_eq!(events(&by_type), ["evt_sort2", "evt_sort1", "evt_sort3"], "same type: by id");
    let filtered = app.page("/admin/events?type=invoice.paid&sort=attempts&dir=asc").await;
    assert_eq!(events(&filtered), ["evt_sort1", "evt_sort3"]);
    let bad = app.page("/admin/events?status=dead&sort=payload&dir=asc").await;
    assert_eq!(events(&bad), ["evt_sort3", "evt_sort2", "evt_sort1"], "not sortable: the default order");
}

#[tokio::test]
async fn disputes_sort_by_amount_and_keep_open_ones_first_by_default() {
    let app = spawn_app().await;
    let pool = app.db.pool().clone();
    for (id, amount, status, due) in [
        ("du_sort_won", 9000, "won", "1700000100"),
        ("du_sort_late", 1000, "needs_response", "1700000300"),
        ("du_sort_soon", 5000, "needs_response", "1700000200"),
    ] {
        exec(
            &pool,
            &format!(
                "INSERT INTO disputes (id, charge_id, amount, currency, reason, status, evidence_due_by, created, \
                   synced_at) VALUES ('{id}', 'ch_{id}', {amount}, 'usd', 'fraudulent', '{status}', {due}, 0, 0)"
            ),
        )
        .await;
    }
    app.log_in_as_admin().await;
    let disputes = |html: &str| ids_after(html, r#"data-dispute=""#, "du_sort");

    let default = app.page("/admin/disputes").await;
    assert_eq!(disputes(&default), ["du_sort_soon", "du_sort_late", "du_sort_won"]);
    assert!(header(&default, "due").contains(r#"aria-sort="ascending""#));
    let by_amount = app.page("/admin/disputes?sort=amount").await;
    assert_eq!(disputes(&by_amount), ["du_sort_won", "du_sort_soon", "du_sort_late"], "largest first");
    let smallest = app.page("/admin/disputes?sort=amount&dir=asc").await;
    assert_eq!(disputes(&smallest), ["du_sort_late", "du_sort_soon", "du_sort_won"]);
    assert_eq!(disputes(&app.page("/admin/disputes?sort=evidence&dir=desc").await), disputes(&default));
}
