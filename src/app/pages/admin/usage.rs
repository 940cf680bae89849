//! `/admin/usage`: API keys (issue, revoke), outbox health, top consumers, reconciliation.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;

use crate::api::admin::usage::{admin_usage_page, IssueApiKey, RevokeApiKey};
use crate::app::pages::Notices;
use crate::views::admin::usage::{AdminUsage, ApiKeyItem};
use crate::views::format::{day, duration, utc};

use super::{admin_load, column_heads, AdminNav};
use crate::app::pages::EmptyState;

#[component]
pub fn UsagePage() -> impl IntoView {
    let data = Resource::new(|| (), |_| admin_usage_page());
    view! {
        <Title text="Usage"/>
        <AdminNav current="/admin/usage"/>
        <h1>"Usage"</h1>
        <Notices/>
        {admin_load(data, move |data| view! { <Usage data=data/> })}
    }
}

#[component]
fn Usage(data: AdminUsage) -> impl IntoView {
    let h = data.health;
    let no_usage = data.usage.is_empty();
    let no_differences = data.differences.is_empty();
    view! {
        <section aria-label="Usage outbox">
            <h2>"Outbox health"</h2>
            <dl class="admin-kpis">
                <div><dt>"Waiting for Stripe"</dt><dd class="usage-pending">{h.pending}</dd></div>
                <div><dt>"Failed"</dt><dd class="usage-failed">{h.failed}</dd></div>
                <div><dt>"Oldest waiting"</dt><dd>{duration(h.lag_secs)}</dd></div>
                <div><dt>"Differences with Stripe"</dt><dd class="usage-differences">{h.differences}</dd></div>
            </dl>
        </section>
        <section aria-label="Top consumers">
            <h2>"Usage per customer and meter (last 35 days)"</h2>
            {no_usage.then(|| view! { <EmptyState title="No usage reported yet." hint="Send usage with POST /api/v1/usage and a platform key issued below."/> })}
            <table class="admin-table">
                {column_heads(&["Customer", "Meter", "Total", "Events", "Not yet in Stripe"])}
                <tbody>
                    {data.usage.into_iter().map(|u| view! {
                        <tr>
                            <td><a href=format!("/admin/customers/{}", u.customer_id)>{u.email}</a></td>
                            <td>{u.meter}</td>
                            <td class="num">{u.total}</td>
                            <td class="num">{u.events}</td>
                            <td class="num">{u.unsent}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section aria-label="Reconciliation">
            <h2>"Differences with Stripe"</h2>
            {no_differences.then(|| view! { <p>"None: local totals match Stripe's meter summaries."</p> })}
            <table class="admin-table">
                {column_heads(&["Customer", "Meter", "Period from", "Here", "Stripe", "Difference", "Checked"])}
                <tbody>
                    {data.differences.into_iter().map(|d| view! {
                        <tr class="usage-difference">
                            <td><a href=format!("/admin/customers/{}", d.customer_id)>{d.customer_id.clone()}</a></td>
                            <td>{d.meter}</td>
                            <td>{day(d.period_start)}</td>
                            <td class="num">{d.local_total}</td>
                            <td class="num">{d.stripe_total}</td>
                            <td class="num">{d.difference}</td>
                            <td>{utc(d.checked_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
        <section aria-label="API keys">
            <h2>"API keys"</h2>
            <p class="admin-muted">
                "Your backend reports usage with POST /api/v1/usage and Authorization: Bearer <key>. "
                "A platform key reports for any customer; a customer key for one."
            </p>
            // Plain forms: the page reloads after each, with or without JavaScript, so the notice
            // that shows a new key once is read on the next render.
            <form method="post" action=IssueApiKey::url()>
                <label for="key-label">"Label"</label>
                <input id="key-label" name="label" required maxlength="100"/>
                <label for="key-customer">"For"</label>
                <select id="key-customer" name="customer">
                    <option value="">"Every customer (platform key)"</option>
                    {data.customers.into_iter().map(|(id, email)| view! {
                        <option value=id.to_string()>{email}</option>
                    }).collect_view()}
                </select>
                <button type="submit">"Issue key"</button>
            </form>
            <table class="admin-table">
                {column_heads(&["Key", "Label", "For", "Created", "Last used", "State"])}
                <tbody>
                    {data.keys.into_iter().map(|k| view! { <KeyLine k=k/> }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn KeyLine(k: ApiKeyItem) -> impl IntoView {
    let state = match k.revoked_at {
        Some(at) => view! { <span>{format!("revoked {}", utc(at))}</span> }.into_any(),
        None => view! {
            <form method="post" action=RevokeApiKey::url()>
                <input type="hidden" name="id" value=k.id.to_string()/>
                <button type="submit">"Revoke"</button>
            </form>
        }
        .into_any(),
    };
    view! {
        <tr>
            <td><code>{format!("{}_…", k.prefix)}</code></td>
            <td>{k.label}</td>
            <td>{k.customer_email.unwrap_or_else(|| "platform".to_owned())}</td>
            <td>{utc(k.created_at)}</td>
            <td>{k.last_used_at.map_or_else(|| "never".to_owned(), utc)}</td>
            <td>{state}</td>
        </tr>
    }
}
