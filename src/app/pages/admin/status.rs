//! `/admin/status`: mode, API version, catalog, webhooks and the go-live checklist.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::status::admin_status;
use crate::views::admin::status::StatusReport;

use super::{admin_load, AdminNav};
use crate::views::format::utc;

#[component]
pub fn StatusPage() -> impl IntoView {
    let status = Resource::new(|| (), |_| admin_status());
    view! {
        <Title text="Status"/>
        {admin_load(status, |report| view! { <Status report=report/> })}
    }
}

#[component]
fn Status(report: StatusReport) -> impl IntoView {
    let (passed, total) = report.score();
    let percent = report.percent();
    let last = report.last_delivery.map_or_else(|| "never".to_owned(), utc);
    let portal = match report.portal_configured {
        Some(true) => "configured",
        Some(false) => "not configured",
        None => "not checked",
    };
    let account = report.stripe_account.clone().unwrap_or_else(|| "not read".to_owned());
    view! {
        <AdminNav current="/admin/status"/>
        <h1>"Integration status"</h1>
        <dl class="admin-kpis">
            <div class="admin-kpi"><dt>"Mode"</dt><dd>{report.mode.clone()}</dd></div>
            <div class="admin-kpi"><dt>"API version"</dt><dd>{report.api_version.clone()}</dd></div>
            <div class="admin-kpi"><dt>"Products"</dt><dd>{report.products}</dd></div>
            <div class="admin-kpi"><dt>"Prices"</dt><dd>{report.prices}</dd></div>
            <div class="admin-kpi"><dt>"Webhook endpoint"</dt><dd><code>{report.webhook_endpoint.clone()}</code></dd></div>
            <div class="admin-kpi"><dt>"Last successful delivery"</dt><dd>{last}</dd></div>
            <div class="admin-kpi"><dt>"Dead-lettered events"</dt><dd>{report.dead_events}</dd></div>
            <div class="admin-kpi"><dt>"Customer portal"</dt><dd>{portal}</dd></div>
            <div class="admin-kpi"><dt>"Stripe account"</dt><dd>{account}</dd></div>
            <div class="admin-kpi"><dt>"Connect"</dt><dd>"not set up: tollgate takes payments on its own account"</dd></div>
            <div class="admin-kpi"><dt>"Setup"</dt><dd class="setup-percent">{format!("{percent}%")}</dd></div>
        </dl>
        <h2>{format!("Go-live checklist: {passed} of {total}")}</h2>
        <ul class="admin-checklist">
            {report.checks.into_iter().map(|c| {
                let mark = if c.ok { "Done" } else { "Missing" };
                let fix = (!c.ok).then(|| view! { <span class="admin-muted">{format!(" — {}", c.fix)}</span> });
                view! {
                    <li class=if c.ok { "admin-check-ok" } else { "admin-check-missing" }>
                        <strong>{mark}": "</strong>{c.name.clone()}{fix}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}
