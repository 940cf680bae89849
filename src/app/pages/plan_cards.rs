//! The plan cards and the Monthly/Yearly control, shared by /pricing and /account/plan: the
//! same cards for choosing a plan whether one is subscribing or switching.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::api::billing::Subscribe;
use crate::domain::catalog::BillingInterval;
use crate::views::payment_element::CheckoutUi;
use crate::views::{billing::PlanCard, format::interval_words};

/// A segmented control made of two links (`?interval=month|year`), so it works without
/// JavaScript; the Yearly side says what yearly saves (computed from the catalog).
#[component]
pub fn IntervalToggle(interval: BillingInterval, base: &'static str, saving: Option<String>) -> impl IntoView {
    let current = |i: BillingInterval| (interval == i).then_some("page");
    view! {
        <nav class="segmented" aria-label="Billing period">
            <a href=format!("{base}?interval=month") aria-current=current(BillingInterval::Month)>"Monthly"</a>
            <a href=format!("{base}?interval=year") aria-current=current(BillingInterval::Year)>
                "Yearly" {saving.map(|words| view! { <span class="saving">{words}</span> })}
            </a>
        </nav>
    }
}

/// The cards, side by side (one column on a phone). `subscribed`: the buttons switch plans
/// (through the preview) rather than subscribe.
#[component]
pub fn PlanGrid(
    plans: Vec<PlanCard>,
    interval: BillingInterval,
    subscribed: bool,
    /// Where Subscribe leads (hosted Checkout unless set).
    #[prop(optional)]
    checkout_ui: CheckoutUi,
) -> impl IntoView {
    let cards =
        plans.into_iter().map(|plan| view! { <PlanCardView plan interval subscribed checkout_ui/> }).collect_view();
    view! { <div class="plans">{cards}</div> }
}

#[component]
fn PlanCardView(plan: PlanCard, interval: BillingInterval, subscribed: bool, checkout_ui: CheckoutUi) -> impl IntoView {
    let per = match (plan.is_free, plan.seats.is_some()) {
        (true, _) => "forever".to_string(),
        (false, true) => format!("per seat / {}", interval.as_str()),
        (false, false) => format!("/ {}", interval.as_str()),
    };
    let price = match &plan.price {
        Some(amount) => view! { <p class="price">{amount.clone()} " " <span class="per">{per}</span></p> }.into_any(),
        None => {
            view! { <p class="price"><span class="per">{format!("Not sold {}", interval_words(interval))}</span></p> }
                .into_any()
        }
    };
    // Yearly: the saving as a tag and in money; monthly: what switching to yearly would save.
    let saving = plan.saving.clone().map(|s| {
        let line = match interval {
            BillingInterval::Year => format!("You save {} a year ({}%)", s.amount, s.percent),
            BillingInterval::Month => format!("Yearly billing: {}", s.words),
        };
        view! {
            <p class="saving-line" data-saving-percent=s.percent.to_string() data-saving-words=s.words.clone()>
                {line}
            </p>
        }
    });
    let tags = view! {
        <div class="tags">
            {plan.recommended.then(|| view! { <span class="badge info">"Recommended"</span> })}
            {plan.is_current.then(|| view! { <span class="badge ok">"Your plan"</span> })}
            {(interval == BillingInterval::Year)
                .then(|| plan.saving.as_ref().map(|s| view! { <span class="badge ok">{s.words.clone()}</span> }))
                .flatten()}
        </div>
    };
    let usage = plan.usage.iter().map(|line| view! { <p class="usage-price">{"+ "}{line.clone()}</p> }).collect_view();
    let trial = plan.trial_days.filter(|_| !plan.is_free && !subscribed).map(|days| {
        let card = if plan.trial_without_card { ", no card needed" } else { "" };
        view! { <p class="trial">{format!("{days}-day free trial{card}")}</p> }
    });
    let features = plan.features.iter().map(|f| view! { <li>{f.clone()}</li> }).collect_view();
    let action = plan_action(&plan, interval, subscribed, checkout_ui);
    view! {
        <article
            class="plan"
            class:current=plan.is_current
            class:recommended=plan.recommended
            data-plan=plan.key.clone()
            aria-labelledby=format!("plan-{}", plan.key)
        >
            {tags}
            <h2 id=format!("plan-{}", plan.key)>{plan.name.clone()}</h2>
            <p class="description">{plan.description.clone()}</p>
            {price}
            {saving}
            {usage}
            <ul class="features">{features}</ul>
            {trial}
            <div class="action">{action}</div>
        </article>
    }
}

/// The card's button: current plan, switch (subscribers, through the preview) or subscribe.
fn plan_action(plan: &PlanCard, interval: BillingInterval, subscribed: bool, checkout_ui: CheckoutUi) -> AnyView {
    if plan.is_current {
        return view! { <p class="current-plan-mark">"Your current plan"</p> }.into_any();
    }
    if plan.is_free || plan.price.is_none() {
        return ().into_any();
    }
    if subscribed {
        let href = format!("/account/plan/preview?plan={}&interval={}", plan.key, interval.as_str());
        return view! { <a class="button" href=href>{format!("Switch to {}", plan.name)}</a> }.into_any();
    }
    let button = if plan.recommended { "button" } else { "button secondary" };
    // On the app's own page (embedded Checkout or the Payment Element); per-seat plans keep
    // Stripe's page, where the buyer can change the seats.
    if checkout_ui != CheckoutUi::Hosted && plan.seats.is_none() {
        let href = format!("/subscribe/{}?interval={}&ui={}", plan.key, interval.as_str(), checkout_ui.as_str());
        return view! {
            <a class=button href=href aria-label=format!("Subscribe to {}", plan.name)>"Subscribe"</a>
        }
        .into_any();
    }
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
            <button type="submit" class=button aria-label=format!("Subscribe to {}", plan.name)>"Subscribe"</button>
        </form>
    }
    .into_any()
}
