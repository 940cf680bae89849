//! The HTTP surface: router, middleware, plain handlers.

pub mod abuse;
pub mod api_error;
pub mod app_url;
pub mod brand_css;
pub mod client_ip;
pub mod context;
pub mod csrf;
pub mod guard;
pub mod headers;
pub mod health;
pub mod metrics;
pub mod outcome;
pub mod paths;
pub mod serve;

use axum::{
    body::Body,
    extract::DefaultBodyLimit,
    http::{HeaderName, Request, StatusCode},
    middleware,
    routing::{get, post},
    Router,
};
use leptos::{config::LeptosOptions, prelude::AnyView};
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use time::Duration;
use tower::ServiceBuilder;
use tower_http::{
    limit::RequestBodyLimitLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

use crate::server::{state::AppState, webhooks};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The largest body a page or server function reads (forms are a few hundred bytes).
pub const FORM_BODY_LIMIT: usize = 16 * 1024;
/// How long a request may take until its response starts (a slow Stripe call included).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
pub const SESSION_COOKIE: &str = "tollgate_session";

/// The Leptos half of the site: the root component and the HTML shell around it. The crate
/// root hands them in (`crate::pages`), so the server never depends on the pages above it.
#[derive(Clone, Copy)]
pub struct Pages {
    pub app: fn() -> AnyView,
    pub shell: fn(LeptosOptions) -> AnyView,
}

/// The app's routes, generated once per process. Generating them sets a process-global flag in
/// leptos_server that makes any Resource first polled meanwhile hang forever (leptos#4773), so
/// a second app in the same process (the test suite runs many) must never generate them while
/// the first serves. `get_or_init` also makes every app wait until the one generation is done.
fn routes(app: fn() -> AnyView) -> Vec<AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app)).clone()
}

pub fn router(state: AppState, pages: Pages) -> Router {
    let Pages { app, shell } = pages;
    let routes = routes(app);
    let sessions = SessionManagerLayer::new(state.db.session_store())
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(Duration::days(14)));

    let request_tracing = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<Body>| {
                    let request_id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or_default();
                    // The path only: query strings may carry tokens.
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = %request_id,
                    )
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID));

    let security = std::sync::Arc::new(headers::SecurityPolicy::new(&state.config.app_url, &state.stripe.api_base));
    let site = csrf::SiteOrigin(state.config.app_url.origin().ascii_serialization().into());
    let leptos_options = state.leptos_options.clone();
    metrics::handle();
    Router::new()
        .leptos_routes_with_context(&state, routes, headers::provide_page_nonce, move || shell(leptos_options.clone()))
        // Pages and server functions: a form is small; nothing bigger is read, let alone stored.
        .route_layer(RequestBodyLimitLayer::new(FORM_BODY_LIMIT))
        .route("/healthz", get(health::healthz))
        .route("/brand.css", get(brand_css::brand_css))
        .route("/metrics", get(metrics::metrics))
        .route(
            "/api/v1/usage",
            post(crate::server::usage::route::post_usage)
                .layer(DefaultBodyLimit::max(crate::server::usage::route::MAX_BODY_BYTES)),
        )
        .route("/admin/revenue/movements.csv", get(crate::server::admin::csv::movements_csv))
        .route("/admin/orders.csv", get(crate::server::admin::marketplace::orders::orders_csv))
        .route("/api/v1/entitlements", get(crate::server::entitlements::http::get_entitlements))
        .route(
            "/webhooks/stripe",
            post(webhooks::route::stripe).layer(DefaultBodyLimit::max(webhooks::route::MAX_BODY_BYTES)),
        )
        .route(
            crate::server::marketplace::creators::onboarding::RETURN_PATH,
            get(crate::server::marketplace::creators::onboarding::returned),
        )
        .route(
            crate::server::marketplace::creators::onboarding::REFRESH_PATH,
            get(crate::server::marketplace::creators::onboarding::refresh),
        )
        .route(
            "/webhooks/stripe/connect",
            post(webhooks::route::stripe_connect).layer(DefaultBodyLimit::max(webhooks::route::MAX_BODY_BYTES)),
        )
        .route_layer(middleware::from_fn(metrics::track))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), guard::route_guard))
        .layer(sessions)
        .layer(middleware::from_fn_with_state(site, csrf::refuse_cross_site))
        .layer(middleware::from_fn(paths::canonical_paths))
        .layer(middleware::from_fn_with_state(security, headers::security_headers))
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, REQUEST_TIMEOUT))
        .layer(request_tracing)
        .with_state(state)
}
