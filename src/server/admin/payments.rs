//! Payments as the admin sees them (local tables, kept by the webhook worker), refunds issued
//! from the admin (Stripe first, then the audit row; the refund row itself arrives with the
//! webhook), and disputes with their deadlines.

use anyhow::Context;
use sqlx::{AnyPool, Row};

use super::audit;
use crate::domain::money::Money;
use crate::server::billing::refunds;
use crate::server::http::outcome::FormError;
use crate::server::{config::StripeMode, db, state::AppState};
use crate::views::admin::customer::dashboard_url;
use crate::views::admin::payments::{DisputeLine, DunningLine, PaymentLine, PaymentsOverview, RefundForm, RefundLine};
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

pub async fn refund_form(state: &AppState, payment_intent_id: &str) -> Result<RefundForm, FormError> {
    let r = refunds::refundable(state, payment_intent_id).await?;
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
