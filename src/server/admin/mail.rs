//! The email outbox, newest first, for the dev mailbox page.

use sqlx::{AnyPool, Row};

use crate::views::admin::mail::{MailItem, MAILS_PER_PAGE};

use super::Filtered;

/// One page of emails and whether more follow.
pub async fn page(pool: &AnyPool, page: i64) -> anyhow::Result<(Vec<MailItem>, bool)> {
    let (rows, has_more) = Filtered::default()
        .page(
            pool,
            "SELECT id, to_address, subject, body, kind, status, last_error, created_at FROM emails",
            "created_at DESC, id DESC",
            MAILS_PER_PAGE,
            page,
        )
        .await?;
    let mails = rows
        .into_iter()
        .map(|row| {
            Ok(MailItem {
                id: row.try_get("id")?,
                to: row.try_get("to_address")?,
                subject: row.try_get("subject")?,
                body: row.try_get("body")?,
                kind: row.try_get("kind")?,
                status: row.try_get("status")?,
                last_error: row.try_get("last_error")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((mails, has_more))
}
