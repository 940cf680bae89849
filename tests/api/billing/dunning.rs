//! Dunning on the sandbox's clock: a card that declines every charge walks Stripe's retry
//! schedule (3, 5, 7 and 6 days apart, then cancel), and the customer gets each dunning email
//! once, dated by the invoice's `next_payment_attempt`.

use tollgate::views::format::day;

use crate::helpers::*;

/// The dunning emails' kinds, in the order they go out.
const SEQUENCE: [&str; 4] = ["payment_failed", "payment_urgent", "payment_final_notice", "dunning_outcome"];

impl TestApp {
    /// The (kind, subject, body) of each dunning email to `to`, oldest first.
    async fn dunning_mails(&self, to: &str) -> Vec<(String, String, String)> {
        let kinds = SEQUENCE.map(|kind| format!("'{kind}'")).join(", ");
        sqlx::query_as(&format!(
            "SELECT kind, subject, body FROM emails WHERE to_address = $1 AND kind IN ({kinds}) ORDER BY id"
        ))
        .bind(to)
        .fetch_all(self.db.pool())
        .await
        .unwrap()
    }
}

#[tokio::test]
async fn a_failing_card_walks_the_dunning_sequence_with_each_email_once_and_stripes_dates() {
    let app = spawn_app().await;
    app.pin_clock(PinnedStart::FirstOfJanuary).await;
    // 4000 0000 0000 0341 attaches fine (the trial needs no charge) and declines every charge.
    let email = app.subscribed_customer("dunned", "starter", "4000000000000341", false).await;
    app.advance_through_period_end(&email).await; // the trial ends and the first charge fails

    // Each attempt's next_payment_attempt, as Stripe reported it after that attempt.
    let mut next_attempts = Vec::new();
    loop {
        let invoice = app.stripe_latest_invoice_of(&email).await;
        let next = invoice["next_payment_attempt"].as_i64();
        next_attempts.push(next);
        match next {
            Some(at) => app.advance_to(at).await,
            None => break,
        }
    }
    assert_eq!(next_attempts.len(), 5, "five attempts in all: {next_attempts:?}");
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "canceled", "dunning ended by canceling");

    let mails = app.dunning_mails(&email).await;
    let kinds: Vec<&str> = mails.iter().map(|(kind, _, _)| kind.as_str()).collect();
    assert_eq!(kinds, SEQUENCE, "the third attempt sends nothing, each step once: {mails:?}");
    let (first, urgent, final_notice, outcome) = (&mails[0], &mails[1], &mails[2], &mails[3]);
    assert_eq!(first.1, "Your payment of $9.00 failed");
    let second_try = day(next_attempts[0].unwrap());
    assert!(first.2.contains(&format!("We will try again on {second_try}.")), "{}", first.2);
    assert!(first.2.contains("/account\n"), "the link to update the card: {}", first.2);
    assert_eq!(urgent.1, "Urgent: your payment of $9.00 failed again");
    assert!(urgent.2.contains(&format!("We will try again on {}.", day(next_attempts[1].unwrap()))), "{}", urgent.2);
    assert_eq!(final_notice.1, "Final notice: your payment of $9.00 is still due");
    let last_try = day(next_attempts[3].unwrap());
    assert!(
        final_notice
            .2
            .contains(&format!("one last attempt on {last_try}. If it fails, your subscription will be canceled")),
        "{}",
        final_notice.2
    );
    assert_eq!(outcome.1, "Your subscription was canceled");
    assert!(outcome.2.contains("after 5 attempts") && outcome.2.contains("/pricing\n"), "{}", outcome.2);
    let html: Option<String> = sqlx::query_scalar("SELECT html_body FROM emails WHERE kind = 'payment_final_notice'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(html.unwrap_or_default().contains(&format!("<strong>{last_try}</strong>")), "the HTML alternative");

    // Every invoice and subscription event delivered again, newest first: nothing more is sent.
    sqlx::query(
        "UPDATE webhook_events SET status = 'pending', attempts = 0, next_attempt_at = 0, \
           stripe_created = 4102444800 - stripe_created \
         WHERE event_type LIKE 'invoice.%' OR event_type LIKE 'customer.subscription.%'",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    app.settle().await;
    app.advance_by(86_400).await;
    // (Compared without bodies: the sender signs each body once it has gone out.)
    let kinds_and_subjects = |mails: &[(String, String, String)]| {
        mails.iter().map(|(kind, subject, _)| (kind.clone(), subject.clone())).collect::<Vec<_>>()
    };
    let again = app.dunning_mails(&email).await;
    assert_eq!(kinds_and_subjects(&again), kinds_and_subjects(&mails), "redelivered events send nothing again");
}

#[tokio::test]
/// (Refused to customers and visitors: `admin::access` lists the page and its server function.)
async fn the_templates_page_shows_every_email_to_an_admin() {
    let app = spawn_app().await;
    app.log_in_as_admin().await;
    let page = app.page("/admin/mail/templates").await;
    for kind in SEQUENCE.iter().chain(&["receipt", "action_required", "trial_ending", "password_reset"]) {
        assert!(page.contains(&format!(r#"data-kind="{kind}""#)), "{kind} previewed: {page}");
    }
    assert!(page.contains("srcdoc=") && page.contains(r#"sandbox="""#), "the HTML in a sandboxed frame");
    assert!(page.contains("one last attempt on 22 March 2026"), "the text version with sample dates");
}

#[tokio::test]
async fn retry_now_after_the_card_is_updated_recovers_the_subscription_audited_once() {
    let app = spawn_app().await;
    app.pin_clock(PinnedStart::FirstOfJanuary).await;
    let email = app.subscribed_customer("retried", "starter", "4000000000000341", false).await;
    app.advance_through_period_end(&email).await; // the trial ends and the first charge fails
    let subscription = app.stripe_subscription_of(&email).await;
    assert_eq!(subscription["status"], "past_due");
    let invoice = app.stripe_latest_invoice_of(&email).await;
    let invoice_id = invoice["id"].as_str().unwrap().to_owned();
    let next_retry = day(invoice["next_payment_attempt"].as_i64().unwrap());

    app.log_in_as_admin().await;
    let page = app.page("/admin/dunning").await;
    assert!(page.contains(&format!(r#"data-invoice="{invoice_id}""#)), "listed: {page}");
    assert!(page.contains(&next_retry) && page.contains("$9.00"), "next retry and amount: {page}");

    // Still the declining card: refused, nothing audited.
    let res = app.submit("/admin/dunning", "Retry now", &[]).await;
    assert_redirect(&res, "/admin/dunning");
    assert!(app.page("/admin/dunning").await.contains("The card was declined again: $9.00 is still due."));
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action = 'invoice.retry'";
    assert_eq!(count(&app, audited).await, 0);

    // The customer's card is replaced (as the portal would), then the admin retries.
    let customer: String = sqlx::query_scalar("SELECT stripe_customer_id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let api = app.stripe_api();
    let card = api.post("/v1/payment_methods/pm_card_visa/attach", &[("customer", customer.clone())]).await;
    let card = card["id"].as_str().unwrap().to_string();
    api.post(&format!("/v1/customers/{customer}"), &[("invoice_settings[default_payment_method]", card.clone())]).await;
    let subscription_id = subscription["id"].as_str().unwrap();
    api.post(&format!("/v1/subscriptions/{subscription_id}"), &[("default_payment_method", card)]).await;
    let token = hidden_value(&app.page("/admin/dunning").await, "token");
    let res = app.submit("/admin/dunning", "Retry now", &[("token", &token)]).await;
    assert_redirect(&res, "/admin/dunning");
    app.settle().await;
    assert_eq!(app.stripe_subscription_of(&email).await["status"], "active", "recovered");
    assert_eq!(app.stripe_get_json(&format!("/v1/invoices/{invoice_id}")).await["status"], "paid");
    assert_eq!(count(&app, audited).await, 1, "one audit row");
    let page = app.page("/admin/dunning").await;
    let listed = format!(r#"data-invoice="{invoice_id}""#);
    assert!(page.contains("Paid: $9.00 collected") && !page.contains(&listed), "no longer past due: {page}");

    // The same form posted again (a double submit) is done already; a new one finds nothing to
    // retry. Still one audit row.
    let post = |token: String| {
        let fields = [
            ("customer", customer.clone()),
            ("subscription", subscription_id.to_owned()),
            ("invoice", invoice_id.clone()),
            ("token", token),
        ];
        let request = app.client.post(app.url("/api/admin_retry_invoice")).header("accept", BROWSER_ACCEPT);
        async move { request.form(&fields).send().await.unwrap() }
    };
    assert_redirect(&post(token).await, "/admin/dunning");
    assert!(app.page("/admin/dunning").await.contains("This was already done."));
    assert_redirect(&post("0123456789abcdef0123".into()).await, "/admin/dunning");
    let page = app.page("/admin/dunning").await;
    assert!(page.contains("Nothing to retry: this subscription has no open invoice"), "{page}");
    assert_eq!(count(&app, audited).await, 1, "audited once");
}

async fn count(app: &TestApp, query: &str) -> i64 {
    sqlx::query_scalar(query).fetch_one(app.db.pool()).await.unwrap()
}

/// The value of the first hidden input `name` on `html`.
fn hidden_value(html: &str, name: &str) -> String {
    let at = html.find(&format!(r#"name="{name}" value=""#)).unwrap_or_else(|| panic!("no {name} on {html}"));
    let start = at + name.len() + r#"name="" value=""#.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}
