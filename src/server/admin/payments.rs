//! Payments as the admin sees them (local tables, kept by the webhook worker) with Radar's risk
//! and early fraud warnings, Radar's reviews, refunds issued from the admin (Stripe first, then
//! the audit row; the refund row itself arrives with the webhook), and disputes with their
//! deadlines.

use anyhow::Context;
use sqlx::AnyPool;
use stripe_shared::PaymentIntentId;

use crate::domain::money::Money;
use crate::server::billing::refunds;
use crate::server::http::outcome::FormError;
use crate::server::stripe::idempotency::new_form_token;
use crate::server::{config::StripeMode, db, state::AppState};
use crate::views::admin::customer::dashboard_url;
use crate::views::admin::payments::{
    is_risky, risk_summary, DisputeLine, DisputeSort, DisputesPage, DunningLine, PaymentLine, PaymentsOverview,
    RefundForm, RefundLine, ReviewLine,
};
use crate::views::admin::sort::Sort;
use crate::views::format::money;

const LIST_LIMIT: i64 = 50;

/// A payment with what has been refunded of it so far.
#[derive(sqlx::FromRow)]
struct PaymentRow {
    id: String,
    customer_id: Option<String>,
    email: Option<String>,
    amount: i64,
    currency: String,
    status: String,
    failure_code: Option<String>,
    failure_message: Option<String>,
    created: i64,
    refunded: i64,
    risk_level: Option<String>,
    risk_score: Option<i64>,
    outcome_type: Option<String>,
    seller_message: Option<String>,
    /// The latest early fraud warning's type, if the issuer sent one.
    fraud_type: Option<String>,
}

impl From<PaymentRow> for PaymentLine {
    fn from(row: PaymentRow) -> Self {
        let failure = match (row.failure_code, row.failure_message) {
            (Some(code), Some(message)) => Some(format!("{message} ({code})")),
            (code, message) => message.or(code),
        };
        PaymentLine {
            id: row.id,
            customer_id: row.customer_id,
            email: row.email,
            amount: money(row.amount, &row.currency),
            status: row.status,
            failure,
            refunded: (row.refunded > 0).then(|| money(row.refunded, &row.currency)),
            created: row.created,
            risk: row
                .risk_level
                .as_deref()
                .map(|level| risk_summary(level, row.risk_score, row.outcome_type.as_deref())),
            seller_message: row.seller_message,
            risky: row.risk_level.as_deref().is_some_and(is_risky),
            fraud_warning: row.fraud_type,
        }
    }
}

/// The payment columns [`PaymentRow`] reads (`p` the payment, `u` its user): refunds summed per
/// payment (the CAST keeps SUM an integer on Postgres) and the latest early fraud warning.
const PAYMENT_COLUMNS: &str = "p.id, p.customer_id, u.email, p.amount, p.currency, p.status, \
    p.failure_code, p.failure_message, p.created, \
    CAST(COALESCE((SELECT SUM(r.amount) FROM refunds r WHERE r.payment_intent_id = p.id \
      AND r.status IN ('succeeded', 'pending')), 0) AS BIGINT) AS refunded, \
    p.risk_level, p.risk_score, p.outcome_type, p.seller_message, \
    (SELECT w.fraud_type FROM early_fraud_warnings w WHERE w.payment_intent_id = p.id \
      ORDER BY w.created DESC LIMIT 1) AS fraud_type";

async fn payments_where(pool: &AnyPool, condition: &str) -> anyhow::Result<Vec<PaymentLine>> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p LEFT JOIN users u ON u.stripe_customer_id = p.customer_id \
         WHERE {condition} ORDER BY p.created DESC, p.id DESC LIMIT {LIST_LIMIT}"
    );
    let rows = sqlx::query_as::<_, PaymentRow>(&sql).fetch_all(pool).await.context("reading payments")?;
    Ok(rows.into_iter().map(PaymentLine::from).collect())
}

/// An open invoice Stripe is still retrying.
#[derive(sqlx::FromRow)]
struct DunningRow {
    id: String,
    customer_id: String,
    email: Option<String>,
    amount_due: i64,
    currency: String,
    attempt_count: i64,
    next_payment_attempt: Option<i64>,
    hosted_invoice_url: Option<String>,
}

impl From<DunningRow> for DunningLine {
    fn from(row: DunningRow) -> Self {
        DunningLine {
            invoice_id: row.id,
            customer_id: row.customer_id,
            email: row.email,
            amount_due: money(row.amount_due, &row.currency),
            attempts: row.attempt_count,
            next_attempt: row.next_payment_attempt,
            hosted_url: row.hosted_invoice_url,
        }
    }
}

#[derive(sqlx::FromRow)]
struct RefundRow {
    id: String,
    payment_intent_id: Option<String>,
    amount: i64,
    currency: String,
    reason: Option<String>,
    status: String,
    created: i64,
}

impl From<RefundRow> for RefundLine {
    fn from(row: RefundRow) -> Self {
        RefundLine {
            id: row.id,
            payment_intent_id: row.payment_intent_id,
            amount: money(row.amount, &row.currency),
            reason: row.reason,
            status: row.status,
            created: row.created,
        }
    }
}

/// The customer's payments, newest first (their timeline).
pub async fn of_customer(pool: &AnyPool, customer_id: &str, limit: i64) -> anyhow::Result<Vec<PaymentLine>> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments p LEFT JOIN users u ON u.stripe_customer_id = p.customer_id \
         WHERE p.customer_id = $1 ORDER BY p.created DESC, p.id DESC LIMIT $2"
    );
    let rows = sqlx::query_as::<_, PaymentRow>(&sql)
        .bind(customer_id)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("reading the customer's payments")?;
    Ok(rows.into_iter().map(PaymentLine::from).collect())
}

