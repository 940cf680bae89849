//! Creators' payouts, as Stripe last reported them. Each `payout.*` event of the Connect
//! endpoint re-reads its payout on the creator's account and stores it (`sync`), so repeated
//! and late events change nothing. The move to `failed` is one conditional update, and only
//! the call that makes it writes the audit row (`marketplace.payout_failed`, by Stripe) and
//! queues the creator's email.
//! `of_account` lists them for the creator's dashboard.

use anyhow::Context;
use sqlx::{Any, AnyPool, Transaction};
use stripe_core::payout::RetrievePayout;
use stripe_shared::{Payout, PayoutId};

use crate::domain::marketplace::PayoutStatus;
use crate::server::admin::audit::{self, Actor};
use crate::server::billing::emails;
use crate::server::db;
use crate::server::stripe::client::StripeClient;

/// What the app keeps of a payout (`status` as Stripe writes it).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PayoutRow {
    pub id: String,
    pub account_id: String,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub arrival_date: Option<i64>,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub created: i64,
}

impl PayoutRow {
    pub fn from_stripe(account_id: &str, payout: &Payout) -> Self {
        Self {
            id: payout.id.as_str().to_owned(),
            account_id: account_id.to_owned(),
            amount: payout.amount,
            currency: payout.currency.to_string(),
            status: payout.status.clone(),
            arrival_date: Some(payout.arrival_date),
            failure_code: payout.failure_code.clone(),
            failure_message: payout.failure_message.clone(),
            created: payout.created,
        }
    }
}

