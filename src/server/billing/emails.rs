//! The email outbox. Billing events enqueue emails in the same transaction as the state change,
//! under a cause key that is unique: each email goes out at most once per cause, however often
//! the event is delivered or replayed. A separate sender drains the outbox.
//!
//! The words are in `templates/mail` (`server::mail::templates`): each constructor names the
//! email's cause, recipient and subject and hands its template the values it shows.

use anyhow::Context;
use minijinja::{context, Value};
use sqlx::{Any, Transaction};

use crate::domain::dunning::DunningEnd;
use crate::server::mail::templates;
use crate::views::format::{day, money};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailKind {
    Receipt,
    PaymentFailed,
    ActionRequired,
    TrialEnding,
    CheckoutPaymentFailed,
    DisputeAlert,
    VerifyEmail,
    SignUpAttempt,
    PasswordReset,
    /// An operational alert opened (`server/alerts`), to every admin.
    OpsAlert,
    /// That alert's recovery.
    OpsRecovered,
    /// A customer's usage reached a threshold of their included units.
    UsageAlert,
    /// Stripe could not pay a creator's balance out to their bank account.
    PayoutFailed,
    /// A price migration moves the subscriber to a new price at a coming renewal.
    PriceChangeNotice,
    /// An issuer's early fraud warning about a charge, to every admin.
    FraudWarning,
    /// Dunning's second failed attempt on a subscription's invoice (the first is PaymentFailed).
    PaymentUrgent,
    /// Dunning's next attempt is its last: when, and what happens if it fails.
    PaymentFinalNotice,
    /// Every attempt failed: what Stripe did to the subscription.
    DunningOutcome,
    /// A refund of the customer's payment went through.
    RefundIssued,
}

impl EmailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Receipt => "receipt",
            Self::PaymentFailed => "payment_failed",
            Self::ActionRequired => "action_required",
            Self::TrialEnding => "trial_ending",
            Self::CheckoutPaymentFailed => "checkout_payment_failed",
            Self::DisputeAlert => "dispute_alert",
            Self::VerifyEmail => "verify_email",
            Self::SignUpAttempt => "sign_up_attempt",
            Self::PasswordReset => "password_reset",
            Self::OpsAlert => "ops_alert",
            Self::OpsRecovered => "ops_recovered",
            Self::UsageAlert => "usage_alert",
            Self::PayoutFailed => "payout_failed",
            Self::PriceChangeNotice => "price_change_notice",
            Self::FraudWarning => "fraud_warning",
            Self::PaymentUrgent => "payment_urgent",
            Self::PaymentFinalNotice => "payment_final_notice",
            Self::DunningOutcome => "dunning_outcome",
            Self::RefundIssued => "refund_issued",
        }
    }
}

/// Kinds whose body carries a one-time link: the sender empties the body once the mail has
/// left (the table keeps only the token's hash; the outbox must not keep the token itself).
pub const ONE_TIME_LINK_KINDS: [EmailKind; 2] = [EmailKind::VerifyEmail, EmailKind::PasswordReset];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub cause_key: String,
    pub kind: EmailKind,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// The HTML alternative's body (the sender wraps it in the brand's layout); `None` sends
    /// text only.
    pub html_body: Option<String>,
}

/// An email of `kind` whose text and HTML its templates render from `data`.
fn templated(cause_key: String, kind: EmailKind, to: &str, subject: String, data: Value) -> Email {
    let (body, html) = templates::render(kind.as_str(), &data);
    Email { cause_key, kind, to: to.to_string(), subject, body, html_body: Some(html) }
}

pub fn receipt(to: &str, invoice_id: &str, paid: i64, currency: &str, url: Option<&str>) -> Email {
    templated(
        format!("receipt:{invoice_id}"),
        EmailKind::Receipt,
        to,
        format!("Receipt: {} paid", money(paid, currency)),
        context! { amount => money(paid, currency), url },
    )
}

/// One email per failed attempt: the attempt count is part of the cause. A subscription's
/// invoice sends it for its first attempt only (then `payment_urgent`, …: `domain::dunning`).
pub fn payment_failed(to: &str, invoice_id: &str, attempt: i64, due: i64, currency: &str, fix_url: &str) -> Email {
    payment_failed_retrying(to, (invoice_id, attempt, None), (due, currency), fix_url)
}

/// A failed attempt Stripe retries at `next_attempt` (`next_payment_attempt`), when it does.
pub fn payment_failed_retrying(
    to: &str,
    (invoice_id, attempt, next_attempt): (&str, i64, Option<i64>),
    (due, currency): (i64, &str),
    fix_url: &str,
) -> Email {
    templated(
        format!("payment_failed:{invoice_id}:{attempt}"),
        EmailKind::PaymentFailed,
        to,
        format!("Your payment of {} failed", money(due, currency)),
        context! { amount => money(due, currency), url => fix_url, next_attempt => next_attempt.map(day) },
    )
}

