//! The email outbox. Billing events enqueue emails in the same transaction as the state change,
//! under a cause key that is unique: each email goes out at most once per cause, however often
//! the event is delivered or replayed. A separate sender drains the outbox.

use anyhow::Context;
use sqlx::{Any, Transaction};

use crate::views::format::money;

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
}

pub fn receipt(to: &str, invoice_id: &str, paid: i64, currency: &str, url: Option<&str>) -> Email {
    Email {
        cause_key: format!("receipt:{invoice_id}"),
        kind: EmailKind::Receipt,
        to: to.to_string(),
        subject: format!("Receipt: {} paid", money(paid, currency)),
        body: format!(
            "Thank you. We received your payment of {}.\n{}",
            money(paid, currency),
            url.map(|u| format!("Your invoice: {u}\n")).unwrap_or_default()
        ),
    }
}

/// One email per failed attempt: the attempt count is part of the cause.
pub fn payment_failed(to: &str, invoice_id: &str, attempt: i64, due: i64, currency: &str, fix_url: &str) -> Email {
    Email {
        cause_key: format!("payment_failed:{invoice_id}:{attempt}"),
        kind: EmailKind::PaymentFailed,
        to: to.to_string(),
        subject: format!("Your payment of {} failed", money(due, currency)),
        body: format!(
            "We could not charge your card for {}. Please update your payment method:\n{fix_url}\n",
            money(due, currency)
        ),
    }
}

pub fn action_required(to: &str, invoice_id: &str, url: &str) -> Email {
    Email {
        cause_key: format!("action_required:{invoice_id}"),
        kind: EmailKind::ActionRequired,
        to: to.to_string(),
        subject: "Your bank needs you to confirm a payment".to_string(),
        body: format!("Please confirm your payment here:\n{url}\n"),
    }
}

pub fn trial_ending(to: &str, subscription_id: &str, trial_end: i64, manage_url: &str) -> Email {
    Email {
        cause_key: format!("trial_ending:{subscription_id}:{trial_end}"),
        kind: EmailKind::TrialEnding,
        to: to.to_string(),
        subject: "Your trial ends soon".to_string(),
        body: format!("Your free trial ends in a few days. Manage your plan:\n{manage_url}\n"),
    }
}

/// A delayed payment method (bank debit…) failed after Checkout completed: nothing was granted.
pub fn checkout_payment_failed(to: &str, session_id: &str, retry_url: &str) -> Email {
    Email {
        cause_key: format!("checkout_payment_failed:{session_id}"),
        kind: EmailKind::CheckoutPaymentFailed,
        to: to.to_string(),
        subject: "Your payment did not go through".to_string(),
        body: format!("Your bank declined the payment for your order; nothing was charged. Try again:\n{retry_url}\n"),
    }
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
    let due = due_by.map(|t| format!("Evidence is due by unix time {t}.\n")).unwrap_or_default();
    Email {
        cause_key: format!("dispute_alert:{dispute_id}:{to}"),
        kind: EmailKind::DisputeAlert,
        to: to.to_string(),
        subject: format!("Dispute opened: {} ({reason})", money(amount_minor, currency)),
        body: format!(
            "A customer disputed a payment of {} (reason: {reason}).\n{due}Respond here:\n{admin_url}\n",
            money(amount_minor, currency)
        ),
    }
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
    Email {
        cause_key: format!("fraud_warning:{warning_id}:{to}"),
        kind: EmailKind::FraudWarning,
        to: to.to_string(),
        subject: format!("Early fraud warning: {} ({fraud_type})", money(amount_minor, currency)),
        body: format!(
            "The card issuer reported a payment of {} as possibly fraudulent ({fraud_type}); a dispute \
             may follow.\n{refund}\nThe payment:\n{admin_url}\n",
            money(amount_minor, currency)
        ),
    }
}

