//! Admin pages, one module per page. Admins only: the route guard, and every server function
//! the pages call, check the role.

pub mod coupons;
pub mod customer;
pub mod dispute;
pub mod dunning;
pub mod events;
pub mod list;
pub mod mail;
pub mod mail_templates;
pub mod marketplace;
pub mod migrations;
pub mod order;
pub mod payments;
pub mod revenue;
pub mod status;
pub mod subscriptions;
pub mod usage;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::views::AppError;

use super::{Forbidden, Notices};

/// The admin section's own navigation; `current` is the page's path.
#[component]
pub fn AdminNav(current: &'static str) -> impl IntoView {
    const LINKS: [(&str, &str); 12] = [
        ("/admin", "Revenue"),
        ("/admin/subscriptions", "Subscriptions"),
        ("/admin/payments", "Payments"),
        ("/admin/disputes", "Disputes"),
        ("/admin/coupons", "Coupons"),
        ("/admin/dunning", "Dunning"),
        ("/admin/marketplace", "Marketplace"),
        ("/admin/events", "Events"),
        ("/admin/usage", "Usage"),
        ("/admin/migrations", "Migrations"),
        ("/admin/mail", "Mail"),
        ("/admin/status", "Status"),
    ];
    view! {
        <nav class="admin-nav" aria-label="Admin">
            <ul>
                {LINKS
                    .into_iter()
                    .map(|(href, label)| {
                        let aria_current = (href == current).then_some("page");
                        view! { <li><a href=href aria-current=aria_current>{label}</a></li> }
                    })
                    .collect_view()}
            </ul>
        </nav>
    }
}

/// An admin page's data behind Suspense: `render` when it loads; log-in, the 403 page or the
/// safe message when it does not.
pub fn admin_load<T, V>(
    resource: Resource<Result<T, AppError>>,
    render: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                let render = render.clone();
                resource.get().map(move |result| match result {
                    Ok(data) => render(data).into_any(),
                    Err(error) => admin_error(error),
                })
            }}
        </Suspense>
    }
}

/// A confirm step (a refund, a plan change…): its heading, the notice a refused post left, the
/// form `render` shows once `form` has loaded, and the link back to `back`.
/// Where a confirm step's "back" link goes, and its text.
pub type BackLink = (Signal<String>, &'static str);

pub fn confirm_step<T, V>(
    heading: &'static str,
    section: &'static str,
    form: Resource<Result<T, AppError>>,
    render: impl Fn(T) -> V + Clone + Send + Sync + 'static,
    back: BackLink,
) -> impl IntoView
where
    T: Clone + Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
    V: IntoView + 'static,
{
    let (href, text) = back;
    view! {
        <Title text=heading/>
        <AdminNav current=section/>
        <h1>{heading}</h1>
        <Notices/>
        {admin_load(form, render)}
        <p><a href=href>{text}</a></p>
    }
}

/// A labelled `<select>` for a list filter: "any" first, then `options` as (value, text).
#[component]
pub fn FilterSelect(
    id: &'static str,
    name: &'static str,
    label: &'static str,
    any: &'static str,
    options: Vec<(String, String)>,
    selected: Option<String>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <select id=id name=name>
            <option value="">{any}</option>
            {options
                .into_iter()
                .map(|(value, text)| {
                    let is_selected = selected.as_deref() == Some(value.as_str());
                    view! { <option value=value selected=is_selected>{text}</option> }
                })
                .collect_view()}
        </select>
    }
}

/// A table's `<thead>`: one column header per name.
pub fn column_heads(names: &'static [&'static str]) -> impl IntoView {
    view! {
        <thead>
            <tr>{names.iter().map(|name| view! { <th scope="col">{*name}</th> }).collect_view()}</tr>
        </thead>
    }
}

/// An object's audit rows, newest first (`class` names the table for tests and styles).
#[component]
pub fn AuditHistory(entries: Vec<crate::views::admin::audit::AuditEntry>, class: &'static str) -> impl IntoView {
    view! {
        <h2>"History"</h2>
        <table class=format!("admin-table {class}")>
            {column_heads(&["When", "Who", "What", "Before", "After"])}
            <tbody>
                {entries.into_iter().map(|entry| view! {
                    <tr>
                        <td>{crate::views::format::utc(entry.created_at)}</td>
                        <td>{entry.actor_email}</td>
                        <td>{entry.action}</td>
                        <td><code>{entry.before.unwrap_or_default()}</code></td>
                        <td><code>{entry.after.unwrap_or_default()}</code></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// What a failed admin load shows: log-in, the 403 page, or the safe message.
pub fn admin_error(error: AppError) -> AnyView {
    match error {
        AppError::Unauthorized => view! { <Redirect path="/login"/> }.into_any(),
        AppError::Forbidden => view! { <Forbidden/> }.into_any(),
        error => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
    }
}
