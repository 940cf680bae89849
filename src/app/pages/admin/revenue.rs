//! `/admin`: revenue. The period comes from `?period=` so the selector is plain links.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::admin::revenue::admin_revenue,
    domain::money::Money,
    views::admin::{
        marketplace::MarketplaceFees,
        revenue::{percent, Chart, CurrencyRevenue, Period, Ratio, RevenueReport},
    },
};

use super::{admin_load, AdminNav};
use crate::app::pages::EmptyState;
use crate::views::format::utc;

#[component]
pub fn RevenuePage() -> impl IntoView {
    let query = use_query_map();
    let period = Memo::new(move |_| Period::from_param(query.read().get("period").as_deref()));
    let report = Resource::new(move || period.get(), admin_revenue);
    view! {
        <Title text="Revenue"/>
        {admin_load(report, |report| view! { <Revenue report=report/> })}
    }
}

#[component]
fn Revenue(report: RevenueReport) -> impl IntoView {
    let period = report.period;
    let picker = Period::ALL
        .into_iter()
        .map(|p| {
            let href = format!("/admin?period={}", p.param());
            let current = (p == period).then_some("page");
            view! { <li><a href=href aria-current=current>{p.label()}</a></li> }
        })
        .collect_view();
    let csv = format!("/admin/revenue/movements.csv?period={}", period.param());
    let currencies = report.currencies.clone();
    let empty = currencies.is_empty();
    view! {
        <AdminNav current="/admin"/>
        <h1>"Revenue"</h1>
        <nav class="admin-periods" aria-label="Period"><ul>{picker}</ul></nav>
        <p class="admin-muted">{format!("{} · as of {}", period.label(), utc(report.as_of))}</p>
        <section aria-label="Subscriptions">
            <dl class="admin-kpis">
                <Kpi label="Active subscriptions" value=report.active.to_string()/>
                <Kpi label="Trialing" value=report.trialing.to_string()/>
                <Kpi label="Past due" value=report.past_due.to_string()/>
                <Kpi label="Payment success (30 days)" value=ratio(report.payment_success)/>
                <Kpi label="Involuntary churn share" value=ratio(report.involuntary_churn)/>
            </dl>
        </section>
        {empty.then(|| view! { <EmptyState title="No revenue yet." hint="MRR appears once a subscription is paid: share your pricing page."/> })}
        {currencies.into_iter().map(|c| view! { <CurrencySection c=c/> }).collect_view()}
        {report.mrr_chart.map(|chart| view! { <ChartFigure chart=chart title="MRR over time"/> })}
        {report.net_new_chart.map(|chart| view! { <ChartFigure chart=chart title="Net new MRR"/> })}
        <MarketplaceSection fees=report.marketplace_fees/>
        <p>
            <a href=csv rel="external" download="">"Download movements (CSV)"</a>
        </p>
    }
}

fn ratio(r: Ratio) -> String {
    r.basis_points().map_or_else(|| "—".to_owned(), |bp| format!("{} ({} of {})", percent(bp), r.part, r.whole))
}

#[component]
fn Kpi(label: &'static str, value: String) -> impl IntoView {
    view! { <div class="admin-kpi"><dt>{label}</dt><dd>{value}</dd></div> }
}

/// Returns `AnyView`: erasing each section's type keeps the page's view type shallow enough for
/// rustc (no build uses `--cfg erase_components`, which would erase it everywhere).
#[component]
fn CurrencySection(c: CurrencyRevenue) -> AnyView {
    let code = c.mrr.currency().as_str().to_uppercase();
    let money = |m: Money| m.to_string();
    let churn = c.churn_rate_bp.map_or_else(|| "—".to_owned(), percent);
    let rows = [
        ("New", c.new, c.new_count.to_string()),
        ("Expansion", c.expansion, String::new()),
        ("Contraction", c.contraction, String::new()),
        ("Churned", c.churn, c.churn_count.to_string()),
        ("Reactivation", c.reactivation, c.reactivation_count.to_string()),
    ];
    view! {
        <section class="admin-currency" aria-label=format!("Revenue in {code}")>
            <h2>{format!("Revenue in {code}")}</h2>
            <dl class="admin-kpis">
                <Kpi label="MRR" value=money(c.mrr)/>
                <Kpi label="ARR" value=money(c.arr)/>
                <Kpi label="Paying subscriptions" value=c.paying.to_string()/>
                <Kpi label="ARPU" value=c.arpu.map_or_else(|| "—".to_owned(), money)/>
                <Kpi label="Customer churn" value=churn/>
                <Kpi label="Net new MRR" value=money(c.net_new)/>
            </dl>
            <table class="admin-table movements">
                <caption>"MRR movements in the period"</caption>
                <thead><tr><th scope="col">"Movement"</th><th scope="col">"MRR"</th><th scope="col">"Subscriptions"</th></tr></thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|(label, amount, count)| view! {
                            <tr><th scope="row">{label}</th><td class="num">{money(amount)}</td><td class="num">{count}</td></tr>
                        })
                        .collect_view()}
                </tbody>
                <tfoot>
                    <tr><th scope="row">"Net new MRR"</th><td class="num">{money(c.net_new)}</td><td></td></tr>
                </tfoot>
            </table>
        </section>
    }
    .into_any()
}

/// The platform's marketplace fees (less those refunded), per currency.
#[component]
fn MarketplaceSection(fees: Vec<MarketplaceFees>) -> AnyView {
    let empty = fees.is_empty();
    view! {
        <section class="admin-marketplace" aria-labelledby="marketplace-heading">
            <h2 id="marketplace-heading">"Marketplace"</h2>
            {empty.then(|| view! { <EmptyState title="No marketplace fees in the last 30 days." hint="Fees appear when creators' products sell."/> })}
            {fees
                .into_iter()
                .map(|f| view! {
                    <dl class="admin-kpis">
                        <Kpi label="Platform fees this month" value=f.this_month.to_string()/>
                        <Kpi label="Platform fees, last 30 days" value=f.last_30_days.to_string()/>
                    </dl>
                })
                .collect_view()}
            <p><a href="/admin/marketplace">"Creators, fee revenue by month and payouts"</a></p>
        </section>
    }
    .into_any()
}

#[component]
fn ChartFigure(chart: Chart, title: &'static str) -> AnyView {
    let summary = chart.points.iter().map(|(label, value)| format!("{label}: {value}")).collect::<Vec<_>>().join(", ");
    view! {
        <figure class="admin-chart">
            <figcaption>{title}</figcaption>
            <picture>
                <source srcset=chart.dark_data_uri media="(prefers-color-scheme: dark)"/>
                <img src=chart.data_uri alt=format!("{title}. {summary}") width="720" height="320"/>
            </picture>
            <details>
                <summary>{format!("{title} as a table")}</summary>
                <table class="admin-table">
                    <thead><tr><th scope="col">"Period"</th><th scope="col">{title}</th></tr></thead>
                    <tbody>
                        {chart.points.into_iter().map(|(label, value)| view! {
                            <tr><td>{label}</td><td class="num">{value}</td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </details>
        </figure>
    }
    .into_any()
}
