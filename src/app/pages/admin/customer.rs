//! `/admin/customers/:id`: subscriptions and the timeline, with Stripe dashboard links, and the
//! subscription's controls; `/admin/customers/:id/plan?price=…` and
//! `/admin/customers/:id/renewal?action=cancel|resume`: their confirm steps. Plain forms: GET to
//! the confirm step, POST to act; no JavaScript needed.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::admin::customer::{
    admin_customer, admin_plan_change_form, admin_renewal_form, AdminChangePlan, AdminPauseCollection,
    AdminResumeCollection, AdminSetRenewal, AdminUnpause,
};
use crate::app::pages::Notices;
use crate::views::admin::customer::{
    CustomerView, PauseControls, PlanChangeStep, RenewalStep, SubscriptionControls, TimelineItem,
};

use super::{admin_load, confirm_step, AdminNav, BackLink};
use crate::app::pages::EmptyState;
use crate::views::format::utc;

#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    let customer = Resource::new(move || params.read().get("id").unwrap_or_default(), admin_customer);
    view! {
        <Title text="Customer"/>
        <Notices/>
        {admin_load(customer, |customer| view! { <Customer customer=customer/> })}
    }
}

#[component]
fn Customer(customer: CustomerView) -> impl IntoView {
    let heading = customer.email.clone().unwrap_or_else(|| customer.id.clone());
    let empty = customer.timeline.is_empty();
    let controls =
        customer.controls.clone().map(|controls| view! { <Controls customer_id=customer.id.clone() controls/> });
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
        {controls}
        <h2>"Timeline"</h2>
        {empty.then(|| view! { <EmptyState title="Nothing yet." hint="Payments, plan changes and emails appear here as they happen."/> })}
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

/// The live subscription's actions: each opens its confirm step.
#[component]
fn Controls(customer_id: String, controls: SubscriptionControls) -> impl IntoView {
    let plan_action = format!("/admin/customers/{customer_id}/plan");
    let subscription_id = controls.subscription_id.clone();
    let renewal_action = format!("/admin/customers/{customer_id}/renewal");
    let (renewal, renewal_label, danger) = if controls.cancel_at_period_end {
        ("resume", "Resume", false)
    } else {
        ("cancel", "Cancel at period end", true)
    };
    let seats = controls.seats.map(|seats| {
        let plan_action = plan_action.clone();
        view! {
            <form method="get" action=plan_action class="stack seats-form">
                <input type="hidden" name="price" value=seats.lookup_key/>
                <label for="admin-seats">"Seats"</label>
                <input id="admin-seats" name="seats" type="number" min=seats.min max=seats.max value=seats.seats required/>
                <button type="submit">"Change seats"</button>
            </form>
        }
    });
    let options = controls
        .prices
        .into_iter()
        .filter(|p| !p.current)
        .map(|p| view! { <option value=p.lookup_key>{p.label}</option> })
        .collect_view();
    view! {
        <section aria-labelledby="manage-heading" class="subscription-controls" data-subscription=controls.subscription_id.clone()>
            <h2 id="manage-heading">"Manage subscription"</h2>
            <p class="current-plan"><strong>{controls.plan}</strong>" — "{controls.state}</p>
            <form method="get" action=plan_action class="stack">
                <label for="admin-price">"New plan"</label>
                <select id="admin-price" name="price">{options}</select>
                <button type="submit">"Change plan"</button>
            </form>
            {seats}
            <form method="get" action=renewal_action>
                <input type="hidden" name="action" value=renewal/>
                <button type="submit" class:danger=danger>{renewal_label}</button>
            </form>
            <PauseForms customer_id subscription_id=subscription_id pause=controls.pause/>
        </section>
    }
}

/// Resume a paused subscription; or pause payment collection (a grace period) and resume it.
#[component]
fn PauseForms(customer_id: String, subscription_id: String, pause: PauseControls) -> impl IntoView {
    let hidden = move || {
        view! {
            <input type="hidden" name="customer" value=customer_id.clone()/>
            <input type="hidden" name="subscription" value=subscription_id.clone()/>
            <input type="hidden" name="token" value=pause.token.clone()/>
        }
    };
    if pause.paused {
        return view! {
            <form method="post" action=AdminUnpause::url()>
                {hidden()}
                <p>"Paused: no access and no invoices. Resuming charges a new period from today."</p>
                <button type="submit">"Resume subscription"</button>
            </form>
        }
        .into_any();
    }
    if let Some(words) = pause.collection_paused {
        return view! {
            <form method="post" action=AdminResumeCollection::url()>
                {hidden()}
                <p class="payments-paused">"Payments paused: "{words}"."</p>
                <button type="submit">"Resume payment collection"</button>
            </form>
        }
        .into_any();
    }
    let options =
        pause.behaviors.into_iter().map(|(value, words)| view! { <option value=value>{words}</option> }).collect_view();
    view! {
        <form method="post" action=AdminPauseCollection::url() class="stack">
            {hidden()}
            <label for="pause-behavior">"Pause payment collection (the customer keeps access)"</label>
            <select id="pause-behavior" name="behavior">{options}</select>
            <label for="pause-until">"Resume collecting on (optional)"</label>
            <input id="pause-until" name="resumes_on" type="date"/>
            <button type="submit">"Pause payments"</button>
        </form>
    }
    .into_any()
}

/// The customer id of a confirm step's path, its query parameter `key`, and the way back.
fn step_source(key: &'static str) -> (Memo<(String, String)>, BackLink) {
    let params = use_params_map();
    let query = use_query_map();
    let source =
        Memo::new(move |_| (params.read().get("id").unwrap_or_default(), query.read().get(key).unwrap_or_default()));
    let back = Signal::derive(move || format!("/admin/customers/{}", source.read().0));
    (source, (back, "Back to the customer"))
}

#[component]
pub fn PlanChangePage() -> impl IntoView {
    let (source, back) = step_source("price");
    let query = use_query_map();
    let seats = Memo::new(move |_| query.read().get("seats"));
    let form = Resource::new(
        move || (source.get(), seats.get()),
        |((customer, price), seats)| admin_plan_change_form(customer, price, seats),
    );
    confirm_step("Change plan", "/admin/subscriptions", form, |form| view! { <PlanChangeConfirm form/> }, back)
}

#[component]
fn PlanChangeConfirm(form: PlanChangeStep) -> impl IntoView {
    let p = form.preview;
    let explanation = if p.is_upgrade {
        format!(
            "An upgrade: it applies now and the customer is invoiced {} today for the rest of this period (prorated). Then {} on {}.",
            p.due_now, p.next_amount, p.next_on
        )
    } else {
        format!(
            "A downgrade: the customer keeps {} until {}, then pays {}. Nothing is charged now.",
            p.from_name, p.next_on, p.next_amount
        )
    };
    view! {
        <dl class="details preview">
            <dt>"Customer"</dt>
            <dd>{form.email.clone().unwrap_or_else(|| form.customer_id.clone())}</dd>
            <dt>"Subscription"</dt>
            <dd><code>{form.subscription_id.clone()}</code></dd>
            <dt>"From"</dt>
            <dd class="from-plan">{p.from_name.clone()}</dd>
            <dt>"To"</dt>
            <dd class="to-plan">{p.to_name.clone()}</dd>
            <dt>"Due today"</dt>
            <dd class="due-now">{p.due_now.clone()}</dd>
            <dt>"Next invoice"</dt>
            <dd class="next-invoice">{p.next_amount.clone()}" on "{p.next_on.clone()}</dd>
        </dl>
        <p class="explanation">{explanation}</p>
        <form method="post" action=AdminChangePlan::url()>
            <input type="hidden" name="customer" value=form.customer_id.clone()/>
            <input type="hidden" name="subscription" value=form.subscription_id.clone()/>
            <input type="hidden" name="price" value=form.price.clone()/>
            <input type="hidden" name="seats" value=p.seats.map(|n| n.to_string()).unwrap_or_default()/>
            <input type="hidden" name="token" value=form.token.clone()/>
            <button type="submit">"Confirm plan change"</button>
        </form>
    }
}

#[component]
pub fn RenewalPage() -> impl IntoView {
    let (source, back) = step_source("action");
    let form = Resource::new(move || source.get(), |(customer, action)| admin_renewal_form(customer, action));
    confirm_step("Cancel or resume", "/admin/subscriptions", form, |form| view! { <RenewalConfirm form/> }, back)
}

#[component]
fn RenewalConfirm(form: RenewalStep) -> impl IntoView {
    let who = form.email.clone().unwrap_or_else(|| form.customer_id.clone());
    let danger = form.cancel;
    let (explanation, action, button) = if form.cancel {
        (
            format!(
                "{who}'s {} subscription stays active until {}, then ends. It will not renew.",
                form.plan, form.period_end
            ),
            "cancel",
            "Confirm cancel at period end",
        )
    } else {
        (
            format!("{who}'s {} subscription will renew on {} as before.", form.plan, form.period_end),
            "resume",
            "Confirm resume",
        )
    };
    view! {
        <p class="explanation">{explanation}</p>
        <form method="post" action=AdminSetRenewal::url()>
            <input type="hidden" name="customer" value=form.customer_id.clone()/>
            <input type="hidden" name="subscription" value=form.subscription_id.clone()/>
            <input type="hidden" name="action" value=action/>
            <input type="hidden" name="token" value=form.token.clone()/>
            <button type="submit" class:danger=danger>{button}</button>
        </form>
    }
}
