//! `/admin/disputes/:id`: the admin answers a dispute from tollgate. The form comes prefilled
//! from the app's own records, a draft is kept by Stripe, a submission is audited once however
//! often the form is sent, and the card network's verdict (Stripe's test-mode evidence) reaches
//! the page through the webhook; a closed dispute takes no more evidence.

use crate::helpers::*;

/// The text of the textarea named `field` on the page.
fn textarea(page: &str, field: &str) -> String {
    let at = page.find(&format!(r#"name="{field}""#)).unwrap_or_else(|| panic!("no {field} field: {page}"));
    let open = at + page[at..].find('>').unwrap() + 1;
    page[open..open + page[open..].find("</textarea>").unwrap()].replace("&quot;", "\"").replace("&amp;", "&")
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = $1 AND subject_type = 'dispute'")
        .bind(action)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_admin_answers_a_dispute_from_prefilled_evidence_and_sees_the_verdict() {
    let app = spawn_app().await;
    // 4000 0000 0000 0259 pays, then the charge is disputed as fraudulent.
    let email = app.paying_customer("disputer", "pro", "4000000000000259").await;
    app.log_in_as_admin().await;
    let list = app.page("/admin/disputes").await;
    let id: String = sqlx::query_scalar("SELECT id FROM disputes").fetch_one(app.db.pool()).await.unwrap();
    let path = format!("/admin/disputes/{id}");
    assert!(list.contains(&format!(r#"href="{path}""#)), "the list links to the dispute: {list}");

    // Prefilled from tollgate's records.
    let page = app.page(&path).await;
    assert_eq!(textarea(&page, "customer_email_address"), email);
    let product = textarea(&page, "product_description");
    assert!(product.starts_with("Subscription to Pro, service period "), "{product}");
    let (start, end): (i64, i64) =
        sqlx::query_as("SELECT period_start, period_end FROM invoices").fetch_one(app.db.pool()).await.unwrap();
    assert!(product.contains(&tollgate::views::format::day(end)), "{product}");
    let service_date = textarea(&page, "service_date");
    assert_eq!(service_date, tollgate::views::format::utc(start)[..10]);
    assert!(textarea(&page, "access_activity_log").contains("account created"), "{page}");
    let other = textarea(&page, "uncategorized_text");
    assert!(other.starts_with("Emails sent to the customer's address:") && other.contains("Receipt"), "{other}");
    assert!(page.contains("https://dashboard.stripe.com/test/disputes/du_"), "a link to Stripe's dashboard");

    // A date Stripe would not read is refused; nothing reaches Stripe.
    let res = app.submit(&path, "Save draft", &[("service_date", "30/11/2026")]).await;
    assert!(res.status().is_redirection());
    let page = app.page(&path).await;
    assert!(alerts(&page).iter().any(|n| n.contains("is not a date like")), "{:?}", alerts(&page));
    let stripe = app.stripe_get_json(&format!("/v1/disputes/{id}")).await;
    assert_eq!(stripe["evidence"]["product_description"], serde_json::Value::Null);

    // A draft: kept by Stripe, shown again, the dispute still open.
    app.submit(&path, "Save draft", &[("customer_name", "Ada Lovelace")]).await;
    let stripe = app.stripe_get_json(&format!("/v1/disputes/{id}")).await;
    assert_eq!(
        (stripe["evidence"]["customer_name"].as_str(), stripe["status"].as_str()),
        (Some("Ada Lovelace"), Some("needs_response"))
    );
    assert_eq!(stripe["evidence"]["customer_email_address"], email.as_str(), "the prefilled fields went along");
    let page = app.page(&path).await;
    assert_eq!(textarea(&page, "customer_name"), "Ada Lovelace");
    assert_eq!(audited(&app, "dispute.evidence_saved").await, 1);

    // Submitted twice from one form (a double click): one submission, one audit row.
    let form_page = app.page(&path).await;
    let token = {
        let at = form_page.find(r#"name="token" value=""#).unwrap() + r#"name="token" value=""#.len();
        form_page[at..at + form_page[at..].find('"').unwrap()].to_owned()
    };
    for _ in 0..2 {
        let form = [
            ("dispute", id.as_str()),
            ("token", token.as_str()),
            ("intent", "submit"),
            ("uncategorized_text", "winning_evidence"),
        ];
        let res = app
            .client
            .post(app.url("/api/admin_dispute_respond"))
            .header(reqwest::header::ACCEPT, BROWSER_ACCEPT)
            .form(&form)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
    }
    app.settle().await;
    assert_eq!(audited(&app, "dispute.evidence_submitted").await, 1);
    let stripe = app.stripe_get_json(&format!("/v1/disputes/{id}")).await;
    assert_eq!(stripe["evidence_details"]["submission_count"], 1);
    assert_eq!(stripe["status"], "won", "Stripe's test-mode winning evidence");

    // The verdict reached tollgate through the webhook; the form is gone.
    let status: String = sqlx::query_scalar("SELECT status FROM disputes").fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(status, "won");
    let page = app.page(&path).await;
    assert!(page.contains("This dispute is closed (won).") && !page.contains("Submit evidence"), "{page}");
    assert!(page.contains("dispute.evidence_submitted"), "the history lists the submission");

    // A stale form sent anyway is refused with the reason.
    let res = app
        .client
        .post(app.url("/api/admin_dispute_respond"))
        .header(reqwest::header::ACCEPT, BROWSER_ACCEPT)
        .form(&[
            ("dispute", id.as_str()),
            ("token", "0123456789abcdef9999"),
            ("intent", "submit"),
            ("uncategorized_text", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let page = app.page(&path).await;
    assert!(alerts(&page).iter().any(|n| n.contains("This dispute is closed (won).")), "{:?}", alerts(&page));
    assert_eq!(audited(&app, "dispute.evidence_submitted").await, 1);
}

#[tokio::test]
async fn an_empty_submission_is_refused_and_customers_cannot_answer_disputes() {
    let app = spawn_app().await;
    app.paying_customer("emptyanswer", "pro", "4000000000000259").await;
    let id: String = sqlx::query_scalar("SELECT id FROM disputes").fetch_one(app.db.pool()).await.unwrap();
    // A customer is refused.
    let customer = new_client();
    app.customer_with(&customer, &unique_email("not.admin")).await;
    let res = customer
        .post(app.url("/api/admin_dispute_respond"))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("dispute", id.as_str()), ("token", "0123456789abcdef0123"), ("intent", "submit")])
        .send()
        .await
        .unwrap();
    assert!(!res.status().is_success() && html_of(res).await.contains("Forbidden"));

    let admin = new_client();
    assert_redirect(&app.log_in_with(&admin, ADMIN_EMAIL, ADMIN_PASSWORD).await, "/account");
    let path = format!("/admin/disputes/{id}");
    let blank: Vec<(&str, &str)> =
        tollgate::views::admin::dispute::EVIDENCE_FIELDS.iter().map(|(f, _, _)| (*f, "")).collect();
    app.submit_with(&admin, &path, "Submit evidence", &blank).await;
    let page = app.page_with(&admin, &path).await;
    assert!(alerts(&page).iter().any(|n| n.contains("an empty answer loses the dispute")), "{:?}", alerts(&page));
    let stripe = app.stripe_get_json(&format!("/v1/disputes/{id}")).await;
    assert_eq!(
        (stripe["status"].as_str(), stripe["evidence_details"]["submission_count"].as_i64()),
        (Some("needs_response"), Some(0))
    );
}
