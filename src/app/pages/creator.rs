//! /creator (login required): becoming a creator through Stripe's hosted onboarding, where the
//! account stands (and what Stripe still needs), Stripe's Express dashboard, the creator's own
//! sales and payouts (a failed payout first, as an alert), and their products. Plain forms and
//! server-drawn charts with their figures as text: the page works without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::marketplace::{creator_page, CreateProduct, OnboardCreator, OpenCreatorDashboard, PublishProduct};
use crate::domain::marketplace::PayoutStatus;
use crate::views::marketplace::{
    CreatorPageView, CreatorReportView, CreatorView, PayoutView, ProductCardView, SalesChartView, SalesTotalsView,
};

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
    let CreatorView { state, due, products, report } = creator;
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
        {report.map(|report| view! { <Report report/> })}
        <Products products/>
    }
}

/// The creator's own figures. Returns `AnyView`: erasing each section's type keeps the page's
/// view type shallow enough for rustc.
#[component]
fn Report(report: CreatorReportView) -> AnyView {
    let CreatorReportView { totals, charts, upcoming_payouts, past_payouts } = report;
    // Failures since the last payout that went through: what the creator must act on.
    let failures = past_payouts
        .iter()
        .take_while(|payout| payout.status != PayoutStatus::Paid)
        .filter_map(PayoutView::failure_notice)
        .map(|notice| view! { <p class="alert payout-failed" role="alert">{notice}</p> })
        .collect_view();
    let no_sales = totals.is_empty().then(|| view! { <p class="muted">"No sales yet."</p> });
    view! {
        {failures}
        <section class="card" aria-labelledby="sales-heading">
            <h2 id="sales-heading">"Your sales"</h2>
            {no_sales}
            {totals.into_iter().map(|totals| view! { <SalesTotals totals/> }).collect_view()}
            {charts.into_iter().map(|chart| view! { <SalesChart chart/> }).collect_view()}
        </section>
        <section class="card" aria-labelledby="payouts-heading">
            <h2 id="payouts-heading">"Payouts"</h2>
            <PayoutTable payouts=upcoming_payouts label="Upcoming payouts" empty="No payout on its way."/>
            <PayoutTable payouts=past_payouts label="Past payouts" empty="No payouts yet."/>
        </section>
    }
    .into_any()
}

/// All-time figures in one currency.
#[component]
fn SalesTotals(totals: SalesTotalsView) -> AnyView {
    let SalesTotalsView { sales, gross, fees, refunds, net } = totals;
    let code = gross.currency().as_str().to_uppercase();
    view! {
        <h3>{format!("In {code}")}</h3>
        <dl class="stats" data-currency=code>
            <dt>"Sales"</dt><dd>{sales.to_string()}</dd>
            <dt>"Gross"</dt><dd>{gross.to_string()}</dd>
            <dt>"Platform fees"</dt><dd>{fees.to_string()}</dd>
            <dt>"Refunds"</dt><dd>{refunds.to_string()}</dd>
            <dt>"Net"</dt><dd>{net.to_string()}</dd>
        </dl>
    }
    .into_any()
}

/// Sales by day: the chart as an image (its figures in the `alt` text) and as a table.
#[component]
fn SalesChart(chart: SalesChartView) -> AnyView {
    let SalesChartView { currency, image, days } = chart;
    let title = format!("Sales by day, last 30 days ({currency})");
    let summary = days.iter().map(|d| format!("{}: {}", d.day, d.gross)).collect::<Vec<_>>().join(", ");
    let rows = days
        .into_iter()
        .map(|d| {
            view! {
                <tr>
                    <td>{d.day}</td>
                    <td class="num">{d.sales.to_string()}</td>
                    <td class="num">{d.gross.to_string()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="sales-chart">
            <figcaption>{title.clone()}</figcaption>
            <img src=image alt=format!("{title}. {summary}") width="720" height="320"/>
            <table class="data-table" aria-label=title>
                <thead>
                    <tr><th scope="col">"Day"</th><th scope="col">"Sales"</th><th scope="col">"Gross"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </figure>
    }
    .into_any()
}

#[component]
fn PayoutTable(payouts: Vec<PayoutView>, label: &'static str, empty: &'static str) -> AnyView {
    if payouts.is_empty() {
        return view! { <h3>{label}</h3><p class="muted">{empty}</p> }.into_any();
    }
    let rows = payouts
        .into_iter()
        .map(|payout| {
            let status = payout.status_words();
            let PayoutView { id, amount, status: code, arrival, failure_message } = payout;
            view! {
                <tr data-payout=id data-status=code.as_str()>
                    <td class="num">{amount.to_string()}</td>
                    <td>{status}</td>
                    <td>{arrival.unwrap_or_default()}</td>
                    <td>{failure_message.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <h3>{label}</h3>
        <table class="data-table" aria-label=label>
            <thead>
                <tr>
                    <th scope="col">"Amount"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Arrival"</th>
                    <th scope="col">"Note"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// The creator's products (drafts included) and the form for a new one.
#[component]
fn Products(products: Vec<ProductCardView>) -> impl IntoView {
    let rows = products.into_iter().map(|product| view! { <ProductRow product/> }).collect_view();
    view! {
        <section class="card" aria-labelledby="products-heading">
            <h2 id="products-heading">"Your products"</h2>
            <ul class="creator-products">{rows}</ul>
            <h3>"New product"</h3>
            <form method="post" action=CreateProduct::url() class="stacked-form">
                <label for="product-title">"Title"</label>
                <input id="product-title" name="title" type="text" required maxlength="120"/>
                <label for="product-description">"Description"</label>
                <textarea id="product-description" name="description" maxlength="2000"></textarea>
                <label for="product-price">"Price (USD)"</label>
                <input id="product-price" name="price" type="text" inputmode="decimal" required placeholder="12.50"/>
                <label for="product-content">"What buyers get"</label>
                <textarea id="product-content" name="content" required maxlength="20000"></textarea>
                <button type="submit">"Save draft"</button>
            </form>
        </section>
    }
}

#[component]
fn ProductRow(product: ProductCardView) -> impl IntoView {
    let ProductCardView { id, slug, title, price, published, .. } = product;
    let (button, publish) = if published { ("Unpublish", "false") } else { ("Publish", "true") };
    view! {
        <li class="creator-product" data-product=slug.clone() data-published=published.to_string()>
            <span class="product-title">{title}</span>
            " "
            <span class="product-price">{price}</span>
            " "
            <span class="muted">{if published { "on sale" } else { "draft" }}</span>
            <form method="post" action=PublishProduct::url() class="inline-form">
                <input type="hidden" name="id" value=id.to_string()/>
                <input type="hidden" name="publish" value=publish/>
                <button type="submit" class="secondary">{button}</button>
            </form>
        </li>
    }
}
