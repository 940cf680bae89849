//! `/admin/mail`: the dev mailbox (the email outbox; without SMTP_URL nothing leaves it).

use leptos::prelude::*;

use crate::views::{
    admin::mail::{Mailbox, TemplatePreview},
    AppError,
};

#[server(endpoint = "admin_mail")]
pub async fn admin_mail(page: Option<i64>) -> Result<Mailbox, AppError> {
    use crate::server::{admin::mail, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let page = page.unwrap_or(0).max(0);
    let (mails, has_more) = mail::page(ctx.state.db.pool(), page).await?;
    Ok(Mailbox { smtp_configured: ctx.state.config.smtp_url.is_some(), mails, page, has_more })
}

/// `/admin/mail/templates`: every email template rendered with sample data and the brand.
#[server(endpoint = "admin_mail_templates")]
pub async fn admin_mail_templates() -> Result<Vec<TemplatePreview>, AppError> {
    use crate::server::mail::templates::Letterhead;
    use crate::server::{billing::email_samples, http::app_url::AppUrl, http::context::RequestCtx};
    let ctx = RequestCtx::extract().await?;
    ctx.require_admin().await?;
    let app_url = AppUrl::new(ctx.state.config.app_url.as_str());
    let letterhead = Letterhead::new(&ctx.state.config.brand, &app_url);
    let previews = email_samples::samples(&app_url)
        .into_iter()
        .map(|email| TemplatePreview {
            kind: email.kind.as_str().to_owned(),
            text: format!("{}{}", email.body, letterhead.signature),
            html: email.html_body.as_deref().map(|html| letterhead.wrap(&email.subject, html)).unwrap_or_default(),
            subject: email.subject,
        })
        .collect();
    Ok(previews)
}