/// Dunning's second failure: once per invoice.
pub fn payment_urgent(
    to: &str,
    invoice_id: &str,
    next_attempt: Option<i64>,
    (due, currency): (i64, &str),
    fix_url: &str,
) -> Email {
    templated(
        format!("payment_urgent:{invoice_id}"),
        EmailKind::PaymentUrgent,
        to,
        format!("Urgent: your payment of {} failed again", money(due, currency)),
        context! { amount => money(due, currency), url => fix_url, next_attempt => next_attempt.map(day) },
    )
}

/// The next attempt (`last_attempt_at`) is Stripe's last: once per invoice.
pub fn payment_final_notice(
    to: &str,
    (invoice_id, attempts, last_attempt_at): (&str, i64, i64),
    (due, currency): (i64, &str),
    end: DunningEnd,
    fix_url: &str,
) -> Email {
    templated(
        format!("payment_final_notice:{invoice_id}"),
        EmailKind::PaymentFinalNotice,
        to,
        format!("Final notice: your payment of {} is still due", money(due, currency)),
        context! {
            amount => money(due, currency),
            attempts,
            last_attempt => day(last_attempt_at),
            warning => end.warning(),
            url => fix_url,
        },
    )
}

/// Every attempt on the invoice failed and Stripe did what `end` says: once per invoice.
/// `links` are the account page (pay with a new card) and the pricing page (subscribe again).
pub fn dunning_outcome(
    to: &str,
    (invoice_id, attempts): (&str, i64),
    (due, currency): (i64, &str),
    end: DunningEnd,
    (account_url, pricing_url): (&str, &str),
) -> Email {
    let (subject, next_step, url) = match end {
        DunningEnd::Cancel => ("Your subscription was canceled", "You can subscribe again at any time", pricing_url),
        DunningEnd::Unpaid => ("Your subscription is unpaid", "Pay the open invoice with a new card", account_url),
        DunningEnd::PastDue => ("Your payment is still due", "Pay the open invoice with a new card", account_url),
    };
    templated(
        format!("dunning_outcome:{invoice_id}"),
        EmailKind::DunningOutcome,
        to,
        subject.to_string(),
        context! { amount => money(due, currency), attempts, outcome => end.outcome(), next_step, url },
    )
}

/// A refund that succeeded: once per refund, with the charge's receipt (which lists it).
pub fn refund_issued(to: &str, refund_id: &str, (amount, currency): (i64, &str), receipt_url: Option<&str>) -> Email {
    templated(
        format!("refund_issued:{refund_id}"),
        EmailKind::RefundIssued,
        to,
        format!("Refund issued: {}", money(amount, currency)),
        context! { amount => money(amount, currency), reference => refund_id, url => receipt_url },
    )
}

pub fn action_required(to: &str, invoice_id: &str, url: &str) -> Email {
    templated(
        format!("action_required:{invoice_id}"),
        EmailKind::ActionRequired,
        to,
        "Your bank needs you to confirm a payment".to_string(),
        context! { url },
    )
}

pub fn trial_ending(to: &str, subscription_id: &str, trial_end: i64, manage_url: &str) -> Email {
    templated(
        format!("trial_ending:{subscription_id}:{trial_end}"),
        EmailKind::TrialEnding,
        to,
        "Your trial ends soon".to_string(),
        context! { url => manage_url },
    )
}

/// A delayed payment method (bank debit…) failed after Checkout completed: nothing was granted.
pub fn checkout_payment_failed(to: &str, session_id: &str, retry_url: &str) -> Email {
    templated(
        format!("checkout_payment_failed:{session_id}"),
        EmailKind::CheckoutPaymentFailed,
        to,
        "Your payment did not go through".to_string(),
        context! { url => retry_url },
    )
}

/// One alert per admin per dispute: a dispute has a response deadline.
pub fn dispute_alert(
    to: &str,
    dispute_id: &str,
    amount_minor: i64,
    currency: &str,
    reason: &str,
    due_by: Option<i64>,
    admin_url: &str,
) -> Email {
    templated(
        format!("dispute_alert:{dispute_id}:{to}"),
        EmailKind::DisputeAlert,
        to,
        format!("Dispute opened: {} ({reason})", money(amount_minor, currency)),
        context! { amount => money(amount_minor, currency), reason, due_by, url => admin_url },
    )
}

/// One alert per admin per early fraud warning: a dispute may follow, and a refund made before
/// it avoids one. `refund` says what tollgate did about it.
pub fn fraud_warning_alert(
    to: &str,
    warning_id: &str,
    charge: (i64, &str),
    fraud_type: &str,
    refund: &str,
    admin_url: &str,
) -> Email {
    let (amount_minor, currency) = charge;
    templated(
        format!("fraud_warning:{warning_id}:{to}"),
        EmailKind::FraudWarning,
        to,
        format!("Early fraud warning: {} ({fraud_type})", money(amount_minor, currency)),
        context! { amount => money(amount_minor, currency), fraud_type, refund, url => admin_url },
    )
}

