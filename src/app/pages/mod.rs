//! Pages, one module per area.

pub mod account;
pub mod account_usage;
pub mod admin;
pub mod auth;
pub mod change_plan;
pub mod checkout;
pub mod confirm_payment;
pub mod creator;
pub mod library;
pub mod password;
pub mod password_reset;
pub mod pay;
pub mod plan_cards;
pub mod pricing;
pub mod projects;
pub mod store;
pub mod verify_email;

use leptos::prelude::*;
use leptos_meta::Title;

use super::response;

#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text=""/>
        <section class="hero">
            <h1>"Subscriptions without the busywork"</h1>
            <p class="lead">
                "tollgate runs your plans, checkout and billing on Stripe, on your own server."
            </p>
            <p class="actions">
                <a class="button" href="/signup">"Get started"</a>
                <a class="button secondary" href="/pricing">"View plans"</a>
            </p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    response::set_status(404);
    view! {
        <Title text="Not found"/>
        <h1>"Page not found"</h1>
        <p><a href="/">"Back to the home page"</a></p>
    }
}

/// The page a logged-in user sees where they lack the rights (sent with HTTP 403).
#[component]
pub fn Forbidden() -> impl IntoView {
    response::set_status(403);
    view! {
        <Title text="Forbidden"/>
        <h1>"Forbidden"</h1>
        <p>"You don't have access to this page."</p>
    }
}

/// An empty list's place: what is missing, and what to do about it.
#[component]
pub fn EmptyState(title: &'static str, hint: &'static str) -> impl IntoView {
    view! {
        <p class="empty">
            <strong>{title}</strong>
            {hint}
        </p>
    }
}

/// A form's error, announced to assistive technology. Renders nothing without a message.
#[component]
pub fn FormAlert(#[prop(into)] message: Signal<Option<String>>) -> impl IntoView {
    move || message.get().map(|text| view! { <p class="alert" role="alert">{text}</p> })
}

/// The one-time notice a billing form post left (what it did, or why it was refused).
#[component]
pub fn Notices() -> impl IntoView {
    let notice = Resource::new(|| (), |_| crate::api::billing::take_notice());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                notice.get().and_then(Result::ok).flatten().map(|notice| {
                    if notice.is_error {
                        view! { <p class="alert" role="alert">{notice.message}</p> }.into_any()
                    } else {
                        view! { <p class="notice" role="status">{notice.message}</p> }.into_any()
                    }
                })
            }}
        </Suspense>
    }
}
