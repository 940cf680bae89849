//! `/admin/mail`: the dev mailbox (the email outbox; without SMTP_URL nothing leaves it).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailItem {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub kind: String,
    pub status: String,
    pub last_error: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mailbox {
    pub smtp_configured: bool,
    pub mails: Vec<MailItem>,
    pub page: i64,
    pub has_more: bool,
}

pub const MAILS_PER_PAGE: i64 = 50;

#[server(endpoint = "admin_mail")]
pub async fn admin_mail(page: Option<i64>) -> Result<Mailbox, AppError> {
    use crate::server::{admin::mail, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let page = page.unwrap_or(0).max(0);
    let (mails, has_more) = mail::page(ctx.state.db.pool(), page).await?;
    Ok(Mailbox { smtp_configured: ctx.state.config.smtp_url.is_some(), mails, page, has_more })
}
