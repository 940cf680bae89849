//! `/admin/mail/templates`: every email template with sample data (subject, HTML, text).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::mail::admin_mail_templates;
use crate::views::admin::mail::TemplatePreview;

use super::{admin_load, AdminNav};

#[component]
pub fn MailTemplatesPage() -> impl IntoView {
    let previews = Resource::new(|| (), |()| admin_mail_templates());
    view! {
        <Title text="Email templates"/>
        {admin_load(previews, |previews| view! { <Previews previews=previews/> })}
    }
}

#[component]
fn Previews(previews: Vec<TemplatePreview>) -> impl IntoView {
    view! {
        <AdminNav current="/admin/mail"/>
        <h1>"Email templates"</h1>
        <p class="admin-muted">
            "Each email as it goes out, with sample data and your brand (templates/mail). "
            <a href="/admin/mail">"Back to the mailbox"</a>
        </p>
        <ul class="admin-list mailbox">
            {previews.into_iter().map(|p| view! { <Preview p=p/> }).collect_view()}
        </ul>
    }
}

#[component]
fn Preview(p: TemplatePreview) -> impl IntoView {
    let kind = p.kind.clone();
    view! {
        <li class="mail-template" data-kind=kind>
            <h2>{p.subject}</h2>
            <p class="admin-muted">{p.kind}</p>
            // sandbox with no permissions: the mail's HTML runs nothing and reaches nothing.
            <iframe class="mail-preview" sandbox="" title="HTML version" srcdoc=p.html></iframe>
            <pre class="admin-mail-body">{p.text}</pre>
        </li>
    }
}
