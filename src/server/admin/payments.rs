//! Payments as the admin sees them (local tables, kept by the webhook worker), refunds issued
//! from the admin (Stripe first, then the audit row; the refund row itself arrives with the
//! webhook), and disputes with their deadlines.

use anyhow::Context;
use sqlx::{AnyPool, Row};
use stripe_core::charge::RetrieveCharge;
use stripe_core::payment_intent::RetrievePaymentIntent;
use stripe_core::refund::{CreateRefund, CreateRefundReason};

use super::audit::{self, Actor, Record};
use crate::domain::money::{Currency, Money};
use crate::server::http::outcome::FormError;
use crate::server::{config::StripeMode, db, state::AppState};
use crate::views::admin::customer::dashboard_url;
use crate::views::admin::payments::{
    DisputeLine, DunningLine, PaymentLine, PaymentsOverview, RefundForm, RefundLine, REFUND_REASONS,
};
use crate::views::format::money;

const LIST_LIMIT: i64 = 50;

fn payment_line(row: &sqlx::any::AnyRow) -> anyhow::Result<PaymentLine> {
    let currency: String = row.try_get("currency")?;
    let refunded: i64 = row.try_get("refunded")?;
    let failure: Option<String> =
        match (row.try_get::<Option<String>, _>("failure_code")?, row.try_get::<Option<String>, _>("failure_message")?)
        {
            (Some(code), Some(message)) => Some(format!("{message} ({code})")),
            (code, message) => message.or(code),
        };
    Ok(PaymentLine {
        id: row.try_get("id")?,
        customer_id: row.try_get("customer_id")?,
        email: row.try_get("email")?,
        amount: money(row.try_get("amount")?, &currency),
        status: row.try_get("status")?,
        failure,
        refunded: (refunded > 0).then(|| money(refunded, &currency)),
        created: row.try_get("created")?,
    })
}

async fn payments_where(pool: &AnyPool, condition: &str) -> anyhow::Result<Vec<PaymentLine>> {
    // Refunds are summed per payment; the CAST keeps SUM an integer on Postgres.
    let sql = format!(
        "SELECT p.id, p.customer_id, u.email, p.amount, p.currency, p.status, p.failure_code, \
           p.failure_message, p.created, \
           CAST(COALESCE((SELECT SUM(r.amount) FROM refunds r WHERE r.payment_intent_id = p.id \
             AND r.status IN ('succeeded', 'pending')), 0) AS BIGINT) AS refunded \
         FROM payments p LEFT JOIN users u ON u.stripe_customer_id = p.customer_id \
         WHERE {condition} ORDER BY p.created DESC, p.id DESC LIMIT {LIST_LIMIT}"
    );
    let rows = sqlx::query(&sql).fetch_all(pool).await.context("reading payments")?;
    rows.iter().map(payment_line).collect()
}

