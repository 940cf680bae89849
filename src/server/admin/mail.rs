//! The email outbox, newest first, for the dev mailbox page.

use sqlx::AnyPool;

use crate::views::admin::mail::{MailItem, MAILS_PER_PAGE};

use super::Filtered;

#[derive(sqlx::FromRow)]
struct EmailRow {
    id: i64,
    to_address: String,
    subject: String,
    body: String,
    kind: String,
    status: String,
    last_error: Option<String>,
    created_at: i64,
}

impl From<EmailRow> for MailItem {
    fn from(row: EmailRow) -> Self {
        MailItem {
            id: row.id,
            to: row.to_address,
            subject: row.subject,
            body: row.body,
            kind: row.kind,
            status: row.status,
            last_error: row.last_error,
            created_at: row.created_at,
        }
    }
}

/// One page of emails and whether more follow.
pub async fn page(pool: &AnyPool, page: i64) -> anyhow::Result<(Vec<MailItem>, bool)> {
    let (rows, has_more) = Filtered::default()
        .page::<EmailRow>(
            pool,
            "SELECT id, to_address, subject, body, kind, status, last_error, created_at FROM emails",
            "created_at DESC, id DESC",
            MAILS_PER_PAGE,
            page,
        )
        .await?;
    Ok((rows.into_iter().map(MailItem::from).collect(), has_more))
}
