//! One email of every templated kind, made from sample data: what `/admin/mail/templates`
//! previews, and what the test that every template renders renders.

use super::emails::{self, Email};
use crate::domain::dunning::DunningEnd;
use crate::server::http::app_url::AppUrl;

/// 1 March 2026, 12:00 UTC: the samples' fixed "now".
const NOW: i64 = 1_772_366_400;
const DAY: i64 = 86_400;
const TO: &str = "jo@example.com";

/// Every sample, in the order the admin page shows them; links on `app_url`.
pub fn samples(app_url: &AppUrl) -> Vec<Email> {
    let (account, pricing) = (app_url.join("/account"), app_url.join("/pricing"));
    let invoice = "in_sample";
    let due = (2900, "usd");
    vec![
        emails::receipt(TO, invoice, 2900, "usd", Some("https://invoice.stripe.com/i/sample")),
        emails::payment_failed_retrying(TO, (invoice, 1, Some(NOW + 3 * DAY)), due, &account),
        emails::payment_urgent(TO, invoice, Some(NOW + 8 * DAY), due, &account),
        emails::payment_final_notice(TO, (invoice, 4, NOW + 21 * DAY), due, DunningEnd::Cancel, &account),
        emails::dunning_outcome(TO, (invoice, 5), due, DunningEnd::Cancel, (&account, &pricing)),
        emails::refund_issued(TO, "re_sample", (2900, "usd"), Some("https://pay.stripe.com/receipts/sample")),
        emails::action_required(TO, invoice, &app_url.join("/billing/confirm/pi_sample")),
        emails::trial_ending(TO, "sub_sample", NOW + 3 * DAY, &account),
        emails::checkout_payment_failed(TO, "cs_sample", &pricing),
        emails::dispute_alert(
            TO,
            "dp_sample",
            2900,
            "usd",
            "fraudulent",
            Some(NOW + 7 * DAY),
            &app_url.join("/admin/disputes"),
        ),
        emails::verify_email(TO, 1, &app_url.join("/verify-email?token=sample")),
        emails::sign_up_attempt(TO, 1, NOW / 3600, &app_url.join("/login"), &app_url.join("/forgot-password")),
        emails::password_reset(TO, 1, &app_url.join("/reset-password?token=sample")),
        emails::usage_alert(TO, 1, ("api_calls", "API calls"), NOW, 80, (8_000, 10_000), &account),
        emails::payout_failed(
            TO,
            "po_sample",
            (2250, "usd"),
            Some("No bank account could be located"),
            &app_url.join("/creator"),
        ),
        emails::fraud_warning_alert(
            TO,
            "issfr_sample",
            (19_900, "usd"),
            "made_with_stolen_card",
            "It was not refunded: refund it from the payments page to avoid a dispute.",
            &app_url.join("/admin/payments"),
        ),
        emails::price_change_notice(
            TO,
            &emails::PriceChange {
                migration_id: 1,
                subscription_id: "sub_sample",
                plan: "Pro",
                old_amount: 2900,
                new_amount: 3900,
                currency: "usd",
                interval: "month",
                switch_at: NOW + 45 * DAY,
            },
            &account,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::templates;

    #[test]
    fn every_kind_renders_with_its_sample() {
        let samples = samples(&AppUrl::new("https://billing.example.com"));
        let kinds: Vec<&str> = samples.iter().map(|email| email.kind.as_str()).collect();
        assert_eq!(kinds, templates::kinds().collect::<Vec<_>>(), "one sample per template, in order");
        for email in &samples {
            let html = email.html_body.as_deref().unwrap_or_default();
            assert!(email.body.contains("https://"), "{}: a link in the text: {}", email.cause_key, email.body);
            assert!(html.contains("href=\"https://"), "{}: a link in the HTML: {html}", email.cause_key);
        }
    }

    #[test]
    fn dunning_emails_carry_stripes_dates() {
        let samples = samples(&AppUrl::new("https://x"));
        let final_notice = samples.iter().find(|e| e.kind == emails::EmailKind::PaymentFinalNotice).unwrap();
        assert!(final_notice.body.contains("one last attempt on 22 March 2026"), "{}", final_notice.body);
        assert!(final_notice.body.contains("your subscription will be canceled"), "{}", final_notice.body);
        let first = samples.iter().find(|e| e.kind == emails::EmailKind::PaymentFailed).unwrap();
        assert!(first.body.contains("We will try again on 4 March 2026"), "{}", first.body);
        assert_eq!(first.cause_key, "payment_failed:in_sample:1");
    }
}