/// Reads the payout from Stripe, through a client acting on its connected account.
pub async fn read(stripe: &StripeClient, id: &PayoutId) -> anyhow::Result<Payout> {
    anyhow::ensure!(stripe.account().is_some(), "reading a creator's payout needs a client acting on their account");
    stripe.send(&RetrievePayout::new(id.clone()), None).await.with_context(|| format!("reading payout {id}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synced {
    Stored,
    /// This call recorded the payout's failure (and audited it).
    Failed,
}

/// Stores the payout as Stripe reports it now; `creator_url` is the creator page a failure's
/// email links to.
pub async fn sync(pool: &AnyPool, row: &PayoutRow, creator_url: &str, now: i64) -> anyhow::Result<Synced> {
    let mut tx = db::begin_write(pool).await.context("starting a transaction")?;
    let synced = if row.status == PayoutStatus::Failed.as_str() {
        record_failure(&mut tx, row, creator_url, now).await?
    } else {
        upsert(&mut tx, row, now).await?;
        Synced::Stored
    };
    tx.commit().await.context("committing the payout")?;
    Ok(synced)
}

/// Inserts the row; `on_conflict` is what a row already there gets. True when it inserted or
/// updated a row.
async fn insert(
    tx: &mut Transaction<'static, Any>,
    row: &PayoutRow,
    now: i64,
    on_conflict: &str,
) -> anyhow::Result<bool> {
    let sql = format!(
        "INSERT INTO payouts (id, account_id, amount, currency, status, arrival_date, failure_code, \
           failure_message, created, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (id) {on_conflict}"
    );
    let result = sqlx::query(&sql)
        .bind(&row.id)
        .bind(&row.account_id)
        .bind(row.amount)
        .bind(&row.currency)
        .bind(&row.status)
        .bind(row.arrival_date)
        .bind(row.failure_code.as_deref())
        .bind(row.failure_message.as_deref())
        .bind(row.created)
        .bind(now)
        .execute(&mut **tx)
        .await
        .with_context(|| format!("storing payout {}", row.id))?;
    Ok(result.rows_affected() == 1)
}

/// Inserts or updates the row; one Stripe ended (`failed`, `canceled`) is never moved again,
/// so a stale read cannot undo it.
async fn upsert(tx: &mut Transaction<'static, Any>, row: &PayoutRow, now: i64) -> anyhow::Result<()> {
    let update = "DO UPDATE SET amount = excluded.amount, status = excluded.status, \
         arrival_date = excluded.arrival_date, failure_code = excluded.failure_code, \
         failure_message = excluded.failure_message, updated_at = excluded.updated_at \
         WHERE payouts.status NOT IN ('failed', 'canceled')";
    insert(tx, row, now, update).await?;
    Ok(())
}

/// Moves the payout to `failed` unless it is already; only the call that moves it audits it
/// and tells the creator.
async fn record_failure(
    tx: &mut Transaction<'static, Any>,
    row: &PayoutRow,
    creator_url: &str,
    now: i64,
) -> anyhow::Result<Synced> {
    let before: Option<String> = sqlx::query_scalar("SELECT status FROM payouts WHERE id = $1")
        .bind(&row.id)
        .fetch_optional(&mut **tx)
        .await
        .context("reading the payout's status")?;
    // A new row when Stripe's first word about it is the failure, else the conditional update.
    let moved = insert(tx, row, now, "DO NOTHING").await? || {
        let updated = sqlx::query(
            "UPDATE payouts SET status = 'failed', failure_code = $1, failure_message = $2, updated_at = $3 \
             WHERE id = $4 AND status <> 'failed'",
        )
        .bind(row.failure_code.as_deref())
        .bind(row.failure_message.as_deref())
        .bind(now)
        .bind(&row.id)
        .execute(&mut **tx)
        .await
        .with_context(|| format!("marking payout {} failed", row.id))?;
        updated.rows_affected() == 1
    };
    if !moved {
        return Ok(Synced::Stored);
    }
    let before = before.map(|status| serde_json::json!({ "status": status }).to_string());
    let after = serde_json::json!({
        "status": "failed", "amount": row.amount, "currency": row.currency, "account": row.account_id,
        "failure_code": row.failure_code, "failure_message": row.failure_message,
    })
    .to_string();
    let record = audit::Record {
        action: "marketplace.payout_failed",
        subject_type: "payout",
        subject_id: &row.id,
        customer_id: None,
        before: before.as_deref(),
        after: Some(&after),
    };
    audit::write(tx, &Actor::stripe(), record, now).await?;
    tell_the_creator(tx, row, creator_url, now).await?;
    Ok(Synced::Failed)
}

/// Queues the failed payout's email to the creator whose account it is (none for an account no
/// creator has: the webhook handler sets those aside before syncing).
async fn tell_the_creator(
    tx: &mut Transaction<'static, Any>,
    row: &PayoutRow,
    creator_url: &str,
    now: i64,
) -> anyhow::Result<()> {
    let to: Option<String> = sqlx::query_scalar(
        "SELECT users.email FROM creators JOIN users ON users.id = creators.user_id WHERE creators.account_id = $1",
    )
    .bind(&row.account_id)
    .fetch_optional(&mut **tx)
    .await
    .context("reading the creator's address")?;
    if let Some(to) = to {
        let email = emails::payout_failed(
            &to,
            &row.id,
            (row.amount, &row.currency),
            row.failure_message.as_deref(),
            creator_url,
        );
        emails::enqueue(tx, &email, now).await?;
    }
    Ok(())
}

/// The account's payouts the dashboard shows (not the canceled ones), newest first.
pub async fn of_account(pool: &AnyPool, account_id: &str, limit: i64) -> anyhow::Result<Vec<PayoutRow>> {
    sqlx::query_as(
        "SELECT id, account_id, amount, currency, status, arrival_date, failure_code, failure_message, created \
         FROM payouts WHERE account_id = $1 AND status <> 'canceled' ORDER BY created DESC, id DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(pool)
    .await
    .context("listing the creator's payouts")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::test_db;

    fn payout(status: &str) -> PayoutRow {
        PayoutRow {
            id: "po_1".into(),
            account_id: "acct_1".into(),
            amount: 2250,
            currency: "usd".into(),
            status: status.into(),
            arrival_date: Some(86_400),
            failure_code: (status == "failed").then(|| "no_account".into()),
            failure_message: (status == "failed").then(|| "No bank account could be located.".into()),
            created: 1,
        }
    }

    async fn audits(pool: &AnyPool) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'marketplace.payout_failed'")
            .fetch_one(pool)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_failure_is_recorded_and_audited_once_whatever_the_order_of_reads() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool();
        assert_eq!(sync(pool, &payout("pending"), "http://x/creator", 10).await.unwrap(), Synced::Stored);
        assert_eq!(sync(pool, &payout("paid"), "http://x/creator", 11).await.unwrap(), Synced::Stored);
        // Stripe may report a paid payout failed later.
        assert_eq!(sync(pool, &payout("failed"), "http://x/creator", 12).await.unwrap(), Synced::Failed);
        assert_eq!(sync(pool, &payout("failed"), "http://x/creator", 13).await.unwrap(), Synced::Stored, "a repeat");
        // A stale read arriving late does not undo the failure.
        assert_eq!(sync(pool, &payout("in_transit"), "http://x/creator", 14).await.unwrap(), Synced::Stored);
        let stored = of_account(pool, "acct_1", 10).await.unwrap();
        assert_eq!(stored, vec![payout("failed")]);
        assert_eq!(audits(pool).await, 1);
        let (before, after): (Option<String>, Option<String>) = sqlx::query_as(
            "SELECT before_state, after_state FROM audit_log WHERE action = 'marketplace.payout_failed'",
        )
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!(before.as_deref(), Some(r#"{"status":"paid"}"#));
        assert!(after.unwrap().contains(r#""failure_code":"no_account""#));
    }

    #[tokio::test]
    async fn a_payout_first_seen_failed_is_stored_and_audited_once() {
        let (_dir, db) = test_db(true).await;
        let pool = db.pool();
        assert_eq!(sync(pool, &payout("failed"), "http://x/creator", 10).await.unwrap(), Synced::Failed);
        assert_eq!(sync(pool, &payout("failed"), "http://x/creator", 11).await.unwrap(), Synced::Stored);
        assert_eq!(audits(pool).await, 1);
        let before: Option<String> =
            sqlx::query_scalar("SELECT before_state FROM audit_log").fetch_one(pool).await.unwrap();
        assert_eq!(before, None);
    }
}
