//! The site header: brand and main navigation.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::Auth;

#[component]
pub fn SiteHeader() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let location = use_location();
    // The /logout page has its own "Log out" button; one per page keeps it unambiguous.
    let on_logout_page = move || location.pathname.get() == "/logout";
    view! {
        <header class="site-header">
            <nav aria-label="Main" class="nav">
                <a href="/" class="brand">"tollgate"</a>
                <ul class="nav-links">
                    <li><a href="/pricing">"Pricing"</a></li>
                    <li><a href="/projects">"Projects"</a></li>
                    <li><a href="/store">"Store"</a></li>
                    <li><a href="/creator">"Sell"</a></li>
                    <li><a href="/account">"Account"</a></li>
                    <Transition fallback=|| ()>
                        {move || {
                            let user = auth.user.get().and_then(Result::ok).flatten();
                            let is_admin = user.as_ref().is_some_and(|u| u.is_admin);
                            let logged_in = user.is_some();
                            view! {
                                <Show when=move || is_admin>
                                    <li><a href="/admin">"Admin"</a></li>
                                </Show>
                                <Show
                                    when=move || logged_in
                                    fallback=|| view! { <li><a href="/login">"Log in"</a></li> }
                                >
                                    <Show when=move || !on_logout_page()>
                                        <li>
                                            <ActionForm action=auth.logout>
                                                <button type="submit" class="link-button">"Log out"</button>
                                            </ActionForm>
                                        </li>
                                    </Show>
                                </Show>
                            }
                        }}
                    </Transition>
                </ul>
            </nav>
        </header>
    }
}
