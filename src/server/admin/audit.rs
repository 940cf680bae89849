//! The audit log: one row per admin operation on money or state (refunds, plan changes and
//! cancellations, replays), written in the same transaction as the operation's local write.

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_shared::CustomerId;

use crate::views::admin::audit::AuditEntry;

/// Who did it and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    /// `None` for Stripe (what a webhook applied).
    pub user_id: Option<i64>,
    pub email: String,
    /// Where the request came from; `None` when there was no request.
    pub ip: Option<String>,
}

impl Actor {
    /// Stripe, for what its events caused (a marketplace order paid, a payout failed).
    pub fn stripe() -> Self {
        Self { user_id: None, email: "stripe".into(), ip: None }
    }
}

pub struct Record<'a> {
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
}

pub async fn write(
    tx: &mut Transaction<'static, Any>,
    actor: &Actor,
    record: Record<'_>,
    now: i64,
) -> anyhow::Result<()> {
    insert(tx, actor, record, None, now).await?;
    Ok(())
}

/// Writes the row of the request whose form token is `request_key`, unless a row already has
/// that key: `false` then (the form was submitted twice; the first submit did the work).
pub async fn write_once(
    tx: &mut Transaction<'static, Any>,
    actor: &Actor,
    record: Record<'_>,
    request_key: &str,
    now: i64,
) -> anyhow::Result<bool> {
    insert(tx, actor, record, Some(request_key), now).await
}

async fn insert(
    tx: &mut Transaction<'static, Any>,
    actor: &Actor,
    record: Record<'_>,
    request_key: Option<&str>,
    now: i64,
) -> anyhow::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO audit_log (actor_user_id, actor_email, action, subject_type, subject_id, \
           customer_id, ip, before_state, after_state, created_at, request_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (request_key) DO NOTHING",
    )
    .bind(actor.user_id)
    .bind(&actor.email)
    .bind(record.action)
    .bind(record.subject_type)
    .bind(record.subject_id)
    .bind(record.customer_id)
    .bind(actor.ip.as_deref())
    .bind(record.before)
    .bind(record.after)
    .bind(now)
    .bind(request_key)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("writing the audit row for {} {}", record.action, record.subject_id))?;
    Ok(result.rows_affected() == 1)
}

/// Whether a request with this form token was already carried out (and audited).
pub async fn request_done(pool: &AnyPool, request_key: &str) -> anyhow::Result<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM audit_log WHERE request_key = $1")
        .bind(request_key)
        .fetch_optional(pool)
        .await
        .context("looking up a request key")?;
    Ok(found.is_some())
}

const COLUMNS: &str = "id, actor_email, action, subject_type, subject_id, customer_id, ip, \
     before_state, after_state, created_at";

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    actor_email: String,
    action: String,
    subject_type: String,
    subject_id: String,
    customer_id: Option<String>,
    ip: Option<String>,
    before_state: Option<String>,
    after_state: Option<String>,
    created_at: i64,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> Self {
        AuditEntry {
            id: row.id,
            actor_email: row.actor_email,
            action: row.action,
            subject_type: row.subject_type,
            subject_id: row.subject_id,
            customer_id: row.customer_id,
            ip: row.ip,
            before: row.before_state,
            after: row.after_state,
            created_at: row.created_at,
        }
    }
}

/// Audit rows about one subject (an order…), newest first.
pub async fn for_subject(pool: &AnyPool, subject_type: &str, subject_id: &str) -> anyhow::Result<Vec<AuditEntry>> {
    newest_where(pool, "subject_type = $1 AND subject_id = $2", &[subject_type, subject_id]).await
}

/// Audit rows about a customer, newest first.
pub async fn for_customer(pool: &AnyPool, customer_id: &CustomerId) -> anyhow::Result<Vec<AuditEntry>> {
    newest_where(pool, "customer_id = $1", &[customer_id.as_str()]).await
}

/// The newest 200 rows matching `filter` (a fixed condition on `$1…` bound to `values`).
async fn newest_where(pool: &AnyPool, filter: &str, values: &[&str]) -> anyhow::Result<Vec<AuditEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE {filter} ORDER BY id DESC LIMIT 200");
    let query = values.iter().fold(sqlx::query_as::<_, AuditRow>(&sql), |query, value| query.bind(*value));
    let rows = query.fetch_all(pool).await.context("reading audit rows")?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}
