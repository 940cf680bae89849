//! /library (login required): the products the user bought and still holds, with what each
//! delivers. Coming back from Checkout (`?session_id=…`) or from paying on `/p/{slug}/pay`
//! (`?payment_intent=…`) confirms the purchase first, so access never waits for the webhook.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::api::marketplace::library_page;
use crate::views::marketplace::{LibraryItemView, LibraryView};

#[component]
pub fn LibraryPage() -> impl IntoView {
    let query = use_query_map();
    let returned = move || (query.read().get("session_id"), query.read().get("payment_intent"));
    let page = Resource::new(returned, |(session_id, payment_intent)| library_page(session_id, payment_intent));
    view! {
        <Title text="Your library"/>
        <h1>"Your library"</h1>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                page.get().map(|result| match result {
                    Ok(Some(view)) => view! { <Library view/> }.into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn Library(view: LibraryView) -> impl IntoView {
    let LibraryView { notice, items } = view;
    let notice = notice.map(|text| view! { <p class="notice" role="status">{text}</p> });
    let list = if items.is_empty() {
        view! { <p class="muted">"Nothing here yet. " <a href="/store">"See the store"</a></p> }.into_any()
    } else {
        let rows = items.into_iter().map(|item| view! { <LibraryItem item/> }).collect_view();
        view! { <ul class="library">{rows}</ul> }.into_any()
    };
    view! {
        {notice}
        {list}
    }
}

#[component]
fn LibraryItem(item: LibraryItemView) -> impl IntoView {
    view! {
        <li class="card library-item" data-product=item.slug>
            <h2>{item.title}</h2>
            <p class="muted">{format!("Bought {}", item.bought_on)}</p>
            <pre class="library-content">{item.content}</pre>
        </li>
    }
}