#[derive(sqlx::FromRow)]
struct ReviewRow {
    id: String,
    payment_intent_id: Option<String>,
    is_open: i64,
    reason: String,
    created: i64,
}

impl From<ReviewRow> for ReviewLine {
    fn from(row: ReviewRow) -> Self {
        ReviewLine {
            id: row.id,
            payment_intent_id: row.payment_intent_id,
            open: row.is_open != 0,
            reason: row.reason,
            created: row.created,
        }
    }
}

pub async fn overview(pool: &AnyPool) -> anyhow::Result<PaymentsOverview> {
    let failed = payments_where(pool, "p.status IN ('requires_payment_method', 'canceled', 'failed')").await?;
    let succeeded = payments_where(pool, "p.status = 'succeeded'").await?;
    let dunning = sqlx::query_as::<_, DunningRow>(
        "SELECT i.id, i.customer_id, u.email, i.amount_due, i.currency, i.attempt_count, \
           i.next_payment_attempt, i.hosted_invoice_url \
         FROM invoices i LEFT JOIN users u ON u.stripe_customer_id = i.customer_id \
         WHERE i.status = 'open' AND i.attempt_count > 0 \
         ORDER BY i.next_payment_attempt, i.id LIMIT 100",
    )
    .fetch_all(pool)
    .await
    .context("reading the dunning queue")?
    .into_iter()
    .map(DunningLine::from)
    .collect();
    let refunds = sqlx::query_as::<_, RefundRow>(&format!(
        "SELECT id, payment_intent_id, amount, currency, reason, status, created FROM refunds \
         ORDER BY created DESC, id DESC LIMIT {LIST_LIMIT}"
    ))
    .fetch_all(pool)
    .await
    .context("reading refunds")?
    .into_iter()
    .map(RefundLine::from)
    .collect();
    let reviews = sqlx::query_as::<_, ReviewRow>(&format!(
        "SELECT id, payment_intent_id, CAST(is_open AS INTEGER) AS is_open, reason, created FROM reviews \
         ORDER BY created DESC, id DESC LIMIT {LIST_LIMIT}"
    ))
    .fetch_all(pool)
    .await
    .context("reading Radar's reviews")?
    .into_iter()
    .map(ReviewLine::from)
    .collect();
    Ok(PaymentsOverview { failed, dunning, succeeded, refunds, reviews })
}

pub async fn refund_form(state: &AppState, payment_intent_id: &PaymentIntentId) -> Result<RefundForm, FormError> {
    let r = refunds::refundable(&state.stripe_client, payment_intent_id).await?;
    let email = match &r.customer {
        Some(customer) => sqlx::query_scalar("SELECT email FROM users WHERE stripe_customer_id = $1")
            .bind(customer)
            .fetch_optional(state.db.pool())
            .await
            .context("reading the customer's email")?,
        None => None,
    };
    let left = Money::new(r.left, r.currency);
    Ok(RefundForm {
        payment_intent_id: payment_intent_id.to_string(),
        email,
        paid: Money::new(r.paid, r.currency).to_string(),
        refundable: left.to_string(),
        refundable_input: left.major_digits(),
        currency: r.currency.as_str().to_string(),
        token: new_form_token(),
    })
}

#[derive(sqlx::FromRow)]
struct DisputeRow {
    id: String,
    charge_id: String,
    customer_id: Option<String>,
    amount: i64,
    currency: String,
    reason: String,
    status: String,
    evidence_due_by: Option<i64>,
}

impl DisputeRow {
    /// The line with its dashboard link and the whole days left at `now`.
    fn into_line(self, live: bool, now: i64) -> DisputeLine {
        DisputeLine {
            dashboard_url: dashboard_url(live, &format!("disputes/{}", self.id)),
            id: self.id,
            charge_id: self.charge_id,
            customer_id: self.customer_id,
            amount: money(self.amount, &self.currency),
            reason: self.reason,
            status: self.status,
            evidence_due_by: self.evidence_due_by,
            days_left: self.evidence_due_by.map(|d| (d - now).div_euclid(86_400)),
        }
    }
}

/// The `ORDER BY` of `sort`: each column's expression is fixed here.
fn dispute_ordering(sort: Sort<DisputeSort>) -> String {
    let expressions: &[&str] = match sort.column {
        DisputeSort::Amount => &["amount"],
        DisputeSort::Reason => &["reason"],
        DisputeSort::Status => &["status"],
        // Open disputes before closed ones, then by deadline (none: last).
        DisputeSort::Due => &[
            "CASE WHEN status IN ('won', 'lost', 'warning_closed') THEN 1 ELSE 0 END",
            "CASE WHEN evidence_due_by IS NULL THEN 1 ELSE 0 END",
            "evidence_due_by",
        ],
    };
    super::order_by(expressions, sort.dir, "id")
}

pub async fn disputes(state: &AppState, sort: Sort<DisputeSort>) -> anyhow::Result<DisputesPage> {
    let live = state.stripe.mode == StripeMode::Live;
    let now = db::now();
    let sql = format!(
        "SELECT id, charge_id, customer_id, amount, currency, reason, status, evidence_due_by FROM disputes \
         ORDER BY {} LIMIT 200",
        dispute_ordering(sort)
    );
    let rows = sqlx::query_as::<_, DisputeRow>(&sql).fetch_all(state.db.pool()).await.context("reading disputes")?;
    Ok(DisputesPage { lines: rows.into_iter().map(|row| row.into_line(live, now)).collect(), sort })
}