/// The link that confirms a new account's address; one mail per link (`token_id`).
pub fn verify_email(to: &str, token_id: i64, link: &str) -> Email {
    Email {
        cause_key: format!("verify_email:{token_id}"),
        kind: EmailKind::VerifyEmail,
        to: to.to_string(),
        subject: "Confirm your email address".to_string(),
        body: format!(
            "Welcome! Open this link to confirm your address (it works for a day):\n{link}\n\n\
             If you did not create an account, ignore this email.\n"
        ),
    }
}

/// Someone signed up with an address that has an account: its owner hears of it (at most once
/// an hour: `hour` is part of the cause), the sign-up form says nothing.
pub fn sign_up_attempt(to: &str, user_id: i64, hour: i64, login_url: &str, reset_url: &str) -> Email {
    Email {
        cause_key: format!("sign_up_attempt:{user_id}:{hour}"),
        kind: EmailKind::SignUpAttempt,
        to: to.to_string(),
        subject: "Someone tried to sign up with your address".to_string(),
        body: format!(
            "Someone tried to create an account with this address, which already has one.\n\
             If it was you, sign in:\n{login_url}\nor, if you forgot your password, reset it:\n{reset_url}\n\n\
             If it was not you, you need not do anything: your account is unchanged.\n"
        ),
    }
}

/// The link that sets a new password; one mail per link (`token_id`).
pub fn password_reset(to: &str, token_id: i64, link: &str) -> Email {
    Email {
        cause_key: format!("password_reset:{token_id}"),
        kind: EmailKind::PasswordReset,
        to: to.to_string(),
        subject: "Reset your password".to_string(),
        body: format!(
            "Open this link to choose a new password (it works once, for an hour):\n{link}\n\n\
             If you did not ask for it, ignore this email: your password stays as it is.\n"
        ),
    }
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
    Email {
        cause_key: format!("usage_alert:{user_id}:{meter_key}:{period_start}:{percent}"),
        kind: EmailKind::UsageAlert,
        to: to.to_string(),
        subject: format!("You have used {percent}% of your included {meter_name}"),
        body: format!(
            "You have used {used} of the {included} {meter_name} your plan includes this period: {what} of them.\n\
             Usage beyond them is billed as overage. See your usage and set a spend cap:\n{account_url}\n"
        ),
    }
}

/// A creator's payout failed: once per payout, with Stripe's reason and where to fix it.
pub fn payout_failed(to: &str, payout_id: &str, amount: (i64, &str), reason: Option<&str>, creator_url: &str) -> Email {
    let (amount_minor, currency) = amount;
    let reason = reason.map(|r| format!("Stripe's reason: {r}\n")).unwrap_or_default();
    Email {
        cause_key: format!("payout_failed:{payout_id}"),
        kind: EmailKind::PayoutFailed,
        to: to.to_string(),
        subject: format!("Your payout of {} failed", money(amount_minor, currency)),
        body: format!(
            "Stripe could not pay {} out to your bank account; the money stays in your balance.\n{reason}\
             Update your bank account in the Stripe dashboard (from your creator page):\n{creator_url}\n",
            money(amount_minor, currency)
        ),
    }
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
    Email {
        cause_key: format!("price_notice:{}:{}", change.migration_id, change.subscription_id),
        kind: EmailKind::PriceChangeNotice,
        to: to.to_string(),
        subject: format!("Your {} price changes on {day}", change.plan),
        body: format!(
            "From {day}, your {} subscription renews at {} a {} instead of {}. Nothing changes before then.\n\
             To change or cancel your plan before that day:\n{account_url}\n",
            change.plan,
            money(change.new_amount, change.currency),
            change.interval,
            money(change.old_amount, change.currency),
        ),
    }
}

/// Queues `email` unless its cause already queued one. Returns whether it was new.
pub async fn enqueue(tx: &mut Transaction<'_, Any>, email: &Email, now: i64) -> anyhow::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO emails (cause_key, kind, to_address, subject, body, status, attempts, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6) ON CONFLICT (cause_key) DO NOTHING",
    )
    .bind(&email.cause_key)
    .bind(email.kind.as_str())
    .bind(&email.to)
    .bind(&email.subject)
    .bind(&email.body)
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