pub async fn overview(pool: &AnyPool) -> anyhow::Result<PaymentsOverview> {
    let failed = payments_where(pool, "p.status IN ('requires_payment_method', 'canceled', 'failed')").await?;
    let succeeded = payments_where(pool, "p.status = 'succeeded'").await?;
    let dunning_rows = sqlx::query(
        "SELECT i.id, i.customer_id, u.email, i.amount_due, i.currency, i.attempt_count, \
           i.next_payment_attempt, i.hosted_invoice_url \
         FROM invoices i LEFT JOIN users u ON u.stripe_customer_id = i.customer_id \
         WHERE i.status = 'open' AND i.attempt_count > 0 \
         ORDER BY i.next_payment_attempt, i.id LIMIT 100",
    )
    .fetch_all(pool)
    .await
    .context("reading the dunning queue")?;
    let dunning = dunning_rows
        .iter()
        .map(|r| {
            let currency: String = r.try_get("currency")?;
            Ok(DunningLine {
                invoice_id: r.try_get("id")?,
                customer_id: r.try_get("customer_id")?,
                email: r.try_get("email")?,
                amount_due: money(r.try_get("amount_due")?, &currency),
                attempts: r.try_get("attempt_count")?,
                next_attempt: r.try_get("next_payment_attempt")?,
                hosted_url: r.try_get("hosted_invoice_url")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let refund_rows = sqlx::query(&format!(
        "SELECT id, payment_intent_id, amount, currency, reason, status, created FROM refunds \
         ORDER BY created DESC, id DESC LIMIT {LIST_LIMIT}"
    ))
    .fetch_all(pool)
    .await
    .context("reading refunds")?;
    let refunds = refund_rows
        .iter()
        .map(|r| {
            let currency: String = r.try_get("currency")?;
            Ok(RefundLine {
                id: r.try_get("id")?,
                payment_intent_id: r.try_get("payment_intent_id")?,
                amount: money(r.try_get("amount")?, &currency),
                reason: r.try_get("reason")?,
                status: r.try_get("status")?,
                created: r.try_get("created")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(PaymentsOverview { failed, dunning, succeeded, refunds })
}

/// What Stripe says is paid and still refundable on a PaymentIntent's charge.
struct Refundable {
    charge_id: String,
    paid: i64,
    left: i64,
    currency: Currency,
    customer: Option<String>,
}

async fn refundable(state: &AppState, payment_intent_id: &str) -> Result<Refundable, FormError> {
    if !payment_intent_id.starts_with("pi_") {
        return Err(FormError::Refused("That is not a payment.".into()));
    }
    let intent = state
        .stripe_client
        .send(&RetrievePaymentIntent::new(payment_intent_id), None)
        .await
        .map_err(|_| FormError::Refused("No such payment.".into()))?;
    let charge_id = intent
        .latest_charge
        .as_ref()
        .map(|c| c.id().as_str().to_string())
        .ok_or_else(|| FormError::Refused("This payment has no charge to refund.".into()))?;
    let charge = state
        .stripe_client
        .send(&RetrieveCharge::new(charge_id.as_str()), None)
        .await
        .context("retrieving the charge")?;
    if !charge.paid {
        return Err(FormError::Refused("This payment did not succeed: there is nothing to refund.".into()));
    }
    let currency = Currency::parse(&charge.currency.to_string()).context("the charge's currency")?;
    Ok(Refundable {
        charge_id,
        paid: charge.amount,
        left: charge.amount - charge.amount_refunded,
        currency,
        customer: charge.customer.as_ref().map(|c| c.id().as_str().to_string()),
    })
}

pub async fn refund_form(state: &AppState, payment_intent_id: &str) -> Result<RefundForm, FormError> {
    let r = refundable(state, payment_intent_id).await?;
    let email = match &r.customer {
        Some(customer) => sqlx::query_scalar("SELECT email FROM users WHERE stripe_customer_id = $1")
            .bind(customer)
            .fetch_optional(state.db.pool())
            .await
            .context("reading the customer's email")?,
        None => None,
    };
    let left = Money::new(r.left, r.currency);
    // `12.50` for the input: the Display form without its currency sign.
    let input = left.to_string().trim_start_matches(|c: char| !c.is_ascii_digit()).to_string();
    Ok(RefundForm {
        payment_intent_id: payment_intent_id.to_string(),
        email,
        paid: Money::new(r.paid, r.currency).to_string(),
        refundable: left.to_string(),
        refundable_input: input.split(' ').next().unwrap_or_default().to_string(),
        currency: r.currency.as_str().to_string(),
        token: audit::new_token(),
    })
}

/// Issues a refund: checks the amount against what is left, calls Stripe with an idempotency
/// key from the form's token (a double submit is one refund), and audits it.
pub async fn refund(
    state: &AppState,
    actor: &Actor,
    payment_intent_id: &str,
    amount: &str,
    reason: &str,
    token: &str,
) -> Result<String, FormError> {
    let reason_code = match reason {
        "requested_by_customer" => CreateRefundReason::RequestedByCustomer,
        "duplicate" => CreateRefundReason::Duplicate,
        "fraudulent" => CreateRefundReason::Fraudulent,
        _ => {
            let known: Vec<&str> = REFUND_REASONS.iter().map(|(code, _)| *code).collect();
            return Err(FormError::Refused(format!("Choose a reason: {}.", known.join(", "))));
        }
    };
    audit::check_token(token)?;
    let r = refundable(state, payment_intent_id).await?;
    let wanted = Money::parse_major(amount, r.currency).map_err(|e| FormError::Refused(format!("Amount: {e}.")))?;
    let key = format!("admin-refund-{token}");
    let done = format!("Refund of {wanted} requested. It is listed below once Stripe confirms it.");
    if audit::request_done(state.db.pool(), &key).await? {
        // Submitted twice: the first submit refunded (and what is left has shrunk since).
        return Ok(done);
    }
    if wanted.minor() <= 0 || wanted.minor() > r.left {
        return Err(FormError::Refused(format!(
            "Refund between {} and {}.",
            Money::new(1, r.currency),
            Money::new(r.left, r.currency)
        )));
    }
    let create = CreateRefund::new()
        .payment_intent(payment_intent_id)
        .amount(wanted.minor())
        .reason(reason_code)
        .metadata(std::collections::HashMap::from([("refunded_by".to_string(), actor.email.clone())]));
    let refund = state.stripe_client.send(&create, Some(&key)).await.context("creating the refund")?;
    let now = db::now();
    let mut tx = db::begin_write(state.db.pool()).await.context("starting a transaction")?;
    let before = format!("refunded {} of {}", Money::new(r.paid - r.left, r.currency), Money::new(r.paid, r.currency));
    let after = format!("refund {} of {} ({reason}), charge {}", refund.id.as_str(), wanted, r.charge_id);
    let record = Record {
        action: "refund",
        subject_type: "payment",
        subject_id: payment_intent_id,
        customer_id: r.customer.as_deref(),
        before: Some(&before),
        after: Some(&after),
    };
    audit::write_once(&mut tx, actor, record, &key, now).await?;
    tx.commit().await.context("committing the audit row")?;
    Ok(done)
}

pub async fn disputes(state: &AppState) -> anyhow::Result<Vec<DisputeLine>> {
    let live = state.stripe.mode == StripeMode::Live;
    let now = db::now();
    let rows = sqlx::query(
        "SELECT id, charge_id, customer_id, amount, currency, reason, status, evidence_due_by FROM disputes \
         ORDER BY CASE WHEN status IN ('won', 'lost', 'warning_closed') THEN 1 ELSE 0 END, evidence_due_by, id \
         LIMIT 200",
    )
    .fetch_all(state.db.pool())
    .await
    .context("reading disputes")?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let currency: String = r.try_get("currency")?;
            let due: Option<i64> = r.try_get("evidence_due_by")?;
            Ok(DisputeLine {
                dashboard_url: dashboard_url(live, &format!("disputes/{id}")),
                id,
                charge_id: r.try_get("charge_id")?,
                customer_id: r.try_get("customer_id")?,
                amount: money(r.try_get("amount")?, &currency),
                reason: r.try_get("reason")?,
                status: r.try_get("status")?,
                evidence_due_by: due,
                days_left: due.map(|d| (d - now).div_euclid(86_400)),
            })
        })
        .collect()
}
