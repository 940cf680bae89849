//! `/admin/payments` (failed payments, dunning queue, payments to refund with Radar's risk and
//! early fraud warnings, refunds, Radar's reviews),
//! `/admin/payments/refund?payment=pi_…` (the confirm step) and `/admin/disputes`.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::admin::payments::{admin_disputes, admin_payments, admin_refund_form, RefundPayment};
use crate::app::pages::Notices;
use crate::views::admin::payments::{
    DisputeLine, DisputeSort, DisputesPage as DisputesData, DunningLine, PaymentLine, PaymentsOverview, RefundForm,
    RefundLine, ReviewLine, REFUND_REASONS,
};

use super::list::{sortable_heads, use_list_query, Column, ListQuery};
use super::{admin_load, column_heads, confirm_step, AdminNav};
use crate::app::pages::EmptyState;
use crate::views::format::utc;

#[component]
pub fn PaymentsPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| admin_payments());
    view! {
        <Title text="Payments"/>
        <Notices/>
        {admin_load(data, |overview| view! { <Payments overview/> })}
    }
}

fn who(email: Option<String>, customer: Option<String>) -> String {
    email.or(customer).unwrap_or_else(|| "—".to_string())
}

#[component]
fn Payments(overview: PaymentsOverview) -> impl IntoView {
    let PaymentsOverview { failed, dunning, succeeded, refunds, reviews } = overview;
    let reviewed = !reviews.is_empty();
    view! {
        <AdminNav current="/admin/payments"/>
        <h1>"Payments"</h1>
        <section aria-labelledby="failed-heading">
            <h2 id="failed-heading">"Failed payments"</h2>
            {failed.is_empty().then(|| view! { <EmptyState title="No failed payments." hint="Nothing to chase: every recent charge went through."/> })}
            <table class="admin-table failed-payments">
                {column_heads(&["When", "Customer", "Amount", "Status", "Why", "Risk"])}
                <tbody>{failed.into_iter().map(failed_row).collect_view()}</tbody>
            </table>
        </section>
        <section aria-labelledby="dunning-heading">
            <h2 id="dunning-heading">"Dunning queue"</h2>
            {dunning.is_empty().then(|| view! { <EmptyState title="No invoice is being retried." hint="Stripe retries a failed renewal here before the subscription is cancelled."/> })}
            <table class="admin-table dunning">
                {column_heads(&["Invoice", "Customer", "Amount due", "Attempts", "Next retry"])}
                <tbody>{dunning.into_iter().map(dunning_row).collect_view()}</tbody>
            </table>
        </section>
        <section aria-labelledby="paid-heading">
            <h2 id="paid-heading">"Recent payments"</h2>
            <table class="admin-table payments">
                {column_heads(&["When", "Customer", "Amount", "Refunded", "Risk", ""])}
                <tbody>{succeeded.into_iter().map(paid_row).collect_view()}</tbody>
            </table>
        </section>
        <section aria-labelledby="refunds-heading">
            <h2 id="refunds-heading">"Refunds"</h2>
            {refunds.is_empty().then(|| view! { <EmptyState title="No refunds yet." hint="Refund a payment from the list above or from a customer's page."/> })}
            <table class="admin-table refunds">
                {column_heads(&["When", "Payment", "Amount", "Reason", "Status"])}
                <tbody>{refunds.into_iter().map(refund_row).collect_view()}</tbody>
            </table>
        </section>
        {reviewed.then(|| view! {
            <section aria-labelledby="reviews-heading">
                <h2 id="reviews-heading">"Radar reviews"</h2>
                <table class="admin-table reviews">
                    {column_heads(&["Opened", "Payment", "State", "Reason"])}
                    <tbody>{reviews.into_iter().map(review_row).collect_view()}</tbody>
                </table>
            </section>
        })}
    }
}

/// Radar's verdict, Stripe's explanation on hover, and the early fraud warning when there is one.
fn risk_cell(p: &PaymentLine) -> impl IntoView {
    let warning = p.fraud_warning.clone().map(|fraud_type| {
        view! { <strong class="fraud-warning">{format!("Early fraud warning ({fraud_type})")}</strong> }
    });
    view! {
        <td class="risk" class:risky=p.risky title=p.seller_message.clone().unwrap_or_default()>
            {p.risk.clone().unwrap_or_default()}
            {warning}
        </td>
    }
}

fn review_row(r: ReviewLine) -> impl IntoView {
    view! {
        <tr data-review=r.id.clone()>
            <td>{utc(r.created)}</td>
            <td>{r.payment_intent_id.unwrap_or_default()}</td>
            <td>{if r.open { "open" } else { "closed" }}</td>
            <td>{r.reason}</td>
        </tr>
    }
}

fn failed_row(p: PaymentLine) -> impl IntoView {
    let risk = risk_cell(&p);
    view! {
        <tr>
            <td>{utc(p.created)}</td>
            <td>{who(p.email, p.customer_id)}</td>
            <td class="amount">{p.amount}</td>
            <td>{p.status}</td>
            <td>{p.failure.unwrap_or_default()}</td>
            {risk}
        </tr>
    }
}

