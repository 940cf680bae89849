//! /pricing: the catalog's plans as cards with a Monthly/Yearly control (a query parameter, so it
//! works without JavaScript) that says what yearly saves, the recommended and the signed-in
//! user's plans marked, then one-time purchases and the creators' store in their own sections.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::billing::{pricing, Buy};
use crate::views::billing::{ItemCard, PricingView};
use crate::views::payment_element::CheckoutUi;

use super::plan_cards::{IntervalToggle, PlanGrid};
use super::{verify_email::VerifyEmailBanner, Notices};

#[component]
pub fn PricingPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("interval"), pricing);
    view! {
        <Title text="Pricing"/>
        <h1>"Pricing"</h1>
        <p class="lead">"Start free, upgrade when you need more. Cancel any time."</p>
        <Notices/>
        <Suspense fallback=|| view! { <p>"Loading plans…"</p> }>
            {move || {
                data.get().map(|result| match result {
                    Ok(view) => view! { <PricingTable view/> }.into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn PricingTable(view: PricingView) -> impl IntoView {
    let interval = view.interval;
    let checkout_ui = view.checkout_ui;
    let items = (!view.items.is_empty()).then(|| {
        let cards = view.items.into_iter().map(|item| view! { <ItemColumn item checkout_ui/> }).collect_view();
        view! {
            <section aria-labelledby="one-time-heading">
                <h2 id="one-time-heading">"One-time purchases"</h2>
                <div class="plans">{cards}</div>
            </section>
        }
    });
    view! {
        {view.awaits_verification.then(|| view! { <VerifyEmailBanner/> })}
        <IntervalToggle interval base="/pricing" saving=view.yearly_saving/>
        <PlanGrid plans=view.plans interval subscribed=view.subscribed checkout_ui=view.checkout_ui/>
        {items}
        <section aria-labelledby="store-heading">
            <h2 id="store-heading">"From independent creators"</h2>
            <p>"Guides, templates and more, sold by creators on this site. " <a href="/store">"Browse the store"</a></p>
        </section>
    }
}

#[component]
fn ItemColumn(item: ItemCard, checkout_ui: CheckoutUi) -> impl IntoView {
    let action = if item.owned {
        view! { <p class="current-plan-mark">"Purchased"</p> }.into_any()
    } else if checkout_ui != CheckoutUi::Hosted {
        // Paid on the app's own page with the Payment Element.
        let href = format!("/buy/{}", item.key);
        view! { <a class="button secondary" href=href aria-label=format!("Buy {}", item.name)>"Buy"</a> }.into_any()
    } else {
        view! {
            <form method="post" action=Buy::url()>
                <input type="hidden" name="item" value=item.key.clone()/>
                <button type="submit" class="button secondary" aria-label=format!("Buy {}", item.name)>"Buy"</button>
            </form>
        }
        .into_any()
    };
    view! {
        <article class="plan" data-item=item.key.clone()>
            <h3>{item.name}</h3>
            <p class="description">{item.description}</p>
            <p class="price">{item.price} " " <span class="per">"once"</span></p>
            <div class="action">{action}</div>
        </article>
    }
}
