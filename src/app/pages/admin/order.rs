//! `/admin/orders/:id`: one marketplace order, what was settled on it, its history, and the
//! refund form (plain form: works without JavaScript).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::admin::order::{admin_order, RefundOrder};
use crate::app::pages::Notices;
use crate::views::admin::order::{OrderRefundForm, OrderView};
use crate::views::admin::payments::REFUND_REASONS;
use crate::views::format::utc;

use super::{admin_load, AdminNav, AuditHistory};

#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let order = Resource::new(move || params.read().get("id").unwrap_or_default(), admin_order);
    view! {
        <Title text="Order"/>
        <AdminNav current="/admin/marketplace"/>
        <Notices/>
        {admin_load(order, |order| view! { <Order order/> })}
    }
}

#[component]
fn Order(order: OrderView) -> impl IntoView {
    let refund = order.refund.clone().map(|form| view! { <RefundForm order=order.id form/> });
    let access = if order.access { "Granted" } else { "None" };
    view! {
        <h1>{format!("Order {}", order.id)}</h1>
        <dl class="details order-details">
            <dt>"Product"</dt><dd>{order.product.clone()}</dd>
            <dt>"Buyer"</dt><dd>{order.buyer.clone()}</dd>
            <dt>"Creator"</dt><dd>{order.creator.clone()}" ("<code>{order.account_id.clone()}</code>")"</dd>
            <dt>"Charge"</dt><dd>{order.charge_type.clone()}</dd>
            <dt>"Status"</dt><dd class="order-status">{order.status.clone()}</dd>
            <dt>"Paid"</dt><dd>{order.amount.clone()}{order.paid_at.map(|t| format!(" on {}", utc(t)))}</dd>
            <dt>"Platform fee"</dt><dd>{order.fee.clone()}</dd>
            <dt>"Refunded to the buyer"</dt><dd class="order-refunded">{order.refunded.clone()}</dd>
            <dt>"Taken back from the creator"</dt><dd class="order-reversed">{order.transfer_reversed.clone()}</dd>
            <dt>"Fee returned to the creator"</dt><dd class="order-fee-refunded">{order.fee_refunded.clone()}</dd>
            <dt>"Buyer's access"</dt><dd class="order-access">{access}</dd>
            <dt>"Payment"</dt><dd><code>{order.payment_intent_id.clone().unwrap_or_else(|| "—".into())}</code></dd>
        </dl>
        {refund}
        <AuditHistory entries=order.history class="order-history"/>
    }
}

/// Defaults settle the whole sale back: the full amount left, the creator's share reversed and
/// the platform fee returned to them.
#[component]
fn RefundForm(order: i64, form: OrderRefundForm) -> impl IntoView {
    let reasons =
        REFUND_REASONS.iter().map(|(code, text)| view! { <option value=*code>{*text}</option> }).collect_view();
    let reverse = form.can_reverse_transfer.then(|| {
        view! {
            <label class="check">
                <input type="checkbox" name="reverse_transfer" value="on" checked/>
                "Take the creator's share back (reverse the transfer)"
            </label>
        }
    });
    view! {
        <h2>"Refund"</h2>
        <form method="post" action=RefundOrder::url() class="stack refund-order">
            <input type="hidden" name="order" value=order.to_string()/>
            <input type="hidden" name="token" value=form.token/>
            <label for="refund-amount">{format!("Amount ({})", form.currency)}</label>
            <input id="refund-amount" name="amount" inputmode="decimal" value=form.left_input/>
            <label for="refund-reason">"Reason"</label>
            <select id="refund-reason" name="reason">{reasons}</select>
            {reverse}
            <label class="check">
                <input type="checkbox" name="refund_application_fee" value="on" checked/>
                "Return the platform fee to the creator (refund the application fee)"
            </label>
            <button type="submit" class="danger">"Refund order"</button>
        </form>
    }
}
