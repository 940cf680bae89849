//! `GET /v3/`: the sandbox's stand-in for Stripe.js (`https://js.stripe.com/v3/`), the part of
//! its API a billing app uses, talking to this sandbox with a publishable key (see `stripe.js`).

use std::sync::Arc;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use crate::app::App;

const SCRIPT: &str = include_str!("stripe.js");

pub fn routes() -> Router<Arc<App>> {
    Router::new().route("/v3", get(script)).route("/v3/", get(script))
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/javascript; charset=utf-8"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT,
    )
}
