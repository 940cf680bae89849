//! tollgate: a self-hostable Stripe billing app (Leptos SSR + hydration on Axum).

pub mod api;
pub mod app;
pub mod domain;
#[cfg(feature = "ssr")]
pub mod server;
pub mod views;

/// The pages the HTTP router serves. Wired here, at the crate root, so that `server` (below the
/// pages in the layering) never names `app`.
#[cfg(feature = "ssr")]
pub fn pages() -> server::http::Pages {
    use leptos::prelude::IntoAny;
    server::http::Pages { app: || app::App().into_any(), shell: |options| app::shell(options).into_any() }
}

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
