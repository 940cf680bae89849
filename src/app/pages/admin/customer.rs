//! `/admin/customers/:id`: subscriptions and the timeline, with Stripe dashboard links.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::admin::customer::{admin_customer, CustomerView, TimelineItem};

use super::{admin_load, format::utc, AdminNav};

#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    let customer = Resource::new(move || params.read().get("id").unwrap_or_default(), admin_customer);
    view! {
        <Title text="Customer"/>
        {admin_load(customer, |customer| view! { <Customer customer=customer/> })}
    }
}

#[component]
fn Customer(customer: CustomerView) -> impl IntoView {
    let heading = customer.email.clone().unwrap_or_else(|| customer.id.clone());
    let empty = customer.timeline.is_empty();
    view! {
        <AdminNav current="/admin/subscriptions"/>
        <h1>{heading}</h1>
        <p>
            <code>{customer.id.clone()}</code>" · "
            <a href=customer.stripe_url.clone() rel="external noopener" target="_blank">"Open in the Stripe dashboard"</a>
        </p>
        <h2>"Subscriptions"</h2>
        <ul class="admin-list">
            {customer.subscriptions.into_iter().map(|s| view! {
                <li>
                    <code>{s.id.clone()}</code>" — "{s.lookup_key.clone().unwrap_or_default()}" — "
                    {s.status.describe()}" — "{s.mrr.to_string()}" MRR"
                </li>
            }).collect_view()}
        </ul>
        <h2>"Timeline"</h2>
        {empty.then(|| view! { <p>"Nothing yet."</p> })}
        <ol class="admin-timeline">
            {customer.timeline.into_iter().map(|item| view! { <Entry item=item/> }).collect_view()}
        </ol>
    }
}

#[component]
fn Entry(item: TimelineItem) -> impl IntoView {
    let link = item.stripe_url.clone().map(|url| {
        view! { " · "<a href=url rel="external noopener" target="_blank">"In Stripe"</a> }
    });
    view! {
        <li class=format!("timeline-{}", item.kind.label().to_lowercase().replace(' ', "-"))>
            <time>{utc(item.at)}</time>" "
            <strong>{item.kind.label()}</strong>": "{item.title.clone()}
            <br/><span class="admin-muted">{item.detail.clone()}</span>{link}
        </li>
    }
}
