//! /checkout/success?session_id=…: where Stripe Checkout returns. The server retrieves the
//! session, checks it is this user's and fulfils it (the webhook does the same; whichever is
//! second changes nothing). Access never depends on this page: the webhook alone grants it.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::api::billing::confirm_checkout;
use crate::views::AppError;

#[component]
pub fn CheckoutSuccessPage() -> impl IntoView {
    let query = use_query_map();
    let outcome = Resource::new(move || query.read().get("session_id").unwrap_or_default(), confirm_checkout);
    view! {
        <Title text="Thank you"/>
        <section class="card narrow">
            <Suspense fallback=|| view! { <p>"Confirming your payment…"</p> }>
                {move || {
                    outcome.get().map(|result| match result {
                        Ok(outcome) => view! {
                            <h1>{if outcome.pending { "Almost there" } else { "Thank you" }}</h1>
                            <p class="notice" role="status">{outcome.headline}</p>
                            <p><a class="button" href="/account">"Go to your account"</a></p>
                        }
                        .into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/login"/> }.into_any(),
                        Err(error) => view! {
                            <h1>"Checkout"</h1>
                            <p class="alert" role="alert">{error.to_string()}</p>
                            <p><a href="/account">"Go to your account"</a></p>
                        }
                        .into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}
