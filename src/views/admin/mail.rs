//! `/admin/mail`: the dev mailbox (the email outbox; without SMTP_URL nothing leaves it).

use serde::{Deserialize, Serialize};

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

/// `/admin/mail/templates`: one email kind rendered with sample data, as it would go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplatePreview {
    pub kind: String,
    pub subject: String,
    /// The text alternative, signature included.
    pub text: String,
    /// The full HTML document (layout included), for a sandboxed frame.
    pub html: String,
}
