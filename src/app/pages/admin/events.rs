//! `/admin/events`: the webhook inbox, filters and sort in the URL (a plain GET form, header
//! links), and "Replay".

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::admin::events::{admin_events, ReplayEvent};
use crate::views::{
    admin::{
        events::{EventRow, EventSort, EventsPage as InboxData, InboxStatus, ReplayOutcome},
        revenue::percent,
    },
    format::{duration, utc},
};

use super::list::{pager, sort_fields, sortable_heads, use_list_query, Column, ListQuery};
use super::{admin_load, AdminNav, FilterSelect};
use crate::app::pages::EmptyState;

const COLUMNS: [Column<EventSort>; 7] = [
    Column::sorted("Event", EventSort::Type),
    Column::sorted("Status", EventSort::Status),
    Column::figures("Attempts", EventSort::Attempts),
    Column::sorted("Received", EventSort::Received),
    Column::text("Processed"),
    Column::text("Payload"),
    Column::text("Action"),
];

#[component]
pub fn EventsPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = use_list_query("/admin/events", &["status", "type"]);
    let replay = ServerAction::<ReplayEvent>::new();
    let events = Resource::new(
        move || (query.get(), replay.version().get()),
        |(q, _)| admin_events(q.get("status"), q.get("type"), Some(q.page), q.sort, q.dir),
    );
    // Without JavaScript the replay comes back as `?replayed=…&outcome=…`.
    let flash = move || {
        let q = query_map.read();
        let id = q.get("replayed")?;
        let message = match q.get("outcome").as_deref() {
            Some("queued") => ReplayOutcome::Queued.message(&id),
            Some("already") => ReplayOutcome::AlreadyQueued.message(&id),
            Some("missing") => ReplayOutcome::NotFound.message(&id),
            _ => format!("Event {id} cannot be replayed."),
        };
        Some(message)
    };
    // The action's input is cleared once it completes: keep the id of the event being replayed
    // for the outcome's message.
    let replaying = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(input) = replay.input().get() {
            replaying.set(input.event_id);
        }
    });
    let result = move || match replay.value().get() {
        Some(Ok(outcome)) => {
            let id = replaying.get();
            Some(view! { <p class="admin-notice" role="status">{outcome.message(&id)}</p> }.into_any())
        }
        Some(Err(e)) => Some(view! { <p class="alert" role="alert">{e.to_string()}</p> }.into_any()),
        None => flash().map(|m| view! { <p class="admin-notice" role="status">{m}</p> }.into_any()),
    };
    view! {
        <Title text="Events"/>
        {admin_load(events, move |page| view! {
            <AdminNav current="/admin/events"/>
            <h1>"Webhook events"</h1>
            {result}
            <Inbox page=page query=query.get_untracked() replay=replay/>
        })}
    }
}

#[component]
fn Inbox(page: InboxData, query: ListQuery, replay: ServerAction<ReplayEvent>) -> impl IntoView {
    let h = &page.health;
    let success = h.success.basis_points().map_or_else(|| "—".to_owned(), percent);
    let lag = |l: Option<i64>| l.map_or_else(|| "—".to_owned(), duration);
    let statuses = InboxStatus::ALL.iter().map(|s| (s.as_str().to_owned(), s.as_str().to_owned())).collect();
    let types = page.types.iter().map(|t| (t.clone(), t.clone())).collect();
    let pages = pager(&query, page.page, page.has_more);
    let heads = sortable_heads(&query, page.sort, &COLUMNS);
    let empty = page.events.is_empty();
    view! {
        <section aria-label="Delivery health (24 h)">
            <h2>"Delivery health (last 24 hours)"</h2>
            <dl class="admin-kpis">
                <div class="admin-kpi"><dt>"Received"</dt><dd>{h.received}</dd></div>
                <div class="admin-kpi"><dt>"Success rate"</dt><dd>{success}</dd></div>
                <div class="admin-kpi"><dt>"Waiting"</dt><dd>{h.pending}</dd></div>
                <div class="admin-kpi"><dt>"Processing lag p50"</dt><dd>{lag(h.lag_p50)}</dd></div>
                <div class="admin-kpi"><dt>"Processing lag p99"</dt><dd>{lag(h.lag_p99)}</dd></div>
            </dl>
        </section>
        <form class="admin-filters" method="get" action="/admin/events">
            <FilterSelect id="event-status" name="status" label="Status" any="Any status" options=statuses selected=query.get("status")/>
            <FilterSelect id="event-type" name="type" label="Type" any="Any type" options=types selected=query.get("type")/>
            {sort_fields(&query)}
            <button type="submit">"Filter"</button>
        </form>
        {empty.then(|| view! { <EmptyState title="No events match." hint="Clear the filters, or wait for Stripe to send one."/> })}
        <table class="admin-table events">
            {heads}
            <tbody>
                {page.events.into_iter().map(|e| view! { <EventLine e=e replay=replay/> }).collect_view()}
            </tbody>
        </table>
        {pages}
    }
}

#[component]
fn EventLine(e: EventRow, replay: ServerAction<ReplayEvent>) -> impl IntoView {
    let object = e.object_id.clone().map(|id| {
        if id.starts_with("cus_") {
            view! { <a href=format!("/admin/customers/{id}")>{id.clone()}</a> }.into_any()
        } else {
            view! { <span>{id}</span> }.into_any()
        }
    });
    let error = e.last_error.clone().map(|m| view! { <p class="admin-error-text">{m}</p> });
    let action = e.status.replayable().then(|| {
        let id = e.id.clone();
        view! {
            <ActionForm action=replay>
                <input type="hidden" name="event_id" value=id/>
                <button type="submit">"Replay"</button>
            </ActionForm>
        }
    });
    view! {
        <tr class=format!("status-{}", e.status.as_str())>
            <td>
                <code>{e.id.clone()}</code>
                <br/>{e.event_type.clone()}
                <br/>{object}
                <span class="admin-muted">{format!(" via {}", e.source)}</span>
            </td>
            <td><span class="admin-badge">{e.status.as_str()}</span>{error}</td>
            <td class="num">{e.attempts}</td>
            <td>{utc(e.received_at)}</td>
            <td>{e.processed_at.map(utc).unwrap_or_else(|| "—".to_owned())}</td>
            <td>
                <details>
                    <summary>"Payload (redacted)"</summary>
                    <pre>{e.redacted_payload.clone()}</pre>
                </details>
            </td>
            <td>{action}</td>
        </tr>
    }
}
