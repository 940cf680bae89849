//! /pricing: the catalog's plans with a monthly/yearly toggle (a query parameter, so it works
//! without JavaScript), the signed-in user's plan marked, and a Subscribe button per plan.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::billing::{pricing, Buy, Subscribe};
use crate::domain::catalog::BillingInterval;
use crate::views::billing::{ItemCard, PlanCard, PricingView};

use super::{verify_email::VerifyEmailBanner, Notices};

#[component]
pub fn PricingPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("interval"), pricing);
    view! {
        <Title text="Pricing"/>
        <h1>"Pricing"</h1>
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

/// Shared with the change-plan page.
#[component]
pub(super) fn IntervalToggle(interval: BillingInterval, base: &'static str) -> impl IntoView {
    let current = |i: BillingInterval| (interval == i).then_some("page");
    view! {
        <nav class="toggle" aria-label="Billing period">
            <a href=format!("{base}?interval=month") aria-current=current(BillingInterval::Month)>"Monthly"</a>
            <a href=format!("{base}?interval=year") aria-current=current(BillingInterval::Year)>"Yearly"</a>
        </nav>
    }
}

#[component]
fn PricingTable(view: PricingView) -> impl IntoView {
    let interval = view.interval;
    let subscribed = view.subscribed;
    let plans = view.plans.into_iter().map(|plan| view! { <PlanColumn plan interval subscribed/> }).collect_view();
    let items = (!view.items.is_empty()).then(|| {
        let cards = view.items.into_iter().map(|item| view! { <ItemColumn item/> }).collect_view();
        view! {
            <h2>"One-time purchases"</h2>
            <div class="plans">{cards}</div>
        }
    });
    view! {
        {view.awaits_verification.then(|| view! { <VerifyEmailBanner/> })}
        <IntervalToggle interval base="/pricing"/>
        <div class="plans">{plans}</div>
        {items}
    }
}

#[component]
fn PlanColumn(plan: PlanCard, interval: BillingInterval, subscribed: bool) -> impl IntoView {
    let price = match (&plan.price, plan.is_free) {
        (_, true) => view! { <p class="price">"$0"</p> }.into_any(),
        (Some(amount), false) => {
            let per = if plan.seats.is_some() { " per seat / " } else { " / " };
            view! { <p class="price">{amount.clone()} <span>{per} {interval.as_str()}</span></p> }.into_any()
        }
        (None, false) => view! { <p class="price">"Not sold " {interval.as_str()} "ly"</p> }.into_any(),
    };
    let trial = plan
        .trial_days
        .filter(|_| !plan.is_free && !subscribed)
        .map(|days| view! { <p class="trial">{format!("{days}-day free trial")}</p> });
    let action = if plan.is_current {
        view! { <p class="current">"Your current plan"</p> }.into_any()
    } else if plan.is_free || plan.price.is_none() {
        ().into_any()
    } else if subscribed {
        let href = format!("/account/plan/preview?plan={}&interval={}", plan.key, interval.as_str());
        view! { <a class="button" href=href>{format!("Switch to {}", plan.name)}</a> }.into_any()
    } else {
        // A per-seat plan asks how many here; Stripe's page can still change it.
        let seats = plan.seats.map(|seats| {
            let id = format!("seats-{}", plan.key);
            view! {
                <label for=id.clone()>"Seats"</label>
                <input id=id name="seats" type="number" min=seats.min max=seats.max value=seats.count required/>
            }
        });
        view! {
            <form method="post" action=Subscribe::url()>
                <input type="hidden" name="plan" value=plan.key.clone()/>
                <input type="hidden" name="interval" value=interval.as_str()/>
                {seats}
                <button type="submit" aria-label=format!("Subscribe to {}", plan.name)>"Subscribe"</button>
            </form>
        }
        .into_any()
    };
    let features = plan.features.into_iter().map(|f| view! { <li>{f}</li> }).collect_view();
    view! {
        <article class="plan" class:current=plan.is_current data-plan=plan.key.clone()>
            <h2>{plan.name}</h2>
            {price}
            <p>{plan.description}</p>
            <ul class="features">{features}</ul>
            {trial}
            {action}
        </article>
    }
}

#[component]
fn ItemColumn(item: ItemCard) -> impl IntoView {
    let action = if item.owned {
        view! { <p class="current">"Purchased"</p> }.into_any()
    } else {
        view! {
            <form method="post" action=Buy::url()>
                <input type="hidden" name="item" value=item.key.clone()/>
                <button type="submit" aria-label=format!("Buy {}", item.name)>"Buy"</button>
            </form>
        }
        .into_any()
    };
    view! {
        <article class="plan" data-item=item.key.clone()>
            <h3>{item.name}</h3>
            <p class="price">{item.price}</p>
            <p>{item.description}</p>
            {action}
        </article>
    }
}