/// The link that confirms a new account's address; one mail per link (`token_id`).
pub fn verify_email(to: &str, token_id: i64, link: &str) -> Email {
    templated(
        format!("verify_email:{token_id}"),
        EmailKind::VerifyEmail,
        to,
        "Confirm your email address".to_string(),
        context! { url => link },
    )
}

/// Someone signed up with an address that has an account: its owner hears of it (at most once
/// an hour: `hour` is part of the cause), the sign-up form says nothing.
pub fn sign_up_attempt(to: &str, user_id: i64, hour: i64, login_url: &str, reset_url: &str) -> Email {
    templated(
        format!("sign_up_attempt:{user_id}:{hour}"),
        EmailKind::SignUpAttempt,
        to,
        "Someone tried to sign up with your address".to_string(),
        context! { login_url, reset_url },
    )
}

/// The link that sets a new password; one mail per link (`token_id`).
pub fn password_reset(to: &str, token_id: i64, link: &str) -> Email {
    templated(
        format!("password_reset:{token_id}"),
        EmailKind::PasswordReset,
        to,
        "Reset your password".to_string(),
        context! { url => link },
    )
}

/// Usage reached `percent` of the included units: once per threshold, meter and period.
pub fn usage_alert(
    to: &str,
    user_id: i64,
    meter: (&str, &str),
    period_start: i64,
    percent: u32,
    usage: (u64, u64),
    account_url: &str,
) -> Email {
    let (meter_key, meter_name) = meter;
    let (used, included) = usage;
    let what = if percent >= 100 { "all" } else { "most" };
    templated(
        format!("usage_alert:{user_id}:{meter_key}:{period_start}:{percent}"),
        EmailKind::UsageAlert,
        to,
        format!("You have used {percent}% of your included {meter_name}"),
        context! { used, included, meter_name, what, url => account_url },
    )
}

/// A creator's payout failed: once per payout, with Stripe's reason and where to fix it.
pub fn payout_failed(to: &str, payout_id: &str, amount: (i64, &str), reason: Option<&str>, creator_url: &str) -> Email {
    let (amount_minor, currency) = amount;
    templated(
        format!("payout_failed:{payout_id}"),
        EmailKind::PayoutFailed,
        to,
        format!("Your payout of {} failed", money(amount_minor, currency)),
        context! { amount => money(amount_minor, currency), reason, url => creator_url },
    )
}

/// What a price migration changes for one subscriber.
pub struct PriceChange<'a> {
    pub migration_id: i64,
    pub subscription_id: &'a str,
    pub plan: &'a str,
    /// Per billing period, for all seats.
    pub old_amount: i64,
    pub new_amount: i64,
    pub currency: &'a str,
    pub interval: &'a str,
    pub switch_at: i64,
}

/// Notice of a price change, once per migration and subscription.
pub fn price_change_notice(to: &str, change: &PriceChange<'_>, account_url: &str) -> Email {
    let day = crate::views::format::day(change.switch_at);
    templated(
        format!("price_notice:{}:{}", change.migration_id, change.subscription_id),
        EmailKind::PriceChangeNotice,
        to,
        format!("Your {} price changes on {day}", change.plan),
        context! {
            day,
            plan => change.plan,
            new_price => money(change.new_amount, change.currency),
            old_price => money(change.old_amount, change.currency),
            interval => change.interval,
            url => account_url,
        },
    )
}

/// Queues `email` unless its cause already queued one. Returns whether it was new.
pub async fn enqueue(tx: &mut Transaction<'_, Any>, email: &Email, now: i64) -> anyhow::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO emails (cause_key, kind, to_address, subject, body, html_body, status, attempts, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7) ON CONFLICT (cause_key) DO NOTHING",
    )
    .bind(&email.cause_key)
    .bind(email.kind.as_str())
    .bind(&email.to)
    .bind(&email.subject)
    .bind(&email.body)
    .bind(email.html_body.as_deref())
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("queueing email {}", email.cause_key))?;
    Ok(result.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_keys_name_what_the_email_is_about() {
        assert_eq!(receipt("a@b.c", "in_1", 2900, "usd", None).cause_key, "receipt:in_1");
        let failed = payment_failed("a@b.c", "in_1", 2, 2900, "usd", "http://x/account");
        assert_eq!(failed.cause_key, "payment_failed:in_1:2");
        assert!(failed.subject.contains("$29.00"), "{}", failed.subject);
        assert!(failed.body.contains("http://x/account"));
        assert_eq!(trial_ending("a@b.c", "sub_1", 99, "u").cause_key, "trial_ending:sub_1:99");
    }
}
