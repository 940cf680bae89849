//! `/admin/subscriptions`: a GET form of filters (works without JavaScript) and a paged table
//! sorted by a click on a column's header.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::admin::subscriptions::admin_subscriptions,
    domain::subscription::SubscriptionStatus,
    views::admin::subscriptions::{SubscriptionLine, SubscriptionSort, SubscriptionsPage},
};

use super::list::{pager, sort_fields, sortable_heads, use_list_query, Column, ListQuery};
use super::{admin_load, AdminNav, FilterSelect};
use crate::app::pages::EmptyState;
use crate::views::format::utc;

#[component]
pub fn SubscriptionsListPage() -> impl IntoView {
    let query = use_list_query("/admin/subscriptions", &["status", "plan", "email"]);
    let data = Resource::new(
        move || query.get(),
        |q| admin_subscriptions(q.get("status"), q.get("plan"), q.get("email"), Some(q.page), q.sort, q.dir),
    );
    view! {
        <Title text="Subscriptions"/>
        {admin_load(data, move |page| view! {
            <AdminNav current="/admin/subscriptions"/>
            <h1>"Subscriptions"</h1>
            <List page=page query=query.get_untracked()/>
        })}
    }
}

const COLUMNS: [Column<SubscriptionSort>; 6] = [
    Column::sorted("Customer", SubscriptionSort::Customer),
    Column::sorted("Plan", SubscriptionSort::Plan),
    Column::sorted("Status", SubscriptionSort::Status),
    Column::figures("MRR", SubscriptionSort::Mrr),
    Column::sorted("Renews or ends", SubscriptionSort::PeriodEnd),
    Column::sorted("Created", SubscriptionSort::Created),
];

#[component]
fn List(page: SubscriptionsPage, query: ListQuery) -> impl IntoView {
    let statuses = SubscriptionStatus::ALL.iter().map(|s| (s.as_str().to_owned(), s.describe().to_owned())).collect();
    let plans = page.plans.iter().map(|p| (p.clone(), p.clone())).collect();
    let pages = pager(&query, page.page, page.has_more);
    let empty = page.lines.is_empty();
    let heads = sortable_heads(&query, page.sort, &COLUMNS);
    view! {
        <form class="admin-filters" method="get" action="/admin/subscriptions">
            <FilterSelect id="sub-status" name="status" label="Status" any="Any status" options=statuses selected=query.get("status")/>
            <FilterSelect id="sub-plan" name="plan" label="Plan" any="Any plan" options=plans selected=query.get("plan")/>
            <label for="sub-email">"Email"</label>
            <input id="sub-email" name="email" type="search" value=query.get("email").unwrap_or_default()/>
            {sort_fields(&query)}
            <button type="submit">"Search"</button>
        </form>
        {empty.then(|| view! { <EmptyState title="No subscriptions match." hint="Clear the filters to see every subscription."/> })}
        <table class="admin-table subscriptions">
            {heads}
            <tbody>{page.lines.into_iter().map(|line| view! { <Line line=line/> }).collect_view()}</tbody>
        </table>
        {pages}
    }
}

#[component]
fn Line(line: SubscriptionLine) -> impl IntoView {
    let who = line.email.clone().unwrap_or_else(|| line.customer_id.clone());
    let ending = if line.cancel_at_period_end { "Ends " } else { "Renews " };
    view! {
        <tr>
            <td><a href=format!("/admin/customers/{}", line.customer_id)>{who}</a><br/><code>{line.id.clone()}</code></td>
            <td>{line.lookup_key.clone().unwrap_or_else(|| "—".to_owned())}</td>
            <td>{line.status.describe()}</td>
            <td class="num">{line.mrr.to_string()}</td>
            <td>{format!("{ending}{}", utc(line.current_period_end))}</td>
            <td>{utc(line.created)}</td>
        </tr>
    }
}
