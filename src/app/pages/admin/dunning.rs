//! `/admin/dunning`: past-due subscriptions, where Stripe's retries stand, and "retry now".

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::admin::dunning::{admin_dunning, AdminRetryInvoice};
use crate::app::pages::{EmptyState, Notices};
use crate::views::admin::dunning::{DunningItem, DunningList};
use crate::views::format::{day, money};

use super::{admin_load, AdminNav};

#[component]
pub fn DunningPage() -> impl IntoView {
    let list = Resource::new(|| (), |()| admin_dunning());
    view! {
        <Title text="Dunning"/>
        {admin_load(list, |list| view! { <Dunning list=list/> })}
    }
}

#[component]
fn Dunning(list: DunningList) -> impl IntoView {
    let empty = list.items.is_empty();
    let token = list.token;
    view! {
        <AdminNav current="/admin/dunning"/>
        <h1>"Dunning"</h1>
        <Notices/>
        <p class="admin-muted">"Past-due subscriptions and their open invoice, as Stripe retries it. Retry now charges the customer's current card."</p>
        {empty.then(|| view! { <EmptyState title="No past-due subscriptions." hint="A subscription whose renewal failed appears here until it is paid or dunning ends."/> })}
        {(!empty).then(|| view! {
            <table class="admin-table dunning">
                <thead><tr>
                    <th>"Customer"</th><th>"Invoice"</th><th>"Attempts"</th><th>"Next retry"</th>
                    <th>"Amount due"</th><th>"Emails sent"</th><th></th>
                </tr></thead>
                <tbody>
                    {list.items.into_iter().map(|item| view! { <Row item=item token=token.clone()/> }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

#[component]
fn Row(item: DunningItem, token: String) -> impl IntoView {
    let who = item.email.clone().unwrap_or_else(|| item.customer_id.clone());
    let customer_page = format!("/admin/customers/{}", item.customer_id);
    let next = item.next_attempt.map(day).unwrap_or_else(|| "none (Stripe stopped retrying)".into());
    let (row_invoice, shown_invoice) = (item.invoice_id.clone(), item.invoice_id.clone());
    view! {
        <tr data-invoice=row_invoice>
            <td><a href=customer_page>{who}</a></td>
            <td>{shown_invoice}</td>
            <td class="num">{item.attempts}</td>
            <td>{next}</td>
            <td class="num">{money(item.amount_due, &item.currency)}</td>
            <td class="num">{item.emails_sent}</td>
            <td>
                <form method="post" action=AdminRetryInvoice::url()>
                    <input type="hidden" name="customer" value=item.customer_id/>
                    <input type="hidden" name="subscription" value=item.subscription_id/>
                    <input type="hidden" name="invoice" value=item.invoice_id/>
                    <input type="hidden" name="token" value=token/>
                    <button type="submit">"Retry now"</button>
                </form>
            </td>
        </tr>
    }
}
