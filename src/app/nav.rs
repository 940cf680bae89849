//! The site header: brand and main navigation.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use super::{Auth, BrandResource};
use crate::domain::brand::Brand;

/// The brand, once loaded (the default until then, which SSR never shows: it awaits it; and
/// should its scope be gone, rather than a panic).
fn brand() -> Brand {
    use_context::<BrandResource>().and_then(|brand| brand.try_get()).flatten().and_then(Result::ok).unwrap_or_default()
}

#[component]
pub fn SiteHeader() -> impl IntoView {
    let auth = expect_context::<Auth>();
    let location = use_location();
    // The /logout page has its own "Log out" button; one per page keeps it unambiguous.
    let on_logout_page = move || location.pathname.get() == "/logout";
    view! {
        <header class="site-header">
            <nav aria-label="Main" class="nav">
                <Suspense fallback=|| ()>
                    {move || {
                        let Brand { name, logo_url, .. } = brand();
                        // The name is the link's text; the logo beside it is decoration.
                        let logo = logo_url.map(|src| view! { <img src=src alt="" width="28" height="28"/> });
                        view! { <a href="/" class="brand">{logo}{name}</a> }
                    }}
                </Suspense>
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

/// The footer: the product, and where to write for help when the operator says.
#[component]
pub fn SiteFooter() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <Suspense fallback=|| ()>
                {move || {
                    let Brand { name, support_email, .. } = brand();
                    let support = support_email.map(|email| {
                        let href = format!("mailto:{email}");
                        view! { " · Questions? " <a href=href>{email}</a> }
                    });
                    view! { <p>{name} " — billing on Stripe" {support}</p> }
                }}
            </Suspense>
        </footer>
    }
}
