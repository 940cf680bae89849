//! /verify-email?token=…: where the sign-up mail's link lands. Opening it confirms the address
//! (no form: the link is the proof). Also the banner that asks an unverified user to confirm.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::verification::{verify_email, ResendVerification};

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let outcome = Resource::new(move || query.read().get("token").unwrap_or_default(), verify_email);
    view! {
        <Title text="Confirm your email address"/>
        <section class="card narrow">
            <h1>"Confirm your email address"</h1>
            <Suspense fallback=|| view! { <p>"Confirming…"</p> }>
                {move || {
                    outcome.get().map(|result| match result {
                        Ok(()) => view! {
                            <p class="notice" role="status">"Your email address is confirmed."</p>
                        }
                        .into_any(),
                        Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                    })
                }}
            </Suspense>
            <p><a class="button" href="/account">"Go to your account"</a></p>
        </section>
    }
}

/// Shown to a signed-in user whose address is not confirmed: why paying waits, and a button
/// that mails a new link.
#[component]
pub fn VerifyEmailBanner() -> impl IntoView {
    view! {
        <div class="banner warning" role="status" data-banner="verify-email">
            <p>"Confirm your email address before paying: open the link we emailed you."</p>
            <form method="post" action=ResendVerification::url()>
                <button type="submit" class="secondary">"Send a new link"</button>
            </form>
        </div>
    }
}
