//! /creator (login required): becoming a creator through Stripe's hosted onboarding, where the
//! account stands (and what Stripe still needs), and Stripe's Express dashboard. Plain forms:
//! the page works without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::marketplace::{creator_page, OnboardCreator, OpenCreatorDashboard};
use crate::views::marketplace::{CreatorPageView, CreatorView};

use super::Notices;

#[component]
pub fn CreatorPage() -> impl IntoView {
    let page = Resource::new(|| (), |_| creator_page());
    view! {
        <Title text="Sell on tollgate"/>
        <h1>"Sell on tollgate"</h1>
        <Notices/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                page.get().map(|result| match result {
                    Ok(Some(CreatorPageView { creator: Some(creator) })) => view! { <Creator creator/> }.into_any(),
                    Ok(Some(CreatorPageView { creator: None })) => view! { <BecomeCreator/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn BecomeCreator() -> impl IntoView {
    view! {
        <section class="card" data-creator-state="none">
            <p>
                "Sell digital products to other members. Payments go to your own Stripe account; "
                "the platform keeps a fee on each sale."
            </p>
            <form method="post" action=OnboardCreator::url()>
                <button type="submit">"Become a creator"</button>
            </form>
        </section>
    }
}

#[component]
fn Creator(creator: CreatorView) -> impl IntoView {
    let CreatorView { state, due } = creator;
    let status = match state.as_str() {
        "enabled" => "Your Stripe account is ready: you can publish products and get paid.",
        "restricted" => "Stripe needs more before you can sell:",
        _ => "Your Stripe account is not set up yet.",
    };
    let enabled = state == "enabled";
    let due = (!due.is_empty()).then(|| {
        let items = due.into_iter().map(|item| view! { <li>{item}</li> }).collect_view();
        view! { <ul class="requirements-due">{items}</ul> }
    });
    let action = if enabled {
        view! {
            <form method="post" action=OpenCreatorDashboard::url()>
                <button type="submit" class="secondary">"Open Stripe dashboard"</button>
            </form>
        }
        .into_any()
    } else {
        view! {
            <form method="post" action=OnboardCreator::url()>
                <button type="submit">"Continue onboarding"</button>
            </form>
        }
        .into_any()
    };
    view! {
        <section class="card" data-creator-state=state.clone()>
            <h2>"Your Stripe account"</h2>
            <p class="creator-status">{status}</p>
            {due}
            {action}
        </section>
    }
}