fn dunning_row(d: DunningLine) -> impl IntoView {
    let invoice = match d.hosted_url {
        Some(url) => view! { <a href=url>{d.invoice_id.clone()}</a> }.into_any(),
        None => view! { <span>{d.invoice_id.clone()}</span> }.into_any(),
    };
    view! {
        <tr>
            <td>{invoice}</td>
            <td>{who(d.email, Some(d.customer_id))}</td>
            <td class="amount">{d.amount_due}</td>
            <td class="num">{d.attempts}</td>
            <td>{d.next_attempt.map(utc).unwrap_or_else(|| "no more retries".to_string())}</td>
        </tr>
    }
}

fn paid_row(p: PaymentLine) -> impl IntoView {
    let href = format!("/admin/payments/refund?payment={}", p.id);
    let label = format!("Refund {} from {}", p.amount, who(p.email.clone(), p.customer_id.clone()));
    let risk = risk_cell(&p);
    view! {
        <tr data-payment=p.id.clone()>
            <td>{utc(p.created)}</td>
            <td>{who(p.email, p.customer_id)}</td>
            <td class="amount">{p.amount}</td>
            <td class="amount refunded">{p.refunded.unwrap_or_default()}</td>
            {risk}
            <td><a href=href aria-label=label>"Refund…"</a></td>
        </tr>
    }
}

fn refund_row(r: RefundLine) -> impl IntoView {
    view! {
        <tr>
            <td>{utc(r.created)}</td>
            <td>{r.payment_intent_id.unwrap_or_default()}</td>
            <td class="amount">{r.amount}</td>
            <td>{r.reason.unwrap_or_default()}</td>
            <td>{r.status}</td>
        </tr>
    }
}

#[component]
pub fn RefundPage() -> impl IntoView {
    let query = use_query_map();
    let form = Resource::new(move || query.read().get("payment").unwrap_or_default(), admin_refund_form);
    let back = (Signal::stored("/admin/payments".to_string()), "Back to payments");
    confirm_step("Refund a payment", "/admin/payments", form, |form| view! { <RefundConfirm form/> }, back)
}

#[component]
fn RefundConfirm(form: RefundForm) -> impl IntoView {
    let reasons =
        REFUND_REASONS.iter().map(|(code, text)| view! { <option value=*code>{*text}</option> }).collect_view();
    view! {
        <dl class="details">
            <dt>"Payment"</dt>
            <dd>{form.payment_intent_id.clone()}</dd>
            <dt>"Customer"</dt>
            <dd>{form.email.clone().unwrap_or_else(|| "—".to_string())}</dd>
            <dt>"Paid"</dt>
            <dd>{form.paid.clone()}</dd>
            <dt>"Left to refund"</dt>
            <dd class="refundable">{form.refundable.clone()}</dd>
        </dl>
        <form method="post" action=RefundPayment::url() class="stack">
            <input type="hidden" name="payment" value=form.payment_intent_id.clone()/>
            <input type="hidden" name="token" value=form.token.clone()/>
            <label for="refund-amount">{format!("Amount ({})", form.currency.to_uppercase())}</label>
            <input id="refund-amount" name="amount" inputmode="decimal" value=form.refundable_input.clone()/>
            <label for="refund-reason">"Reason"</label>
            <select id="refund-reason" name="reason">{reasons}</select>
            <button type="submit" class="danger">"Confirm refund"</button>
        </form>
    }
}

#[component]
pub fn DisputesPage() -> impl IntoView {
    let query = use_list_query("/admin/disputes", &[]);
    let data = Resource::new(move || query.get(), |q| admin_disputes(q.sort, q.dir));
    view! {
        <Title text="Disputes"/>
        {admin_load(data, move |disputes| view! { <Disputes disputes query=query.get_untracked()/> })}
    }
}

const DISPUTE_COLUMNS: [Column<DisputeSort>; 7] = [
    Column::text("Dispute"),
    Column::figures("Amount", DisputeSort::Amount),
    Column::sorted("Reason", DisputeSort::Reason),
    Column::sorted("Status", DisputeSort::Status),
    Column::sorted("Evidence due", DisputeSort::Due),
    Column { label: "Days left", sort: None, numeric: true },
    Column::text(""),
];

#[component]
fn Disputes(disputes: DisputesData, query: ListQuery) -> impl IntoView {
    let DisputesData { lines: disputes, sort } = disputes;
    let empty = disputes.is_empty();
    let heads = sortable_heads(&query, sort, &DISPUTE_COLUMNS);
    view! {
        <AdminNav current="/admin/disputes"/>
        <h1>"Disputes"</h1>
        {empty.then(|| view! { <EmptyState title="No disputes." hint="When a customer disputes a charge it appears here with its deadline."/> })}
        <table class="admin-table disputes">
            {heads}
            <tbody>{disputes.into_iter().map(dispute_row).collect_view()}</tbody>
        </table>
    }
}

fn dispute_row(d: DisputeLine) -> impl IntoView {
    let closed = matches!(d.status.as_str(), "won" | "lost" | "warning_closed");
    // Under a week to respond: highlighted.
    let urgent = !closed && d.days_left.is_some_and(|days| days < 7);
    view! {
        <tr class:urgent=urgent data-dispute=d.id.clone()>
            <td>{d.id.clone()}</td>
            <td class="amount">{d.amount}</td>
            <td>{d.reason}</td>
            <td>{d.status}</td>
            <td>{d.evidence_due_by.map(utc).unwrap_or_default()}</td>
            <td class="num days-left">{d.days_left.map(|days| days.to_string()).unwrap_or_default()}</td>
            <td><a href=format!("/admin/disputes/{}", d.id)>{if closed { "View" } else { "Respond" }}</a></td>
        </tr>
    }
}
