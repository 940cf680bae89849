//! /account (login required; the route guard redirects anonymous visitors): the plan, its
//! status in words, dates, payment method, what the plan includes, invoices, and the billing
//! actions. Every action is a plain form or link, so the page works without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::billing::{account_billing, ManageBilling, ResumeSubscription, UnpauseSubscription};
use crate::domain::text::capitalise;
use crate::views::billing::{Banner, BannerKind, BillingOverview, InvoiceView, SubscriptionSeats, SubscriptionView};
use crate::views::format::{count, status_tone};

use super::{verify_email::VerifyEmailBanner, Notices};

#[component]
pub fn AccountPage() -> impl IntoView {
    // Its own fetch (not the navigation's): after a client-side log-in this must see the new
    // session, not a cached answer.
    let billing = Resource::new(|| (), |_| account_billing());
    // The notice sits outside the reactive closure: re-running that closure must not create (and
    // consume) the one-time notice twice.
    view! {
        <Title text="Account"/>
        <h1>"Account"</h1>
        <Notices/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                billing.get().map(|result| match result {
                    Ok(Some(overview)) => view! { <Overview overview/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
        <super::account_usage::UsageSection/>
    }
}

#[component]
fn Overview(overview: BillingOverview) -> impl IntoView {
    let BillingOverview {
        email,
        awaits_verification,
        plan_name,
        price,
        features,
        limits,
        has_access,
        subscription,
        banner,
        invoices,
        has_customer,
        form_token,
    } = overview;
    let banner = banner.map(|banner| view! { <BillingBanner banner/> });
    let price = price.map(|p| view! { <p class="price">{p}</p> });
    let details = subscription.clone().map(|s| view! { <SubscriptionDetails s/> });
    let actions = view! { <Actions subscription has_customer form_token/> };
    let features = features.into_iter().map(|f| view! { <li>{f}</li> }).collect_view();
    let limits = limits
        .into_iter()
        .map(|(name, limit)| view! { <li data-limit=name.clone()>{format!("{}: up to {}", capitalise(&name), count(limit))}</li> })
        .collect_view();
    view! {
        <p>"Signed in as " <strong class="account-email">{email}</strong></p>
        {awaits_verification.then(|| view! { <VerifyEmailBanner/> })}
        {banner}
        <section class="card" aria-labelledby="plan-heading">
            <h2 id="plan-heading">"Your plan"</h2>
            <p class="plan-name" data-access=if has_access { "paid" } else { "free" }>{plan_name}</p>
            {price}
            {details}
            {actions}
        </section>
        <section class="card" aria-labelledby="includes-heading">
            <h2 id="includes-heading">"What your plan includes"</h2>
            <ul class="features">{features}</ul>
            <ul class="limits">{limits}</ul>
        </section>
        <Invoices invoices/>
    }
}

#[component]
fn BillingBanner(banner: Banner) -> impl IntoView {
    let fix = match banner.kind {
        // A new card here also pays the open invoice at once; the portal is the other way.
        BannerKind::PastDue => Some(
            view! {
                <a class="button" href="/billing/card">"Update your card"</a>
                <form method="post" action=ManageBilling::url()>
                    <button type="submit">"Update payment method"</button>
                </form>
            }
            .into_any(),
        ),
        BannerKind::ActionRequired => None,
        BannerKind::CardNeeded => Some(view! { <a class="button" href="/billing/card">"Add a card"</a> }.into_any()),
    };
    let pay = banner.invoice_url.map(|url| {
        let label = match banner.kind {
            BannerKind::PastDue => "Pay the open invoice",
            BannerKind::ActionRequired | BannerKind::CardNeeded => "Confirm the payment",
        };
        view! { <a class="button" href=url>{label}</a> }
    });
    view! {
        <div class="banner warning" role="alert" data-banner=format!("{:?}", banner.kind)>
            <p>
                <strong>{match banner.kind {
                    BannerKind::PastDue => "Payment failed. ",
                    BannerKind::ActionRequired => "Action required. ",
                    BannerKind::CardNeeded => "Card needed. ",
                }}</strong>
                {banner.message}
            </p>
            {fix}
            {pay}
        </div>
    }
}

#[component]
fn SubscriptionDetails(s: SubscriptionView) -> impl IntoView {
    let row = |label: &'static str, value: Option<String>| value.map(|v| view! { <dt>{label}</dt> <dd>{v}</dd> });
    // A pending cancellation is amber whatever the status says.
    let tone = if s.can_resume { "warn" } else { status_tone(&s.status) };
    view! {
        <dl class="details">
            <dt>"Status"</dt>
            <dd class=format!("status badge {tone}") data-status=s.status.clone()>{s.status_words}</dd>
            {row("Renews on", s.renews_on)}
            {row("Trial ends on", s.trial_ends_on)}
            {row("Access ends on", s.ends_on)}
            {row("Discount", s.discount)}
            {row("Payments", s.payments_paused)}
            {row("Ended on", s.ended_on)}
            {s.card.map(|card| view! {
                <dt>"Payment method"</dt>
                <dd>{card}" " <a href="/billing/card">"Change card"</a></dd>
            })}
            {row("Seats", s.seats.as_ref().map(|seats| seats.range.count.to_string()))}
            {row("Scheduled change", s.scheduled_change)}
        </dl>
        {s.seats.filter(|_| s.can_change).map(|seats| view! { <SeatsForm seats/> })}
    }
}

/// Add or remove seats: the preview page shows what it costs before anything changes.
#[component]
fn SeatsForm(seats: SubscriptionSeats) -> impl IntoView {
    let range = seats.range;
    view! {
        <form method="get" action="/account/plan/preview" class="seats-form">
            <input type="hidden" name="plan" value=seats.plan/>
            <input type="hidden" name="interval" value=seats.interval.as_str()/>
            <label for="seats">"Seats"</label>
            <input id="seats" name="seats" type="number" min=range.min max=range.max value=range.count required/>
            <button type="submit">"Preview seat change"</button>
        </form>
    }
}

#[component]
fn Actions(subscription: Option<SubscriptionView>, has_customer: bool, form_token: String) -> impl IntoView {
    let s = subscription.as_ref();
    let live = s.is_some_and(|s| s.can_change || s.can_cancel || s.can_resume || s.can_unpause);
    let change = s.filter(|s| s.can_change).map(|_| view! { <a class="button" href="/account/plan">"Change plan"</a> });
    let cancel = s
        .filter(|s| s.can_cancel)
        .map(|_| view! { <a class="button secondary" href="/account/cancel">"Cancel subscription"</a> });
    // Both resumes (of a pending cancellation, of a paused subscription) say the same to the
    // customer; one of the two applies at a time.
    let resume_form = |action: &'static str| {
        view! {
            <form method="post" action=action>
                <input type="hidden" name="token" value=form_token.clone()/>
                <button type="submit">"Resume subscription"</button>
            </form>
        }
    };
    let resume = s.filter(|s| s.can_resume).map(|_| resume_form(ResumeSubscription::url()));
    let pause = s
        .filter(|s| s.can_pause)
        .map(|_| view! { <a class="button secondary" href="/account/pause">"Pause subscription"</a> });
    let unpause = s.filter(|s| s.can_unpause).map(|_| resume_form(UnpauseSubscription::url()));
    let choose = (!live).then(|| view! { <a class="button" href="/pricing">"Choose a plan"</a> });
    let portal = has_customer.then(|| {
        view! {
            <form method="post" action=ManageBilling::url()>
                <button type="submit" class="secondary">"Manage billing"</button>
            </form>
        }
    });
    view! {
        <div class="actions">
            {choose}{change}{pause}{cancel}{resume}{unpause}{portal}
            <a class="button secondary" href="/account/password">"Change password"</a>
        </div>
    }
}

#[component]
fn Invoices(invoices: Vec<InvoiceView>) -> impl IntoView {
    if invoices.is_empty() {
        return view! {
            <section class="card" aria-labelledby="invoices-heading">
                <h2 id="invoices-heading">"Invoices"</h2>
                <p class="empty">
                    <strong>"No invoices yet."</strong>
                    "Your receipts appear here after your first payment."
                </p>
            </section>
        }
        .into_any();
    }
    let rows = invoices
        .into_iter()
        .map(|i| {
            let view_link = i.hosted_url.map(|url| view! { <a href=url>"View"</a> });
            let pdf_link = i.pdf_url.map(|url| view! { " " <a href=url>"PDF"</a> });
            let status = i.status.clone();
            view! {
                <tr>
                    <td>{i.number}</td>
                    <td>{i.date}</td>
                    <td class="amount">{i.amount}</td>
                    <td data-status=status class=format!("tone {}", status_tone(&i.status))>{i.status.clone()}</td>
                    <td>{view_link}{pdf_link}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card" aria-labelledby="invoices-heading">
            <h2 id="invoices-heading">"Invoices"</h2>
            <table class="invoices">
                <thead>
                    <tr>
                        <th scope="col">"Number"</th>
                        <th scope="col">"Date"</th>
                        <th scope="col" class="amount">"Amount"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Links"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}
