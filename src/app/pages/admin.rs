//! /admin (admins only: the route guard and the server function both check).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use crate::api::{admin::admin_overview, AppError};

use super::Forbidden;

#[component]
pub fn AdminPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| admin_overview());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || {
                overview.get().map(|result| match result {
                    Ok(overview) => view! {
                        <Title text="Admin"/>
                        <h1>"Admin"</h1>
                        <p>"Signed in as " <strong>{overview.admin_email}</strong> "."</p>
                        <dl class="stats">
                            <dt>"Users"</dt>
                            <dd>{overview.users}</dd>
                        </dl>
                        <p>"Revenue, subscriptions and payments arrive here next."</p>
                    }
                    .into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(AppError::Forbidden) => view! { <Forbidden/> }.into_any(),
                    Err(error) => view! { <p class="alert" role="alert">{error.to_string()}</p> }.into_any(),
                })
            }}
        </Suspense>
    }
}
