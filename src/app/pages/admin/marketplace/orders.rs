//! `/admin/orders`: the marketplace's orders, newest first or sorted by a column's header; a GET
//! form of filters (status, creator, buyer email: works without JavaScript), pages, and the same
//! selection in the same order as CSV. Each order links to its own page, `/admin/orders/{id}`.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::marketplace::admin_orders;
use crate::views::admin::marketplace::{order_status_words, OrderLine, OrderSort, OrdersPage, ORDER_STATUSES};
use crate::views::format::utc;

use crate::app::pages::admin::list::{pager, sort_fields, sortable_heads, use_list_query, Column, ListQuery};
use crate::app::pages::admin::{admin_load, AdminNav, FilterSelect};

/// The CSV of every order `query`'s filters select, in the list's order.
fn csv_href(query: &ListQuery) -> String {
    let filters = query.filters_and_sort();
    let sep = if filters.is_empty() { "" } else { "?" };
    format!("/admin/orders.csv{sep}{filters}")
}

#[component]
pub fn OrdersListPage() -> impl IntoView {
    let query = use_list_query("/admin/orders", &["status", "creator", "email"]);
    let data = Resource::new(
        move || query.get(),
        |q| admin_orders(q.get("status"), q.get("creator"), q.get("email"), Some(q.page), q.sort, q.dir),
    );
    view! {
        <Title text="Orders"/>
        {admin_load(data, move |page| view! {
            <AdminNav current="/admin/marketplace"/>
            <h1>"Orders"</h1>
            <List page=page query=query.get_untracked()/>
        })}
    }
}

const COLUMNS: [Column<OrderSort>; 9] = [
    Column::sorted("Date", OrderSort::Date),
    Column::sorted("Product", OrderSort::Product),
    Column::sorted("Buyer", OrderSort::Buyer),
    Column::sorted("Creator", OrderSort::Creator),
    Column::figures("Amount", OrderSort::Amount),
    Column::figures("Fee", OrderSort::Fee),
    Column::figures("Refunded", OrderSort::Refunded),
    Column::sorted("Status", OrderSort::Status),
    Column::text("Charge"),
];

#[component]
fn List(page: OrdersPage, query: ListQuery) -> impl IntoView {
    let statuses = ORDER_STATUSES.iter().map(|(s, words)| (s.as_str().to_owned(), (*words).to_owned())).collect();
    let creators = page.creators.iter().map(|(id, email)| (id.to_string(), email.clone())).collect();
    let pages = pager(&query, page.page, page.has_more);
    let empty = page.lines.is_empty();
    let heads = sortable_heads(&query, page.sort, &COLUMNS);
    view! {
        <p><a href="/admin/marketplace">"Back to the marketplace"</a></p>
        <form class="admin-filters" method="get" action="/admin/orders">
            <FilterSelect id="order-status" name="status" label="Status" any="Any status" options=statuses selected=query.get("status")/>
            <FilterSelect id="order-creator" name="creator" label="Creator" any="Any creator" options=creators selected=query.get("creator")/>
            <label for="order-email">"Buyer email"</label>
            <input id="order-email" name="email" type="search" value=query.get("email").unwrap_or_default()/>
            {sort_fields(&query)}
            <button type="submit">"Search"</button>
        </form>
        <p><a href=csv_href(&query) rel="external" download="">"Download these orders (CSV)"</a></p>
        {empty.then(|| view! { <p>"No orders match."</p> })}
        <table class="admin-table orders">
            {heads}
            <tbody>{page.lines.into_iter().map(|line| view! { <Line line/> }).collect_view()}</tbody>
        </table>
        {pages}
    }
}

#[component]
fn Line(line: OrderLine) -> impl IntoView {
    let href = format!("/admin/orders/{}", line.id);
    view! {
        <tr data-order=line.id.to_string()>
            <td><a href=href>{utc(line.created_at)}</a></td>
            <td>{line.product}</td>
            <td>{line.buyer_email}</td>
            <td>{line.creator_email}</td>
            <td class="num">{line.amount.to_string()}</td>
            <td class="num">{line.fee.to_string()}</td>
            <td class="num">{line.refunded.to_string()}</td>
            <td class="status">{order_status_words(line.status)}</td>
            <td>{line.charge_type}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_keeps_the_lists_filters() {
        let query = |filters| ListQuery::new("/admin/orders", filters);
        let q = query(vec![("status", Some("paid".into())), ("creator", None), ("email", Some("a+b@x.test".into()))]);
        assert_eq!(csv_href(&q), "/admin/orders.csv?status=paid&email=a%2Bb%40x.test");
        assert_eq!(csv_href(&query(vec![("status", None)])), "/admin/orders.csv");
        let mut sorted = query(vec![("status", None)]);
        (sorted.sort, sorted.dir) = (Some("amount".into()), Some("asc".into()));
        assert_eq!(csv_href(&sorted), "/admin/orders.csv?sort=amount&dir=asc");
    }
}
