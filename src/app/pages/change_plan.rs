//! /account/plan (choose), /account/plan/preview (what it costs, then "Confirm") and
//! /account/cancel (confirm step). Plain forms: no JavaScript needed.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::api::billing::{
    account_billing, preview_plan_change, pricing, CancelSubscription, ChangePlan, PauseSubscription,
};
use crate::views::{
    billing::{BillingOverview, PlanChangePreview},
    AppError,
};

use super::{
    plan_cards::{IntervalToggle, PlanGrid},
    Notices,
};

fn alert(error: AppError) -> AnyView {
    match error {
        AppError::Unauthorized => view! { <Redirect path="/login"/> }.into_any(),
        error => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
    }
}

#[component]
pub fn ChangePlanPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("interval"), pricing);
    view! {
        <Title text="Change plan"/>
        <h1>"Change plan"</h1>
        <Notices/>
        <Suspense fallback=|| view! { <p>"Loading plans…"</p> }>
            {move || {
                data.get().map(|result| match result {
                    Ok(view) => {
                        let interval = view.interval;
                        // Switching to free is cancelling: the account page's Cancel does that.
                        let plans = view.plans.into_iter().filter(|p| !p.is_free).collect::<Vec<_>>();
                        view! {
                            <p class="lead">"Pick a plan: the next page shows what it costs before anything changes."</p>
                            <IntervalToggle interval base="/account/plan" saving=view.yearly_saving/>
                            <PlanGrid plans interval subscribed=view.subscribed/>
                            <p><a href="/account">"Back to your account"</a></p>
                        }
                        .into_any()
                    }
                    Err(error) => alert(error),
                })
            }}
        </Suspense>
    }
}

#[component]
pub fn PlanPreviewPage() -> impl IntoView {
    let query = use_query_map();
    let preview = Resource::new(
        move || {
            let q = query.read();
            (q.get("plan").unwrap_or_default(), q.get("interval").unwrap_or_default(), q.get("seats"))
        },
        |(plan, interval, seats)| preview_plan_change(plan, interval, seats),
    );
    view! {
        <Title text="Confirm plan change"/>
        <section class="card narrow">
            <h1>"Confirm plan change"</h1>
            <Suspense fallback=|| view! { <p>"Asking Stripe for the figures…"</p> }>
                {move || {
                    preview.get().map(|result| match result {
                        Ok(preview) => view! { <PreviewDetails preview/> }.into_any(),
                        Err(error) => view! {
                            {alert(error)}
                            <p><a href="/account/plan">"Choose another plan"</a></p>
                        }
                        .into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// The change in one glance: from → to, what is due today, then what and when.
#[component]
fn PreviewDetails(preview: PlanChangePreview) -> impl IntoView {
    view! {
        <p class="plan-change">
            <span class="badge">{preview.from_name.clone()}</span>
            <span aria-hidden="true">"→"</span>
            <span class="visually-hidden">" to "</span>
            <strong class="badge info">{preview.to_name.clone()}</strong>
        </p>
        <div class="summary">
            <dl class="details preview">
                <dt>"Due today"</dt>
                <dd class="due-now">{preview.due_now}</dd>
                <dt>"Then"</dt>
                <dd class="next-invoice">{preview.next_amount} " on " {preview.next_on}</dd>
            </dl>
        </div>
        <p class="explanation">{preview.explanation}</p>
        <form method="post" action=ChangePlan::url()>
            <input type="hidden" name="plan" value=preview.plan/>
            <input type="hidden" name="interval" value=preview.interval.as_str()/>
            <input type="hidden" name="seats" value=preview.seats.map(|n| n.to_string()).unwrap_or_default()/>
            <input type="hidden" name="token" value=preview.form_token/>
            <button type="submit">"Confirm"</button>
        </form>
        <p><a href="/account">"Keep my current plan"</a></p>
    }
}

/// A confirm step on the account: `body` shows what the action does and its form, or `None`
/// when the subscription cannot take it (then `nothing` says so).
#[component]
fn AccountConfirm(
    title: &'static str,
    nothing: &'static str,
    body: fn(BillingOverview) -> Option<AnyView>,
) -> impl IntoView {
    let billing = Resource::new(|| (), |_| account_billing());
    view! {
        <Title text=title/>
        <section class="card narrow">
            <h1>{title}</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    billing.get().map(|result| match result {
                        Ok(Some(overview)) => body(overview).unwrap_or_else(|| {
                            view! {
                                <p>{nothing}</p>
                                <p><a href="/account">"Back to your account"</a></p>
                            }
                            .into_any()
                        }),
                        Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(error) => alert(error),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// /account/cancel: when access ends, then the one button that cancels.
#[component]
pub fn CancelPage() -> impl IntoView {
    fn body(overview: BillingOverview) -> Option<AnyView> {
        let s = overview.subscription.as_ref().filter(|s| s.can_cancel)?;
        let until = s.renews_on.clone().or(s.trial_ends_on.clone()).unwrap_or_default();
        Some(
            view! {
                <p>
                    "Your " {overview.plan_name} " plan stays active until " <strong>{until}</strong>
                    ", then ends. You will not be charged again."
                </p>
                <form method="post" action=CancelSubscription::url()>
                    <input type="hidden" name="token" value=overview.form_token.clone()/>
                    <button type="submit" class="danger">"Cancel subscription"</button>
                </form>
                <p><a href="/account">"Keep my subscription"</a></p>
            }
            .into_any(),
        )
    }
    view! { <AccountConfirm title="Cancel subscription" nothing="You have no subscription to cancel." body/> }
}

/// /account/pause: what pausing means, then the one button that does it.
#[component]
pub fn PausePage() -> impl IntoView {
    fn body(overview: BillingOverview) -> Option<AnyView> {
        overview.subscription.as_ref().filter(|s| s.can_pause)?;
        Some(
            view! {
                <p>
                    "Pausing stops your " {overview.plan_name} " plan now: its features are off and "
                    "nothing is charged while it is paused. The unused part of this period is "
                    "credited to your first payment when you resume."
                </p>
                <p>"Resume any time from your account: a new billing period starts that day."</p>
                <form method="post" action=PauseSubscription::url()>
                    <input type="hidden" name="token" value=overview.form_token.clone()/>
                    <button type="submit" class="danger">"Pause subscription"</button>
                </form>
                <p><a href="/account">"Keep my subscription running"</a></p>
            }
            .into_any(),
        )
    }
    view! { <AccountConfirm title="Pause subscription" nothing="Your subscription cannot be paused now." body/> }
}
