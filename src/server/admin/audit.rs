//! The audit log: one row per admin operation on money or state (replay now; refunds and plan
//! changes later), written in the same transaction as the operation.

use anyhow::Context;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::api::admin::audit::AuditEntry;

/// Who did it and from where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub email: String,
    pub ip: String,
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
    sqlx::query(
        "INSERT INTO audit_log (actor_user_id, actor_email, action, subject_type, subject_id, \
           customer_id, ip, before_state, after_state, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(actor.user_id)
    .bind(&actor.email)
    .bind(record.action)
    .bind(record.subject_type)
    .bind(record.subject_id)
    .bind(record.customer_id)
    .bind(&actor.ip)
    .bind(record.before)
    .bind(record.after)
    .bind(now)
    .execute(&mut **tx)
    .await
    .with_context(|| format!("writing the audit row for {} {}", record.action, record.subject_id))?;
    Ok(())
}

const COLUMNS: &str = "id, actor_email, action, subject_type, subject_id, customer_id, ip, \
     before_state, after_state, created_at";

fn entry(row: sqlx::any::AnyRow) -> anyhow::Result<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        actor_email: row.try_get("actor_email")?,
        action: row.try_get("action")?,
        subject_type: row.try_get("subject_type")?,
        subject_id: row.try_get("subject_id")?,
        customer_id: row.try_get("customer_id")?,
        ip: row.try_get("ip")?,
        before: row.try_get("before_state")?,
        after: row.try_get("after_state")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Audit rows about a subject (e.g. one event), newest first.
pub async fn for_subject(pool: &AnyPool, subject_id: &str) -> anyhow::Result<Vec<AuditEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE subject_id = $1 ORDER BY id DESC");
    let rows = sqlx::query(&sql).bind(subject_id).fetch_all(pool).await.context("reading audit rows")?;
    rows.into_iter().map(entry).collect()
}

/// Audit rows about a customer, newest first.
pub async fn for_customer(pool: &AnyPool, customer_id: &str) -> anyhow::Result<Vec<AuditEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM audit_log WHERE customer_id = $1 ORDER BY id DESC LIMIT 200");
    let rows = sqlx::query(&sql).bind(customer_id).fetch_all(pool).await.context("reading audit rows")?;
    rows.into_iter().map(entry).collect()
}
