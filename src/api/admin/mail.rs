//! `/admin/mail`: the dev mailbox (the email outbox; without SMTP_URL nothing leaves it).

use leptos::prelude::*;

use crate::views::{admin::mail::Mailbox, AppError};

#[server(endpoint = "admin_mail")]
pub async fn admin_mail(page: Option<i64>) -> Result<Mailbox, AppError> {
    use crate::server::{admin::mail, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let page = page.unwrap_or(0).max(0);
    let (mails, has_more) = mail::page(ctx.state.db.pool(), page).await?;
    Ok(Mailbox { smtp_configured: ctx.state.config.smtp_url.is_some(), mails, page, has_more })
}
