//! /account (login required; the route guard redirects anonymous visitors).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::auth::current_user;

#[component]
pub fn AccountPage() -> impl IntoView {
    // Its own fetch (not the shared one): after a client-side log-in this must see
    // the new session, not the navigation's cached answer.
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Title text="Account"/>
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                user.get().map(|result| match result {
                    Ok(Some(user)) => view! {
                        <h1>"Account"</h1>
                        <p>"Signed in as " <strong class="account-email">{user.email}</strong></p>
                        <p>"Your plan, invoices and billing settings will appear here."</p>
                    }
                    .into_any(),
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}
