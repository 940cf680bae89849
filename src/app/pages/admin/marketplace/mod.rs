//! `/admin/marketplace`: creators (sales, fees, the rate in force and a form for the creator's
//! own rate), the platform's fee revenue by month, and failed payouts. `orders`: `/admin/orders`.

pub mod orders;

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::admin::marketplace::{admin_marketplace, SetCreatorFee};
use crate::app::pages::Notices;
use crate::domain::money::Money;
use crate::views::admin::marketplace::{
    fee_source_words, CreatorLine, FailedPayoutLine, FeeRevenueMonth, MarketplaceOverview,
};
use crate::views::format::{month, utc};

use super::list::{pager, use_list_query, ListQuery};
use super::{admin_load, column_heads, AdminNav};

#[component]
pub fn MarketplacePage() -> impl IntoView {
    let query = use_list_query("/admin/marketplace", &[]);
    let data = Resource::new(move || query.get(), |q| admin_marketplace(Some(q.page)));
    view! {
        <Title text="Marketplace"/>
        <Notices/>
        {admin_load(data, move |overview| view! { <Marketplace overview query=query.get_untracked()/> })}
    }
}

/// Amounts in several currencies, `$25.00, €10.00`; `—` for none.
fn amounts(list: &[Money]) -> String {
    if list.is_empty() {
        "—".to_owned()
    } else {
        list.iter().map(Money::to_string).collect::<Vec<_>>().join(", ")
    }
}

/// Each section returns `AnyView`: erased section types keep the page's view type shallow
/// enough for rustc (as on the revenue page).
#[component]
fn Marketplace(overview: MarketplaceOverview, query: ListQuery) -> impl IntoView {
    let MarketplaceOverview { creators, page, has_more, fee_revenue, failed_payouts, default_rate } = overview;
    view! {
        <AdminNav current="/admin/marketplace"/>
        <h1>"Marketplace"</h1>
        <p><a href="/admin/orders">"All orders"</a></p>
        {creators_section(creators, pager(&query, page, has_more), default_rate.to_string())}
        {fee_revenue_section(fee_revenue)}
        {failed_payouts_section(failed_payouts)}
    }
}

fn creators_section(creators: Vec<CreatorLine>, pages: impl IntoView + 'static, default_rate: String) -> AnyView {
    let empty = creators.is_empty();
    view! {
        <section aria-labelledby="creators-heading">
            <h2 id="creators-heading">"Creators"</h2>
            <p class="admin-muted">
                {format!(
                    "A sale's fee: the creator's own rate when set here, else the highest tier their lifetime \
                     sales reached, else the default ({default_rate}). A new rate applies from the next sale; \
                     leave it empty to clear it."
                )}
            </p>
            {empty.then(|| view! { <p>"No creators yet."</p> })}
            <table class="admin-table creators">
                {column_heads(&["Creator", "State", "On sale", "Sales", "Gross", "Fees kept", "Fee rate", "Own rate", ""])}
                <tbody>{creators.into_iter().map(|line| view! { <CreatorRow line/> }).collect_view()}</tbody>
            </table>
            {pages}
        </section>
    }
    .into_any()
}

fn fee_revenue_section(months: Vec<FeeRevenueMonth>) -> AnyView {
    let empty = months.is_empty();
    view! {
        <section aria-labelledby="fees-heading">
            <h2 id="fees-heading">"Platform fee revenue by month"</h2>
            <p class="admin-muted">"Orders paid in the month (UTC); fees refunded since are taken off that month."</p>
            {empty.then(|| view! { <p>"No paid orders yet."</p> })}
            <table class="admin-table fee-revenue">
                {column_heads(&["Month", "Orders", "Gross", "Fees", "Fees refunded", "Net fees"])}
                <tbody>{months.into_iter().map(month_row).collect_view()}</tbody>
            </table>
        </section>
    }
    .into_any()
}

fn failed_payouts_section(payouts: Vec<FailedPayoutLine>) -> AnyView {
    let empty = payouts.is_empty();
    view! {
        <section aria-labelledby="payouts-heading">
            <h2 id="payouts-heading">"Failed payouts"</h2>
            {empty.then(|| view! { <p>"No failed payouts."</p> })}
            <table class="admin-table failed-payouts">
                {column_heads(&["When", "Creator", "Amount", "Why"])}
                <tbody>{payouts.into_iter().map(payout_row).collect_view()}</tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn CreatorRow(line: CreatorLine) -> impl IntoView {
    let id = line.user_id;
    let input_id = format!("own-fee-{id}");
    // `7.5` for the input: the rate without its percent sign.
    let own = line.own_rate.map(|rate| rate.to_string().trim_end_matches('%').to_owned()).unwrap_or_default();
    view! {
        <tr data-creator=id.to_string()>
            <td>{line.email.clone()}<br/><code>{line.account_id}</code></td>
            <td class="state">{line.state}</td>
            <td class="num">{line.published}</td>
            <td class="num sales">{line.sales}</td>
            <td class="num gross">{amounts(&line.gross)}</td>
            <td class="num fees">{amounts(&line.fees)}</td>
            <td class="fee-rate">{format!("{} ({})", line.rate, fee_source_words(line.rate_source))}</td>
            <td>
                <form method="post" action=SetCreatorFee::url() class="admin-fee-form">
                    <input type="hidden" name="creator" value=id.to_string()/>
                    <input type="hidden" name="token" value=line.token/>
                    <label for=input_id.clone()>{format!("Own rate of {} (%)", line.email)}</label>
                    <input id=input_id name="percent" inputmode="decimal" size="6" value=own placeholder="none"/>
                    <button type="submit">"Set fee"</button>
                </form>
            </td>
            <td><a href=format!("/admin/orders?creator={id}")>"Orders"</a></td>
        </tr>
    }
}

fn month_row(m: FeeRevenueMonth) -> impl IntoView {
    view! {
        <tr>
            <td>{month(m.month_start)}</td>
            <td class="num">{m.orders}</td>
            <td class="num">{m.gross.to_string()}</td>
            <td class="num">{m.fees.to_string()}</td>
            <td class="num">{m.fees_refunded.to_string()}</td>
            <td class="num net-fees">{m.net_fees.to_string()}</td>
        </tr>
    }
}

fn payout_row(p: FailedPayoutLine) -> impl IntoView {
    view! {
        <tr data-payout=p.id.clone()>
            <td>{utc(p.created)}</td>
            <td>{p.email.unwrap_or_default()}<br/><code>{p.account_id}</code></td>
            <td class="num">{p.amount.to_string()}</td>
            <td>{p.failure.unwrap_or_default()}</td>
        </tr>
    }
}
