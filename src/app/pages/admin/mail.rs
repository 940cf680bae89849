//! `/admin/mail`: the dev mailbox.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::admin::mail::admin_mail;
use crate::views::admin::mail::{MailItem, Mailbox};

use super::{admin_load, AdminNav};
use crate::app::pages::EmptyState;
use crate::views::format::utc;

#[component]
pub fn MailPage() -> impl IntoView {
    let query = use_query_map();
    let page = Memo::new(move |_| query.read().get("page").and_then(|p| p.parse::<i64>().ok()).unwrap_or(0));
    let mailbox = Resource::new(move || page.get(), |p| admin_mail(Some(p)));
    view! {
        <Title text="Mail"/>
        {admin_load(mailbox, |mailbox| view! { <Mails mailbox=mailbox/> })}
    }
}

#[component]
fn Mails(mailbox: Mailbox) -> impl IntoView {
    let note = if mailbox.smtp_configured {
        "SMTP is configured: these are the outbox records of mail sent."
    } else {
        "No SMTP_URL is set: mail stays here instead of being sent."
    };
    let newer =
        (mailbox.page > 0).then(|| view! { <a href=format!("/admin/mail?page={}", mailbox.page - 1)>"Newer mail"</a> });
    let older =
        mailbox.has_more.then(|| view! { <a href=format!("/admin/mail?page={}", mailbox.page + 1)>"Older mail"</a> });
    let empty = mailbox.mails.is_empty();
    view! {
        <AdminNav current="/admin/mail"/>
        <h1>"Mailbox"</h1>
        <p class="admin-muted">{note}" "<a href="/admin/mail/templates">"Preview the email templates"</a></p>
        {empty.then(|| view! { <EmptyState title="No mail yet." hint="Receipts, reminders and sign-up links appear here when they are sent."/> })}
        <ul class="admin-list mailbox">
            {mailbox.mails.into_iter().map(|m| view! { <Mail m=m/> }).collect_view()}
        </ul>
        <nav class="admin-pager" aria-label="Pages">{newer}" "{older}</nav>
    }
}

#[component]
fn Mail(m: MailItem) -> impl IntoView {
    let error = m.last_error.clone().map(|e| view! { <p class="admin-error-text">{e}</p> });
    view! {
        <li>
            <details>
                <summary>
                    <strong>{m.subject.clone()}</strong>" — to "{m.to.clone()}" — "{utc(m.created_at)}
                    " "<span class="admin-badge">{m.status.clone()}</span>
                </summary>
                <p class="admin-muted">{format!("{} · #{}", m.kind, m.id)}</p>
                {error}
                <pre class="admin-mail-body">{m.body.clone()}</pre>
            </details>
        </li>
    }
}
