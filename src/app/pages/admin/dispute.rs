//! `/admin/disputes/:id`: one dispute, its deadline and outcome, its history, and the evidence
//! form (plain form: works without JavaScript).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::admin::dispute::{admin_dispute, RespondToDispute};
use crate::app::pages::Notices;
use crate::views::admin::dispute::{DisputeView, EvidenceForm, EVIDENCE_FIELDS};
use crate::views::format::utc;

use super::{admin_load, AdminNav, AuditHistory};

#[component]
pub fn DisputePage() -> impl IntoView {
    let params = use_params_map();
    let dispute = Resource::new(move || params.read().get("id").unwrap_or_default(), admin_dispute);
    view! {
        <Title text="Dispute"/>
        <AdminNav current="/admin/disputes"/>
        <Notices/>
        {admin_load(dispute, |dispute| view! { <Dispute dispute/> })}
    }
}

#[component]
fn Dispute(dispute: DisputeView) -> impl IntoView {
    let order = dispute.order_id.map(|id| {
        view! { <dt>"Order"</dt><dd><a href=format!("/admin/orders/{id}")>{format!("Order {id}")}</a></dd> }
    });
    let form = dispute.form.clone().map(|form| view! { <Evidence id=dispute.id.clone() form/> });
    let closed = dispute.closed_because.clone().map(|why| view! { <p class="notice dispute-closed">{why}</p> });
    view! {
        <h1>{format!("Dispute {}", dispute.id)}</h1>
        <dl class="details dispute-details">
            <dt>"Amount"</dt><dd>{dispute.amount.clone()}</dd>
            <dt>"Reason"</dt><dd>{dispute.reason.clone()}</dd>
            <dt>"Status"</dt><dd class="dispute-status">{dispute.status.clone()}</dd>
            <dt>"Evidence due"</dt><dd>{dispute.evidence_due_by.map(utc).unwrap_or_else(|| "—".into())}</dd>
            <dt>"Submissions"</dt><dd>{dispute.submission_count.to_string()}</dd>
            <dt>"Customer"</dt><dd>{dispute.customer_email.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>"Payment"</dt><dd><code>{dispute.payment_intent_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
            {order}
            <dt>"In Stripe"</dt><dd><a href=dispute.dashboard_url.clone()>"Open in the Stripe dashboard"</a></dd>
        </dl>
        {closed}
        {form}
        <AuditHistory entries=dispute.history class="dispute-history"/>
    }
}

/// Prefilled from tollgate's records where Stripe has no saved answer; "Save draft" keeps it
/// with Stripe, "Submit evidence" sends it to the card network (final).
#[component]
fn Evidence(id: String, form: EvidenceForm) -> impl IntoView {
    let fields = EVIDENCE_FIELDS
        .iter()
        .zip(form.values)
        .map(|((field, label, help), (_, value))| {
            let input = format!("evidence-{field}");
            let hint = format!("{input}-help");
            view! {
                <label for=input.clone()>{*label}</label>
                <textarea id=input name=*field rows="3" aria-describedby=hint.clone()>{value}</textarea>
                <small id=hint>{*help}</small>
            }
        })
        .collect_view();
    view! {
        <h2>"Evidence"</h2>
        <form method="post" action=RespondToDispute::url() class="stack dispute-evidence">
            <input type="hidden" name="dispute" value=id/>
            <input type="hidden" name="token" value=form.token/>
            {fields}
            <div class="actions">
                <button type="submit" name="intent" value="save">"Save draft"</button>
                <button type="submit" name="intent" value="submit" class="danger">"Submit evidence"</button>
            </div>
        </form>
    }
}
