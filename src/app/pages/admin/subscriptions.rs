//! `/admin/subscriptions`: a GET form of filters (works without JavaScript) and a paged table.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::admin::subscriptions::admin_subscriptions,
    domain::subscription::SubscriptionStatus,
    views::admin::subscriptions::{SubscriptionLine, SubscriptionsPage},
};

use super::{admin_load, column_heads, AdminNav, FilterSelect};
use crate::views::format::utc;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Query {
    status: Option<String>,
    plan: Option<String>,
    email: Option<String>,
    page: i64,
}

impl Query {
    fn href(&self, page: i64) -> String {
        let mut url = format!("/admin/subscriptions?page={page}");
        for (key, value) in [("status", &self.status), ("plan", &self.plan), ("email", &self.email)] {
            if let Some(value) = value {
                url.push_str(&format!("&{key}={}", encode(value)));
            }
        }
        url
    }
}

/// Percent-encodes a query value (emails carry `+` and `@`).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
pub fn SubscriptionsListPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let q = query_map.read();
        let nonempty = |k: &str| q.get(k).filter(|v| !v.trim().is_empty());
        Query {
            status: nonempty("status"),
            plan: nonempty("plan"),
            email: nonempty("email"),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
        }
    });
    let data = Resource::new(move || query.get(), |q| admin_subscriptions(q.status, q.plan, q.email, Some(q.page)));
    view! {
        <Title text="Subscriptions"/>
        {admin_load(data, move |page| view! {
            <AdminNav current="/admin/subscriptions"/>
            <h1>"Subscriptions"</h1>
            <List page=page query=query.get_untracked()/>
        })}
    }
}

#[component]
fn List(page: SubscriptionsPage, query: Query) -> impl IntoView {
    let statuses = SubscriptionStatus::ALL.iter().map(|s| (s.as_str().to_owned(), s.describe().to_owned())).collect();
    let plans = page.plans.iter().map(|p| (p.clone(), p.clone())).collect();
    let newer = (page.page > 0).then(|| view! { <a href=query.href(page.page - 1)>"Previous page"</a> });
    let older = page.has_more.then(|| view! { <a href=query.href(page.page + 1)>"Next page"</a> });
    let empty = page.lines.is_empty();
    view! {
        <form class="admin-filters" method="get" action="/admin/subscriptions">
            <FilterSelect id="sub-status" name="status" label="Status" any="Any status" options=statuses selected=query.status.clone()/>
            <FilterSelect id="sub-plan" name="plan" label="Plan" any="Any plan" options=plans selected=query.plan.clone()/>
            <label for="sub-email">"Email"</label>
            <input id="sub-email" name="email" type="search" value=query.email.clone().unwrap_or_default()/>
            <button type="submit">"Search"</button>
        </form>
        {empty.then(|| view! { <p>"No subscriptions match."</p> })}
        <table class="admin-table subscriptions">
            {column_heads(&["Customer", "Plan", "Status", "MRR", "Renews or ends", "Created"])}
            <tbody>{page.lines.into_iter().map(|line| view! { <Line line=line/> }).collect_view()}</tbody>
        </table>
        <nav class="admin-pager" aria-label="Pages">{newer}" "{older}</nav>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_the_filters_encoded() {
        let q = Query { email: Some("a+b@x.test".into()), status: Some("active".into()), ..Query::default() };
        assert_eq!(q.href(2), "/admin/subscriptions?page=2&status=active&email=a%2Bb%40x.test");
    }
}
