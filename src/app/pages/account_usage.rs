//! /account's usage section: usage this period per meter, included units left, overage so far,
//! the projected next invoice, and the customer's spend cap. Shown only on a metered plan.

use leptos::prelude::*;

use crate::api::usage::{load_account_usage, SetSpendCap};
use crate::views::format::{day, money};
use crate::views::usage::AccountUsage;

#[component]
pub fn UsageSection() -> impl IntoView {
    let set_cap = ServerAction::<SetSpendCap>::new();
    let usage = Resource::new(move || set_cap.version().get(), |_| load_account_usage());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                usage.get().and_then(Result::ok).flatten().map(|usage| view! { <Usage usage set_cap/> })
            }}
        </Suspense>
    }
}

#[component]
fn Usage(usage: AccountUsage, set_cap: ServerAction<SetSpendCap>) -> impl IntoView {
    let currency = usage.currency.clone();
    let rows = usage
        .meters
        .iter()
        .map(|m| {
            view! {
                <tr data-meter=m.meter.clone()>
                    <th scope="row">{m.name.clone()}</th>
                    <td class="usage-used">{m.used}</td>
                    <td class="usage-included-left">{m.included_left()}</td>
                    <td class="usage-overage">{money(m.overage, &currency)}</td>
                </tr>
            }
        })
        .collect_view();
    let projected = usage.projected_invoice.map(|total| {
        view! { <p>"Projected next invoice: " <strong class="usage-projected">{money(total, &usage.currency)}</strong></p> }
    });
    let cap_now = usage.spend_cap.map_or_else(
        || "No spend cap: overage is billed whatever it comes to.".to_owned(),
        |cap| format!("Spend cap: {} of overage per period.", money(cap, &usage.currency)),
    );
    view! {
        <section class="card" aria-labelledby="usage-heading">
            <h2 id="usage-heading">"Usage this period"</h2>
            <p class="admin-muted">{format!("{} – {}", day(usage.period_start), day(usage.period_end))}</p>
            <table class="usage">
                <thead>
                    <tr>
                        <th scope="col">"Meter"</th>
                        <th scope="col">"Used"</th>
                        <th scope="col">"Included left"</th>
                        <th scope="col">"Overage so far"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
            {projected}
            <p class="usage-cap">{cap_now}</p>
            <ActionForm action=set_cap>
                <label for="spend-cap">"Spend cap (empty for none)"</label>
                <input id="spend-cap" name="cap" inputmode="decimal" placeholder="50.00"/>
                <button type="submit">"Save spend cap"</button>
            </ActionForm>
        </section>
    }
}
